//! Whole conversations: bookings, messages, corrections, cancels, keyed digits, transfers, goodbyes.

use super::*;
use crate::dialogue::answers::NO_INFO;
use crate::dialogue::{Action, Booking, Message, TransferReason};

const CALLER: &str = "+15035550100";

/// Plays the turns, checking each reply contains its expectation; returns the last reply.
fn script(r: &mut Receptionist, turns: &[(&str, &str)]) -> Reply {
    let mut last = None;
    for (said, want) in turns {
        let reply = r.respond(said, at(Weekday::Tuesday, 10, 0));
        assert!(
            reply.text.contains(want),
            "{said:?}: want {want:?} in {:?}",
            reply.text
        );
        assert!(!reply.text.trim().is_empty());
        last = Some(reply);
    }
    last.expect("at least one turn")
}

fn with_caller() -> Receptionist {
    Receptionist::new(demo()).with_caller_number(Some(CALLER.into()))
}

#[test]
fn booking_with_the_caller_id() {
    let mut r = with_caller();
    assert!(r.greeting().text.contains("Bright Smile Dental"));
    let last = script(
        &mut r,
        &[
            ("I'd like to book an appointment", "May I have your name"),
            ("Ana Ruiz", "calling from the best one to reach you"),
            ("yes", "What's the appointment for"),
            ("I need a cleaning", "What day and time"),
            ("next Tuesday morning", "ending in zero one zero zero"),
        ],
    );
    for part in [
        "Ana Ruiz",
        "cleaning and exam",
        "next Tuesday morning",
        "Is that right?",
    ] {
        assert!(
            last.text.contains(part),
            "read-back lacks {part:?}: {}",
            last.text
        );
    }
    assert!(
        last.actions.is_empty(),
        "nothing is sent before the caller confirms"
    );
    let done = r.respond("yes, that's right", None);
    assert_eq!(
        done.actions,
        [Action::BookingRequest(Booking {
            name: Some("Ana Ruiz".into()),
            callback: Some(CALLER.into()),
            reason: "cleaning and exam".into(),
            preferred_time: Some("next Tuesday morning".into()),
        })]
    );
    assert!(
        done.text.contains("call you back to confirm"),
        "{}",
        done.text
    );
    let bye = r.respond("no, that's it", None);
    assert_eq!(bye.actions, [Action::EndCall]);
}

#[test]
fn booking_in_one_breath_with_spoken_digits_and_corrections() {
    let mut r = Receptionist::new(demo());
    script(
        &mut r,
        &[
            (
                "This is Ana Ruiz, I need a cleaning next Tuesday morning",
                "best phone number",
            ),
            (
                "five oh three, five five five, zero one four two",
                "five zero three, five five five, zero one four two",
            ),
            ("no, the number is 503 555 0143", "zero one four three"),
            (
                "actually, make it Wednesday afternoon",
                "preferably Wednesday afternoon",
            ),
            ("the name is wrong", "May I have your name"),
            ("my name is Anna Ruiz", "Anna Ruiz"),
        ],
    );
    let done = r.respond("that's right", None);
    assert_eq!(
        done.actions,
        [Action::BookingRequest(Booking {
            name: Some("Anna Ruiz".into()),
            callback: Some("5035550143".into()),
            reason: "cleaning and exam".into(),
            preferred_time: Some("Wednesday afternoon".into()),
        })]
    );
}

#[test]
fn booking_refuses_closed_days_and_hours_outside_opening() {
    let mut r = with_caller();
    script(
        &mut r,
        &[
            ("can I schedule a root canal", "May I have your name"),
            ("it's Bob Lee", "calling from"),
            ("yes", "What day and time"),
            ("sunday morning", "We're closed on Sunday"),
            ("saturday at 3", "On Saturday we're open from 9 AM to 1 PM"),
            (
                "saturday at ten thirty",
                "preferably Saturday at ten thirty AM",
            ),
        ],
    );
    let done = r.respond("yes", None);
    let [Action::BookingRequest(b)] = done.actions.as_slice() else {
        panic!("a booking: {done:?}");
    };
    assert_eq!(b.reason, "root canal therapy");
    assert_eq!(b.preferred_time.as_deref(), Some("Saturday at 10:30 AM"));
}

