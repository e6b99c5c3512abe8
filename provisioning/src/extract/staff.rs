//! People: structured `employee`/`member`/`founder` entries, names on team pages with the role written
//! beside them, and "Dr. First Last" anywhere in the copy. Names lose their titles and credentials.

use std::sync::LazyLock;

use regex::Regex;

use super::doc::Doc;
use super::evidence::{Ballot, Found, STRUCTURED, around, norm_key};
use super::jsonld::{self, Graph};
use super::text::{BlockKind, Region, collapse};
use crate::facts::StaffMember;

const MAX_STAFF: usize = 60;

static DR_NAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b(?:Dr\.?|Doctor)\s+([A-Z][a-z]+(?:[\-'][A-Z]?[a-z]+)?(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-z]*(?:[\-'][A-Z]?[a-z]+)*){1,2})\b").ok()
});

const TITLES: &[&str] = &[
    "dr",
    "doctor",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "prof",
    "professor",
    "chef",
    "attorney",
];

const CREDENTIALS: &[&str] = &[
    "dds",
    "dmd",
    "md",
    "do",
    "np",
    "pa",
    "pa-c",
    "rn",
    "bsn",
    "msn",
    "fnp",
    "fnp-c",
    "fnp-bc",
    "rdh",
    "cda",
    "phd",
    "psyd",
    "esq",
    "jd",
    "llm",
    "cpa",
    "lmt",
    "dc",
    "od",
    "dpt",
    "pt",
    "lcsw",
    "lpc",
    "ms",
    "ma",
    "mba",
    "mph",
    "facs",
    "faap",
    "ccc-slp",
    "cosmetologist",
];

/// Words that never appear in a person's name but often in headings shaped like one.
const NOT_NAME: &[&str] = &[
    "our",
    "the",
    "team",
    "meet",
    "staff",
    "dental",
    "dentistry",
    "clinic",
    "medical",
    "family",
    "services",
    "service",
    "contact",
    "hours",
    "welcome",
    "about",
    "care",
    "center",
    "law",
    "group",
    "office",
    "insurance",
    "spa",
    "salon",
    "plumbing",
    "heating",
    "cooling",
    "repair",
    "menu",
    "home",
    "book",
    "appointment",
    "new",
    "patients",
    "patient",
    "why",
    "choose",
    "us",
    "we",
    "you",
    "your",
    "what",
    "how",
    "location",
    "locations",
    "specials",
    "reviews",
    "blog",
    "news",
    "and",
    "of",
    "for",
    "with",
    "in",
    "at",
    "on",
    "to",
    "more",
    "read",
    "learn",
    "call",
    "today",
    "now",
    "free",
    "emergency",
    "general",
    "cosmetic",
    "pediatric",
    "practice",
    "areas",
    "firm",
    "attorneys",
    "partners",
    "associates",
    "hair",
    "nails",
    "massage",
    "facial",
    "skin",
    "kitchen",
    "bar",
    "grill",
    "restaurant",
    "cafe",
    "dinner",
    "lunch",
    "breakfast",
    "brunch",
    "desserts",
    "drinks",
    "wine",
    "financing",
    "payment",
    "policy",
    "privacy",
    "terms",
    "street",
    "avenue",
    "suite",
    "blvd",
    "road",
    "way",
    "health",
    "wellness",
    "associate",
    "providers",
    "doctors",
    "hygienists",
    "stylists",
    "experience",
    "mission",
    "values",
    "story",
    "history",
    "approach",
    "philosophy",
    "community",
    "award",
    "awards",
    "certified",
    "licensed",
    "inc",
    "by",
    "llc",
    "llp",
];

/// Words that make a short line a job title.
const ROLE_WORDS: &[&str] = &[
    "dentist",
    "hygienist",
    "assistant",
    "manager",
    "coordinator",
    "receptionist",
    "physician",
    "doctor",
    "nurse",
    "practitioner",
    "surgeon",
    "pediatrician",
    "therapist",
    "stylist",
    "colorist",
    "esthetician",
    "aesthetician",
    "massage",
    "owner",
    "founder",
    "co-founder",
    "director",
    "partner",
    "attorney",
    "associate",
    "paralegal",
    "counsel",
    "lawyer",
    "chef",
    "sommelier",
    "technician",
    "plumber",
    "electrician",
    "apprentice",
    "dispatcher",
    "specialist",
    "orthodontist",
    "periodontist",
    "endodontist",
    "administrator",
    "ceo",
    "president",
    "principal",
    "internist",
    "dermatologist",
    "cardiologist",
    "optometrist",
    "pharmacist",
    "hostess",
    "server",
    "bartender",
    "admin",
    "front desk",
    "office",
    "lead",
    "senior",
    "head",
    "medicine",
    "pediatrics",
    "care",
];

