//! An agent that states no facts: every fact question gets the no-information answer, nothing invented.

use super::*;
use crate::dialogue::answers::NO_INFO;
use crate::dialogue::{Action, TransferReason};

/// Words that would state a day or time.
const TIME_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "tomorrow",
    "tonight",
    "weekend",
    "morning",
    "afternoon",
    "evening",
    "noon",
    "midnight",
    "am",
    "pm",
    "oclock",
    "hour",
    "hours",
    "daily",
    "weekday",
    "weekdays",
];

/// Time words as written: "I'm" is not "I am" here, and "AM" counts only in capitals.
fn time_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !matches!(*w, "am" | "pm" | "Am" | "Pm"))
        .map(str::to_lowercase)
        .filter(|w| TIME_WORDS.contains(&w.as_str()))
        .collect()
}

const FACT_QUESTIONS: &[&str] = &[
    "What time do you open on Saturday?",
    "what are your hours",
    "are you open today",
    "are you open now",
    "are you open this weekend?",
    "what days are you closed",
    "do you close for lunch",
    "are you open late on thursdays",
    "where are you located",
    "what's your address",
    "what's your phone number",
    "what's your email",
    "do you have a website",
    "do you have a fax number",
    "how can I contact you",
    "what services do you offer",
    "do you do whitening?",
    "how much is a cleaning",
    "how much does it cost",
    "do you do implants",
    "do you take Delta Dental?",
    "what insurance do you accept",
    "can I pay with visa",
    "do you take checks",
    "do you offer financing",
    "who are your dentists",
    "is Dr. Lopez there?",
    "who works there",
    "do you validate parking",
    "what's your cancellation policy",
];

#[test]
fn every_fact_question_gets_the_no_information_answer() {
    let p = empty();
    for q in FACT_QUESTIONS {
        for now in [None, at(Weekday::Tuesday, 10, 0)] {
            let r = Receptionist::new(p.clone()).respond(q, now);
            assert_eq!(r.text, NO_INFO, "{q}");
            assert!(r.actions.is_empty(), "{q}");
            assert!(
                !r.text.chars().any(|c| c.is_ascii_digit()),
                "{q}: {}",
                r.text
            );
            let asked = time_words(q);
            for w in time_words(&r.text) {
                assert!(asked.contains(&w), "{q}: the reply adds {w:?}: {}", r.text);
            }
        }
    }
}

#[test]
fn the_no_information_offer_leads_to_a_message_about_the_question() {
    let mut r = Receptionist::new(empty());
    assert_eq!(r.respond("do you take Delta Dental?", None).text, NO_INFO);
    let next = r.respond("yes please", None);
    assert!(next.text.contains("name"), "{}", next.text);
    r.respond("Ana Ruiz", None);
    r.respond("five oh three five five five zero one four two", None);
    let done = r.respond("yes", None);
    let Some(Action::TakeMessage(m)) = done.actions.first() else {
        panic!("a message: {done:?}");
    };
    assert_eq!(m.reason, "Caller asked: Do you take Delta Dental");
    assert_eq!(m.callback.as_deref(), Some("5035550142"));
}

#[test]
fn emergency_without_transfer_takes_an_urgent_message() {
    let mut r = Receptionist::new(empty());
    let first = r.respond("I have an emergency, my tooth got knocked out", None);
    assert!(first.actions.is_empty());
    assert!(first.text.contains("emergency services"), "{}", first.text);
    assert!(
        !first.text.chars().any(|c| c.is_ascii_digit()),
        "{}",
        first.text
    );
    assert!(
        first.text.contains("May I have your name"),
        "{}",
        first.text
    );
    r.respond("Sam Lee", None);
    r.respond("971 555 0100", None);
    let done = r.respond("yes", None);
    let Some(Action::TakeMessage(m)) = done.actions.first() else {
        panic!("a message: {done:?}");
    };
    assert!(
        m.reason.starts_with("Urgent: I have an emergency"),
        "{}",
        m.reason
    );
}

#[test]
fn a_person_without_transfer_number_is_offered_a_message() {
    let mut r = Receptionist::new(empty());
    let first = r.respond("can I talk to a real person", None);
    assert!(first.actions.is_empty());
    assert!(first.text.contains("take a message"), "{}", first.text);
    let next = r.respond("sure", None);
    assert!(next.text.contains("May I have your name"), "{}", next.text);
    assert!(
        r.on_dtmf('0', None).is_none(),
        "no transfer while a message is being taken"
    );
}

#[test]
fn greeting_and_capabilities_claim_nothing() {
    let mut r = Receptionist::new(empty());
    assert_eq!(
        r.greeting().text,
        "Thank you for calling Front desk. How can I help you today?"
    );
    let caps = r.respond("what can you do", None);
    assert_eq!(caps.text, "I can take a message or request an appointment.");
    let who = r.respond("is this a robot", None);
    assert!(!who.text.contains("hours"), "{}", who.text);
}

#[test]
fn demo_emergency_transfer_is_emergency_not_person() {
    let r = ask(&demo(), "my gums are bleeding and my face is swollen");
    assert!(matches!(
        r.actions.as_slice(),
        [Action::Transfer {
            reason: TransferReason::Emergency,
            ..
        }]
    ));
}
