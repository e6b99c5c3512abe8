//! Structured business facts in the stable JSON shape that `dialtone provision --json` prints.
//!
//! This crate depends on none of ours, so it cannot reuse telephony's `Facts`; it keeps its own types with
//! the identical serde shape instead, and a test pins that shape to a literal taken from telephony. The API
//! converts one into the other through JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the business has stated about itself. Every field is optional: absent means unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Facts {
    /// Trading name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_name: Option<String>,
    /// E.164 numbers, main number first, no fax.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// Street address, one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Opening hours per day; a day the business does not mention is absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hours: BTreeMap<Weekday, DayHours>,
    /// Services offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// People, names without titles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<StaffMember>,
    /// Insurers accepted, payment methods, financing.
    #[serde(default, skip_serializing_if = "Payment::is_empty")]
    pub payment: Payment,
    /// What to do in an emergency, in the business's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

/// Days of the week, serialised lower-case (`"monday"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// Position from Monday (0) to Sunday (6).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The lower-case key used in JSON and provenance paths (`"monday"`).
    pub fn key(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }
}

/// A day's hours: `"closed"` or a list of `"HH:MM-HH:MM"` ranges (two ranges for a lunch break).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DayHours {
    /// Closed all day.
    Closed,
    /// Open in these ranges, in order.
    Open(Vec<TimeRange>),
}

/// An opening range in minutes after midnight, 24 h.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeRange {
    /// Opening minute.
    pub open: u16,
    /// Closing minute (may be 1440 for midnight).
    pub close: u16,
}

impl TimeRange {
    /// A range if it opens before it closes and closes by midnight.
    pub fn new(open: u16, close: u16) -> Option<Self> {
        (open < close && close <= 1440).then_some(Self { open, close })
    }

    /// Parses `"08:00-17:30"`.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.trim().split_once('-')?;
        Self::new(parse_hhmm(a)?, parse_hhmm(b)?)
    }
}

fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.open / 60,
            self.open % 60,
            self.close / 60,
            self.close % 60
        )
    }
}

impl fmt::Display for DayHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DayHours::Closed => f.write_str("closed"),
            DayHours::Open(ranges) => {
                for (i, r) in ranges.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{r}")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for DayHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DayHours::Closed => s.serialize_str("closed"),
            DayHours::Open(ranges) => {
                let strings: Vec<String> = ranges.iter().map(ToString::to_string).collect();
                strings.serialize(s)
            }
        }
    }
}

impl<'de> Deserialize<'de> for DayHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Ranges(Vec<String>),
        }
        let bad = |s: &str| {
            serde::de::Error::custom(format!("bad hours range {s:?}, want \"HH:MM-HH:MM\""))
        };
        match Raw::deserialize(d)? {
            Raw::Word(w) if w.eq_ignore_ascii_case("closed") => Ok(DayHours::Closed),
            Raw::Word(w) => TimeRange::parse(&w)
                .map(|r| DayHours::Open(vec![r]))
                .ok_or_else(|| bad(&w)),
            Raw::Ranges(v) => v
                .iter()
                .map(|s| TimeRange::parse(s).ok_or_else(|| bad(s)))
                .collect::<Result<_, _>>()
                .map(DayHours::Open),
        }
    }
}

/// A service, with a price when the business states one. A bare string is accepted as a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ServiceRepr")]
pub struct Service {
    /// Name ("Teeth cleaning").
    pub name: String,
    /// Price as stated ("$120", "from $95").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ServiceRepr {
    Name(String),
    Full {
        name: String,
        #[serde(default)]
        price: Option<String>,
        #[serde(default)]
        description: Option<String>,
    },
}

impl From<ServiceRepr> for Service {
    fn from(r: ServiceRepr) -> Self {
        match r {
            ServiceRepr::Name(name) => Service {
                name,
                price: None,
                description: None,
            },
            ServiceRepr::Full {
                name,
                price,
                description,
            } => Service {
                name,
                price,
                description,
            },
        }
    }
}

/// A person at the business. A bare string is accepted as a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StaffRepr")]
pub struct StaffMember {
    /// Name without title ("Maria Lopez").
    pub name: String,
    /// Role ("dentist", "hygienist").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StaffRepr {
    Name(String),
    Full {
        name: String,
        #[serde(default)]
        role: Option<String>,
    },
}

