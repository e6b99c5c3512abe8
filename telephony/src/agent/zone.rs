//! The business's local time, from its IANA time zone and the system tz database (`/usr/share/zoneinfo`
//! on Debian, package `tzdata`). Zone rules change by law a few times a year; reading the system's copy
//! means an OS update fixes them without a new build.

use std::time::SystemTime;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::Weekday;
use crate::dialogue::LocalTime;

/// The zone named `name` (`America/Los_Angeles`), or why it cannot be used.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name)
        .map_err(|e| format!("{name:?} is not an IANA time zone in the system tz database ({e})"))
}

/// Weekday and minute of the day in `zone` at `at`. `None` only for an instant jiff cannot represent
/// (outside years -9999 to 9999), which no real clock produces.
pub fn local_time(at: SystemTime, zone: &TimeZone) -> Option<LocalTime> {
    let local = Timestamp::try_from(at).ok()?.to_zoned(zone.clone());
    let weekday = match local.weekday() {
        jiff::civil::Weekday::Monday => Weekday::Monday,
        jiff::civil::Weekday::Tuesday => Weekday::Tuesday,
        jiff::civil::Weekday::Wednesday => Weekday::Wednesday,
        jiff::civil::Weekday::Thursday => Weekday::Thursday,
        jiff::civil::Weekday::Friday => Weekday::Friday,
        jiff::civil::Weekday::Saturday => Weekday::Saturday,
        jiff::civil::Weekday::Sunday => Weekday::Sunday,
    };
    // jiff keeps hour in 0..=23 and minute in 0..=59, so this is 0..=1439.
    let minute = u16::try_from(i16::from(local.hour()) * 60 + i16::from(local.minute())).ok()?;
    Some(LocalTime { weekday, minute })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn utc(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn local_time_follows_the_zone_not_utc() {
        let la = time_zone("America/Los_Angeles").unwrap();
        // 2025-06-14T17:00:00Z is Saturday 10:00 in Portland (PDT, UTC-7).
        let t = local_time(utc(1_749_920_400), &la).unwrap();
        assert_eq!((t.weekday, t.minute), (Weekday::Saturday, 600));
        // 2025-06-15T03:30:00Z is Sunday in UTC but still Saturday evening, 20:30, in Portland.
        let t = local_time(utc(1_749_958_200), &la).unwrap();
        assert_eq!((t.weekday, t.minute), (Weekday::Saturday, 20 * 60 + 30));
        let t = local_time(utc(1_749_958_200), &time_zone("UTC").unwrap()).unwrap();
        assert_eq!((t.weekday, t.minute), (Weekday::Sunday, 3 * 60 + 30));
    }

    #[test]
    fn winter_time_uses_the_winter_offset() {
        let la = time_zone("America/Los_Angeles").unwrap();
        // 2025-01-06T16:00:00Z is Monday 08:00 in Portland (PST, UTC-8).
        let t = local_time(utc(1_736_179_200), &la).unwrap();
        assert_eq!((t.weekday, t.minute), (Weekday::Monday, 8 * 60));
    }

    #[test]
    fn unknown_zones_are_refused_with_the_name() {
        for bad in ["Mars/Olympus_Mons", "", "../../etc/passwd", "America/"] {
            let e = time_zone(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }
}
