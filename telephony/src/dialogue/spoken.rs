//! Numbers and times as they are spoken, both ways.
//!
//! Out: clock times for the ear ("8 AM", "5:30 PM", "noon") and phone numbers as digit words, because a TTS
//! voice reads "5035550142" as a five-billion figure. In: digits a caller says ("five oh three, five fifty
//! five") and clock times ("ten thirty", "3 pm").

use crate::agent::TimeRange;

/// "8 AM", "5:30 PM", "noon", "midnight".
pub(crate) fn clock(minute: u16) -> String {
    let minute = minute % 1440;
    match minute {
        0 => "midnight".to_owned(),
        720 => "noon".to_owned(),
        _ => {
            let (h, m) = (minute / 60, minute % 60);
            let suffix = if h < 12 { "AM" } else { "PM" };
            let h12 = match h % 12 {
                0 => 12,
                h => h,
            };
            if m == 0 {
                format!("{h12} {suffix}")
            } else {
                format!("{h12}:{m:02} {suffix}")
            }
        }
    }
}

/// "8 AM to 5 PM".
pub(crate) fn range(r: &TimeRange) -> String {
    format!("{} to {}", clock(r.open), clock(r.close))
}

/// "from 8 AM to noon and from 1 PM to 5 PM".
pub(crate) fn ranges(rs: &[TimeRange]) -> String {
    rs.iter()
        .map(|r| format!("from {}", range(r)))
        .collect::<Vec<_>>()
        .join(" and ")
}