impl From<StaffRepr> for StaffMember {
    fn from(r: StaffRepr) -> Self {
        match r {
            StaffRepr::Name(name) => StaffMember { name, role: None },
            StaffRepr::Full { name, role } => StaffMember { name, role },
        }
    }
}

/// How customers pay.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Payment {
    /// Insurance plans accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insurers: Vec<String>,
    /// Payment methods ("Visa", "cash").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Financing offers ("CareCredit").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub financing: Vec<String>,
}

impl Payment {
    /// Nothing stated.
    pub fn is_empty(&self) -> bool {
        self.insurers.is_empty() && self.methods.is_empty() && self.financing.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The literal from telephony's `facts_round_trip_the_provision_json_shape`, so a drift in either
    /// crate's shape shows up here.
    const TELEPHONY_SAMPLE: &str = r#"{
        "business_name": "Bright Smile Dental",
        "phones": ["+15035550142"],
        "hours": {"monday": ["08:00-12:00", "13:00-17:00"], "saturday": ["09:00-13:00"], "sunday": "closed"},
        "services": ["Cleaning", {"name": "Whitening", "price": "$299"}],
        "staff": [{"name": "Maria Lopez", "role": "dentist"}, "Sam Chen"],
        "payment": {"insurers": ["Delta Dental"]}
    }"#;

    #[test]
    fn telephony_sample_round_trips_to_the_canonical_json() {
        let facts: Facts = serde_json::from_str(TELEPHONY_SAMPLE).unwrap();
        let canonical = serde_json::json!({
            "business_name": "Bright Smile Dental",
            "phones": ["+15035550142"],
            "hours": {"monday": ["08:00-12:00", "13:00-17:00"], "saturday": ["09:00-13:00"], "sunday": "closed"},
            "services": [{"name": "Cleaning"}, {"name": "Whitening", "price": "$299"}],
            "staff": [{"name": "Maria Lopez", "role": "dentist"}, {"name": "Sam Chen"}],
            "payment": {"insurers": ["Delta Dental"]}
        });
        assert_eq!(serde_json::to_value(&facts).unwrap(), canonical);
        let back: Facts = serde_json::from_value(canonical).unwrap();
        assert_eq!(back, facts);
    }

    #[test]
    fn every_field_serialises_under_its_stable_key() {
        let facts = Facts {
            business_name: Some("A".into()),
            phones: vec!["+15035550100".into()],
            address: Some("1 Main St, Portland, OR 97201".into()),
            hours: BTreeMap::from([(Weekday::Tuesday, DayHours::Closed)]),
            services: vec![Service {
                name: "X".into(),
                price: None,
                description: Some("d".into()),
            }],
            staff: vec![StaffMember {
                name: "B C".into(),
                role: None,
            }],
            payment: Payment {
                insurers: vec![],
                methods: vec!["Visa".into()],
                financing: vec!["CareCredit".into()],
            },
            emergency: Some("Call 911".into()),
            email: Some("a@b.example".into()),
            website: Some("https://b.example/".into()),
        };
        let v = serde_json::to_value(&facts).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "address",
                "business_name",
                "email",
                "emergency",
                "hours",
                "payment",
                "phones",
                "services",
                "staff",
                "website"
            ]
        );
        assert_eq!(v["hours"]["tuesday"], "closed");
        assert!(
            v["payment"].get("insurers").is_none(),
            "empty lists are omitted"
        );
        assert_eq!(serde_json::from_value::<Facts>(v).unwrap(), facts);
    }

    #[test]
    fn empty_facts_serialise_to_an_empty_object() {
        assert_eq!(serde_json::to_string(&Facts::default()).unwrap(), "{}");
    }

    #[test]
    fn ranges_reject_reversed_and_out_of_day_times() {
        assert!(TimeRange::parse("17:00-08:00").is_none());
        assert!(TimeRange::parse("25:00-26:00").is_none());
        assert_eq!(TimeRange::parse("00:00-24:00").unwrap().close, 1440);
        assert!(TimeRange::new(600, 1441).is_none());
    }
}
