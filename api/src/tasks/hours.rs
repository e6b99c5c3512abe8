//! Calling hours: missions call people, so they call at hours people take calls, in the callee's time
//! zone. The zone comes from the number: the country code, and for North America the area code. Where a
//! number does not pin one down (a country spanning zones, an unknown area code), the configured default
//! applies.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

/// The window calls may start in, local to the callee, every day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallingHours {
    /// First minute calls may start, minutes after local midnight.
    pub start_minute: u16,
    /// Calls start before this, minutes after local midnight. Equal to `start_minute`: any time.
    pub end_minute: u16,
    /// IANA zone for numbers whose zone is not known.
    pub default_zone: String,
}

impl Default for CallingHours {
    fn default() -> Self {
        Self {
            start_minute: 9 * 60,
            end_minute: 20 * 60,
            default_zone: "UTC".into(),
        }
    }
}

/// North American area codes by zone: the most populous codes of each zone. Others use the default.
const NANP_ZONES: &[(&str, &[u16])] = &[
    (
        "America/New_York",
        &[
            201, 202, 203, 212, 215, 216, 267, 301, 302, 305, 313, 321, 347, 404, 407, 410, 412,
            413, 434, 470, 484, 508, 516, 517, 518, 540, 551, 561, 571, 585, 586, 603, 607, 609,
            610, 614, 616, 617, 631, 646, 678, 703, 704, 716, 718, 727, 732, 754, 757, 770, 772,
            786, 802, 803, 804, 813, 828, 843, 845, 856, 857, 860, 862, 863, 904, 908, 910, 914,
            917, 919, 929, 941, 954, 973, 978, 980,
        ],
    ),
    (
        "America/Chicago",
        &[
            205, 210, 214, 217, 224, 225, 251, 254, 262, 281, 309, 312, 314, 316, 318, 319, 320,
            346, 405, 414, 417, 430, 469, 479, 501, 504, 507, 512, 515, 563, 573, 601, 608, 612,
            615, 618, 630, 636, 651, 682, 708, 713, 715, 731, 737, 763, 773, 779, 815, 816, 817,
            832, 847, 901, 913, 918, 920, 936, 940, 952, 956, 972, 979,
        ],
    ),
    (
        "America/Denver",
        &[303, 307, 385, 406, 435, 505, 575, 719, 720, 801, 970],
    ),
    ("America/Phoenix", &[480, 520, 602, 623, 928]),
    (
        "America/Los_Angeles",
        &[
            206, 209, 213, 253, 310, 323, 360, 408, 415, 424, 425, 442, 503, 509, 510, 530, 541,
            559, 562, 619, 626, 628, 650, 657, 661, 669, 702, 707, 714, 725, 747, 760, 775, 805,
            818, 831, 858, 909, 916, 925, 949, 951, 971,
        ],
    ),
    ("America/Anchorage", &[907]),
    ("Pacific/Honolulu", &[808]),
    (
        "America/Toronto",
        &[
            226, 249, 289, 343, 365, 416, 437, 519, 613, 647, 705, 807, 905,
        ],
    ),
    ("America/Vancouver", &[236, 250, 604, 672, 778]),
    ("America/Edmonton", &[403, 587, 780, 825]),
    ("America/Winnipeg", &[204, 431]),
    ("America/Halifax", &[782, 902]),
    ("America/St_Johns", &[709]),
    ("America/Puerto_Rico", &[787, 939]),
];

/// Country codes whose country keeps one zone (or one for nearly everyone), longest codes first where
/// they share a prefix.
const COUNTRY_ZONES: &[(&str, &str)] = &[
    ("353", "Europe/Dublin"),
    ("351", "Europe/Lisbon"),
    ("358", "Europe/Helsinki"),
    ("971", "Asia/Dubai"),
    ("972", "Asia/Jerusalem"),
    ("966", "Asia/Riyadh"),
    ("852", "Asia/Hong_Kong"),
    ("886", "Asia/Taipei"),
    ("234", "Africa/Lagos"),
    ("254", "Africa/Nairobi"),
    ("20", "Africa/Cairo"),
    ("27", "Africa/Johannesburg"),
    ("30", "Europe/Athens"),
    ("31", "Europe/Amsterdam"),
    ("32", "Europe/Brussels"),
    ("33", "Europe/Paris"),
    ("34", "Europe/Madrid"),
    ("36", "Europe/Budapest"),
    ("39", "Europe/Rome"),
    ("40", "Europe/Bucharest"),
    ("41", "Europe/Zurich"),
    ("43", "Europe/Vienna"),
    ("44", "Europe/London"),
    ("45", "Europe/Copenhagen"),
    ("46", "Europe/Stockholm"),
    ("47", "Europe/Oslo"),
    ("48", "Europe/Warsaw"),
    ("49", "Europe/Berlin"),
    ("60", "Asia/Kuala_Lumpur"),
    ("63", "Asia/Manila"),
    ("64", "Pacific/Auckland"),
    ("65", "Asia/Singapore"),
    ("66", "Asia/Bangkok"),
    ("81", "Asia/Tokyo"),
    ("82", "Asia/Seoul"),
    ("84", "Asia/Ho_Chi_Minh"),
    ("86", "Asia/Shanghai"),
    ("90", "Europe/Istanbul"),
    ("91", "Asia/Kolkata"),
    ("92", "Asia/Karachi"),
];

