//! Opening hours written for people: "Mon-Thu 8am-5pm", "Tuesday: 9:00 - 17:00", "Closed Sundays",
//! "Saturday by appointment", "Mon–Fri 8–12 & 1–5", "closed for lunch 12:30-1:30", "open 24/7".
//!
//! A small lexer turns the text into day, time and keyword tokens; a left-to-right parser groups days with
//! the ranges that follow them (or precede them, as in "9-5, Monday to Friday"). Anything it does not
//! recognise is skipped, so arbitrary text yields nothing rather than a guess.

use std::collections::BTreeMap;

use crate::facts::{DayHours, TimeRange, Weekday};

mod lex;

use lex::{Clock, Tok, lex};

use Weekday::{Friday, Monday, Saturday, Sunday, Thursday, Tuesday, Wednesday};

const WEEKDAYS: &[Weekday] = &[Monday, Tuesday, Wednesday, Thursday, Friday];
const WEEKEND: &[Weekday] = &[Saturday, Sunday];
const EVERY_DAY: &[Weekday] = &Weekday::ALL;

/// Inputs longer than this are cut: hours statements are short, and the parser should stay cheap.
const MAX_INPUT: usize = 4_000;

/// What a piece of text says about opening hours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Hours per day stated in the text; a later statement about a day overrides an earlier one.
    pub days: BTreeMap<Weekday, DayHours>,
    /// The text says visits are by appointment.
    pub by_appointment: bool,
    /// The text ends with days that got no hours ("Monday - Friday"), so the next line may hold them.
    pub dangling: bool,
}

/// A day group being built: days, then what they get.
#[derive(Debug, Default)]
struct Group {
    days: Vec<Weekday>,
    ranges: Vec<TimeRange>,
    closed: bool,
    appt: bool,
}

impl Group {
    fn has_value(&self) -> bool {
        !self.ranges.is_empty() || self.closed || self.appt
    }
}

struct Parser {
    toks: Vec<Tok>,
    out: Parsed,
    cur: Group,
    breaks: Vec<TimeRange>,
    lunch_pending: bool,
}

/// Parses hours from text. Never panics; text that states no hours gives an empty result.
pub fn parse(text: &str) -> Parsed {
    let mut p = Parser {
        toks: lex(text),
        out: Parsed::default(),
        cur: Group::default(),
        breaks: Vec::new(),
        lunch_pending: false,
    };
    p.run();
    p.out
}

