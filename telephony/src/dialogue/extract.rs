//! Slot values in a caller's words: their name, the reason for a call, which slot they want to change.
//!
//! Callers answer several questions at once ("This is Ana Ruiz, I need a cleaning next Tuesday
//! morning"), so these look for explicit patterns anywhere in a turn; the bare answer to a question just
//! asked ("Ana Ruiz") is accepted only for that question.

use super::catalog::Catalog;
use super::text::{Utterance, is_common, lower_first, title_case};
use crate::agent::Facts;

/// Which piece of a request a turn fills or corrects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The caller's name.
    Name,
    /// The number to call back.
    Callback,
    /// Why they want the appointment, or the message itself.
    Reason,
    /// Preferred day and time (bookings).
    When,
}

/// Words that start a turn but never a name.
#[rustfmt::skip]
const NOT_NAME_START: &[&str] = &[
    "what", "when", "where", "why", "how", "who", "which", "do", "does", "did", "can", "could",
    "is", "are", "yes", "no", "yeah", "i", "we", "you", "the", "a", "an", "my", "okay", "sure",
    "that", "it", "this", "not", "sorry", "hello", "hi", "hey", "thanks", "thank", "please", "just",
    "actually", "never", "nevermind", "cancel", "stop", "wait",
];

/// Adjectives and states that follow "I am" and are not names.
#[rustfmt::skip]
const NOT_NAME: &[&str] = &[
    "new", "still", "trying", "hoping", "interested", "available", "free", "busy", "late", "early",
    "sick", "patient", "existing", "returning", "current", "ready", "having", "afraid", "worried",
    "scared", "sure", "fine", "good", "okay", "here", "there", "in", "at", "on", "a", "an", "the",
    "not", "so", "really", "also", "an", "existing", "pregnant", "nervous", "done",
    "wrong", "incorrect", "correct", "right", "spelled", "misspelled", "different",
];

fn name_word(w: &str) -> bool {
    w.chars().all(char::is_alphabetic)
        && !w.is_empty()
        && !is_common(w)
        && !NOT_NAME.contains(&w)
        && super::when::weekday(w).is_none()
}

/// Up to three name words from `start`, joining a spelled-out run ("a n a" -> "ana").
fn name_from(tokens: &[String], start: usize) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    let mut i = start;
    while i < tokens.len() && words.len() < 3 {
        let t = &tokens[i];
        if t.chars().count() == 1 && t.chars().all(char::is_alphabetic) {
            let run: Vec<&String> = tokens[i..]
                .iter()
                .take_while(|x| x.chars().count() == 1 && x.chars().all(char::is_alphabetic))
                .collect();
            if run.len() >= 3 {
                let spelled: String = run.iter().map(|s| s.as_str()).collect();
                // "Ruiz, R U I Z" spells the word just said.
                if words.last() != Some(&spelled) {
                    words.push(spelled);
                }
                i += run.len();
                continue;
            }
            break;
        }
        if !name_word(t) || (t.ends_with("ing") && t.len() > 5) {
            break;
        }
        words.push(t.clone());
        i += 1;
    }
    (!words.is_empty()).then(|| title_case(&words))
}

/// The caller's name, from "my name is ...", "this is ...", "I'm ...", "... speaking"; or, when the name
/// was just asked for, from a bare answer ("Ana Ruiz").
pub(crate) fn name(u: &Utterance, asked: bool, business: &[String]) -> Option<String> {
    let t = &u.tokens;
    let not_business = |n: &String| !n.split(' ').any(|w| business.contains(&w.to_lowercase()));
    for pattern in [
        "my name is",
        "name is",
        "the name is",
        "this is",
        "it is",
        "i am",
        "you can call me",
    ] {
        if let Some(p) = u.find(pattern) {
            let start = p + pattern.split(' ').count();
            // "it is" and "i am" say a name only at the start of a clause.
            let starts_turn = p == 0
                || matches!(
                    t[p - 1].as_str(),
                    "yes" | "yeah" | "hi" | "hello" | "hey" | "and" | "okay" | "so" | "oh"
                );
            if matches!(pattern, "it is" | "i am") && !starts_turn && !asked {
                continue;
            }
            if let Some(n) = name_from(t, start).filter(not_business) {
                return Some(n);
            }
        }
    }
    if let Some(p) = t.iter().position(|w| w == "speaking" || w == "here")
        && p > 0
        && p <= 3
        && let Some(n) = name_from(t, 0)
        && n.split(' ').count() == p
    {
        return Some(n);
    }
    if !asked {
        return None;
    }
    let mut start = 0;
    while start < t.len() && matches!(t[start].as_str(), "yes" | "yeah" | "sure" | "okay" | "oh") {
        start += 1;
    }
    for prefix in ["my name is", "name is", "it is", "this is", "i am"] {
        let words: Vec<&str> = prefix.split(' ').collect();
        if t.len() >= start + words.len()
            && t[start..start + words.len()]
                .iter()
                .zip(&words)
                .all(|(a, b)| a == b)
        {
            start += words.len();
            break;
        }
    }
    let rest = &t[start..];
    if rest.is_empty() || NOT_NAME_START.contains(&rest[0].as_str()) {
        return None;
    }
    if let Some(n) = name_from(rest, 0) {
        return Some(n);
    }
    let plain = rest.len() <= 4
        && rest.iter().all(|w| w.chars().all(char::is_alphabetic))
        && !rest.iter().all(|w| is_common(w));
    plain.then(|| title_case(rest))
}