#[test]
fn message_with_keyed_digits() {
    let mut r = with_caller();
    script(
        &mut r,
        &[
            ("can I leave a message", "May I have your name"),
            ("my name is Jon Smith", "calling from"),
        ],
    );
    for d in "503555014".chars() {
        assert_eq!(r.on_dtmf(d, None), None, "collecting digits");
    }
    let keyed = r
        .on_dtmf('2', None)
        .expect("ten digits complete the number");
    assert!(keyed.text.contains("What message"), "{}", keyed.text);
    let back = r.respond("Please call me about my bill", None);
    assert!(
        back.text
            .contains("five zero three, five five five, zero one four two"),
        "{}",
        back.text
    );
    let done = r.respond("yes", None);
    assert_eq!(
        done.actions,
        [Action::TakeMessage(Message {
            name: Some("Jon Smith".into()),
            callback: Some("5035550142".into()),
            reason: "Please call me about my bill".into(),
        })]
    );
}

#[test]
fn keyed_numbers_end_with_pound_and_restart_with_star() {
    let mut r = Receptionist::new(demo());
    script(
        &mut r,
        &[
            ("have someone call me back", "name"),
            ("Priya", "best phone number"),
        ],
    );
    for d in "4420".chars() {
        assert_eq!(r.on_dtmf(d, None), None);
    }
    assert!(
        r.on_dtmf('*', None)
            .expect("restart")
            .text
            .contains("start the number again")
    );
    assert!(
        r.on_dtmf('#', None)
            .expect("too short")
            .text
            .contains("too short")
    );
    for d in "01144207946000".chars() {
        assert_eq!(r.on_dtmf(d, None), None);
    }
    let ok = r.on_dtmf('#', None).expect("pound ends the number");
    assert!(ok.text.contains("What message"), "{}", ok.text);
    let back = r.respond("it's about my results", None);
    assert!(
        back.text
            .contains("zero one one, four four two, zero seven nine, four six zero, zero zero"),
        "{}",
        back.text
    );
}

#[test]
fn declining_the_caller_id_with_a_number_in_the_same_breath() {
    let mut r = with_caller();
    script(
        &mut r,
        &[
            (
                "I want to leave a message for Dr. Lopez",
                "message for Dr. Maria Lopez",
            ),
            ("Sam", "calling from"),
            (
                "no, call me at nine seven one, five five five, zero one double oh",
                "What's the message for Dr. Maria Lopez",
            ),
            (
                "tell her the crown feels loose",
                "A message from Sam for Dr. Maria Lopez",
            ),
        ],
    );
    let done = r.respond("correct", None);
    assert_eq!(
        done.actions,
        [Action::TakeMessage(Message {
            name: Some("Sam".into()),
            callback: Some("9715550100".into()),
            reason: "For Dr. Maria Lopez: Tell her the crown feels loose".into(),
        })]
    );
}

#[test]
fn cancel_drops_the_request_and_the_call_goes_on() {
    let mut r = with_caller();
    script(
        &mut r,
        &[
            ("I'd like to make an appointment", "name"),
            ("Ana", "calling from"),
            ("never mind", "cancelled the appointment request"),
        ],
    );
    let next = r.respond("what are your hours on friday", None);
    assert_eq!(next.text, "On Friday we're open from 8 AM to 3 PM.");
    assert!(next.actions.is_empty());
}

#[test]
fn questions_mid_flow_are_answered_then_the_flow_resumes() {
    let mut r = with_caller();
    script(
        &mut r,
        &[
            ("I need to book a visit", "May I have your name"),
            (
                "do you take Cigna?",
                "Yes, we accept Cigna. May I have your name",
            ),
            ("Maria Gomez", "calling from"),
            ("yes", "What's the appointment for"),
            ("how much is whitening?", "$349. What's the appointment for"),
            ("whitening", "What day and time"),
            ("are you open saturday?", "9 AM to 1 PM. What day and time"),
            ("where do I park?", "Free parking"),
            ("saturday morning", "preferably Saturday morning"),
        ],
    );
    let done = r.respond("yes", None);
    assert!(
        matches!(done.actions.as_slice(), [Action::BookingRequest(b)] if b.reason == "teeth whitening")
    );
}

