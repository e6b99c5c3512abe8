//! Opening-hours answers: a named day, today, tomorrow, now, the weekend, the week, closed days, lunch.
//!
//! A day the facts do not mention is unknown, not closed: the answer says so rather than guessing, and a
//! search for the next opening stops at the first unknown day.

use super::LocalTime;
use super::spoken::{clock, ranges};
use super::text::{Utterance, join_list};
use super::when::{next_day, weekday};
use crate::agent::{DayHours, Facts, TimeRange, Weekday};

/// Which day a caller means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayRef {
    Named(Weekday),
    Today,
    Tomorrow,
}

/// What about the hours the caller asked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ask {
    days: Vec<DayRef>,
    now: bool,
    lunch: bool,
    closed_days: bool,
    late: bool,
    early: bool,
    /// "Are you open ...": answer yes or no first. `Some(true)` asks open, `Some(false)` asks closed.
    polar: Option<bool>,
}

fn parse(u: &Utterance) -> Ask {
    let mut days = Vec::new();
    let mut push = |d: DayRef| {
        if !days.contains(&d) {
            days.push(d);
        }
    };
    for t in &u.tokens {
        match t.as_str() {
            "today" | "tonight" => push(DayRef::Today),
            "tomorrow" => push(DayRef::Tomorrow),
            "weekend" | "weekends" => {
                push(DayRef::Named(Weekday::Saturday));
                push(DayRef::Named(Weekday::Sunday));
            }
            "weekday" | "weekdays" => {
                for d in &Weekday::ALL[..5] {
                    push(DayRef::Named(*d));
                }
            }
            w => {
                if let Some(d) = weekday(w) {
                    push(DayRef::Named(d));
                }
            }
        }
    }
    let now = u.has_any(&["now", "currently", "still"])
        || u.phrase_any(&["at the moment", "right now", "yet"]);
    let wh = u.has_any(&["what", "when", "time", "how"]);
    let polar = if wh {
        None
    } else if u.has_any(&["open", "opened"]) {
        Some(true)
    } else if u.has("closed") {
        Some(false)
    } else {
        None
    };
    Ask {
        closed_days: days.is_empty()
            && u.has_any(&["closed", "close"])
            && u.has_any(&["days", "day", "which"]),
        lunch: u.has_any(&["lunch", "break", "midday"]),
        late: u.has_any(&["late", "later", "evening", "evenings", "night"]) && days.is_empty(),
        early: u.has_any(&["early", "earliest", "earlier"]) && days.is_empty(),
        days,
        now,
        polar,
    }
}

/// Spoken answer to an hours question. `None` when the facts have no hours at all.
pub(crate) fn answer(u: &Utterance, facts: &Facts, now: Option<LocalTime>) -> Option<String> {
    // A day listed as open with no ranges says nothing: treat it like a day the facts do not mention.
    let known;
    let facts = if facts
        .hours
        .values()
        .any(|h| matches!(h, DayHours::Open(rs) if rs.is_empty()))
    {
        let mut f = facts.clone();
        f.hours
            .retain(|_, h| !matches!(h, DayHours::Open(rs) if rs.is_empty()));
        known = f;
        &known
    } else {
        facts
    };
    if facts.hours.is_empty() {
        return None;
    }
    let ask = parse(u);
    if ask.lunch {
        return Some(lunch(facts, &ask, now));
    }
    if ask.closed_days {
        return Some(closed_days(facts));
    }
    if ask.late || ask.early {
        return Some(extreme(facts, ask.late));
    }
    if ask.days.is_empty() {
        let asks_now = ask.now || ask.polar.is_some();
        return Some(match now {
            Some(n) if asks_now => open_now(facts, n),
            Some(n)
                if u.has_any(&["close", "closing", "closes", "open", "opening", "opens"])
                    && !u.has_any(&["hours", "days", "week"]) =>
            {
                day_sentence(facts, DayRef::Today, Some(n), None)
            }
            None if ask.now => format!("I can't see the time here, but {}", lower_week(facts)),
            _ => week(facts),
        });
    }
    let polar = if ask.days.len() == 1 { ask.polar } else { None };
    let sentences: Vec<String> = ask
        .days
        .iter()
        .map(|d| day_sentence(facts, *d, now, polar))
        .collect();
    Some(sentences.join(" "))
}

fn lower_week(facts: &Facts) -> String {
    super::text::lower_first(&week(facts))
}

fn resolve(d: DayRef, now: Option<LocalTime>) -> Option<Weekday> {
    match d {
        DayRef::Named(w) => Some(w),
        DayRef::Today => now.map(|n| n.weekday),
        DayRef::Tomorrow => now.map(|n| next_day(n.weekday)),
    }
}

