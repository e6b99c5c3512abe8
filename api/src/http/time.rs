//! Times on the wire: the store keeps unix milliseconds; the API shows ISO-8601 (RFC 3339, UTC) and reads
//! either ISO-8601 or unix milliseconds, as clients send both.

use jiff::Timestamp;

/// `ms` as RFC 3339 in UTC, e.g. `2026-04-17T14:23:01Z` (fractions only when there are some).
pub fn iso(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        // Outside jiff's range (years -9999..=9999): no store writes such a time; show the number.
        .unwrap_or_else(|_| ms.to_string())
}

/// An optional time in ISO-8601.
pub fn iso_opt(ms: Option<i64>) -> Option<String> {
    ms.map(iso)
}

/// Reads a time: unix milliseconds (`1776435781000`), an RFC 3339 timestamp
/// (`2026-04-17T14:23:01Z`, any offset) or a date (`2026-04-17`, midnight UTC).
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t.as_millisecond());
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_every_accepted_form() {
        let ms = 1_776_435_781_000;
        assert_eq!(iso(ms), "2026-04-17T14:23:01Z");
        assert_eq!(iso(ms + 250), "2026-04-17T14:23:01.25Z");
        assert_eq!(parse_time("2026-04-17T14:23:01Z"), Some(ms));
        assert_eq!(parse_time("2026-04-17T16:23:01+02:00"), Some(ms));
        assert_eq!(parse_time("1776435781000"), Some(ms));
        assert_eq!(parse_time("2026-04-17"), Some(1_776_384_000_000));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("99999999999999999999999"), None);
    }
}