#[test]
fn emergency_or_a_person_mid_flow_leaves_the_flow() {
    let mut r = with_caller();
    script(&mut r, &[("book an appointment please", "name")]);
    let t = r.respond("actually can I just talk to a person", None);
    assert!(matches!(
        t.actions.as_slice(),
        [Action::Transfer {
            reason: TransferReason::Person,
            ..
        }]
    ));
    let mut r = with_caller();
    script(&mut r, &[("can I leave a message", "name")]);
    let e = r.respond("wait, my tooth got knocked out and it's bleeding", None);
    assert!(matches!(
        e.actions.as_slice(),
        [Action::Transfer {
            reason: TransferReason::Emergency,
            ..
        }]
    ));
}

#[test]
fn offers_are_taken_up_with_yes() {
    let mut r = with_caller();
    script(
        &mut r,
        &[
            (
                "is Dr. Okafor in today?",
                "Would you like to leave a message",
            ),
            ("yes please", "message for Dr. James Okafor"),
        ],
    );
    let mut r = with_caller();
    script(
        &mut r,
        &[
            (
                "my tooth really hurts",
                "Would you like me to request an appointment",
            ),
            ("yes", "name"),
            ("Lee", "calling from"),
            ("yes", "What day and time"),
        ],
    );
    let mut r = with_caller();
    script(
        &mut r,
        &[
            (
                "do you do whitening",
                "Would you like to request an appointment",
            ),
            ("sure", "name"),
        ],
    );
    let mut r = with_caller();
    script(
        &mut r,
        &[
            ("do you take blue shield", "isn't on the list"),
            ("no thanks", "anything else"),
            ("no", "Goodbye"),
        ],
    );
}

#[test]
fn transfer_with_and_without_a_transfer_number() {
    let with = ask(&demo(), "can I speak to someone please");
    assert_eq!(
        with.actions,
        [Action::Transfer {
            to: "+15035550199".into(),
            reason: TransferReason::Person
        }]
    );
    let mut profile = (*demo()).clone();
    profile.transfer_number = None;
    let mut r = Receptionist::new(Arc::new(profile));
    let without = r.respond("can I speak to someone please", None);
    assert!(without.actions.is_empty());
    assert!(without.text.contains("take a message"), "{}", without.text);
    let emergency = r.respond("this is an emergency", None);
    assert!(emergency.actions.is_empty());
    assert!(
        emergency.text.contains("same day") && emergency.text.contains("urgent message"),
        "{}",
        emergency.text
    );
    let mut keyed = Receptionist::new(demo());
    let zero = keyed.on_dtmf('0', None).expect("0 asks for a person");
    assert!(matches!(zero.actions.as_slice(), [Action::Transfer { .. }]));
    assert_eq!(keyed.on_dtmf('5', None), None);
}

#[test]
fn goodbyes_end_the_call() {
    for said in [
        "thanks, bye",
        "that's all",
        "no, that's it",
        "Goodbye!",
        "ok thank you, have a good day",
    ] {
        let r = ask(&demo(), said);
        assert_eq!(r.actions, [Action::EndCall], "{said}");
        assert!(
            r.text.contains("Thank you for calling Bright Smile Dental"),
            "{said}: {}",
            r.text
        );
    }
    let mut r = Receptionist::new(demo());
    script(&mut r, &[("thank you", "anything else")]);
    assert_eq!(r.respond("nope", None).actions, [Action::EndCall]);
    let mut r = with_caller();
    script(
        &mut r,
        &[
            ("leave a message", "name"),
            ("Ana", "calling from"),
            ("yes", "What message"),
            ("running late", "Is that right"),
        ],
    );
    let done = r.respond("yes, thanks, bye", None);
    assert!(
        matches!(
            done.actions.as_slice(),
            [Action::TakeMessage(_), Action::EndCall]
        ),
        "{done:?}"
    );
}

