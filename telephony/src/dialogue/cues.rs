//! Conversational cues: yes, no, never mind, goodbye, "a person", "call me back", "I'd like".
//!
//! These decide how a turn moves the conversation rather than which fact it asks about, and are shared
//! by intent classification, offers and slot filling.

use super::text::Utterance;

#[rustfmt::skip]
const YES: &[&str] = &[
    "yes", "yeah", "yep", "yup", "sure", "okay", "correct", "right", "alright", "absolutely",
    "definitely", "certainly", "perfect", "great", "fine", "exactly", "affirmative", "mhm",
    "please",
];

/// Agreement: "yes", "that's right", "sounds good", "go ahead", alone or with politeness.
pub(crate) fn is_yes(u: &Utterance) -> bool {
    let Some(first) = u.tokens.first() else {
        return false;
    };
    if u.has_any(&["no", "not", "wrong", "incorrect"]) {
        return false;
    }
    let strong = matches!(
        first.as_str(),
        "yes" | "yeah" | "yep" | "yup" | "correct" | "absolutely" | "mhm"
    );
    (YES.contains(&first.as_str()) && (strong || u.tokens.len() <= 3))
        || u.phrase_any(&[
            "that is right",
            "that is correct",
            "that is it",
            "sounds good",
            "go ahead",
            "please do",
            "of course",
            "that works",
            "that would be great",
            "yes please",
            "uh huh",
            "you got it",
            "i would like that",
            "that is fine",
        ])
}

/// Refusal or denial: "no", "nope", "not really", "that's wrong".
pub(crate) fn is_no(u: &Utterance) -> bool {
    let Some(first) = u.tokens.first() else {
        return false;
    };
    first == "no"
        || first == "negative"
        || u.phrase_any(&[
            "not really",
            "that is wrong",
            "that is not right",
            "that is not correct",
            "not quite",
            "not right",
            "incorrect",
            "i do not think so",
            "no thanks",
            "no thank you",
            "wrong",
        ])
}

/// Abandons a booking or message in progress: "never mind", "forget it", "cancel that".
pub(crate) fn is_cancel(u: &Utterance) -> bool {
    u.has("nevermind")
        || u.phrase_any(&[
            "forget it",
            "forget about it",
            "cancel that",
            "cancel this",
            "cancel the request",
            "cancel the message",
            "cancel the booking",
            "cancel the appointment request",
            "do not bother",
            "changed my mind",
            "change my mind",
            "stop that",
            "do not book",
            "do not send",
            "scratch that",
        ])
        || u.is_only(&["cancel", "stop", "cancel it", "no stop", "no cancel"])
}

pub(crate) fn is_goodbye(u: &Utterance) -> bool {
    u.has_any(&["bye", "goodbye", "byebye"])
        || u.phrase_any(&[
            "that is all",
            "that is it",
            "that will be all",
            "that is everything",
            "that was all",
            "that was it",
            "nothing else",
            "all set",
            "i am done",
            "we are done",
            "hang up",
            "talk to you later",
            "have a good day",
            "have a nice day",
            "have a great day",
            "have a good one",
            "have a good night",
            "have a good weekend",
            "see you",
        ])
}

pub(crate) fn is_emergency(u: &Utterance) -> bool {
    u.has_any(&[
        "emergency",
        "emergencies",
        "bleeding",
        "swelling",
        "swollen",
        "abscess",
    ]) || u.phrase_any(&[
        "knocked out",
        "severe pain",
        "terrible pain",
        "a lot of pain",
        "so much pain",
        "unbearable",
        "can not breathe",
        "trouble breathing",
        "broke my tooth",
        "broken tooth",
        "cracked tooth",
        "tooth fell out",
    ])
}

/// Someone at the business, not a named staff member.
#[rustfmt::skip]
const PERSON_WORDS: &[&str] = &[
    "person", "human", "someone", "somebody", "anyone", "anybody", "manager", "receptionist",
    "operator", "representative", "rep", "staff", "agent", "people", "owner", "supervisor",
];

pub(crate) fn is_human(u: &Utterance) -> bool {
    let asks = u.phrase_any(&[
        "speak to",
        "speak with",
        "talk to",
        "talk with",
        "connect me",
        "transfer me",
        "put me through",
        "get me",
        "let me speak",
        "let me talk",
        "is there",
        "want a",
        "need a",
        "want to speak",
        "i want the",
        "give me",
    ]);
    (asks && u.has_any(PERSON_WORDS))
        || u.phrase_any(&["real person", "live person", "a human", "front desk"])
        || u.is_only(&[
            "person",
            "human",
            "operator",
            "representative",
            "agent",
            "receptionist",
            "manager",
            "a person",
            "someone",
            "somebody",
            "the manager",
        ])
}

pub(crate) fn is_message(u: &Utterance) -> bool {
    u.has_any(&["message", "voicemail", "callback"])
        || u.phrase_any(&[
            "call me back",
            "call me",
            "call back",
            "get back to me",
            "return my call",
            "someone to call",
            "somebody to call",
            "have someone",
            "have somebody",
            "reach out to me",
            "contact me",
        ])
}

pub(crate) fn wants(u: &Utterance) -> bool {
    u.phrase_any(&[
        "i would like",
        "i want",
        "i need",
        "i am looking to",
        "i am looking for an",
        "can i get",
        "could i get",
        "can i have",
        "could i have",
        "can i make",
        "can i come",
        "i am due",
        "i have to",
        "need to get",
        "we need",
        "we would like",
        "my son needs",
        "my daughter needs",
        "like to get",
    ])
}

/// Describes a problem rather than asking for anything: "my tooth hurts".
pub(crate) fn is_symptom(u: &Utterance) -> bool {
    u.has_any(&[
        "pain",
        "hurts",
        "hurt",
        "hurting",
        "ache",
        "aches",
        "aching",
        "toothache",
        "sore",
        "chipped",
        "sensitive",
        "sensitivity",
        "infection",
        "infected",
        "broken",
        "broke",
        "cracked",
        "loose",
    ]) || u.phrase_any(&[
        "fell off",
        "fell out",
        "came off",
        "came out",
        "lost a filling",
        "lost my",
    ])
}

pub(crate) fn asks_to_speak(u: &Utterance) -> bool {
    u.phrase_any(&[
        "speak to",
        "speak with",
        "talk to",
        "talk with",
        "connect me",
        "transfer me",
        "put me through",
    ])
}