impl Parser {
    fn run(&mut self) {
        let mut i = 0;
        let mut emitted_any = false;
        while i < self.toks.len() {
            if let Some((days, j)) = self.days_at(i) {
                if self.lunch_pending {
                    // "closed daily for lunch": the days qualify the break, not a new group.
                } else if self.cur.days.is_empty() && !self.cur.ranges.is_empty() {
                    self.cur.days = days;
                } else {
                    if self.cur.has_value() {
                        emitted_any |= self.emit();
                    }
                    for d in days {
                        if !self.cur.days.contains(&d) {
                            self.cur.days.push(d);
                        }
                    }
                }
                i = j;
                continue;
            }
            if let Some((range, j)) = self.range_at(i) {
                // "12-1 lunch", "12-1 for lunch": the range names the break.
                let lunch_after = match self.toks.get(j) {
                    Some(Tok::Lunch) => true,
                    Some(Tok::Word(w)) if w == "for" => self.toks.get(j + 1) == Some(&Tok::Lunch),
                    _ => false,
                };
                if self.lunch_pending || lunch_after {
                    self.lunch_pending = false;
                    self.add_break(range);
                    if lunch_after {
                        // Consume the "lunch" so it does not arm another break.
                        let k = self.toks[j..]
                            .iter()
                            .position(|t| *t == Tok::Lunch)
                            .unwrap_or(0);
                        i = j + k + 1;
                        continue;
                    }
                } else {
                    self.cur.ranges.push(range);
                }
                i = j;
                continue;
            }
            match &self.toks[i] {
                Tok::Closed => {
                    let next = self.skip_fillers(i + 1);
                    let lunch_soon = self.toks[next..].iter().take(4).any(|t| *t == Tok::Lunch);
                    if lunch_soon {
                        self.lunch_pending = true;
                        let k = self.toks[next..]
                            .iter()
                            .position(|t| *t == Tok::Lunch)
                            .unwrap_or(0);
                        i = next + k + 1;
                        continue;
                    }
                    if let Some((range, j)) = self.range_at(next) {
                        self.add_break(range);
                        i = j;
                        continue;
                    }
                    if let Some((days, j)) = self.days_at(next) {
                        if self.cur.has_value() || !self.cur.days.is_empty() {
                            emitted_any |= self.emit();
                        }
                        self.cur.days = days;
                        self.cur.closed = true;
                        emitted_any |= self.emit();
                        i = j;
                        continue;
                    }
                    if !self.cur.days.is_empty() && self.cur.ranges.is_empty() {
                        self.cur.closed = true;
                    }
                }
                Tok::Lunch => self.lunch_pending = true,
                Tok::AllDay => {
                    self.cur.ranges = vec![TimeRange {
                        open: 0,
                        close: 1440,
                    }]
                }
                Tok::Always => {
                    if self.cur.days.is_empty() {
                        self.cur.days = EVERY_DAY.to_vec();
                    }
                    self.cur.ranges = vec![TimeRange {
                        open: 0,
                        close: 1440,
                    }];
                }
                // "by appointment", "appointment only": not "request an appointment".
                Tok::Appt
                    if matches!(i.checked_sub(1).and_then(|p| self.toks.get(p)), Some(Tok::Word(w)) if w == "by")
                        || matches!(self.toks.get(i + 1), Some(Tok::Word(w)) if w == "only") =>
                {
                    self.out.by_appointment = true;
                    if self.cur.ranges.is_empty() && !self.cur.days.is_empty() {
                        self.cur.appt = true;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let dangling = !self.cur.days.is_empty() && !self.cur.has_value();
        emitted_any |= self.emit();
        self.out.dangling = dangling && !emitted_any;
        let breaks = std::mem::take(&mut self.breaks);
        for b in breaks {
            for h in self.out.days.values_mut() {
                if let DayHours::Open(ranges) = h {
                    *ranges = split(ranges, b);
                }
            }
        }
    }

    /// Filler words between "closed" and what it applies to.
    fn skip_fillers(&self, mut i: usize) -> usize {
        while let Some(Tok::Word(w)) = self.toks.get(i) {
            if !matches!(
                w.as_str(),
                "on" | "every" | "all" | "from" | "for" | "the" | "each" | "most"
            ) {
                break;
            }
            i += 1;
        }
        i
    }

    fn add_break(&mut self, b: TimeRange) {
        if self
            .cur
            .ranges
            .iter()
            .any(|r| r.open < b.open && b.close < r.close)
        {
            self.cur.ranges = split(&self.cur.ranges, b);
        } else {
            self.breaks.push(b);
        }
    }

    /// Writes the current group into the result; returns whether it held anything.
    fn emit(&mut self) -> bool {
        let g = std::mem::take(&mut self.cur);
        if g.days.is_empty() || !g.has_value() {
            return false;
        }
        let value = if !g.ranges.is_empty() {
            let mut r = g.ranges;
            r.sort();
            r.dedup();
            DayHours::Open(r)
        } else if g.closed {
            DayHours::Closed
        } else {
            // By appointment only: no hours to state for these days.
            return true;
        };
        for d in g.days {
            self.out.days.insert(d, value.clone());
        }
        true
    }

    fn day_item(&self, i: usize) -> Option<(Vec<Weekday>, usize)> {
        match self.toks.get(i)? {
            Tok::Day(a) => {
                if self.toks.get(i + 1) == Some(&Tok::To)
                    && let Some(Tok::Day(b)) = self.toks.get(i + 2)
                {
                    return Some((span(*a, *b), i + 3));
                }
                Some((vec![*a], i + 1))
            }
            Tok::Days(ds) => Some((ds.to_vec(), i + 1)),
            // "M-F" is common shorthand; single letters mean nothing else here.
            Tok::Word(m) if m == "m" => match (self.toks.get(i + 1), self.toks.get(i + 2)) {
                (Some(Tok::To), Some(Tok::Word(f))) if f == "f" => Some((WEEKDAYS.to_vec(), i + 3)),
                _ => None,
            },
            _ => None,
        }
    }

    /// A day expression: items joined by lists ("Mon, Wed & Fri", "Sat/Sun", "Mon-Wed, Fri").
    fn days_at(&self, i: usize) -> Option<(Vec<Weekday>, usize)> {
        let (mut days, mut j) = self.day_item(i)?;
        while self.toks.get(j) == Some(&Tok::List) {
            match self.day_item(j + 1) {
                Some((more, k)) => {
                    days.extend(more);
                    j = k;
                }
                None => break,
            }
        }
        Some((days, j))
    }

    fn clock_at(&self, i: usize) -> Option<(Clock, usize)> {
        match self.toks.get(i)? {
            Tok::Num(c) => match self.toks.get(i + 1) {
                Some(Tok::Mer(pm)) => Some((
                    Clock {
                        pm: Some(*pm),
                        ..*c
                    },
                    i + 2,
                )),
                _ => Some((*c, i + 1)),
            },
            Tok::Noon => Some((
                Clock {
                    pm: Some(true),
                    ..Clock::at(12)
                },
                i + 1,
            )),
            Tok::Midnight => Some((Clock::at(24), i + 1)),
            _ => None,
        }
    }

    fn range_at(&self, i: usize) -> Option<(TimeRange, usize)> {
        let (a, j) = self.clock_at(i)?;
        let (b, k) = match self.toks.get(j) {
            Some(Tok::To) => self.clock_at(j + 1)?,
            // Two times side by side ("8:00 AM 5:00 PM", as table columns put them) form a range when both
            // are clearly times.
            Some(Tok::Num(_)) if (a.pm.is_some() || a.formal) => {
                let (b, k) = self.clock_at(j)?;
                (b.pm.is_some() || b.formal).then_some((b, k))?
            }
            _ => return None,
        };
        Some((resolve(a, b)?, k))
    }
}

fn span(a: Weekday, b: Weekday) -> Vec<Weekday> {
    let (a, b) = (a.index(), b.index());
    let len = (b + 7 - a) % 7 + 1;
    (0..len).map(|k| Weekday::ALL[(a + k) % 7]).collect()
}

fn minutes(c: Clock, pm: Option<bool>) -> Option<u16> {
    let h = match pm {
        Some(true) if c.hour < 12 => c.hour + 12,
        Some(true) if c.hour == 12 => 12,
        Some(false) if c.hour == 12 => 0,
        Some(_) if c.hour > 12 => return None,
        _ => c.hour,
    };
    let m = h * 60 + c.minute;
    (m <= 1440).then_some(m)
}

/// Resolves two clock readings into a range, filling in am/pm the way people mean it ("9-5" is 9:00-17:00,
/// "11-2pm" is 11:00-14:00). A range past midnight is cut at midnight, as one day's hours cannot hold it.
fn resolve(a: Clock, b: Clock) -> Option<TimeRange> {
    // "2019-2024" is a span of years, not "20:19-20:24": compact times need a leading zero somewhere.
    if (a.compact || b.compact) && !(a.lead0 || b.lead0) {
        return None;
    }
    let (open, mut close) = match (a.pm, b.pm) {
        (None, None) => {
            let twenty_four = a.hour > 12 || b.hour > 12 || a.lead0 || b.lead0 || a.hour == 0;
            let mut open = minutes(a, None)?;
            let mut close = minutes(b, None)?;
            if !twenty_four {
                // Nobody opens at 1 am: "1-5" is the afternoon.
                if a.hour < 6 {
                    open += 720;
                    if b.hour < 12 {
                        close += 720;
                    }
                }
                if close <= open && close + 720 <= 1440 {
                    close += 720;
                }
            }
            (open, close)
        }
        (None, Some(bpm)) => {
            let close = minutes(b, Some(bpm))?;
            let open = if a.hour > 12 {
                minutes(a, None)?
            } else if !bpm {
                minutes(a, Some(false))?
            } else if a.hour == 12 {
                720
            } else {
                // "1-5pm" shares the pm; "8-5pm" cannot.
                match minutes(a, Some(true)) {
                    Some(pm) if pm < close => pm,
                    _ => minutes(a, Some(false))?,
                }
            };
            (open, close)
        }
        (Some(apm), None) => {
            let open = minutes(a, Some(apm))?;
            let close = if b.hour > 12 {
                minutes(b, None)?
            } else {
                match minutes(b, Some(false)) {
                    Some(am) if am > open && !apm => am,
                    _ => minutes(b, Some(true))?,
                }
            };
            (open, close)
        }
        (Some(apm), Some(bpm)) => (minutes(a, Some(apm))?, minutes(b, Some(bpm))?),
    };
    if close == 0 {
        close = 1440;
    }
    if close <= open && open >= 720 {
        close = 1440;
    }
    TimeRange::new(open, close)
}

/// Cuts a break out of the ranges that contain it.
fn split(ranges: &[TimeRange], b: TimeRange) -> Vec<TimeRange> {
    let mut out = Vec::with_capacity(ranges.len() + 1);
    for r in ranges {
        if r.open < b.open && b.close < r.close {
            out.extend(TimeRange::new(r.open, b.open));
            out.extend(TimeRange::new(b.close, r.close));
        } else {
            out.push(*r);
        }
    }
    out
}

#[cfg(test)]
mod tests;
