//! A caller's preferred day and time for an appointment request, as heard.
//!
//! The request goes to staff as text ("next Tuesday morning", "Saturday at 10 AM"); the policy resolves the
//! weekday and clock time where it can only to check them against the opening hours, never to promise a
//! slot.

use super::LocalTime;
use super::spoken::clock_time;
use crate::agent::Weekday;

/// A preferred time, tidied for reading back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct When {
    /// What staff see and the caller hears: "next Tuesday morning".
    pub text: String,
    /// The weekday, when named or resolvable from "today"/"tomorrow".
    pub day: Option<Weekday>,
    /// Minutes after midnight, when a clock time was said.
    pub minute: Option<u16>,
    /// The part of the day, as a minute range, when said ("morning").
    pub part: Option<(u16, u16)>,
}

/// The weekday a word names ("tuesday", "tuesdays", "tues").
pub(crate) fn weekday(word: &str) -> Option<Weekday> {
    let w = word.strip_suffix('s').unwrap_or(word);
    Some(match w {
        "monday" => Weekday::Monday,
        "tuesday" | "tue" | "tues" => Weekday::Tuesday,
        "wednesday" | "wed" | "weds" | "wensday" => Weekday::Wednesday,
        "thursday" | "thur" | "thurs" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// The day after.
pub(crate) fn next_day(d: Weekday) -> Weekday {
    let i = Weekday::ALL.iter().position(|x| *x == d).unwrap_or(0);
    Weekday::ALL[(i + 1) % 7]
}

#[rustfmt::skip]
const MONTHS: [&str; 12] = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
];

#[rustfmt::skip]
const ORDINAL_WORDS: [&str; 20] = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
    "eighteenth", "nineteenth", "twentieth",
];

/// A day of the month said after a month name: "3", "3rd", "third".
fn day_of_month(token: &str) -> Option<u8> {
    let digits = token.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    if !digits.is_empty() && digits.len() <= 2 {
        let v: u8 = digits.parse().ok()?;
        return (1..=31).contains(&v).then_some(v);
    }
    let i = ORDINAL_WORDS.iter().position(|w| *w == token)?;
    u8::try_from(i + 1).ok()
}

fn ordinal(n: u8) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn part_of_day(word: &str) -> Option<(&'static str, (u16, u16))> {
    Some(match word {
        "morning" | "mornings" => ("morning", (0, 720)),
        "afternoon" | "afternoons" => ("afternoon", (720, 1020)),
        "evening" | "evenings" | "tonight" => ("evening", (1020, 1440)),
        "lunchtime" | "lunch" => ("around lunchtime", (690, 810)),
        _ => return None,
    })
}

/// Finds a preferred time in the tokens, skipping `skip` (a phone number already taken).
/// `loose` accepts a bare clock time ("10") because the caller was just asked for a time.
pub(crate) fn parse(
    tokens: &[String],
    skip: Option<std::ops::Range<usize>>,
    now: Option<LocalTime>,
    loose: bool,
) -> Option<When> {
    let in_skip = |i: usize| skip.as_ref().is_some_and(|r| r.contains(&i));
    let has = |p: &[&str]| {
        tokens
            .windows(p.len())
            .any(|w| w.iter().zip(p).all(|(a, b)| a == b))
    };
    if has(&["as", "soon", "as"])
        || tokens
            .iter()
            .any(|t| matches!(t.as_str(), "asap" | "soonest" | "earliest" | "urgently"))
        || has(&["first", "available"])
        || has(&["next", "available"])
    {
        return Some(When {
            text: "as soon as possible".into(),
            day: None,
            minute: None,
            part: None,
        });
    }
    let mut day_text: Option<String> = None;
    let mut day: Option<Weekday> = None;
    let mut part: Option<(&str, (u16, u16))> = None;
    let mut early_late: Option<&str> = None;
    let mut clock: Option<(String, u16)> = None;
    let mut i = 0;
    while i < tokens.len() {
        if in_skip(i) {
            i += 1;
            continue;
        }
        let t = tokens[i].as_str();
        let prev = i.checked_sub(1).map(|p| tokens[p].as_str());
        if day_text.is_none() {
            if let Some(d) = weekday(t) {
                let modifier = match prev {
                    Some("next") => "next ",
                    Some("this") | Some("coming") => "this ",
                    _ => "",
                };
                day_text = Some(format!("{modifier}{}", d.name()));
                day = Some(d);
                i += 1;
                continue;
            }
            match t {
                "today" | "tonight" => {
                    day_text = Some("today".into());
                    day = now.map(|n| n.weekday);
                    if t == "tonight" {
                        part = part_of_day(t);
                    }
                }
                "tomorrow" => {
                    let after = prev == Some("after");
                    day_text = Some(
                        if after {
                            "the day after tomorrow"
                        } else {
                            "tomorrow"
                        }
                        .into(),
                    );
                    day = now.map(|n| {
                        let d = next_day(n.weekday);
                        if after { next_day(d) } else { d }
                    });
                }
                "week" | "weekend" if matches!(prev, Some("next" | "this" | "later")) => {
                    let p = prev.unwrap_or("next");
                    day_text = Some(format!("{p} {t}"));
                }
                "weekend" => day_text = Some("the weekend".into()),
                "month" if prev == Some("next") => day_text = Some("next month".into()),
                _ => {}
            }
            if let Some(m) = MONTHS.iter().position(|m| *m == t)
                && (t != "may" || tokens.get(i + 1).is_some_and(|n| day_of_month(n).is_some()))
            {
                let month = super::text::capitalise(MONTHS[m]);
                let after = tokens.get(i + 1).and_then(|n| day_of_month(n));
                let before = (i >= 3 && tokens[i - 1] == "of")
                    .then(|| day_of_month(&tokens[i - 2]))
                    .flatten();
                day_text = Some(match after.or(before) {
                    Some(n) => format!("{month} {}", ordinal(n)),
                    None => month,
                });
            }
            if day_text.is_some() {
                i += 1;
                continue;
            }
        }
        if part.is_none()
            && let Some(p) = part_of_day(t)
        {
            part = Some(p);
            if matches!(prev, Some("early" | "late")) {
                early_late = prev;
            }
            i += 1;
            continue;
        }
        if clock.is_none() {
            let prep = match prev {
                Some(p @ ("at" | "around" | "about" | "after" | "before" | "by" | "from")) => {
                    Some(p)
                }
                _ => None,
            };
            let marked = t.contains(':')
                || tokens
                    .get(i + 1)
                    .is_some_and(|n| matches!(n.as_str(), "am" | "pm" | "oclock"))
                || matches!(t, "noon" | "midday");
            if (prep.is_some() || marked || loose)
                && let Some((minute, used)) = clock_time(tokens, i)
                && !(i..i + used).any(in_skip)
            {
                let prep = match prep {
                    Some("about") => "around",
                    Some(p) => p,
                    None => "at",
                };
                let said = super::spoken::clock(minute);
                clock = Some((format!("{prep} {said}"), minute));
                i += used;
                continue;
            }
        }
        i += 1;
    }
    let any = tokens
        .iter()
        .any(|t| matches!(t.as_str(), "anytime" | "whenever" | "flexible"))
        || has(&["does", "not", "matter"])
        || has(&["any", "day"])
        || has(&["not", "sure"])
        || has(&["do", "not", "know"])
        || has(&["no", "preference"]);
    if day_text.is_none() && part.is_none() && clock.is_none() {
        return any.then(|| When {
            text: "any time".into(),
            day: None,
            minute: None,
            part: None,
        });
    }
    let mut words: Vec<String> = Vec::new();
    if let Some(d) = &day_text {
        words.push(d.clone());
    }
    if let Some((name, _)) = part {
        let name = match early_late {
            Some(e) => format!("{e} {name}"),
            None => name.to_owned(),
        };
        if day_text.is_some() || name.starts_with("around") {
            words.push(name);
        } else {
            words.push(format!("in the {name}"));
        }
    }
    if let Some((c, _)) = &clock {
        words.push(c.clone());
    }
    Some(When {
        text: words.join(" "),
        day,
        minute: clock.map(|(_, m)| m),
        part: part.map(|(_, r)| r),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::text::tokenize;

    fn text(s: &str) -> Option<String> {
        parse(&tokenize(s), None, None, false).map(|w| w.text)
    }

    #[test]
    fn preferred_times_read_back_tidily() {
        assert_eq!(
            text("I need a cleaning next Tuesday morning").as_deref(),
            Some("next Tuesday morning")
        );
        assert_eq!(text("saturday at 10").as_deref(), Some("Saturday at 10 AM"));
        assert_eq!(
            text("maybe tomorrow after 3").as_deref(),
            Some("tomorrow after 3 PM")
        );
        assert_eq!(
            text("the afternoon is best").as_deref(),
            Some("in the afternoon")
        );
        assert_eq!(
            text("as soon as possible please").as_deref(),
            Some("as soon as possible")
        );
        assert_eq!(
            text("March 3rd around 2 pm").as_deref(),
            Some("March 3rd around 2 PM")
        );
        assert_eq!(text("whenever works").as_deref(), Some("any time"));
        assert_eq!(text("this is Ana Ruiz"), None);
        assert_eq!(text("I may need a crown"), None);
    }

    #[test]
    fn days_resolve_from_local_time() {
        let now = LocalTime {
            weekday: Weekday::Sunday,
            minute: 600,
        };
        let w = parse(&tokenize("tomorrow at 9"), None, Some(now), false).expect("a time");
        assert_eq!(w.day, Some(Weekday::Monday));
        assert_eq!(w.minute, Some(540));
        let loose = parse(&tokenize("ten thirty"), None, None, true).expect("a bare time");
        assert_eq!(loose.minute, Some(630));
    }
}
