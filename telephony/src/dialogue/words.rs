//! Word lists and stemming shared by matching, retrieval and name spotting.

/// Crude English stemmer: enough that "cancellation", "cancelled" and "cancel" meet, and "parking" meets
/// "park". Both the index and the query go through it, so consistency matters more than linguistics.
pub(crate) fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    match w.as_str() {
        "children" | "child" | "kids" | "kid" | "kiddo" | "kiddos" => return "child".to_owned(),
        "teeth" | "tooth" => return "tooth".to_owned(),
        "people" | "person" => return "person".to_owned(),
        _ => {}
    }
    if w.len() <= 3 || w.chars().any(|c| c.is_ascii_digit()) {
        return w;
    }
    const SUFFIXES: &[&str] = &[
        "ibility", "ations", "ation", "ating", "ated", "ates", "ible", "able", "ings", "ing",
        "edly", "ies", "ment", "ments", "ate", "ed", "ly", "es", "s",
    ];
    let mut s = w.clone();
    for suffix in SUFFIXES {
        if let Some(rest) = s.strip_suffix(suffix)
            && rest.chars().count() >= 3
            && !(*suffix == "s"
                && (rest.ends_with('s') || rest.ends_with('u') || rest.ends_with('i')))
        {
            s = if *suffix == "ies" {
                format!("{rest}y")
            } else {
                rest.to_owned()
            };
            break;
        }
    }
    if s.len() > 3 && s.ends_with('e') {
        s.pop();
    }
    let b = s.as_bytes();
    // A doubled final consonant goes ("cancell" -> "cancel"), except "ss", "zz" and a short "ll" ("fill").
    let [.., before, last] = b else { return s };
    let doubled = b.len() > 3 && last == before;
    let keep = matches!(last, b's' | b'z') || (*last == b'l' && b.len() <= 4);
    if doubled && !keep {
        s.pop();
    }
    s
}

/// Words too common to say anything about what a caller wants.
pub(crate) fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

/// Sorted, so lookups are a binary search (checked by a test).
#[rustfmt::skip]
const STOPWORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "anyone", "anything", "are", "as", "at", "be", "been",
    "but", "by", "can", "could", "did", "do", "does", "for", "from", "get", "go", "going", "got",
    "had", "has", "have", "hello", "hey", "hi", "how", "i", "if", "in", "into", "is", "it", "just",
    "know", "let", "like", "look", "looking", "me", "might", "more", "much", "my", "need", "no",
    "not", "now", "of", "okay", "on", "or", "our", "please", "should", "so", "some", "tell",
    "thank", "thanks", "that", "the", "their", "them", "then", "there", "these", "they", "this",
    "those", "to", "up", "us", "was", "we", "what", "when", "where", "which", "who", "why", "will",
    "wondering", "would", "yeah", "yes", "you", "your", "yours",
];

/// Words that are never part of a caller's name: function words, verbs and nouns callers use around it.
pub(crate) fn is_common(word: &str) -> bool {
    is_stopword(word) || COMMON.binary_search(&word).is_ok()
}

/// Sorted (checked by a test).
#[rustfmt::skip]
const COMMON: &[&str] = &[
    "after", "afternoon", "again", "all", "also", "an", "anytime", "appointment", "asap", "back",
    "because", "before", "best", "bill", "book", "booking", "bye", "call", "callback", "calling",
    "cancel", "check", "cleaning", "come", "coming", "correct", "day", "dentist", "doctor", "done",
    "email", "emergency", "evening", "exam", "fine", "friday", "good", "great", "here", "hours",
    "hurts", "insurance", "leave", "message", "minute", "monday", "morning", "name", "need",
    "never", "nevermind", "next", "night", "number", "office", "oh", "one", "open", "pain", "phone",
    "question", "reach", "regarding", "right", "saturday", "schedule", "see", "someone", "sorry",
    "speaking", "sunday", "sure", "than", "thursday", "time", "today", "tomorrow", "tuesday",
    "urgent", "very", "want", "wednesday", "week", "well", "with", "yep", "yup",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(COMMON.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn stems_meet() {
        assert_eq!(stem("cancellation"), stem("cancel"));
        assert_eq!(stem("cancelled"), stem("cancel"));
        assert_eq!(stem("parking"), stem("park"));
        assert_eq!(stem("validation"), stem("validate"));
        assert_eq!(stem("whitening"), stem("whiten"));
        assert_eq!(stem("fillings"), stem("filling"));
        assert_eq!(stem("cleaning"), stem("clean"));
        assert_eq!(stem("accessible"), stem("access"));
        assert_eq!(stem("kids"), stem("children"));
    }
}
