//! Every fact intent against the demo agent: the key facts must be in the reply, and nothing else claimed.
//! Opening hours are in `hours.rs`.

use super::*;
use crate::dialogue::answers::NO_INFO;
use crate::dialogue::{Action, TransferReason};

/// (caller says, local time, reply must contain, reply must not contain)
type Case = (
    &'static str,
    Option<LocalTime>,
    &'static [&'static str],
    &'static [&'static str],
);

pub(super) fn check(cases: &[Case]) {
    let p = demo();
    for (said, now, want, never) in cases {
        let r = Receptionist::new(p.clone()).respond(said, *now);
        for w in *want {
            assert!(r.text.contains(w), "{said:?}: want {w:?} in {:?}", r.text);
        }
        for n in *never {
            assert!(
                !r.text.contains(n),
                "{said:?}: {n:?} must not be in {:?}",
                r.text
            );
        }
        assert!(
            !r.text.contains('*') && !r.text.contains('#') && !r.text.contains("- "),
            "{said:?}: no markup in {:?}",
            r.text
        );
    }
}

#[test]
fn location_and_contact() {
    check(&[
        (
            "where are you located?",
            None,
            &["1420 Northwest Lovejoy Street, Suite 210, Portland"],
            &[],
        ),
        (
            "what's your address",
            None,
            &["1420 Northwest Lovejoy Street"],
            &[],
        ),
        ("how do I get to you", None, &["Lovejoy Street"], &[]),
        (
            "what's your phone number",
            None,
            &["five zero three, five five five, zero one four two"],
            &["+1"],
        ),
        (
            "do you have an e-mail",
            None,
            &["frontdesk at brightsmile dot example"],
            &[],
        ),
        (
            "what's your website",
            None,
            &["brightsmile dot example"],
            &["https"],
        ),
        (
            "how can I contact you",
            None,
            &["five zero three", "frontdesk at"],
            &[],
        ),
    ]);
}

#[test]
fn services_and_prices() {
    check(&[
        (
            "what services do you offer",
            None,
            &["teeth whitening", "root canal therapy", "clear aligners"],
            &[],
        ),
        (
            "do you do whitening?",
            None,
            &["Yes", "teeth whitening", "$349"],
            &[],
        ),
        (
            "how much is a cleaning?",
            None,
            &["cleaning and exam", "$129"],
            &["$349"],
        ),
        ("what does teeth whitening cost", None, &["$349"], &[]),
        ("do you do crowns", None, &["Yes", "crowns"], &["$"]),
        ("how much are crowns", None, &["don't have a price"], &["$"]),
        (
            "do you do fillings",
            None,
            &["tooth-coloured composite fillings"],
            &[],
        ),
        ("do you do root canals", None, &["root canal therapy"], &[]),
        ("do you see kids", None, &["children's dentistry"], &[]),
        (
            "do you do implants",
            None,
            &["don't see implants on the list"],
            &["Yes"],
        ),
        ("how much does it cost", None, &["$129", "$349"], &[]),
    ]);
}

#[test]
fn insurance_and_payment() {
    check(&[
        (
            "do you take Delta Dental?",
            None,
            &["Yes", "Delta Dental"],
            &[],
        ),
        ("do you accept met life", None, &["Yes", "MetLife"], &[]),
        ("Is Aetna ok?", None, &["Yes", "Aetna"], &[]),
        (
            "do you take blue cross?",
            None,
            &["Blue Cross isn't on the list", "Delta Dental", "message"],
            &["Yes"],
        ),
        (
            "do you accept humana insurance",
            None,
            &["Humana isn't on the list"],
            &["Yes"],
        ),
        (
            "what insurance do you take",
            None,
            &["Delta Dental, MetLife, Cigna, Aetna, and Guardian"],
            &[],
        ),
        (
            "can I pay with amex",
            None,
            &["Yes", "American Express"],
            &[],
        ),
        ("do you take cash", None, &["Yes", "cash"], &[]),
        (
            "do you take checks",
            None,
            &["Checks aren't on the list"],
            &["Yes"],
        ),
        (
            "how can I pay",
            None,
            &["Visa", "Mastercard", "HSA and FSA cards", "CareCredit"],
            &[],
        ),
        (
            "do you offer payment plans",
            None,
            &["financing through CareCredit"],
            &[],
        ),
    ]);
}

#[test]
fn staff_never_claims_availability() {
    check(&[
        (
            "who are your dentists?",
            None,
            &["Dr. Maria Lopez", "Dr. James Okafor"],
            &["Priya", "Tom"],
        ),
        (
            "is Dr. Lopez there?",
            None,
            &["Dr. Maria Lopez", "can't check", "message", "appointment"],
            &["is in", "available"],
        ),
        (
            "is doctor lopes in today",
            None,
            &["Dr. Maria Lopez"],
            &["is in today"],
        ),
        (
            "can I speak with Dr. Okafor",
            None,
            &["Dr. James Okafor", "message"],
            &[],
        ),
        ("who's the hygienist", None, &["Priya Shah"], &["Dr. Priya"]),
        ("who is the office manager", None, &["Tom Becker"], &[]),
        (
            "who works there",
            None,
            &[
                "Dr. Maria Lopez",
                "Priya Shah, our hygienist",
                "Tom Becker, our office manager",
            ],
            &[],
        ),
        (
            "is doctor smith in",
            None,
            &["don't have a Dr. Smith"],
            &["Yes"],
        ),
    ]);
}

