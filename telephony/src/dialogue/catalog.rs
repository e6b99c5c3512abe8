//! The profile's named things (services, insurers, payment methods, staff) as the caller may say them.
//!
//! Built once per call. Matching is on stemmed tokens weighted by how specific each word is among the
//! profile's own names, so "whitening" finds "Teeth whitening" but "teeth" alone does not pick it over
//! other tooth services.

use std::collections::BTreeMap;

use super::text::{Utterance, is_stopword, stem, tokenize};
use crate::agent::Facts;

/// Words in names that say little about which one is meant.
#[rustfmt::skip]
const GENERIC: &[&str] = &[
    "and", "care", "therapy", "dental", "dentistry", "service", "services", "treatment",
    "treatments", "general", "tooth", "teeth", "health", "insurance", "plan", "plans", "card",
    "cards", "group", "company", "of", "the", "for", "with", "life", "mutual", "national",
    "network", "payment", "payments", "inc", "co",
];

/// Roles whose holders are addressed as "Dr.".
#[rustfmt::skip]
const DOCTOR_ROLES: &[&str] = &[
    "dentist", "doctor", "physician", "orthodontist", "periodontist", "endodontist", "surgeon",
    "veterinarian", "vet", "chiropractor", "optometrist", "pediatrician", "prosthodontist",
    "dermatologist",
];

/// One named thing, as weighted stems.
#[derive(Debug, Clone, Default)]
struct Entry {
    /// Stem -> weight of that stem for this entry.
    stems: BTreeMap<String, f32>,
    /// Name words run together, for "met life" -> "metlife".
    joined: String,
}

/// Everything in the facts a caller can name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    services: Vec<Entry>,
    insurers: Vec<Entry>,
    methods: Vec<Entry>,
    financing: Vec<Entry>,
    /// Per staff member: lower-case name words.
    staff: Vec<Vec<String>>,
    /// Per staff member: role stems.
    roles: Vec<Vec<String>>,
}

/// Utterance words that mean a name word ("checkup" is an exam).
fn synonym(stemmed: &str) -> &str {
    match stemmed {
        "checkup" | "check" => "exam",
        "hygien" => "clean",
        "amex" => "american",
        "master" => "mastercard",
        _ => stemmed,
    }
}

fn entries(names: impl Iterator<Item = (String, Option<String>)>) -> Vec<Entry> {
    let raw: Vec<(Vec<String>, Vec<String>, String)> = names
        .map(|(name, extra)| {
            let tokens = tokenize(&name);
            let joined = tokens.concat();
            let name_stems = tokens
                .iter()
                .filter(|t| !is_stopword(t))
                .map(|t| stem(t))
                .collect();
            let extra_stems = extra
                .map(|e| {
                    tokenize(&e)
                        .iter()
                        .filter(|t| !is_stopword(t))
                        .map(|t| stem(t))
                        .collect()
                })
                .unwrap_or_default();
            (name_stems, extra_stems, joined)
        })
        .collect();
    let mut df: BTreeMap<&str, u32> = BTreeMap::new();
    for (name, _, _) in &raw {
        let mut seen: Vec<&str> = name.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for s in seen {
            *df.entry(s).or_default() += 1;
        }
    }
    raw.iter()
        .map(|(name, extra, joined)| {
            let mut stems = BTreeMap::new();
            for s in extra {
                let generic = GENERIC.iter().any(|g| stem(g) == *s);
                stems.insert(s.clone(), if generic { 0.1 } else { 0.5 });
            }
            for s in name {
                let generic = GENERIC.iter().any(|g| stem(g) == *s);
                let w = if generic { 0.3 } else { 1.0 }
                    / df.get(s.as_str()).copied().unwrap_or(1) as f32;
                stems.insert(s.clone(), w);
            }
            Entry {
                stems,
                joined: joined.clone(),
            }
        })
        .collect()
}

