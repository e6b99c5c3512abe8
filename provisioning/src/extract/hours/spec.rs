//! schema.org hours: `openingHours` strings ("Mo-Fr 08:00-17:00", "Mo,We 09:00-12:00,13:00-17:00") and
//! `openingHoursSpecification` objects (`dayOfWeek` as names or URLs, `opens`/`closes`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::extract::jsonld::{self, Graph};
use crate::facts::{DayHours, TimeRange, Weekday};

/// Hours stated by one business node.
pub(crate) fn from_node(graph: &Graph, node: &Value) -> BTreeMap<Weekday, DayHours> {
    let mut ranges: BTreeMap<Weekday, Vec<TimeRange>> = BTreeMap::new();
    let mut closed: Vec<Weekday> = Vec::new();
    for v in graph.prop(node, "openingHours") {
        if let Some(s) = jsonld::text(v) {
            for (d, h) in opening_hours_string(&s) {
                match h {
                    Some(r) => ranges.entry(d).or_default().push(r),
                    None => closed.push(d),
                }
            }
        }
    }
    for spec in graph.prop(node, "openingHoursSpecification") {
        // Seasonal and holiday hours carry validity dates; they are not the regular week.
        if !jsonld::prop(spec, "validFrom").is_empty()
            || !jsonld::prop(spec, "validThrough").is_empty()
        {
            continue;
        }
        let days: Vec<Weekday> = jsonld::prop(spec, "dayOfWeek")
            .into_iter()
            .filter_map(jsonld::text)
            .filter_map(|d| day_name(jsonld::local_name(&d)))
            .collect();
        let opens = jsonld::first_text(spec, "opens").and_then(|t| clock(&t));
        let closes = jsonld::first_text(spec, "closes").and_then(|t| clock(&t));
        let (Some(opens), Some(closes)) = (opens, closes) else {
            continue;
        };
        for d in days {
            // schema.org marks a closed day with opens = closes = 00:00.
            if opens == 0 && closes == 0 {
                closed.push(d);
                continue;
            }
            let close = match closes {
                0 => 1440,
                // "23:59" is how many sites say "until midnight".
                1439 => 1440,
                c => c,
            };
            if let Some(r) = TimeRange::new(opens, close) {
                ranges.entry(d).or_default().push(r);
            }
        }
    }
    let mut out: BTreeMap<Weekday, DayHours> =
        closed.into_iter().map(|d| (d, DayHours::Closed)).collect();
    for (d, mut r) in ranges {
        r.sort();
        r.dedup();
        out.insert(d, DayHours::Open(r));
    }
    out
}

/// One `openingHours` value; `None` marks a closed day.
pub(crate) fn opening_hours_string(s: &str) -> Vec<(Weekday, Option<TimeRange>)> {
    let mut out = Vec::new();
    let mut days: Vec<Weekday> = Vec::new();
    let mut days_fresh = false;
    for piece in s.split_whitespace().take(64) {
        let piece = piece.trim_matches([',', ';']);
        if let Some(d) = day_spec(piece) {
            if days_fresh {
                days.extend(d);
            } else {
                days = d;
            }
            days_fresh = true;
            continue;
        }
        days_fresh = false;
        if piece.eq_ignore_ascii_case("closed") || piece.eq_ignore_ascii_case("off") {
            out.extend(days.iter().map(|d| (*d, None)));
            continue;
        }
        for r in piece.split(',') {
            let Some((a, b)) = r.split_once('-') else {
                continue;
            };
            let (Some(a), Some(b)) = (clock(a), clock(b)) else {
                continue;
            };
            let b = if b == 0 || b == 1439 { 1440 } else { b };
            if let Some(r) = TimeRange::new(a, b) {
                out.extend(days.iter().map(|d| (*d, Some(r))));
            }
        }
    }
    out
}

/// "Mo-Fr", "Mo,We,Fr", "Sa", "Monday-Friday".
fn day_spec(piece: &str) -> Option<Vec<Weekday>> {
    let mut out = Vec::new();
    for part in piece.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_name(a)?, day_name(b)?);
                let (ai, bi) = (a.index(), b.index());
                let len = (bi + 7 - ai) % 7 + 1;
                out.extend((0..len).map(|k| Weekday::ALL[(ai + k) % 7]));
            }
            None => out.push(day_name(part)?),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A day from its English name or schema.org two-letter code.
fn day_name(s: &str) -> Option<Weekday> {
    let s = s.trim().to_ascii_lowercase();
    if s.len() < 2 || !s.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let full = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    full.iter()
        .position(|f| s == f[..2] || (s.len() >= 3 && f.starts_with(&s)))
        .map(|i| Weekday::ALL[i])
}

/// "08:00", "8:00", "08:00:00", "17:30+01:00" -> minutes after midnight.
fn clock(s: &str) -> Option<u16> {
    let s = s.trim();
    let mut parts = s.split(':');
    let h: u16 = parts.next()?.trim().parse().ok()?;
    let m: u16 = parts.next()?.get(..2)?.parse().ok()?;
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn show(m: &BTreeMap<Weekday, DayHours>) -> Vec<String> {
        m.iter().map(|(d, h)| format!("{}={h}", d.key())).collect()
    }

    #[test]
    fn opening_hours_strings() {
        let mut g = Graph::default();
        g.add(0, json!({"@type": "Dentist", "openingHours": ["Mo-Fr 08:00-17:00", "Sa 09:00-12:00", "Su closed"]}));
        let got = from_node(&g, &g.nodes[0].1);
        assert_eq!(got.len(), 7);
        assert_eq!(got[&Weekday::Friday].to_string(), "08:00-17:00");
        assert_eq!(got[&Weekday::Saturday].to_string(), "09:00-12:00");
        assert_eq!(got[&Weekday::Sunday], DayHours::Closed);
        let r = opening_hours_string("Mo,We 09:00-12:00,13:00-17:00 Tu-Th 10:00-14:00");
        assert_eq!(r.len(), 2 * 2 + 3);
        assert_eq!(
            opening_hours_string("Mo-Su 00:00-23:59")[6]
                .1
                .unwrap()
                .close,
            1440
        );
        assert!(opening_hours_string("garbage 99:99-xx").is_empty());
    }

    #[test]
    fn opening_hours_specifications_with_urls_lunch_and_closed_days() {
        let mut g = Graph::default();
        g.add(
            0,
            json!({"@type": "MedicalClinic", "openingHoursSpecification": [
                {"@type": "OpeningHoursSpecification", "dayOfWeek": ["https://schema.org/Monday", "Tuesday"], "opens": "08:00:00", "closes": "12:00:00"},
                {"@type": "OpeningHoursSpecification", "dayOfWeek": ["http://schema.org/Monday", "Tuesday"], "opens": "13:00", "closes": "17:00"},
                {"dayOfWeek": "Sunday", "opens": "00:00", "closes": "00:00"},
                {"dayOfWeek": "Saturday", "opens": "10:00", "closes": "14:00", "validFrom": "2024-12-24", "validThrough": "2024-12-24"},
                {"dayOfWeek": "Friday", "opens": "17:00", "closes": "00:00"}
            ]}),
        );
        let got = from_node(&g, &g.nodes[0].1);
        assert_eq!(
            show(&got),
            [
                "monday=08:00-12:00, 13:00-17:00",
                "tuesday=08:00-12:00, 13:00-17:00",
                "friday=17:00-24:00",
                "sunday=closed"
            ]
        );
    }
}
