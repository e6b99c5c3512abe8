//! The business's street address, on one line: from a schema.org `PostalAddress`, an `<address>` element, or
//! a US-style street line followed by "City, ST 12345". Votes weigh placement, so the address in the footer
//! of every page beats one quoted in a partner's blurb.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::doc::Doc;
use super::evidence::{Ballot, Found, STRUCTURED, around};
use super::jsonld::{self, Graph};
use super::text::{Region, collapse};

/// "1420 NW Lovejoy St, Suite 210, Portland, OR 97209".
static US_ADDRESS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?P<street>\d{1,6}[A-Za-z]?(?:\s+[NSEW]{1,2}\.?)?(?:\s+[A-Z0-9][A-Za-z0-9.'\-]*){0,5}?\s+",
        r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Parkway|Pkwy|",
        r"Highway|Hwy|Terrace|Ter|Circle|Cir|Square|Sq|Trail|Trl|Loop|Pike|Plaza|Broadway|Alley|Row|Center|Ctr)\.?",
        r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\.?)?",
        r"(?:,?\s+(?:Suite|Ste\.?|Unit|Apt\.?|Floor|Fl\.?|Bldg\.?|#)\s*[A-Za-z0-9\-]+)?)",
        r",?\s+(?P<city>[A-Z][A-Za-z.'\-]*(?:\s+[A-Z][A-Za-z.'\-]*){0,3}),\s*",
        r"(?P<state>A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[TA]|W[AVIY])",
        r"\s+(?P<zip>\d{5}(?:-\d{4})?)\b",
    ))
    .ok()
});

/// Unit designators that follow a street and should be set off by a comma.
static UNIT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\s*,?\s+((?:Suite|Ste\.?|Unit|Apt\.?|Floor|Fl\.?|Bldg\.?|#)\s*[A-Za-z0-9\-]+)$")
        .ok()
});

/// A street line with its unit set off by a comma: "12 Oak St Suite 4" -> "12 Oak St, Suite 4".
fn tidy_street(street: &str) -> String {
    let s = collapse(street).trim_end_matches(',').to_owned();
    match UNIT.as_ref().and_then(|re| re.captures(&s)) {
        Some(c) => {
            let (Some(whole), Some(unit)) = (c.get(0), c.get(1)) else {
                return s;
            };
            format!("{}, {}", &s[..whole.start()], unit.as_str())
        }
        None => s,
    }
}

/// One-line form of a schema.org address (a `PostalAddress` or plain text).
pub(crate) fn from_postal(v: &Value) -> Option<String> {
    if let Some(s) = v.as_str() {
        let s = collapse(&s.replace('\n', ", "));
        return (!s.is_empty()).then_some(s);
    }
    let street =
        jsonld::first_text(v, "streetAddress").map(|s| tidy_street(&s.replace('\n', ", ")));
    let city = jsonld::first_text(v, "addressLocality");
    let region = jsonld::first_text(v, "addressRegion");
    let zip = jsonld::first_text(v, "postalCode");
    let tail = match (region, zip) {
        (Some(r), Some(z)) => Some(format!("{r} {z}")),
        (r, z) => r.or(z),
    };
    let parts: Vec<String> = [street, city, tail].into_iter().flatten().collect();
    // A city alone is not an address a caller can drive to.
    (parts.len() >= 2).then(|| parts.join(", "))
}

/// US addresses in text, in canonical one-line form, with their byte ranges.
pub(crate) fn find_in_text(text: &str) -> Vec<(usize, usize, String)> {
    let Some(re) = US_ADDRESS.as_ref() else {
        return Vec::new();
    };
    // Lines broken by <br> or separate elements read as one address.
    let flat = text.replace('\n', ", ");
    re.captures_iter(&flat)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let street = tidy_street(c.name("street")?.as_str());
            let city = collapse(c.name("city")?.as_str());
            let line = format!(
                "{street}, {city}, {} {}",
                c.name("state")?.as_str(),
                c.name("zip")?.as_str()
            );
            Some((whole.start(), whole.end(), line))
        })
        .collect()
}