/// "On Saturday we're open from 9 AM to 1 PM." / "Tomorrow, Sunday, we're closed."
fn day_sentence(facts: &Facts, d: DayRef, now: Option<LocalTime>, polar: Option<bool>) -> String {
    let Some(day) = resolve(d, now) else {
        return format!("I can't see the date here, but {}", lower_week(facts));
    };
    let name = day.name();
    let lead = match d {
        DayRef::Named(_) => None,
        DayRef::Today => Some("Today"),
        DayRef::Tomorrow => Some("Tomorrow"),
    };
    match facts.hours.get(&day) {
        Some(DayHours::Open(rs)) if !rs.is_empty() => {
            let yes = match polar {
                Some(true) => "Yes, ",
                Some(false) => "No, ",
                None => "",
            };
            match lead {
                Some(l) if yes.is_empty() => format!("{l}, {name}, we're open {}.", ranges(rs)),
                Some(l) => format!(
                    "{yes}{}, {name}, we're open {}.",
                    l.to_lowercase(),
                    ranges(rs)
                ),
                None if yes.is_empty() => format!("On {name} we're open {}.", ranges(rs)),
                None => format!("{yes}on {name} we're open {}.", ranges(rs)),
            }
        }
        Some(_) => {
            let yes = match polar {
                Some(true) => "No, ",
                Some(false) => "Yes, ",
                None => "",
            };
            match lead {
                Some(l) if yes.is_empty() => format!("{l}, {name}, we're closed."),
                Some(l) => format!("{yes}{}, {name}, we're closed.", l.to_lowercase()),
                None if yes.is_empty() => format!("We're closed on {name}."),
                None => format!("{yes}we're closed on {name}."),
            }
        }
        None => format!(
            "I don't have our hours for {name}. I can take a message and have someone call you back."
        ),
    }
}

/// Whether the business is open at this moment, and when it opens or closes next.
fn open_now(facts: &Facts, now: LocalTime) -> String {
    let today = now.weekday;
    match facts.hours.get(&today) {
        None => format!(
            "I don't have our hours for today, {}. I can take a message and have someone call you back.",
            today.name()
        ),
        Some(DayHours::Open(rs)) => {
            if let Some(i) = rs
                .iter()
                .position(|r| r.open <= now.minute && now.minute < r.close)
            {
                let until = clock(rs[i].close);
                return match rs.get(i + 1) {
                    Some(next) => format!(
                        "Yes, we're open now until {until}, and again from {} to {} after that.",
                        clock(next.open),
                        clock(next.close)
                    ),
                    None => format!("Yes, we're open now until {until} today."),
                };
            }
            if let Some(r) = rs.iter().find(|r| r.open > now.minute) {
                return format!(
                    "We're closed right now. We open again today at {}.",
                    clock(r.open)
                );
            }
            format!("We're closed for the day. {}", next_opening(facts, today))
        }
        Some(DayHours::Closed) => format!(
            "No, we're closed today, {}. {}",
            today.name(),
            next_opening(facts, today)
        ),
    }
}

/// "We open again tomorrow, Monday, at 8 AM." Stops at a day the facts do not mention.
fn next_opening(facts: &Facts, from: Weekday) -> String {
    let mut day = from;
    for step in 1..=7 {
        day = next_day(day);
        match facts.hours.get(&day) {
            None => return format!("I don't have our hours for {}.", day.name()),
            Some(DayHours::Closed) => continue,
            Some(DayHours::Open(rs)) => {
                let Some(first) = rs.first() else { continue };
                let when = if step == 1 {
                    format!("tomorrow, {},", day.name())
                } else {
                    format!("on {}", day.name())
                };
                return format!("We open again {when} at {}.", clock(first.open));
            }
        }
    }
    "I don't have our next opening time.".to_owned()
}

/// The week, grouped: "We're open Monday to Wednesday from 8 AM to 5 PM, ... We're closed on Sunday."
pub(crate) fn week(facts: &Facts) -> String {
    let mut groups: Vec<(Weekday, Weekday, &Vec<TimeRange>)> = Vec::new();
    let mut closed = Vec::new();
    let mut unknown = Vec::new();
    for d in Weekday::ALL {
        match facts.hours.get(&d) {
            Some(DayHours::Open(rs)) if !rs.is_empty() => match groups.last_mut() {
                Some((_, end, prev)) if *prev == rs && next_day(*end) == d => *end = d,
                _ => groups.push((d, d, rs)),
            },
            Some(_) => closed.push(d.name().to_owned()),
            None => unknown.push(d.name().to_owned()),
        }
    }
    let mut out = Vec::new();
    if !groups.is_empty() {
        let parts: Vec<String> = groups
            .iter()
            .map(|(a, b, rs)| {
                let days = if a == b {
                    a.name().to_owned()
                } else if next_day(*a) == *b {
                    format!("{} and {}", a.name(), b.name())
                } else {
                    format!("{} to {}", a.name(), b.name())
                };
                format!("{days} {}", ranges(rs))
            })
            .collect();
        out.push(format!("We're open {}.", join_list(&parts, "and")));
    }
    if !closed.is_empty() {
        out.push(format!("We're closed on {}.", join_list(&closed, "and")));
    }
    if !unknown.is_empty() && unknown.len() < 7 {
        out.push(format!(
            "I don't have our hours for {}.",
            join_list(&unknown, "or")
        ));
    }
    out.join(" ")
}

