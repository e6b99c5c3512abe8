//! Opening-hours questions against the demo agent, through the fact checker of `facts.rs`.

use super::facts::check;
use super::*;

#[test]
fn the_spec_example_reads_as_specified() {
    let r = ask(&demo(), "What time do you open on Saturday?");
    assert_eq!(r.text, "On Saturday we're open from 9 AM to 1 PM.");
    assert!(r.actions.is_empty());
}

#[test]
fn hours() {
    let tue = at(Weekday::Tuesday, 10, 0);
    check(&[
        (
            "are you open on sunday?",
            None,
            &["No", "closed", "Sunday"],
            &["AM", "PM"],
        ),
        (
            "Are you open Saturday",
            None,
            &["Yes", "9 AM", "1 PM"],
            &["Sunday"],
        ),
        (
            "WHAT ARE YOUR HOURS",
            None,
            &[
                "Monday to Wednesday from 8 AM to 5 PM",
                "Thursday from 8 AM to 7 PM",
                "Friday from 8 AM to 3 PM",
                "closed on Sunday",
            ],
            &[],
        ),
        (
            "when are you open",
            None,
            &["Monday to Wednesday", "Saturday from 9 AM to 1 PM"],
            &[],
        ),
        (
            "um, what days are you closed?",
            None,
            &["closed on Sunday"],
            &["Monday", "AM"],
        ),
        (
            "do you close for lunch",
            None,
            &["don't show a lunch break"],
            &[],
        ),
        (
            "are you open this weekend",
            None,
            &["Saturday we're open from 9 AM to 1 PM", "closed on Sunday"],
            &[],
        ),
        (
            "are you open late",
            None,
            &["Our latest closing is 7 PM, on Thursday."],
            &[],
        ),
        (
            "how early do you open",
            None,
            &["Our earliest opening is 8 AM, Monday to Friday."],
            &[],
        ),
        (
            "what time do you close on fridays",
            None,
            &["Friday", "3 PM"],
            &[],
        ),
        (
            "are you open today?",
            tue,
            &["today, Tuesday", "8 AM to 5 PM"],
            &[],
        ),
        (
            "what time do you close today",
            tue,
            &["Tuesday", "5 PM"],
            &[],
        ),
        (
            "are you open tomorrow",
            at(Weekday::Saturday, 10, 0),
            &["Sunday", "closed"],
            &["AM"],
        ),
        (
            "are you open right now",
            tue,
            &["open now", "until 5 PM"],
            &[],
        ),
        (
            "are you still open",
            at(Weekday::Tuesday, 18, 0),
            &["closed", "tomorrow, Wednesday", "8 AM"],
            &[],
        ),
        (
            "are you open",
            at(Weekday::Saturday, 14, 0),
            &["closed", "Monday at 8 AM"],
            &["Sunday at"],
        ),
        (
            "are you open now",
            at(Weekday::Sunday, 11, 0),
            &["closed today, Sunday", "tomorrow, Monday", "8 AM"],
            &[],
        ),
        (
            "are you open now",
            at(Weekday::Monday, 7, 0),
            &["closed right now", "today at 8 AM"],
            &[],
        ),
        (
            "are you open now",
            None,
            &["can't see the time", "Monday to Wednesday"],
            &[],
        ),
    ]);
}

#[test]
fn hours_follow_ups_keep_the_topic() {
    let mut r = Receptionist::new(demo());
    r.respond("what are your hours on monday", None);
    let next = r.respond("and what about saturday?", None);
    assert!(next.text.contains("9 AM to 1 PM"), "{}", next.text);
}

#[test]
fn lunch_breaks_are_read_from_split_ranges() {
    let mut profile = (*demo()).clone();
    profile.facts.hours = serde_json::from_str(
        r#"{"monday": ["08:00-12:00", "13:00-17:00"], "tuesday": ["08:00-17:30"]}"#,
    )
    .unwrap();
    let p = Arc::new(profile);
    let r = ask(&p, "do you close for lunch?");
    assert!(r.text.contains("on Monday from noon to 1 PM"), "{}", r.text);
    let mut rec = Receptionist::new(p.clone());
    let r = rec.respond("what are your hours on monday", None);
    assert_eq!(
        r.text,
        "On Monday we're open from 8 AM to noon and from 1 PM to 5 PM."
    );
    let r = rec.respond("what about tuesday", None);
    assert!(r.text.contains("5:30 PM"), "{}", r.text);
    let r = ask(&p, "are you open on sunday");
    assert!(
        r.text.contains("I don't have our hours for Sunday"),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains("closed"),
        "an unstated day is unknown, not closed: {}",
        r.text
    );
}