/// Splits a name line into the bare name and what followed it: "Dr. Maria Lopez, DDS — Lead Dentist" ->
/// ("Maria Lopez", Some("Lead Dentist")).
pub(crate) fn parse_name_line(line: &str) -> Option<(String, Option<String>)> {
    let line = collapse(line);
    let mut parts = line
        .split([',', '|', '—', '–'])
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let head = parts.next()?;
    let head = head.split(" - ").next().unwrap_or(head);
    let tail: Vec<String> = line
        .split([',', '|', '—', '–'])
        .flat_map(|p| p.split(" - "))
        .skip(1)
        .map(collapse)
        .filter(|p| !p.is_empty() && !is_credential(p))
        .collect();
    let name = clean_name(head)?;
    let role = tail.into_iter().find(|t| is_role(t));
    Some((name, role))
}

fn is_credential(s: &str) -> bool {
    s.split_whitespace().all(|w| {
        CREDENTIALS.contains(&w.trim_matches('.').to_lowercase().replace('.', "").as_str())
    })
}

/// A short line with a job word in it ("Lead Dentist", "Registered Dental Hygienist").
pub(crate) fn is_role(s: &str) -> bool {
    let lower = s.to_lowercase();
    let words = lower.split_whitespace().count();
    words > 0
        && words <= 6
        && !s.trim_end().ends_with('.')
        && lower
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .any(|w| ROLE_WORDS.contains(&w))
}

/// A person's name without titles or credentials, if the text is shaped like one.
pub(crate) fn clean_name(raw: &str) -> Option<String> {
    let mut words: Vec<&str> = raw.split_whitespace().collect();
    while let Some(first) = words.first() {
        if TITLES.contains(&first.trim_end_matches('.').to_lowercase().as_str()) {
            words.remove(0);
        } else {
            break;
        }
    }
    while let Some(last) = words.last() {
        if CREDENTIALS.contains(
            &last
                .trim_matches(['.', ','])
                .to_lowercase()
                .replace('.', "")
                .as_str(),
        ) {
            words.pop();
        } else {
            break;
        }
    }
    if !(2..=4).contains(&words.len()) {
        return None;
    }
    // "By Dr. Nora Quinn" is a byline: a title inside the words means this is not a bare name.
    if words
        .iter()
        .any(|w| TITLES.contains(&w.trim_end_matches('.').to_lowercase().as_str()))
    {
        return None;
    }
    for w in &words {
        let w = w.trim_end_matches(',');
        let lower = w.to_lowercase();
        let shaped = w.chars().next().is_some_and(char::is_uppercase)
            && w.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '-' | '’'))
            && !w.chars().skip(1).all(char::is_uppercase);
        let initial = w.len() == 2 && w.ends_with('.');
        // "Lead Hygienist" is shaped like a name; the job word gives it away.
        if NOT_NAME.contains(&lower.as_str())
            || ROLE_WORDS.contains(&lower.as_str())
            || !(shaped || initial)
        {
            return None;
        }
    }
    Some(
        words
            .iter()
            .map(|w| w.trim_end_matches(','))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Votes for people, and the first role stated for each: the heaviest vote (say, JSON-LD without a
/// `jobTitle`) need not be the one that states the role.
#[derive(Default)]
struct People {
    ballot: Ballot<StaffMember>,
    roles: std::collections::HashMap<String, String>,
}

impl People {
    fn add(&mut self, name: String, role: Option<String>, w: f32, url: &str, snippet: &str) {
        let key = norm_key(&name);
        if let Some(r) = &role {
            self.roles.entry(key.clone()).or_insert_with(|| collapse(r));
        }
        self.ballot
            .add(key, StaffMember { name, role }, w, false, url, snippet);
    }

    fn finish(self) -> Vec<Found<StaffMember>> {
        let mut people = self.ballot.items(0.5, MAX_STAFF);
        for p in &mut people {
            if p.value.role.is_none() {
                p.value.role = self.roles.get(&norm_key(&p.value.name)).cloned();
            }
        }
        people
    }
}

fn is_team_heading(h: &str) -> bool {
    // Whole words: "dentistry" in a home page's headline is not a team section.
    h.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| {
            matches!(
                w,
                "team"
                    | "staff"
                    | "doctor"
                    | "doctors"
                    | "dentist"
                    | "dentists"
                    | "providers"
                    | "attorneys"
                    | "lawyers"
                    | "people"
                    | "physicians"
                    | "stylists"
                    | "meet"
                    | "leadership"
            )
        })
}

pub(crate) fn extract(docs: &[Doc], graph: &Graph) -> Vec<Found<StaffMember>> {
    let mut people = People::default();
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        for key in [
            "employee",
            "employees",
            "member",
            "members",
            "founder",
            "founders",
            "staff",
        ] {
            for person in graph.prop(node, key) {
                let Some(raw) =
                    jsonld::first_text(person, "name").or_else(|| person.as_str().map(collapse))
                else {
                    continue;
                };
                let Some((name, role)) = parse_name_line(&raw) else {
                    continue;
                };
                let role = jsonld::first_text(person, "jobTitle").or(role);
                let snippet = format!("{} {key} {raw}", jsonld::snippet(node));
                people.add(name, role, STRUCTURED, url, &snippet);
            }
        }
    }
    for doc in docs {
        from_doc(doc, &mut people);
    }
    people.finish()
}