#[test]
fn documents_answer_what_no_intent_covers() {
    check(&[
        ("do you validate parking", None, &["validation"], &[]),
        ("where do I park?", None, &["Free parking"], &[]),
        ("what's your cancellation policy", None, &["24 hours"], &[]),
        (
            "is there a fee if I miss an appointment",
            None,
            &["$50"],
            &[],
        ),
        (
            "is the office wheelchair accessible",
            None,
            &["wheelchair accessible"],
            &[],
        ),
        (
            "do you take new patients",
            None,
            &["New patients are welcome"],
            &[],
        ),
        (
            "what age do you start seeing children",
            None,
            &["first birthday"],
            &[],
        ),
    ]);
    let r = ask(&demo(), "what's the wifi password");
    assert_eq!(r.text, NO_INFO);
}

#[test]
fn emergency_and_people_transfer_when_the_business_allows() {
    let r = ask(&demo(), "I have a dental emergency, my face is swollen");
    assert!(r.text.contains("same day"), "{}", r.text);
    assert_eq!(
        r.actions,
        [Action::Transfer {
            to: "+15035550199".into(),
            reason: TransferReason::Emergency
        }]
    );
    for said in [
        "can I talk to a real person",
        "I want to speak to the manager",
        "Operator.",
        "can you connect me with someone",
    ] {
        let r = ask(&demo(), said);
        assert_eq!(
            r.actions,
            [Action::Transfer {
                to: "+15035550199".into(),
                reason: TransferReason::Person
            }],
            "{said}"
        );
    }
}

#[test]
fn small_talk() {
    check(&[
        (
            "are you a robot?",
            None,
            &["automated receptionist", "Bright Smile Dental"],
            &[],
        ),
        (
            "what can you help me with",
            None,
            &["our hours", "take a message", "connect you"],
            &[],
        ),
        (
            "is this Bright Smile Dental?",
            None,
            &["Yes, this is Bright Smile Dental"],
            &[],
        ),
        ("hello?", None, &["How can I help"], &[]),
        ("thank you", None, &["You're welcome", "anything else"], &[]),
    ]);
}

#[test]
fn stt_variations_reach_the_same_answer() {
    let p = demo();
    let base = ask(&p, "What time do you open on Saturday?").text;
    for said in [
        "what time do you open on saturday",
        "Um, uh, what time do you, uh, open on Saturday???",
        "WHAT TIME DO YOU OPEN ON SATURDAY",
        "what time do u open saturdays",
        "whats the time you open on saturday",
    ] {
        assert_eq!(ask(&p, said).text, base, "{said}");
    }
    let lopez = ask(&p, "is dr. lopez in").text;
    assert_eq!(ask(&p, "is doctor Lopez in").text, lopez);
    assert_eq!(ask(&p, "Is Dr Lopez in?").text, lopez);
}

#[test]
fn two_questions_in_one_turn_get_two_answers() {
    check(&[
        (
            "what's your address and what time do you close on friday?",
            None,
            &["1420 Northwest Lovejoy", "3 PM"],
            &[],
        ),
        (
            "what are your hours and do you take aetna",
            None,
            &["Monday to Wednesday", "Yes, we accept Aetna"],
            &[],
        ),
        (
            "do you take delta and cigna",
            None,
            &["Yes, we accept Delta Dental and Cigna."],
            &[],
        ),
        (
            "do you take delta dental and humana",
            None,
            &["Yes, we accept Delta Dental.", "Humana isn't on the list"],
            &[],
        ),
        (
            "do you do whitening and how much is it",
            None,
            &["$349"],
            &["$349. Our"],
        ),
    ]);
}

#[test]
fn what_the_policy_cannot_see_is_offered_as_a_message_or_request() {
    check(&[
        (
            "are you open on Christmas?",
            None,
            &["don't have our holiday hours", "message"],
            &["AM", "Monday"],
        ),
        (
            "do you have any openings this week",
            None,
            &["can't see the schedule", "request an appointment"],
            &[],
        ),
        (
            "I have a question about my bill",
            None,
            &["can't see account details", "message"],
            &[],
        ),
        (
            "can I get a copy of my x-rays",
            None,
            &["can't see account details"],
            &[],
        ),
        (
            "I'd like to cancel",
            None,
            &["can't see the appointment book", "May I have your name"],
            &[],
        ),
        ("how do I cancel", None, &["24 hours notice"], &[]),
        (
            "is Tom there?",
            None,
            &["Tom Becker is our office manager", "message for Tom Becker"],
            &["appointment"],
        ),
        (
            "my crown fell off",
            None,
            &["sorry to hear", "request an appointment", "emergency"],
            &[],
        ),
        (
            "do you guys work on saturdays?",
            None,
            &["9 AM to 1 PM"],
            &[],
        ),
        ("hello, is anyone there?", None, &["How can I help"], &[]),
    ]);
    let r = ask(&demo(), "is anyone there?");
    assert!(
        r.actions.is_empty(),
        "a caller checking the line is not asking for a transfer"
    );
}