fn closed_days(facts: &Facts) -> String {
    let closed: Vec<String> = Weekday::ALL
        .iter()
        .filter(|d| facts.hours.contains_key(d) && !is_open(facts, **d))
        .map(|d| d.name().to_owned())
        .collect();
    let unknown: Vec<String> = Weekday::ALL
        .iter()
        .filter(|d| !facts.hours.contains_key(d))
        .map(|d| d.name().to_owned())
        .collect();
    let mut out = Vec::new();
    if !closed.is_empty() {
        out.push(format!("We're closed on {}.", join_list(&closed, "and")));
    } else if unknown.is_empty() {
        out.push("We're open every day of the week.".to_owned());
    }
    if !unknown.is_empty() {
        out.push(format!(
            "I don't have our hours for {}.",
            join_list(&unknown, "or")
        ));
    }
    out.join(" ")
}

fn is_open(facts: &Facts, d: Weekday) -> bool {
    matches!(facts.hours.get(&d), Some(DayHours::Open(rs)) if !rs.is_empty())
}

/// Lunch breaks: the gaps between a day's ranges.
fn lunch(facts: &Facts, ask: &Ask, now: Option<LocalTime>) -> String {
    let days: Vec<Weekday> = if ask.days.is_empty() {
        Weekday::ALL.to_vec()
    } else {
        ask.days.iter().filter_map(|d| resolve(*d, now)).collect()
    };
    let mut breaks: Vec<(Weekday, u16, u16)> = Vec::new();
    for d in &days {
        if let Some(DayHours::Open(rs)) = facts.hours.get(d) {
            for pair in rs.windows(2) {
                breaks.push((*d, pair[0].close, pair[1].open));
            }
        }
    }
    if breaks.is_empty() {
        let known = days.iter().any(|d| is_open(facts, *d));
        return if known {
            format!(
                "Our hours don't show a lunch break. {}",
                scope(facts, ask, now)
            )
        } else {
            scope(facts, ask, now)
        };
    }
    let parts: Vec<String> = breaks
        .iter()
        .map(|(d, a, b)| format!("on {} from {} to {}", d.name(), clock(*a), clock(*b)))
        .collect();
    format!("We close for lunch {}.", join_list(&parts, "and"))
}

/// The hours for the days asked about, or the week.
fn scope(facts: &Facts, ask: &Ask, now: Option<LocalTime>) -> String {
    if ask.days.is_empty() {
        week(facts)
    } else {
        ask.days
            .iter()
            .map(|d| day_sentence(facts, *d, now, None))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The latest close or earliest opening in the week.
fn extreme(facts: &Facts, late: bool) -> String {
    let mut best: Option<(u16, Vec<Weekday>)> = None;
    for d in Weekday::ALL {
        let Some(DayHours::Open(rs)) = facts.hours.get(&d) else {
            continue;
        };
        let (Some(first), Some(last)) = (rs.first(), rs.last()) else {
            continue;
        };
        let t = if late { last.close } else { first.open };
        match &mut best {
            Some((b, days)) if *b == t => days.push(d),
            Some((b, _)) if (late && t < *b) || (!late && t > *b) => {}
            _ => best = Some((t, vec![d])),
        }
    }
    let Some((t, days)) = best else {
        return week(facts);
    };
    let on = if days.len() == 1 { "on " } else { "" };
    let what = if late {
        "latest closing"
    } else {
        "earliest opening"
    };
    format!("Our {what} is {}, {on}{}.", clock(t), day_spans(&days))
}

/// Days in week order with consecutive runs joined: "Monday to Friday", "Tuesday and Thursday".
fn day_spans(days: &[Weekday]) -> String {
    let mut runs: Vec<(Weekday, Weekday)> = Vec::new();
    for &d in days {
        match runs.last_mut() {
            Some((_, end)) if next_day(*end) == d && d != Weekday::Monday => *end = d,
            _ => runs.push((d, d)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|(a, b)| match (a, b) {
            (a, b) if a == b => a.name().to_owned(),
            (a, b) if next_day(*a) == *b => format!("{} and {}", a.name(), b.name()),
            (a, b) => format!("{} to {}", a.name(), b.name()),
        })
        .collect();
    join_list(&parts, "and")
}