fn from_doc(doc: &Doc, people: &mut People) {
    let blocks = &doc.text.blocks;
    for (i, b) in blocks.iter().enumerate() {
        if b.region != Region::Main || b.quoted {
            continue;
        }
        let team_section =
            doc.topic.team || doc.text.headings_above(i).any(|h| is_team_heading(&h.text));
        let name_shaped = matches!(b.kind, BlockKind::Heading(2..=6))
            || (b.text.split_whitespace().count() <= 10 && b.kind != BlockKind::Cell);
        if team_section
            && name_shaped
            && let Some((name, mut role)) = parse_name_line(&b.text)
        {
            if role.is_none() {
                role = blocks
                    .get(i + 1)
                    .filter(|n| n.region == Region::Main && is_role(&n.text))
                    .map(|n| collapse(&n.text));
            }
            // A name in a team section is an introduction; a role beside it makes it unmistakable.
            let w = if role.is_some() { 1.5 } else { 1.2 };
            people.add(name, role, w, &doc.url, &b.text);
            continue;
        }
        // "Dr. Anika Rao" anywhere in the copy names a clinician, though without a role.
        let Some(re) = DR_NAME.as_ref() else { continue };
        for c in re.captures_iter(&b.text) {
            let Some(m) = c.get(1) else { continue };
            let after = &b.text[m.end()..];
            // "Dr. Martin Luther King Jr. Blvd" is a street.
            if after.split_whitespace().next().is_some_and(|w| {
                matches!(
                    w.trim_end_matches(['.', ',']),
                    "Jr" | "Blvd" | "St" | "Street" | "Ave" | "Avenue" | "Way"
                )
            }) {
                continue;
            }
            // On the pages where a practice introduces itself a doctor is likely its own; in a blog post
            // it may be a colleague elsewhere, so one mention there is not enough.
            let w = if doc.topic.home || doc.topic.about || doc.topic.team {
                0.6
            } else {
                0.3
            };
            if let Some(name) = clean_name(m.as_str()) {
                people.add(
                    name,
                    None,
                    w,
                    &doc.url,
                    &around(&b.text, m.start(), m.end()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_lose_titles_and_credentials() {
        assert_eq!(clean_name("Dr. Maria Lopez").unwrap(), "Maria Lopez");
        assert_eq!(clean_name("Anika J. Rao, MD").unwrap(), "Anika J. Rao");
        assert_eq!(clean_name("Mr. Sam O'Neil").unwrap(), "Sam O'Neil");
        assert!(clean_name("Meet Our Team").is_none());
        assert!(clean_name("General Dentistry").is_none());
        assert!(clean_name("Madonna").is_none());
        assert!(clean_name("FREE CONSULTATION").is_none());
    }

    #[test]
    fn name_lines_carry_roles() {
        assert_eq!(
            parse_name_line("Dr. Maria Lopez, DDS — Lead Dentist").unwrap(),
            ("Maria Lopez".to_owned(), Some("Lead Dentist".to_owned()))
        );
        assert_eq!(
            parse_name_line("Sam Chen - Hygienist")
                .unwrap()
                .1
                .as_deref(),
            Some("Hygienist")
        );
        assert_eq!(
            parse_name_line("Jordan Hale, Esq.").unwrap(),
            ("Jordan Hale".to_owned(), None)
        );
    }

    #[test]
    fn team_pages_and_doctor_mentions() {
        let (doc, _) = Doc::parse(
            "http://x.test/our-team/",
            1,
            "<main><h1>Meet Our Team</h1><h3>Dr. Anika Rao, MD</h3><p>Family Physician</p><p>Dr. Rao loves hiking.</p>\
             <h3>Leo Park</h3><p>Leo has worked here since 2010 and loves it.</p>\
             <blockquote>Dr. Quinn Fake was great!</blockquote></main>",
            false,
        );
        let mut p = People::default();
        from_doc(&doc, &mut p);
        let got: Vec<StaffMember> = p.finish().into_iter().map(|f| f.value).collect();
        assert_eq!(
            got,
            [
                StaffMember {
                    name: "Anika Rao".into(),
                    role: Some("Family Physician".into())
                },
                StaffMember {
                    name: "Leo Park".into(),
                    role: None
                },
            ]
        );
    }
}
