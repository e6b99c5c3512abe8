//! Caller text as the policy reads it.
//!
//! An STT final transcript arrives in any case, with or without punctuation, with fillers ("um"), with
//! contractions written or run together ("whats"), numbers as digits or words and titles abbreviated
//! ("Dr."). Everything downstream matches on the lower-case word tokens built here, so those variations
//! are absorbed in one place.

pub(crate) use super::words::{is_common, is_stopword, stem};

/// One caller turn, normalised.
#[derive(Debug, Clone)]
pub(crate) struct Utterance {
    /// The transcript without fillers, as spoken: what a message or booking reason quotes.
    pub clean: String,
    /// Lower-case word tokens, contractions expanded, abbreviations spelled out.
    pub tokens: Vec<String>,
    /// Phrased as a question (a question mark, or a question word first).
    pub question: bool,
}

/// Words that carry nothing: dropped before anything else looks at the turn.
const FILLERS: &[&str] = &[
    "um", "umm", "ummm", "uh", "uhh", "uhm", "erm", "er", "err", "hmm", "hm", "hmmm", "mm", "ah",
    "eh",
];

/// Openers skipped when deciding whether a turn is a question ("so, what time ...").
const OPENERS: &[&str] = &[
    "so", "and", "oh", "okay", "ok", "well", "actually", "sorry", "wait", "also", "hey", "hi",
    "hello", "but", "yes", "yeah", "no", "please", "quick", "question", "just", "then", "alright",
    "right",
];

const QUESTION_WORDS: &[&str] = &[
    "what", "when", "where", "who", "whom", "whose", "how", "which", "why", "do", "does", "did",
    "are", "is", "was", "will", "can", "could", "would", "should", "may",
];

impl Utterance {
    /// Normalises one transcript. Never fails: noise becomes an utterance without tokens.
    pub fn parse(raw: &str) -> Self {
        let tokens = tokenize(raw);
        let question = raw.contains('?') || {
            let first = tokens.iter().find(|t| !OPENERS.contains(&t.as_str()));
            first.is_some_and(|t| QUESTION_WORDS.contains(&t.as_str()))
        };
        Self {
            clean: clean_text(raw),
            tokens,
            question,
        }
    }

    /// No words at all (silence, noise, a lone filler).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Contains this token.
    pub fn has(&self, word: &str) -> bool {
        self.tokens.iter().any(|t| t == word)
    }

    /// Contains any of these tokens.
    pub fn has_any(&self, words: &[&str]) -> bool {
        self.tokens.iter().any(|t| words.contains(&t.as_str()))
    }

    /// Where this space-separated phrase starts, as consecutive tokens.
    pub fn find(&self, phrase: &str) -> Option<usize> {
        let words: Vec<&str> = phrase.split(' ').collect();
        if words.is_empty() || words.len() > self.tokens.len() {
            return None;
        }
        (0..=self.tokens.len() - words.len())
            .find(|&i| words.iter().zip(&self.tokens[i..]).all(|(w, t)| w == t))
    }

    /// Contains this phrase.
    pub fn phrase(&self, phrase: &str) -> bool {
        self.find(phrase).is_some()
    }

    /// Contains any of these phrases.
    pub fn phrase_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.phrase(p))
    }

    /// The whole turn is one of these phrases, ignoring politeness ("okay", "please", "thanks").
    pub fn is_only(&self, phrases: &[&str]) -> bool {
        let core: Vec<&str> = self
            .tokens
            .iter()
            .map(String::as_str)
            .filter(|t| {
                !matches!(
                    *t,
                    "please" | "thanks" | "thank" | "you" | "okay" | "oh" | "well"
                )
            })
            .collect();
        let joined = core.join(" ");
        phrases.contains(&joined.as_str())
    }
}

