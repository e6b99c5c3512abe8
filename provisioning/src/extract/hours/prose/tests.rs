#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

/// The parse as `day -> "HH:MM-HH:MM, ..."` strings, for readable assertions.
fn hours(text: &str) -> Vec<(Weekday, String)> {
    parse(text)
        .days
        .into_iter()
        .map(|(d, h)| (d, h.to_string()))
        .collect()
}

fn days(list: &[Weekday], h: &str) -> Vec<(Weekday, String)> {
    list.iter().map(|d| (*d, h.to_owned())).collect()
}

#[test]
fn day_range_with_twelve_hour_times() {
    assert_eq!(
        hours("Mon-Thu 8am-5pm"),
        days(&[Monday, Tuesday, Wednesday, Thursday], "08:00-17:00")
    );
}

#[test]
fn single_day_with_twenty_four_hour_times() {
    assert_eq!(
        hours("Tuesday: 9:00 - 17:00"),
        days(&[Tuesday], "09:00-17:00")
    );
    assert_eq!(hours("Sa 10.00–14.00"), days(&[Saturday], "10:00-14:00"));
}

#[test]
fn closed_days_in_both_orders() {
    assert_eq!(hours("Closed Sundays"), days(&[Sunday], "closed"));
    assert_eq!(hours("Sunday: Closed"), days(&[Sunday], "closed"));
    assert_eq!(
        hours("We are closed on Saturday and Sunday."),
        days(&[Saturday, Sunday], "closed")
    );
}

#[test]
fn several_statements_in_one_line() {
    let got = hours("Mon–Fri 9am–6pm, Sat 10am–4pm. Closed Sundays.");
    let mut want = days(WEEKDAYS, "09:00-18:00");
    want.push((Saturday, "10:00-16:00".into()));
    want.push((Sunday, "closed".into()));
    assert_eq!(got, want);
}

#[test]
fn lunch_breaks_split_the_day() {
    let want = days(&[Monday, Tuesday, Wednesday], "08:00-12:00, 13:00-17:00");
    assert_eq!(hours("Mon-Wed 8am-12pm, 1pm-5pm"), want);
    assert_eq!(hours("Mon-Wed 8-12 & 1-5"), want);
    assert_eq!(hours("Mon-Wed 8am-5pm (closed for lunch 12-1)"), want);
    assert_eq!(hours("Mon-Wed 8am-5pm, lunch 12:00-13:00"), want);
    assert_eq!(hours("Mon-Wed 8am to 5pm; closed 12-1 for lunch"), want);
    assert_eq!(
        hours("Tuesday to Saturday 9:30am - 6pm. We close for lunch from 12:30 to 1:30 daily."),
        days(
            &[Tuesday, Wednesday, Thursday, Friday, Saturday],
            "09:30-12:30, 13:30-18:00"
        )
    );
}

#[test]
fn by_appointment_is_flagged_and_gives_no_hours() {
    let p = parse("Saturday: by appointment only");
    assert!(p.by_appointment);
    assert!(p.days.is_empty());
    let p = parse("Mon-Fri 9:00 AM - 5:00 PM. Evenings and weekends by appointment.");
    assert!(p.by_appointment);
    assert_eq!(p.days.len(), 5);
    assert!(parse("Consultations by appointment").by_appointment);
}

#[test]
fn twelve_hour_forms() {
    assert_eq!(
        hours("Fri 8 a.m. to 5 p.m."),
        days(&[Friday], "08:00-17:00")
    );
    assert_eq!(hours("Fri 9a-5p"), days(&[Friday], "09:00-17:00"));
    assert_eq!(hours("Fri 11-2pm"), days(&[Friday], "11:00-14:00"));
    assert_eq!(hours("Fri 1-5pm"), days(&[Friday], "13:00-17:00"));
    assert_eq!(hours("Fri 8am to noon"), days(&[Friday], "08:00-12:00"));
    assert_eq!(hours("Fri 9 - 5"), days(&[Friday], "09:00-17:00"));
    assert_eq!(hours("Fri 5pm-midnight"), days(&[Friday], "17:00-24:00"));
    assert_eq!(hours("Fri 11:30am-12am"), days(&[Friday], "11:30-24:00"));
    assert_eq!(hours("Fri 5pm - 2am"), days(&[Friday], "17:00-24:00"));
    assert_eq!(hours("Fri 0800-1700"), days(&[Friday], "08:00-17:00"));
}