/// The best entry for the turn, if its weight reaches `min`.
fn best(entries: &[Entry], u: &Utterance, min: f32) -> Option<usize> {
    let stems: Vec<String> = u
        .tokens
        .iter()
        .map(|t| synonym(&stem(t)).to_owned())
        .collect();
    let pairs: Vec<String> = u.tokens.windows(2).map(|w| w.concat()).collect();
    let mut best: Option<(usize, f32)> = None;
    for (i, e) in entries.iter().enumerate() {
        let mut score: f32 = e
            .stems
            .iter()
            .filter(|(s, _)| stems.contains(s))
            .map(|(_, w)| w)
            .sum();
        if e.joined.len() > 3 && (pairs.contains(&e.joined) || u.has(&e.joined)) {
            score += 1.0;
        }
        if score >= min && best.is_none_or(|(_, b)| score > b) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

impl Catalog {
    /// Indexes the names in the facts.
    pub fn build(facts: &Facts) -> Self {
        let services = entries(
            facts
                .services
                .iter()
                .map(|s| (s.name.clone(), s.description.clone())),
        );
        let insurers = entries(facts.payment.insurers.iter().map(|n| (n.clone(), None)));
        let methods = entries(facts.payment.methods.iter().map(|n| (n.clone(), None)));
        let financing = entries(facts.payment.financing.iter().map(|n| (n.clone(), None)));
        let staff = facts.staff.iter().map(|s| tokenize(&s.name)).collect();
        let roles = facts
            .staff
            .iter()
            .map(|s| {
                s.role
                    .as_deref()
                    .map(|r| tokenize(r).iter().map(|t| stem(t)).collect())
                    .unwrap_or_default()
            })
            .collect();
        Self {
            services,
            insurers,
            methods,
            financing,
            staff,
            roles,
        }
    }

    /// The service the caller names ("whitening", "a root canal").
    pub fn service(&self, u: &Utterance) -> Option<usize> {
        best(&self.services, u, 0.5)
    }

    /// The listed insurer the caller names ("Delta", "Met Life").
    pub fn insurer(&self, u: &Utterance) -> Option<usize> {
        best(&self.insurers, u, 0.9)
    }

    /// Every listed insurer the caller names ("Delta and Cigna"), in list order.
    pub fn insurers(&self, u: &Utterance) -> Vec<usize> {
        (0..self.insurers.len())
            .filter(|&i| best(&self.insurers[i..=i], u, 0.9).is_some())
            .collect()
    }

    /// The listed payment method the caller names ("Visa", "cash").
    pub fn method(&self, u: &Utterance) -> Option<usize> {
        best(&self.methods, u, 0.9)
    }

    /// The listed financing offer the caller names ("CareCredit").
    pub fn financing(&self, u: &Utterance) -> Option<usize> {
        best(&self.financing, u, 0.9)
    }

    /// The staff member the caller names. A surname or a first name matches exactly; after "doctor" a
    /// surname one letter off also matches, since STT spells names freely ("Dr. Lopes").
    pub fn staff(&self, u: &Utterance) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (i, words) in self.staff.iter().enumerate() {
            let mut score = 0;
            for (j, w) in words.iter().enumerate() {
                if w.len() < 3 || is_stopword(w) {
                    continue;
                }
                let last = j + 1 == words.len() && words.len() > 1;
                if u.has(w) {
                    score += if last { 3 } else { 2 };
                } else if last && w.len() >= 5 {
                    let after_title = u
                        .tokens
                        .windows(2)
                        .any(|p| p[0] == "doctor" && edit_distance_at_most_one(&p[1], w));
                    if after_title {
                        score += 2;
                    }
                }
            }
            if score > 0 && best.is_none_or(|(_, b)| score > b) {
                best = Some((i, score));
            }
        }
        best.map(|(i, _)| i)
    }

    /// A staff member named firmly enough to address a message or a booking to: by surname, or by first
    /// name after "doctor", "with", "for" or "see". "This is Maria" is the caller, not Dr. Maria Lopez.
    pub fn staff_named(&self, u: &Utterance) -> Option<usize> {
        let i = self.staff(u)?;
        let words = &self.staff[i];
        let surname = words.len() > 1 && words.last().is_some_and(|w| u.has(w));
        let first = words.first()?;
        let titled = u
            .tokens
            .windows(2)
            .any(|p| matches!(p[0].as_str(), "doctor" | "with" | "for" | "see") && p[1] == *first);
        let misspelt_after_title = !u.has(first) && !surname;
        (surname || titled || misspelt_after_title).then_some(i)
    }

    /// Staff whose role the caller names ("your dentists", "the hygienist", "doctors").
    pub fn with_role(&self, u: &Utterance) -> Vec<usize> {
        let stems: Vec<String> = u.tokens.iter().map(|t| stem(t)).collect();
        let wants_doctor = stems.iter().any(|s| s == "doctor");
        self.roles
            .iter()
            .enumerate()
            .filter(|(_, role)| {
                let distinctive: Vec<&String> = role
                    .iter()
                    .filter(|r| {
                        !matches!(r.as_str(), "offic" | "front" | "desk" | "lead" | "senior")
                    })
                    .collect();
                let named =
                    !distinctive.is_empty() && distinctive.iter().all(|r| stems.contains(r));
                named || (wants_doctor && role.iter().any(|r| is_doctor_role(r)))
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// Whether a role word (stemmed or not) is one whose holder is "Dr.".
pub(crate) fn is_doctor_role(role_word: &str) -> bool {
    DOCTOR_ROLES
        .iter()
        .any(|d| *d == role_word || stem(d) == role_word)
}

/// Levenshtein distance <= 1, without allocating a matrix.
fn edit_distance_at_most_one(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let mut i = 0;
    while i < short.len() && short[i] == long[i] {
        i += 1;
    }
    if i == short.len() {
        return true;
    }
    if short.len() == long.len() {
        short[i + 1..] == long[i + 1..]
    } else {
        short[i..] == long[i + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Payment, Service, StaffMember};

    fn facts() -> Facts {
        Facts {
            services: [
                "Cleaning and exam",
                "Teeth whitening",
                "Root canal therapy",
                "Children's dentistry",
            ]
            .iter()
            .map(|n| Service {
                name: (*n).to_owned(),
                price: None,
                description: None,
            })
            .collect(),
            staff: vec![
                StaffMember {
                    name: "Maria Lopez".into(),
                    role: Some("dentist".into()),
                },
                StaffMember {
                    name: "Tom Becker".into(),
                    role: Some("office manager".into()),
                },
            ],
            payment: Payment {
                insurers: vec!["Delta Dental".into(), "MetLife".into()],
                methods: vec!["Visa".into(), "American Express".into()],
                financing: vec![],
            },
            ..Facts::default()
        }
    }

    #[test]
    fn names_match_as_callers_say_them() {
        let c = Catalog::build(&facts());
        let u = |s: &str| Utterance::parse(s);
        assert_eq!(c.service(&u("do you do whitening?")), Some(1));
        assert_eq!(c.service(&u("how much is a cleaning")), Some(0));
        assert_eq!(c.service(&u("I need a root canal")), Some(2));
        assert_eq!(c.service(&u("do you see kids")), Some(3));
        assert_eq!(c.service(&u("do you do implants")), None);
        assert_eq!(c.insurer(&u("do you take delta")), Some(0));
        assert_eq!(c.insurer(&u("is met life ok")), Some(1));
        assert_eq!(c.insurer(&u("do you take dental insurance")), None);
        assert_eq!(c.method(&u("can I pay with amex")), Some(1));
        assert_eq!(c.staff(&u("is Dr. Lopez in")), Some(0));
        assert_eq!(c.staff(&u("is doctor lopes in")), Some(0));
        assert_eq!(c.staff(&u("can I talk to maria")), Some(0));
        assert_eq!(c.staff(&u("is doctor smith in")), None);
        assert_eq!(c.with_role(&u("who are your dentists")), [0]);
        assert_eq!(c.with_role(&u("who are the doctors")), [0]);
        assert_eq!(c.with_role(&u("who's the office manager")), [1]);
    }

    #[test]
    fn edit_distance() {
        assert!(edit_distance_at_most_one("lopes", "lopez"));
        assert!(edit_distance_at_most_one("lopz", "lopez"));
        assert!(!edit_distance_at_most_one("lopsey", "lopez"));
    }
}