/// Grouping key: letters and digits with common street words abbreviated, so "Street" and "St." agree.
fn key(addr: &str) -> String {
    addr.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            match w.as_str() {
                "street" => "st".to_owned(),
                "avenue" => "ave".to_owned(),
                "road" => "rd".to_owned(),
                "boulevard" => "blvd".to_owned(),
                "drive" => "dr".to_owned(),
                "suite" => "ste".to_owned(),
                "lane" => "ln".to_owned(),
                "parkway" => "pkwy".to_owned(),
                "highway" => "hwy".to_owned(),
                _ => w,
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The business's address.
pub(crate) fn extract(docs: &[Doc], graph: &Graph) -> Option<Found<String>> {
    let mut ballot: Ballot<String> = Ballot::default();
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        for a in graph.prop(node, "address") {
            if let Some(line) = from_postal(a) {
                let snippet = format!("{} address {line}", jsonld::snippet(node));
                ballot.add(key(&line), line, STRUCTURED, true, url, &snippet);
            }
        }
    }
    for doc in docs {
        for b in &doc.text.blocks {
            if b.region == Region::Nav {
                continue;
            }
            let w = doc.weight(b.region, b.quoted);
            let strong = doc.strong(b.region, b.quoted);
            let found = find_in_text(&b.text);
            for (start, end, line) in &found {
                let snippet = around(&b.text.replace('\n', ", "), *start, *end);
                ballot.add(key(line), line.clone(), w, strong, &doc.url, &snippet);
            }
            // Outside the US the pattern above finds nothing; an <address> element still names the place.
            if found.is_empty()
                && b.in_address
                && let Some(line) = address_element_line(&b.text)
            {
                ballot.add(key(&line), line, w * 0.8, strong, &doc.url, &b.text);
            }
        }
    }
    ballot.winner(0.3)
}

/// The postal lines of an `<address>` block: lines that are not a phone, email, hours or a label.
fn address_element_line(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            let lower = l.to_lowercase();
            let digits = l.chars().filter(char::is_ascii_digit).count();
            !l.is_empty()
                && !l.contains('@')
                && !lower.starts_with("tel")
                && !lower.starts_with("phone")
                && !lower.starts_with("call")
                && !lower.starts_with("fax")
                && !lower.contains("hours")
                && digits < 7
        })
        .collect();
    // Street and town at least, and some number in them (a house number or postcode).
    let has_digit = lines.iter().any(|l| l.chars().any(|c| c.is_ascii_digit()));
    (lines.len() >= 2 && has_digit).then(|| collapse(&lines.join(", ")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn text_addresses_are_canonicalised() {
        let f = find_in_text("Visit us: 1420 NW Lovejoy St Suite 210\nPortland, OR 97209 today");
        assert_eq!(f[0].2, "1420 NW Lovejoy St, Suite 210, Portland, OR 97209");
        let f = find_in_text("We're at 88 Market Street, San Francisco, CA 94105-1234.");
        assert_eq!(f[0].2, "88 Market Street, San Francisco, CA 94105-1234");
        assert!(find_in_text("Serving Portland, OR since 1999").is_empty());
        assert!(find_in_text("Call 503-555-0142, Portland, OR 97209").is_empty());
    }

    #[test]
    fn postal_addresses_become_one_line() {
        let v = json!({"@type": "PostalAddress", "streetAddress": "12 Oak St Ste 4", "addressLocality": "Salem", "addressRegion": "OR", "postalCode": "97301"});
        assert_eq!(
            from_postal(&v).unwrap(),
            "12 Oak St, Ste 4, Salem, OR 97301"
        );
        assert_eq!(
            from_postal(&json!("1 A St\nB, OR")).unwrap(),
            "1 A St, B, OR"
        );
        assert!(from_postal(&json!({"addressLocality": "Salem"})).is_none());
    }

    #[test]
    fn spellings_of_one_address_share_a_key() {
        assert_eq!(
            key("12 Oak Street, Suite 4, Salem, OR 97301"),
            key("12 Oak St., Ste 4 Salem OR 97301")
        );
    }

    #[test]
    fn address_elements_outside_the_us() {
        assert_eq!(
            address_element_line("Flat 2, 10 High Street\nLondon SW1A 1AA\nTel: 020 7946 0018")
                .unwrap(),
            "Flat 2, 10 High Street, London SW1A 1AA"
        );
    }
}