#[test]
fn misunderstanding_twice_offers_a_way_out() {
    let mut r = Receptionist::new(demo());
    assert_eq!(r.respond("the purple elephant sings", None).text, NO_INFO);
    let second = r.respond("blorp zorp", None);
    assert!(
        second.text.contains("take a message") && second.text.contains("connect you"),
        "{}",
        second.text
    );
    let person = r.respond("a person", None);
    assert!(matches!(
        person.actions.as_slice(),
        [Action::Transfer { .. }]
    ));
}

#[test]
fn noise_gets_a_short_apology() {
    for said in ["", "   ", "um", "uh, hmm...", "?!", "..."] {
        let r = ask(&demo(), said);
        assert_eq!(r.text, "Sorry, I didn't catch that.", "{said:?}");
        assert!(r.actions.is_empty());
    }
    let mut r = with_caller();
    script(&mut r, &[("book an appointment", "name")]);
    let again = r.respond("uhh", None);
    assert!(
        again.text.starts_with("Sorry, I didn't catch that.")
            && again.text.contains("May I have your name"),
        "{}",
        again.text
    );
}

#[test]
fn repeat_says_the_last_reply_again() {
    let mut r = Receptionist::new(demo());
    let hours = r.respond("what are your hours on saturday", None);
    assert_eq!(
        r.respond("sorry, can you repeat that?", None).text,
        hours.text
    );
}

#[test]
fn a_booking_can_name_the_dentist_and_a_caller_can_share_a_staff_first_name() {
    let mut r = with_caller();
    script(
        &mut r,
        &[
            (
                "hi, this is Maria, I'd like a cleaning with Dr. Okafor on Thursday afternoon",
                "calling from",
            ),
            (
                "yes",
                "for cleaning and exam with Dr. James Okafor, preferably Thursday afternoon",
            ),
        ],
    );
    let done = r.respond("yes", None);
    assert_eq!(
        done.actions,
        [Action::BookingRequest(Booking {
            name: Some("Maria".into()),
            callback: Some(CALLER.into()),
            reason: "cleaning and exam, with Dr. James Okafor".into(),
            preferred_time: Some("Thursday afternoon".into()),
        })]
    );
    let mut r = with_caller();
    let m = r.respond("This is Maria, can I leave a message", None);
    assert!(
        !m.text.contains("Lopez"),
        "the caller is Maria, not the message's recipient: {}",
        m.text
    );
}

#[test]
fn corrections_at_the_read_back() {
    let mut r = Receptionist::new(demo());
    script(
        &mut r,
        &[
            ("I'd like to leave a message", "May I have your name"),
            ("I'd rather not say", "best phone number"),
            ("5035550142", "What message"),
            (
                "tell the office my insurance changed",
                "Tell the office my insurance changed",
            ),
            (
                "wrong, the message is: my insurance changed to Cigna",
                "A message: My insurance changed to Cigna.",
            ),
            ("yes, but my number is 503 555 0199", "zero one nine nine"),
        ],
    );
    let done = r.respond("yes", None);
    assert_eq!(
        done.actions,
        [Action::TakeMessage(Message {
            name: None,
            callback: Some("5035550199".into()),
            reason: "My insurance changed to Cigna".into(),
        })]
    );
}

#[test]
fn spelled_and_repeated_names_are_not_doubled() {
    let mut r = with_caller();
    script(
        &mut r,
        &[
            ("book a cleaning", "May I have your name"),
            ("my name's Ana Ruiz, R U I Z", "Thanks, Ana."),
            ("yes", "What day and time"),
            ("I'm not sure", "any time"),
        ],
    );
    let done = r.respond("yes", None);
    assert!(
        matches!(done.actions.as_slice(), [Action::BookingRequest(b)] if b.name.as_deref() == Some("Ana Ruiz") && b.preferred_time.as_deref() == Some("any time")),
        "{done:?}"
    );
}