/// Lower-case tokens with contractions expanded; also used for facts and documents so both sides match.
pub(crate) fn tokenize(raw: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = raw.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let c = if c == '\u{2019}' || c == '\u{2018}' {
            '\''
        } else {
            c
        };
        let keep = c.is_alphanumeric()
            || (c == '\'' && !cur.is_empty())
            || (c == ':'
                && cur.chars().last().is_some_and(|p| p.is_ascii_digit())
                && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        if keep {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut out = Vec::with_capacity(words.len() + 4);
    for w in words {
        let w = w.trim_matches('\'');
        if w.is_empty() || FILLERS.contains(&w) {
            continue;
        }
        expand(w, &mut out);
    }
    join_split_words(&mut out);
    out
}

/// Spells out one word: contractions, run-together STT forms, abbreviations.
fn expand(w: &str, out: &mut Vec<String>) {
    let fixed: &[&str] = match w {
        "can't" | "cant" | "cannot" => &["can", "not"],
        "won't" | "wont" => &["will", "not"],
        "ain't" => &["is", "not"],
        "dont" => &["do", "not"],
        "doesnt" => &["does", "not"],
        "didnt" => &["did", "not"],
        "isnt" => &["is", "not"],
        "arent" => &["are", "not"],
        "im" => &["i", "am"],
        "ive" => &["i", "have"],
        "youre" => &["you", "are"],
        "whats" => &["what", "is"],
        "thats" => &["that", "is"],
        "wheres" => &["where", "is"],
        "whos" => &["who", "is"],
        "hows" => &["how", "is"],
        "let's" | "lets" => &["let", "us"],
        "wanna" => &["want", "to"],
        "gonna" => &["going", "to"],
        "gotta" => &["got", "to"],
        "dr" | "doc" => &["doctor"],
        "drs" => &["doctors"],
        "appt" | "appts" => &["appointment"],
        "pls" | "plz" => &["please"],
        "ok" | "k" => &["okay"],
        "thx" => &["thanks"],
        "yea" | "ya" | "yah" => &["yeah"],
        "nope" | "nah" => &["no"],
        "o'clock" | "oclock" => &["oclock"],
        _ => &[],
    };
    if !fixed.is_empty() {
        out.extend(fixed.iter().map(|s| (*s).to_owned()));
        return;
    }
    if let Some(stem) = w.strip_suffix("n't") {
        out.push(stem.to_owned());
        out.push("not".to_owned());
        return;
    }
    for (suffix, full) in [
        ("'m", "am"),
        ("'re", "are"),
        ("'ll", "will"),
        ("'ve", "have"),
        ("'d", "would"),
    ] {
        if let Some(stem) = w.strip_suffix(suffix) {
            out.push(stem.to_owned());
            out.push(full.to_owned());
            return;
        }
    }
    if let Some(stem) = w.strip_suffix("'s") {
        out.push(stem.to_owned());
        if matches!(
            stem,
            "it" | "that"
                | "what"
                | "where"
                | "who"
                | "how"
                | "there"
                | "here"
                | "he"
                | "she"
                | "name"
                | "when"
                | "this"
        ) {
            out.push("is".to_owned());
        }
        return;
    }
    out.push(w.replace('\'', ""));
}

/// Joins words that STT or punctuation split: "e mail", "a m", "web site", "voice mail".
fn join_split_words(tokens: &mut Vec<String>) {
    const PAIRS: &[(&str, &str, &str)] = &[
        ("e", "mail", "email"),
        ("web", "site", "website"),
        ("a", "m", "am"),
        ("p", "m", "pm"),
        ("voice", "mail", "voicemail"),
        ("o", "clock", "oclock"),
        ("never", "mind", "nevermind"),
        ("good", "bye", "goodbye"),
        ("any", "time", "anytime"),
    ];
    let mut i = 0;
    while i + 1 < tokens.len() {
        let hit = PAIRS
            .iter()
            .find(|(a, b, _)| tokens[i] == *a && tokens[i + 1] == *b);
        if let Some((_, _, joined)) = hit {
            tokens[i] = (*joined).to_owned();
            tokens.remove(i + 1);
        }
        i += 1;
    }
}

/// The transcript with fillers removed and spacing tidied, for quoting back.
fn clean_text(raw: &str) -> String {
    let words: Vec<&str> = raw
        .split_whitespace()
        .filter(|w| {
            let bare: String = w
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            bare.is_empty() || !FILLERS.contains(&bare.as_str())
        })
        .collect();
    let joined = words.join(" ");
    let trimmed = joined.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | '.' | '?' | '!' | ';' | ':' | '-')
    });
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Title-cases a name heard in lower case ("ana ruiz" -> "Ana Ruiz").
pub(crate) fn title_case(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Upper-cases the first letter, leaving the rest as written.
pub(crate) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Lower-cases the first letter unless the word looks like a proper noun or acronym ("Invisalign" stays).
pub(crate) fn lower_first(s: &str) -> String {
    let first_word = s.split_whitespace().next().unwrap_or("");
    let rest_has_upper = first_word.chars().skip(1).any(char::is_uppercase);
    if rest_has_upper {
        return s.to_owned();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "a, b, and c" for the ear.
pub(crate) fn join_list(items: &[String], conj: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} {conj} {b}"),
        [init @ .., last] => format!("{}, {conj} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stt_text_normalises() {
        let u = Utterance::parse("Um, what's Dr. Lopez's e-mail? I'd like it, uh, today");
        assert_eq!(
            u.tokens,
            [
                "what", "is", "doctor", "lopez", "email", "i", "would", "like", "it", "today"
            ]
        );
        assert!(u.question);
        assert_eq!(u.clean, "What's Dr. Lopez's e-mail? I'd like it, today");
        assert_eq!(tokenize("10:30 a.m."), ["10:30", "am"]);
        assert_eq!(tokenize("dont  CANT"), ["do", "not", "can", "not"]);
        assert!(Utterance::parse("  ...  uh ").is_empty());
    }
}
