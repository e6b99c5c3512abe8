//! Properties over arbitrary caller input: never a panic, never silence, never an invented figure.

use proptest::prelude::*;

use super::*;

/// Words the policy reacts to, so generated turns reach the flows and the fact answers, not only the
/// fallback. No number words: a digit in a reply to these can only be an invented one.
const VOCABULARY: &[&str] = &[
    "what",
    "time",
    "do",
    "you",
    "open",
    "close",
    "on",
    "saturday",
    "sunday",
    "today",
    "tomorrow",
    "now",
    "hours",
    "lunch",
    "weekend",
    "where",
    "address",
    "phone",
    "number",
    "email",
    "website",
    "services",
    "whitening",
    "cleaning",
    "price",
    "how",
    "much",
    "insurance",
    "delta",
    "dental",
    "blue",
    "cross",
    "take",
    "visa",
    "cash",
    "financing",
    "who",
    "dentist",
    "doctor",
    "lopez",
    "is",
    "there",
    "emergency",
    "person",
    "manager",
    "book",
    "appointment",
    "schedule",
    "message",
    "call",
    "me",
    "back",
    "leave",
    "my",
    "name",
    "ana",
    "ruiz",
    "this",
    "yes",
    "no",
    "that's",
    "right",
    "never",
    "mind",
    "cancel",
    "bye",
    "thanks",
    "um",
    "uh",
    "morning",
    "afternoon",
    "next",
    "tuesday",
    "it's",
    "for",
    "a",
    "the",
    "repeat",
    "robot",
    "parking",
    "policy",
    "?",
    ",",
    ".",
];

fn sentence() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..12).prop_map(|w| w.join(" "))
}

fn turn() -> impl Strategy<Value = String> {
    prop_oneof![sentence(), any::<String>(), "\\PC{0,60}"]
}

fn has_digit(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_string_gets_a_non_empty_reply(said in any::<String>(), minute in 0u16..1440) {
        for p in [demo(), empty()] {
            let now = Some(LocalTime { weekday: Weekday::Wednesday, minute });
            let r = Receptionist::new(p.clone()).respond(&said, now);
            prop_assert!(!r.text.trim().is_empty());
        }
    }

    #[test]
    fn the_empty_profile_never_says_a_digit(said in "\\PC{0,80}") {
        let r = Receptionist::new(empty()).respond(&said, None);
        prop_assert!(!r.text.trim().is_empty());
        prop_assert!(!has_digit(&r.text), "{:?} -> {:?}", said, r.text);
    }

    #[test]
    fn conversations_never_panic_or_go_silent(
        turns in prop::collection::vec(turn(), 1..8),
        keys in prop::collection::vec(prop::sample::select(&['0', '5', '9', '#', '*', 'A'][..]), 0..12),
        with_caller_id in any::<bool>(),
    ) {
        for p in [demo(), empty()] {
            let caller = with_caller_id.then(|| "+15035550100".to_owned());
            let mut r = Receptionist::new(p.clone()).with_caller_number(caller);
            prop_assert!(!r.greeting().text.is_empty());
            for (i, t) in turns.iter().enumerate() {
                let reply = r.respond(t, at(Weekday::Friday, 9, 30));
                prop_assert!(!reply.text.trim().is_empty());
                if let Some(k) = keys.get(i) && let Some(keyed) = r.on_dtmf(*k, None) {
                    prop_assert!(!keyed.text.trim().is_empty());
                }
            }
        }
    }

    #[test]
    fn the_empty_profile_invents_no_figure_in_a_conversation(
        turns in prop::collection::vec(sentence(), 1..8),
    ) {
        let mut r = Receptionist::new(empty());
        for t in &turns {
            let reply = r.respond(t, at(Weekday::Monday, 12, 0));
            prop_assert!(!has_digit(&reply.text), "{:?} -> {:?}", t, reply.text);
        }
    }
}
