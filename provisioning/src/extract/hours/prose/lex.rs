//! The hours lexer: days, clock times, range and list separators and the few keywords the parser needs
//! ("closed", "lunch", "by appointment", "24/7"); every other word passes through as `Word`.

use crate::facts::Weekday;

use super::{EVERY_DAY, MAX_INPUT, WEEKDAYS, WEEKEND};
use Weekday::{Friday, Monday, Saturday, Sunday, Thursday, Tuesday, Wednesday};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Clock {
    pub(super) hour: u16,
    pub(super) minute: u16,
    /// `Some(true)` for pm.
    pub(super) pm: Option<bool>,
    /// Written with minutes ("9:00").
    pub(super) formal: bool,
    /// Written with a leading zero ("09:00", "0800"), the mark of a 24 h clock.
    pub(super) lead0: bool,
    /// Written as "0800" with no separator.
    pub(super) compact: bool,
}

impl Clock {
    /// A spelled-out hour ("noon", "midnight").
    pub(super) fn at(hour: u16) -> Self {
        Clock {
            hour,
            minute: 0,
            pm: None,
            formal: true,
            lead0: false,
            compact: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Days(&'static [Weekday]),
    Day(Weekday),
    Num(Clock),
    Mer(bool),
    Noon,
    Midnight,
    To,
    List,
    Closed,
    AllDay,
    Always,
    Lunch,
    Appt,
    Sep,
    Word(String),
}

fn day_word(w: &str) -> Option<Weekday> {
    Some(match w {
        "monday" | "mondays" | "mon" | "mo" => Monday,
        "tuesday" | "tuesdays" | "tue" | "tues" | "tu" => Tuesday,
        "wednesday" | "wednesdays" | "wed" | "weds" => Wednesday,
        "thursday" | "thursdays" | "thu" | "thur" | "thurs" | "th" => Thursday,
        "friday" | "fridays" | "fri" | "fr" => Friday,
        "saturday" | "saturdays" | "sat" | "sa" => Saturday,
        "sunday" | "sundays" | "sun" | "su" => Sunday,
        _ => return None,
    })
}

pub(super) fn lex(text: &str) -> Vec<Tok> {
    let mut cut = text.len().min(MAX_INPUT);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let s: Vec<char> = text[..cut].to_lowercase().chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Whether the previous token ended right before this one, for "9a" and "5p".
    let mut adjacent = false;
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = s[start..i].iter().collect();
            if digits == "24" && s.get(i) == Some(&'/') && s.get(i + 1) == Some(&'7') {
                out.push(Tok::Always);
                i += 2;
                adjacent = false;
                continue;
            }
            let mut clock = None;
            if digits.len() <= 2
                && matches!(s.get(i), Some(':' | '.'))
                && s.get(i + 1).is_some_and(char::is_ascii_digit)
                && s.get(i + 2).is_some_and(char::is_ascii_digit)
                && !s.get(i + 3).is_some_and(char::is_ascii_digit)
            {
                let minute = (s[i + 1] as u16 - '0' as u16) * 10 + (s[i + 2] as u16 - '0' as u16);
                clock = digits.parse::<u16>().ok().map(|hour| Clock {
                    hour,
                    minute,
                    pm: None,
                    formal: true,
                    lead0: digits.len() == 2 && digits.starts_with('0'),
                    compact: false,
                });
                i += 3;
            } else if digits.len() <= 2 {
                clock = digits.parse::<u16>().ok().map(|hour| Clock {
                    hour,
                    minute: 0,
                    pm: None,
                    formal: false,
                    lead0: digits.len() == 2 && digits.starts_with('0'),
                    compact: false,
                });
            } else if digits.len() == 4 {
                clock = digits.parse::<u16>().ok().map(|n| Clock {
                    hour: n / 100,
                    minute: n % 100,
                    pm: None,
                    formal: true,
                    lead0: digits.starts_with('0'),
                    compact: true,
                });
            }
            match clock {
                Some(c) if c.hour <= 24 && c.minute < 60 => out.push(Tok::Num(c)),
                _ => out.push(Tok::Word(digits)),
            }
            adjacent = true;
            continue;
        }
        if c.is_alphabetic() {
            let start = i;
            while i < s.len()
                && (s[i].is_alphabetic()
                    || s[i] == '\''
                    || s[i] == '’'
                    || (s[i] == '.' && s.get(i + 1).is_some_and(|c| c.is_alphabetic())))
            {
                i += 1;
            }
            let raw: String = s[start..i].iter().collect();
            let w: String = raw.chars().filter(|c| *c != '.').collect();
            // "a.m." keeps its trailing dot out of the sentence.
            if s.get(i) == Some(&'.') && matches!(w.as_str(), "am" | "pm") {
                i += 1;
            }
            let after_num = matches!(out.last(), Some(Tok::Num(_)));
            let tok = match w.as_str() {
                "am" if after_num => Tok::Mer(false),
                "pm" if after_num => Tok::Mer(true),
                "a" if after_num && adjacent => Tok::Mer(false),
                "p" if after_num && adjacent => Tok::Mer(true),
                "noon" | "midday" => Tok::Noon,
                "midnight" => Tok::Midnight,
                "to" | "through" | "thru" | "until" | "till" | "til" => Tok::To,
                "and" => Tok::List,
                "closed" => Tok::Closed,
                "lunch" => Tok::Lunch,
                "appointment" | "appointments" | "appt" => Tok::Appt,
                "weekdays" | "weekday" => Tok::Days(WEEKDAYS),
                "weekends" | "weekend" => Tok::Days(WEEKEND),
                "daily" | "everyday" => Tok::Days(EVERY_DAY),
                "hours" | "hrs" if matches!(out.last(), Some(Tok::Num(c)) if c.hour == 24 && !c.formal) =>
                {
                    out.pop();
                    Tok::AllDay
                }
                "days" if matches!(out.last(), Some(Tok::Num(c)) if c.hour == 7 && !c.formal) => {
                    out.pop();
                    Tok::Days(EVERY_DAY)
                }
                "day" if matches!(out.last(), Some(Tok::Word(p)) if p == "every") => {
                    out.pop();
                    Tok::Days(EVERY_DAY)
                }
                _ => match day_word(&w) {
                    // "we" and "th" are English words or ordinals far more often than days.
                    Some(d) if !matches!(w.as_str(), "we" | "th") => Tok::Day(d),
                    _ => Tok::Word(w),
                },
            };
            out.push(tok);
            adjacent = true;
            continue;
        }
        adjacent = false;
        match c {
            '-' | '–' | '—' | '‒' | '−' | '~' => out.push(Tok::To),
            ',' | '&' | '/' | '+' => out.push(Tok::List),
            ';' | '|' | '\n' | '.' | '(' | ')' | '[' | ']' | '•' | '·' => out.push(Tok::Sep),
            _ => {}
        }
        i += 1;
    }
    out
}