/// The IANA zone of an E.164 number, when the number pins one down.
pub fn zone_of(number: &str) -> Option<&'static str> {
    let digits = number.strip_prefix('+')?;
    if let Some(rest) = digits.strip_prefix('1') {
        let area: u16 = rest.get(..3)?.parse().ok()?;
        return NANP_ZONES
            .iter()
            .find(|(_, codes)| codes.contains(&area))
            .map(|(zone, _)| *zone);
    }
    COUNTRY_ZONES
        .iter()
        .find(|(code, _)| digits.starts_with(code))
        .map(|(_, zone)| *zone)
}

impl CallingHours {
    /// Reads a window `HH:MM-HH:MM` (24 h, local to the callee) into `(start_minute, end_minute)`.
    pub fn parse_window(text: &str) -> Option<(u16, u16)> {
        fn minute(hm: &str) -> Option<u16> {
            let (h, m) = hm.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        }
        let (start, end) = text.split_once('-')?;
        Some((minute(start)?, minute(end)?))
    }

    /// The zone calls to `number` are timed in: the number's, else the default, else UTC.
    pub fn zone_for(&self, number: &str) -> TimeZone {
        zone_of(number)
            .and_then(|name| TimeZone::get(name).ok())
            .or_else(|| TimeZone::get(&self.default_zone).ok())
            .unwrap_or(TimeZone::UTC)
    }

    /// `None` when a call to `number` may start at `now_ms`; otherwise when the window next opens
    /// (unix ms).
    pub fn next_opening(&self, number: &str, now_ms: i64) -> Option<i64> {
        if self.start_minute == self.end_minute {
            return None;
        }
        let now = Timestamp::from_millisecond(now_ms).ok()?;
        let local = now.to_zoned(self.zone_for(number));
        let minute =
            u16::from(local.hour().unsigned_abs()) * 60 + u16::from(local.minute().unsigned_abs());
        let open = if self.start_minute < self.end_minute {
            (self.start_minute..self.end_minute).contains(&minute)
        } else {
            // A window across midnight (e.g. 22:00 to 06:00).
            minute >= self.start_minute || minute < self.end_minute
        };
        if open {
            return None;
        }
        let start = Time::new(
            i8::try_from(self.start_minute / 60).ok()?,
            i8::try_from(self.start_minute % 60).ok()?,
            0,
            0,
        )
        .ok()?;
        let today = opening_on(&local, start)?;
        let next = if today.timestamp() > now {
            today
        } else {
            opening_on(&local.checked_add(1.day()).ok()?, start)?
        };
        Some(next.timestamp().as_millisecond())
    }
}

fn opening_on(day: &Zoned, start: Time) -> Option<Zoned> {
    day.date()
        .to_datetime(start)
        .to_zoned(day.time_zone().clone())
        .ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn zones_come_from_country_and_area_codes() {
        assert_eq!(zone_of("+15035550142"), Some("America/Los_Angeles"));
        assert_eq!(zone_of("+12125550100"), Some("America/New_York"));
        assert_eq!(zone_of("+13125550100"), Some("America/Chicago"));
        assert_eq!(zone_of("+442071234567"), Some("Europe/London"));
        assert_eq!(zone_of("+35312345678"), Some("Europe/Dublin"));
        assert_eq!(zone_of("+33123456789"), Some("Europe/Paris"));
        assert_eq!(zone_of("+15995550100"), None);
        assert_eq!(zone_of("+79991234567"), None);
        assert_eq!(zone_of("not a number"), None);
    }

    #[test]
    fn calls_wait_for_the_callee_morning() {
        let hours = CallingHours::default();
        // 2026-04-17T14:00Z is 07:00 in Portland: closed until 09:00 PDT (16:00Z).
        assert_eq!(
            hours.next_opening("+15035550142", ms("2026-04-17T14:00:00Z")),
            Some(ms("2026-04-17T16:00:00Z"))
        );
        // 18:00Z is 11:00 in Portland: open.
        assert_eq!(
            hours.next_opening("+15035550142", ms("2026-04-17T18:00:00Z")),
            None
        );
        // 04:00Z on the 18th is 21:00 on the 17th in Portland: next opening is the 18th, 09:00 PDT.
        assert_eq!(
            hours.next_opening("+15035550142", ms("2026-04-18T04:00:00Z")),
            Some(ms("2026-04-18T16:00:00Z"))
        );
        // London at 21:00 BST (20:00Z): closed until 09:00 BST next day (08:00Z).
        assert_eq!(
            hours.next_opening("+442071234567", ms("2026-04-17T20:00:00Z")),
            Some(ms("2026-04-18T08:00:00Z"))
        );
    }

    #[test]
    fn windows_parse_from_text() {
        assert_eq!(CallingHours::parse_window("09:00-20:00"), Some((540, 1200)));
        assert_eq!(
            CallingHours::parse_window(" 8:30 - 17:45 "),
            Some((510, 1065))
        );
        assert_eq!(CallingHours::parse_window("24:00-20:00"), None);
        assert_eq!(CallingHours::parse_window("9-17"), None);
    }

    #[test]
    fn unknown_numbers_use_the_default_zone_and_equal_bounds_mean_always() {
        let hours = CallingHours {
            default_zone: "Asia/Tokyo".into(),
            ..CallingHours::default()
        };
        // 23:00Z is 08:00 in Tokyo: closed until 09:00 JST (00:00Z).
        assert_eq!(
            hours.next_opening("+79991234567", ms("2026-04-17T23:00:00Z")),
            Some(ms("2026-04-18T00:00:00Z"))
        );
        let always = CallingHours {
            start_minute: 0,
            end_minute: 0,
            ..CallingHours::default()
        };
        assert_eq!(always.next_opening("+15035550142", 0), None);
    }
}