#[test]
fn day_lists_groups_and_shorthand() {
    assert_eq!(
        hours("Mon, Wed & Fri: 10am-2pm"),
        days(&[Monday, Wednesday, Friday], "10:00-14:00")
    );
    assert_eq!(hours("Weekdays 7-7"), days(WEEKDAYS, "07:00-19:00"));
    assert_eq!(hours("Sat/Sun 10-4"), days(WEEKEND, "10:00-16:00"));
    assert_eq!(hours("M-F 8-6"), days(WEEKDAYS, "08:00-18:00"));
    assert_eq!(
        hours("Open daily 11am - 10pm"),
        days(EVERY_DAY, "11:00-22:00")
    );
    assert_eq!(
        hours("Monday through Friday from 8:30 to 4:30"),
        days(WEEKDAYS, "08:30-16:30")
    );
    assert_eq!(
        hours("Fri-Mon 12-8"),
        days(&[Monday, Friday, Saturday, Sunday], "12:00-20:00")
    );
}

#[test]
fn times_before_days() {
    assert_eq!(
        hours("9am-5pm, Monday to Friday"),
        days(WEEKDAYS, "09:00-17:00")
    );
}

#[test]
fn around_the_clock() {
    assert_eq!(hours("Open 24/7"), days(EVERY_DAY, "00:00-24:00"));
    assert_eq!(
        hours("Emergency line: 24 hours a day, 7 days a week"),
        days(EVERY_DAY, "00:00-24:00")
    );
    assert_eq!(
        hours("Saturday: open 24 hours"),
        days(&[Saturday], "00:00-24:00")
    );
}

#[test]
fn later_statements_override_earlier_ones() {
    let got = hours("Open daily 9-5, closed Sundays");
    assert_eq!(got.len(), 7);
    assert_eq!(got[6], (Sunday, "closed".into()));
}

#[test]
fn dangling_days_are_reported() {
    let p = parse("Monday - Friday");
    assert!(p.days.is_empty());
    assert!(p.dangling);
    assert!(!parse("Monday - Friday 9-5").dangling);
}

#[test]
fn text_without_hours_gives_nothing() {
    for text in [
        "We have served Portland since 2019-2024.",
        "Call (503) 555-0142 today!",
        "Fun in the sun for the whole family",
        "Suite 200, Portland, OR 97201",
        "Join us on Monday.",
        "I am here 9 to 5",
        "",
    ] {
        assert!(parse(text).days.is_empty(), "{text:?} -> {:?}", parse(text));
    }
}

fn day_name(d: Weekday, style: u8) -> &'static str {
    const FULL: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if style == 0 {
        FULL[d.index()]
    } else {
        SHORT[d.index()]
    }
}

fn twelve(min: u16, dots: bool) -> String {
    let (h, m) = (min / 60, min % 60);
    let pm = h >= 12;
    let h12 = match h % 12 {
        0 => 12,
        h => h,
    };
    let mer = match (pm, dots) {
        (false, false) => "am",
        (true, false) => "pm",
        (false, true) => "a.m.",
        (true, true) => "p.m.",
    };
    if m == 0 {
        format!("{h12}{mer}")
    } else {
        format!("{h12}:{m:02}{mer}")
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = parse(&s);
    }

    #[test]
    fn hours_like_noise_never_panics(s in "[0-9a-zA-Z:.\\- ,&/()]{0,80}") {
        let p = parse(&s);
        for h in p.days.values() {
            if let DayHours::Open(r) = h {
                prop_assert!(r.iter().all(|r| r.open < r.close && r.close <= 1440));
            }
        }
    }

    #[test]
    fn generated_day_range_forms_round_trip(
        first in 0usize..7,
        len in 0usize..7,
        open_q in 24u16..48,   // 06:00..11:45 in quarter hours
        dur_q in 8u16..48,     // 2..12 hours
        style in 0u8..2,
        clock in 0u8..3,
        dash in prop::sample::select(vec!["-", " - ", "–", " to ", " through "]),
        tdash in prop::sample::select(vec!["-", " - ", "–", " to "]),
        colon in prop::bool::ANY,
    ) {
        let open = open_q * 15;
        let close = open + dur_q * 15;
        let a = Weekday::ALL[first];
        let b = Weekday::ALL[(first + len) % 7];
        let day_part = if len == 0 {
            day_name(a, style).to_owned()
        } else {
            format!("{}{dash}{}", day_name(a, style), day_name(b, style))
        };
        let time_part = match clock {
            0 => format!("{}{tdash}{}", twelve(open, false), twelve(close, false)),
            1 => format!("{}{tdash}{}", twelve(open, true), twelve(close, true)),
            _ => format!("{:02}:{:02}{tdash}{:02}:{:02}", open / 60, open % 60, close / 60, close % 60),
        };
        let sep = if colon { ": " } else { " " };
        let text = format!("{day_part}{sep}{time_part}");
        let p = parse(&text);
        let want_days = span(a, b);
        let want = DayHours::Open(vec![TimeRange::new(open, close).unwrap()]);
        prop_assert_eq!(p.days.len(), if len == 0 { 1 } else { want_days.len() }, "{}", text);
        for d in want_days.iter().take(if len == 0 { 1 } else { 7 }) {
            prop_assert_eq!(p.days.get(d), Some(&want), "{}", text);
        }
    }
}