const DIGIT_WORDS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// Digits as words in the groups people say them: "five zero three, five five five, zero one four two".
/// Anything that is not a digit ("+", spaces) is dropped.
pub(crate) fn digits_as_words(number: &str) -> String {
    let digits: Vec<usize> = number
        .chars()
        .filter_map(|c| c.to_digit(10).map(|d| d as usize))
        .collect();
    let groups: Vec<usize> = match digits.len() {
        10 => vec![3, 3, 4],
        11 if digits.first() == Some(&1) => vec![1, 3, 3, 4],
        7 => vec![3, 4],
        4 => vec![4],
        n => {
            let mut g = vec![3; n / 3];
            if n % 3 != 0 {
                g.push(n % 3);
            }
            g
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    for g in groups {
        let end = (i + g).min(digits.len());
        let words: Vec<&str> = digits[i..end].iter().map(|&d| DIGIT_WORDS[d]).collect();
        if !words.is_empty() {
            out.push(words.join(" "));
        }
        i = end;
    }
    out.join(", ")
}

#[rustfmt::skip]
const TEENS: [&str; 10] = [
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// A number below 10,000 in words ("one hundred twenty nine"); larger ones digit by digit.
fn cardinal(n: u32) -> String {
    match n {
        0..=9 => DIGIT_WORDS[n as usize].to_owned(),
        10..=19 => TEENS[(n - 10) as usize].to_owned(),
        20..=99 if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_owned(),
        20..=99 => format!(
            "{} {}",
            TENS[(n / 10) as usize],
            DIGIT_WORDS[(n % 10) as usize]
        ),
        100..=999 if n.is_multiple_of(100) => format!("{} hundred", cardinal(n / 100)),
        100..=999 => format!("{} hundred {}", cardinal(n / 100), cardinal(n % 100)),
        1000..=9999 if n.is_multiple_of(1000) => format!("{} thousand", cardinal(n / 1000)),
        1000..=9999 => format!("{} thousand {}", cardinal(n / 1000), cardinal(n % 1000)),
        _ => digits_as_words(&n.to_string()),
    }
}

/// "third", "twenty first": the ordinal of a day of the month.
fn ordinal_words(n: u32) -> String {
    const SMALL: [&str; 20] = [
        "zeroth",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    match n {
        0..=19 => SMALL[n as usize].to_owned(),
        20..=99 if n.is_multiple_of(10) => {
            format!("{}ieth", TENS[(n / 10) as usize].trim_end_matches('y'))
        }
        20..=99 => format!("{} {}", TENS[(n / 10) as usize], SMALL[(n % 10) as usize]),
        _ => format!("number {}", cardinal(n)),
    }
}

/// Caller words read back with every number spelled out ("Tuesday at 10:30 AM" -> "Tuesday at ten
/// thirty AM"), so what the policy echoes never reads as a figure it stated.
pub(crate) fn numbers_as_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_digit()
                || (chars[i] == ':' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
        {
            i += 1;
        }
        let num: String = chars[start..i].iter().collect();
        let suffix: String = chars[i..].iter().take(2).collect::<String>().to_lowercase();
        let words = if let Some((h, m)) = num.split_once(':') {
            let h = h.parse::<u32>().map(cardinal).unwrap_or_default();
            match m.parse::<u32>() {
                Ok(0) => format!("{h} o'clock"),
                Ok(m) if m < 10 => format!("{h} oh {}", cardinal(m)),
                Ok(m) => format!("{h} {}", cardinal(m)),
                Err(_) => h,
            }
        } else if matches!(suffix.as_str(), "st" | "nd" | "rd" | "th") && num.len() <= 2 {
            i += 2;
            num.parse::<u32>().map(ordinal_words).unwrap_or_default()
        } else if num.len() > 4 {
            digits_as_words(&num)
        } else {
            num.parse::<u32>().map(cardinal).unwrap_or_default()
        };
        out.push_str(&words);
    }
    out
}

/// The value of a single number word or digit token below 100 (and "oh" for zero in digit strings).
fn small_number(token: &str) -> Option<u32> {
    let v = match token {
        "zero" | "oh" | "o" => 0,
        "one" => 1,
        "two" | "to" | "too" => 2,
        "three" => 3,
        "four" | "for" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    };
    Some(v)
}

/// Homophones of digits ("to", "for", "oh") count only between other digits, never on their own.
fn is_weak(token: &str) -> bool {
    matches!(token, "to" | "too" | "for" | "oh" | "o")
}

/// A digit string a caller spoke: the longest run of digit tokens and number words, as digits.
/// "five oh three, five fifty five, zero one forty two" -> "5035550142"; "double five" -> "55".
/// Returns the digits and the token span they came from.
pub(crate) fn spoken_digits(tokens: &[String]) -> Option<(String, std::ops::Range<usize>)> {
    let mut best: Option<(String, std::ops::Range<usize>)> = None;
    let mut i = 0;
    while i < tokens.len() {
        let (digits, end) = digit_run(tokens, i);
        if digits.is_empty() {
            i += 1;
            continue;
        }
        if best.as_ref().is_none_or(|(b, _)| digits.len() > b.len()) {
            best = Some((digits, i..end));
        }
        i = end.max(i + 1);
    }
    best
}

/// Reads digits from `start` while tokens are numeric; returns the digits and the end index.
fn digit_run(tokens: &[String], start: usize) -> (String, usize) {
    let mut out = String::new();
    let mut i = start;
    let mut repeat = 1;
    let mut plus = false;
    while i < tokens.len() {
        let t = tokens[i].as_str();
        let prev_numeric = !out.is_empty();
        let next_numeric = tokens
            .get(i + 1)
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()) || small_number(n).is_some());
        if t == "plus" && out.is_empty() && next_numeric {
            plus = true;
            i += 1;
            continue;
        }
        if t == "double" || t == "triple" {
            if !next_numeric {
                break;
            }
            repeat = if t == "double" { 2 } else { 3 };
            i += 1;
            continue;
        }
        if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
            for _ in 0..repeat {
                out.push_str(t);
            }
            repeat = 1;
            i += 1;
            continue;
        }
        if t == "hundred" && prev_numeric {
            // "five hundred" -> 500, "five hundred three" -> 503: pad unless a tens/unit word follows.
            let next = tokens.get(i + 1).and_then(|n| small_number(n));
            match next {
                Some(v) if v >= 10 => {}
                Some(_) => out.push('0'),
                None => out.push_str("00"),
            }
            i += 1;
            continue;
        }
        let Some(v) = small_number(t) else { break };
        // "oh" is zero next to any digit; "to" and "for" only between two.
        let weak_ok = if t.starts_with('o') {
            prev_numeric || next_numeric || repeat > 1
        } else {
            prev_numeric && next_numeric
        };
        if is_weak(t) && !weak_ok {
            break;
        }
        let text = if (20..100).contains(&v) && v % 10 == 0 {
            // "forty two" -> 42; "forty" alone -> 40.
            match tokens.get(i + 1).and_then(|n| small_number(n)) {
                Some(u) if (1..10).contains(&u) && !is_weak(&tokens[i + 1]) => {
                    i += 1;
                    format!("{}", v + u)
                }
                _ => format!("{v}"),
            }
        } else {
            format!("{v}")
        };
        for _ in 0..repeat {
            out.push_str(&text);
        }
        repeat = 1;
        i += 1;
    }
    if plus && !out.is_empty() {
        out.insert(0, '+');
    }
    (out, i)
}

/// The digits of a callback number the caller gave, if it is long enough to be one (7 to 15 digits).
pub(crate) fn phone_digits(tokens: &[String]) -> Option<(String, std::ops::Range<usize>)> {
    let (digits, span) = spoken_digits(tokens)?;
    let n = digits.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&n).then_some((digits, span))
}