/// Clause openers after which a caller says why they are calling.
const REASON_MARKERS: &[&str] = &["about", "regarding", "because", "re"];

/// Why the caller wants an appointment or a callback, from a service they name or a clause after
/// "about"/"because"/"for". `asked` takes the whole turn, as the caller was just asked for it.
pub(crate) fn reason(
    u: &Utterance,
    catalog: &Catalog,
    facts: &Facts,
    booking: bool,
    asked: bool,
) -> Option<String> {
    if booking && let Some(i) = catalog.service(u) {
        return Some(lower_first(&facts.services[i].name));
    }
    if asked {
        let text = u.clean.trim();
        let bare_answer = u.tokens.len() <= 3 && (super::cues::is_yes(u) || super::cues::is_no(u));
        return (!text.is_empty() && !bare_answer).then(|| text.to_owned());
    }
    let t = &u.tokens;
    let start = t.iter().enumerate().find_map(|(i, w)| {
        let marker = REASON_MARKERS.contains(&w.as_str())
            || (w == "for"
                && booking
                && t.get(i + 1).is_some_and(|n| {
                    !matches!(
                        n.as_str(),
                        "me" | "you" | "next" | "this" | "tomorrow" | "today" | "the"
                    ) && super::when::weekday(n).is_none()
                }));
        marker.then_some(i + 1)
    })?;
    let clause: Vec<&str> = t[start..]
        .iter()
        .map(String::as_str)
        .take_while(|w| {
            super::when::weekday(w).is_none()
                && !matches!(
                    *w,
                    "next" | "tomorrow" | "today" | "on" | "at" | "and" | "number" | "is"
                )
        })
        .collect();
    let meaningful = clause.iter().any(|w| !is_common(w));
    (meaningful && clause.len() <= 12).then(|| clause.join(" "))
}

/// A restated message or reason: the words after "the message is" ("no, the message is: call me").
pub(crate) fn restated(u: &Utterance) -> Option<String> {
    let lower = u.clean.to_lowercase();
    let at = [
        "message is",
        "reason is",
        "it's about",
        "it is about",
        "should say",
        "should be",
    ]
    .iter()
    .filter_map(|m| lower.find(m).map(|i| i + m.len()))
    .min()?;
    let rest = u
        .clean
        .get(at..)?
        .trim_start_matches([':', ',', ' ', '-'])
        .trim();
    (rest.chars().any(char::is_alphanumeric)).then(|| super::text::capitalise(rest))
}

/// The slot a correction points at: "the name is wrong", "change the time".
pub(crate) fn slot_named(u: &Utterance) -> Option<Slot> {
    if u.has("name") || u.has("spelling") || u.has("spell") {
        Some(Slot::Name)
    } else if u.has_any(&["number", "phone", "digits"]) {
        Some(Slot::Callback)
    } else if u.has_any(&["time", "day", "date", "when"]) {
        Some(Slot::When)
    } else if u.has_any(&["reason", "message", "service", "for"]) {
        Some(Slot::Reason)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str, asked: bool) -> Option<String> {
        name(
            &Utterance::parse(s),
            asked,
            &["bright".to_owned(), "smile".to_owned()],
        )
    }

    #[test]
    fn names_are_found_in_patterns_and_bare_answers() {
        assert_eq!(
            n("This is Ana Ruiz, I need a cleaning", false).as_deref(),
            Some("Ana Ruiz")
        );
        assert_eq!(
            n("my name is jon smith and my number is 555", false).as_deref(),
            Some("Jon Smith")
        );
        assert_eq!(n("Hi, I'm Ana", false).as_deref(), Some("Ana"));
        assert_eq!(n("ana ruiz", true).as_deref(), Some("Ana Ruiz"));
        assert_eq!(n("Ana speaking", false).as_deref(), Some("Ana"));
        assert_eq!(n("it's a n a", true).as_deref(), Some("Ana"));
        assert_eq!(
            n("yes, it's Will Smith", true).as_deref(),
            Some("Will Smith")
        );
        assert_eq!(n("I'm calling about my bill", false), None);
        assert_eq!(n("this is about my bill", false), None);
        assert_eq!(n("I'm new", false), None);
        assert_eq!(n("what are your hours", true), None);
        assert_eq!(n("ana ruiz", false), None);
        assert_eq!(n("is this bright smile", false), None);
        assert_eq!(
            n("a cleaning next tuesday, this is Ana Ruiz", false).as_deref(),
            Some("Ana Ruiz")
        );
        assert_eq!(
            n("Ana, and it's about my bill", true).as_deref(),
            Some("Ana")
        );
    }

    #[test]
    fn correction_targets() {
        let s = |t: &str| slot_named(&Utterance::parse(t));
        assert_eq!(s("no, the number is wrong"), Some(Slot::Callback));
        assert_eq!(s("change the time"), Some(Slot::When));
        assert_eq!(s("you got my name wrong"), Some(Slot::Name));
    }
}