/// A clock time the caller said, as minutes after midnight, and how many tokens it used.
/// "10", "ten thirty", "10:30", "3 pm", "noon". Without AM/PM, 1 to 6 is afternoon and 7 to 11 morning:
/// nobody books a 3 AM dentist.
pub(crate) fn clock_time(tokens: &[String], start: usize) -> Option<(u16, usize)> {
    let t = tokens.get(start)?.as_str();
    match t {
        "noon" | "midday" => return Some((720, 1)),
        "midnight" => return Some((0, 1)),
        _ => {}
    }
    let mut used = 1;
    let (hour, mut minute) = if let Some((h, m)) = t.split_once(':') {
        (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?)
    } else if t.chars().all(|c| c.is_ascii_digit()) && (1..=4).contains(&t.len()) {
        let v: u16 = t.parse().ok()?;
        if t.len() >= 3 {
            (v / 100, v % 100)
        } else {
            (v, 0)
        }
    } else {
        let v = small_number(t).filter(|_| !is_weak(t))?;
        (u16::try_from(v).ok()?, 0)
    };
    if !((1..=12).contains(&hour) || (hour <= 23 && t.contains(':'))) {
        return None;
    }
    if minute == 0 {
        let next = tokens.get(start + used).map(String::as_str);
        let m = match next {
            Some("fifteen") => Some(15),
            Some("thirty") | Some("half") => Some(30),
            Some("forty") if tokens.get(start + used + 1).map(String::as_str) == Some("five") => {
                used += 1;
                Some(45)
            }
            Some("oclock") => Some(0),
            Some(n) if n.len() == 2 && n.chars().all(|c| c.is_ascii_digit()) => n.parse().ok(),
            _ => None,
        };
        if let Some(m) = m {
            minute = m;
            used += 1;
        }
    }
    if minute >= 60 {
        return None;
    }
    let mut h24 = hour;
    let after: Vec<&str> = tokens[(start + used).min(tokens.len())..]
        .iter()
        .take(3)
        .map(String::as_str)
        .collect();
    let (pm, skip) = match after.as_slice() {
        ["am", ..] => (Some(false), 1),
        ["pm", ..] => (Some(true), 1),
        ["in", "the", "morning", ..] => (Some(false), 3),
        ["in", "the", "afternoon" | "evening", ..] => (Some(true), 3),
        ["at", "night", ..] => (Some(true), 2),
        ["morning", ..] => (Some(false), 0),
        ["afternoon" | "evening" | "tonight", ..] => (Some(true), 0),
        _ => (None, 0),
    };
    used += skip;
    match pm {
        Some(false) if hour == 12 => h24 = 0,
        Some(true) if hour < 12 => h24 = hour + 12,
        None if (1..=6).contains(&hour) => h24 = hour + 12,
        _ => {}
    }
    Some((h24 * 60 + minute, used))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::dialogue::text::tokenize;

    #[test]
    fn clock_reads_for_the_ear() {
        assert_eq!(clock(8 * 60), "8 AM");
        assert_eq!(clock(17 * 60 + 30), "5:30 PM");
        assert_eq!(clock(720), "noon");
        assert_eq!(clock(1440), "midnight");
        assert_eq!(clock(13 * 60), "1 PM");
        assert_eq!(
            range(&TimeRange {
                open: 540,
                close: 780
            }),
            "9 AM to 1 PM"
        );
    }

    #[test]
    fn phone_numbers_read_as_digit_words() {
        assert_eq!(
            digits_as_words("+15035550142"),
            "one, five zero three, five five five, zero one four two"
        );
        assert_eq!(
            digits_as_words("5035550142"),
            "five zero three, five five five, zero one four two"
        );
    }

    #[test]
    fn echoed_numbers_are_spelled_out() {
        assert_eq!(
            numbers_as_words("Saturday at 10:30 AM"),
            "Saturday at ten thirty AM"
        );
        assert_eq!(
            numbers_as_words("March 3rd at 2 PM"),
            "March third at two PM"
        );
        assert_eq!(
            numbers_as_words("the 21st, 9:05"),
            "the twenty first, nine oh five"
        );
        assert_eq!(
            numbers_as_words("my 129 dollar bill"),
            "my one hundred twenty nine dollar bill"
        );
        assert_eq!(
            numbers_as_words("call 5035550142"),
            "call five zero three, five five five, zero one four two"
        );
        assert_eq!(numbers_as_words("the 30th"), "the thirtieth");
    }

    #[test]
    fn spoken_digits_parse() {
        let cases = [
            (
                "five oh three, five five five, zero one four two",
                "5035550142",
            ),
            ("my number is 503-555-0142", "5035550142"),
            (
                "five oh three five fifty five oh one forty two",
                "5035550142",
            ),
            ("it's 503 double five 5 0142", "5035550142"),
            (
                "five zero three five five five zero one four two thanks",
                "5035550142",
            ),
            ("plus one five oh three 555 0142", "+15035550142"),
        ];
        for (said, want) in cases {
            let got = phone_digits(&tokenize(said)).map(|(d, _)| d);
            assert_eq!(got.as_deref(), Some(want), "{said}");
        }
        assert!(phone_digits(&tokenize("I need to come in for a cleaning")).is_none());
        assert!(phone_digits(&tokenize("at ten thirty")).is_none());
    }

    #[test]
    fn clock_times_parse() {
        let t = |s: &str| clock_time(&tokenize(s), 0).map(|(m, _)| m);
        assert_eq!(t("10"), Some(600));
        assert_eq!(t("ten thirty"), Some(630));
        assert_eq!(t("3 pm"), Some(900));
        assert_eq!(t("3"), Some(900));
        assert_eq!(t("10:30 am"), Some(630));
        assert_eq!(t("noon"), Some(720));
        assert_eq!(t("twelve"), Some(720));
        assert_eq!(t("seven in the evening"), Some(19 * 60));
        assert_eq!(t("eight in the morning"), Some(480));
        assert_eq!(t("blue"), None);
    }
}
