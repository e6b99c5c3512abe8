//! Phone numbers from structured data, `tel:` links and text, normalised to E.164 with `phonenumber`.
//! Vanity numbers ("1-800-FLOWERS", "(541) 555-PIPE") are converted; fax numbers are left out.

use std::sync::LazyLock;

use phonenumber::country::Id;
use regex::Regex;

use super::doc::Doc;
use super::evidence::{Ballot, Found, STRUCTURED, around};
use super::jsonld::{self, Graph};
use super::text::Region;

/// At most this many numbers are reported.
const MAX_PHONES: usize = 5;

/// North American numbers, letters allowed in the last seven places for vanity numbers. The leading group
/// stands in for a word boundary, which `(` and `+` do not have.
static NANP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^0-9A-Za-z+])((?:\+?1[\s.\-]?)?(?:\(\s*[2-9]\d{2}\s*\)|[2-9]\d{2})[\s.\-]?[2-9A-Z][0-9A-Z]{2}[\s.\-]?[0-9A-Z]{4}[A-Z]{0,3})\b",
    )
    .ok()
});

/// International format ("+44 20 7946 0018").
static INTL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^0-9A-Za-z+])(\+[1-9]\d{0,2}(?:[\s.\-]?\(?\d{1,5}\)?){1,5})\b").ok()
});

/// National format with a trunk zero ("020 7946 0018", "(03) 9555 0123"), for countries outside NANP.
static TRUNK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^0-9A-Za-z+])(\(?0\d{1,4}\)?[\s.\-]?\d{2,4}[\s.\-]?\d{2,4}(?:[\s.\-]?\d{2,4})?)\b",
    )
    .ok()
});

/// The phone keypad, for vanity numbers.
fn keypad(c: char) -> Option<char> {
    Some(match c.to_ascii_uppercase() {
        'A' | 'B' | 'C' => '2',
        'D' | 'E' | 'F' => '3',
        'G' | 'H' | 'I' => '4',
        'J' | 'K' | 'L' => '5',
        'M' | 'N' | 'O' => '6',
        'P' | 'Q' | 'R' | 'S' => '7',
        'T' | 'U' | 'V' => '8',
        'W' | 'X' | 'Y' | 'Z' => '9',
        _ => return None,
    })
}

/// Digits (and a leading `+`) of a number, letters converted. Letters beyond the tenth NANP digit are
/// dropped, as dialling ignores them ("1-800-CONTACTS").
pub(crate) fn dial_string(raw: &str) -> String {
    let raw = raw
        .trim()
        .trim_start_matches("tel:")
        .trim_start_matches("callto:");
    let raw = raw.split([';', '?']).next().unwrap_or_default();
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if c == '+' && out.is_empty() {
            out.push('+');
        } else if let Some(d) = keypad(c).filter(|_| c.is_ascii_alphabetic()) {
            out.push(d);
        }
    }
    let digits = out.trim_start_matches('+');
    let nanp_len = if digits.starts_with('1') { 11 } else { 10 };
    let had_letters = raw.chars().any(|c| c.is_ascii_alphabetic());
    if had_letters && !out.starts_with('+') && digits.len() > nanp_len {
        out.truncate(nanp_len);
    }
    out
}

/// E.164 form of a number written in `country`'s conventions, if it is a plausible phone number.
pub(crate) fn normalise(raw: &str, country: Id) -> Option<String> {
    let dial = dial_string(raw);
    let digits = dial.trim_start_matches('+');
    if digits.len() < 7 || digits.len() > 15 {
        return None;
    }
    let n = phonenumber::parse(Some(country), &dial).ok()?;
    let e164 = n.format().mode(phonenumber::Mode::E164).to_string();
    if phonenumber::is_valid(&n) {
        return Some(e164);
    }
    // libphonenumber rejects parts of the 555 exchange that fiction and examples use; a well-formed NANP
    // number (area and exchange not starting 0/1) is still a number the business wrote down.
    let national = e164.strip_prefix("+1")?;
    let b = national.as_bytes();
    (b.len() == 10 && b[0] >= b'2' && b[3] >= b'2').then_some(e164)
}

/// A phone-like run in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextMatch {
    pub start: usize,
    pub end: usize,
    pub e164: String,
    pub fax: bool,
}

/// Phone numbers in a piece of text.
pub(crate) fn find_in_text(text: &str, country: Id) -> Vec<TextMatch> {
    let nanp_country = matches!(country, Id::US | Id::CA)
        || phonenumber::metadata::DATABASE
            .by_id(country.as_ref())
            .is_some_and(|m| m.country_code() == 1);
    let mut out: Vec<TextMatch> = Vec::new();
    let mut patterns: Vec<&Regex> = Vec::new();
    patterns.extend(INTL.as_ref());
    if nanp_country {
        patterns.extend(NANP.as_ref());
    } else {
        patterns.extend(TRUNK.as_ref());
    }
    for re in patterns {
        for cap in re.captures_iter(text) {
            let Some(m) = cap.get(1) else {
                continue;
            };
            if out.iter().any(|o| m.start() < o.end && o.start < m.end()) {
                continue;
            }
            let raw = m.as_str();
            let letters = raw.chars().filter(char::is_ascii_alphabetic).count();
            // A vanity word has at least three letters; "555-01AB" is a part number, not a phone.
            if letters > 0 && letters < 3 {
                continue;
            }
            let Some(e164) = normalise(raw, country) else {
                continue;
            };
            out.push(TextMatch {
                start: m.start(),
                end: m.end(),
                e164,
                fax: is_fax_context(text, m.start(), m.end()),
            });
        }
    }
    out.sort_by_key(|m| m.start);
    out
}

/// "Fax: 503-555-0101", "F 503.555.0101", "503-555-0101 (fax)".
fn is_fax_context(text: &str, start: usize, end: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before: String = text[line_start..start]
        .chars()
        .rev()
        .take(16)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let before = before.to_lowercase();
    let after: String = text[end..]
        .chars()
        .take(8)
        .collect::<String>()
        .to_lowercase();
    let label = before
        .rsplit(['|', '•', '·', ','])
        .next()
        .unwrap_or(&before)
        .trim();
    let after = after.trim_start().trim_start_matches(['(', '[']);
    label.contains("fax")
        || label == "f:"
        || label == "f"
        || label.ends_with(" f:")
        || after.starts_with("fax")
}

/// The country whose conventions a site writes numbers in: from its structured address, then its TLD,
/// then the US.
pub(crate) fn country_of(graph: &Graph, home_url: &str) -> Id {
    for (_, node) in graph.businesses() {
        for addr in graph.prop(node, "address") {
            if let Some(c) =
                jsonld::first_text(addr, "addressCountry").and_then(|c| country_code(&c))
            {
                return c;
            }
        }
    }
    let host = home_url
        .split_once("://")
        .map_or(home_url, |(_, r)| r)
        .split(['/', ':', '?', '#'])
        .next()
        .unwrap_or_default();
    let tld = host.rsplit('.').next().unwrap_or_default();
    if tld.len() == 2
        && let Some(c) = country_code(tld)
    {
        return c;
    }
    Id::US
}

fn country_code(s: &str) -> Option<Id> {
    let up = s.trim().to_ascii_uppercase();
    match up.as_str() {
        "USA" | "UNITED STATES" | "UNITED STATES OF AMERICA" | "US" => Some(Id::US),
        "UK" | "UNITED KINGDOM" | "GREAT BRITAIN" | "ENGLAND" | "SCOTLAND" | "WALES" => {
            Some(Id::GB)
        }
        "CANADA" => Some(Id::CA),
        "AUSTRALIA" => Some(Id::AU),
        "IRELAND" => Some(Id::IE),
        "NEW ZEALAND" => Some(Id::NZ),
        s if s.len() == 2 => s.parse().ok(),
        _ => None,
    }
}

/// Phone numbers of the business, main first, fax numbers left out.
pub(crate) fn extract(docs: &[Doc], graph: &Graph, country: Id) -> Vec<Found<String>> {
    let mut phones: Ballot<String> = Ballot::default();
    let mut faxes: Ballot<String> = Ballot::default();
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        for v in graph.prop(node, "telephone") {
            if let Some(n) = jsonld::text(v).and_then(|t| normalise(&t, country)) {
                let snippet = format!("{} telephone {}", jsonld::snippet(node), n);
                phones.add(n.clone(), n, STRUCTURED, true, url, &snippet);
            }
        }
        for v in graph.prop(node, "faxNumber") {
            if let Some(n) = jsonld::text(v).and_then(|t| normalise(&t, country)) {
                faxes.add(n.clone(), n, STRUCTURED, true, url, "faxNumber");
            }
        }
    }
    for doc in docs {
        for link in &doc.text.links {
            let href = link.href.trim();
            if !href
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("tel:"))
            {
                continue;
            }
            let Some(n) = normalise(href, country) else {
                continue;
            };
            // An explicit call link is a deliberate statement of a number to call.
            let w = doc.weight(link.region, link.quoted) * 1.3;
            let snippet = format!("tel link \"{}\" ({})", link.text, href);
            phones.add(
                n.clone(),
                n,
                w,
                doc.strong(link.region, link.quoted),
                &doc.url,
                &snippet,
            );
        }
        for b in &doc.text.blocks {
            if b.region == Region::Nav {
                continue;
            }
            for m in find_in_text(&b.text, country) {
                let w = doc.weight(b.region, b.quoted);
                let snippet = around(&b.text, m.start, m.end);
                let ballot = if m.fax { &mut faxes } else { &mut phones };
                ballot.add(
                    m.e164.clone(),
                    m.e164,
                    w,
                    doc.strong(b.region, b.quoted),
                    &doc.url,
                    &snippet,
                );
            }
        }
    }
    let fax_weight: std::collections::HashMap<String, f32> = faxes
        .tally()
        .into_iter()
        .map(|t| (t.value, t.weight))
        .collect();
    let tally: Vec<_> = phones
        .tally()
        .into_iter()
        .filter(|t| t.weight > fax_weight.get(&t.value).copied().unwrap_or(0.0))
        .collect();
    let Some(main_weight) = tally.first().map(|t| t.weight) else {
        return Vec::new();
    };
    // A number seen only in quoted content (a testimonial's) is not the business's.
    if main_weight < 0.3 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, t) in tally.into_iter().enumerate() {
        // Beyond the main number, keep numbers the business states where it states its own details
        // (structured data, header/footer, contact page); a number quoted in body copy may be a partner's.
        if i > 0 && (!t.strong || t.weight < (0.05 * main_weight).max(0.5)) {
            continue;
        }
        let c = if i == 0 {
            t.confidence()
        } else {
            t.item_confidence()
        };
        out.push(t.into_found(c));
        if out.len() == MAX_PHONES {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn found(text: &str) -> Vec<String> {
        find_in_text(text, Id::US)
            .into_iter()
            .map(|m| m.e164)
            .collect()
    }

    #[test]
    fn us_formats_normalise_to_e164() {
        for s in [
            "(503) 555-0142",
            "503-555-0142",
            "503.555.0142",
            "+1 503 555 0142",
            "1-503-555-0142",
            "tel:+15035550142",
        ] {
            assert_eq!(normalise(s, Id::US).as_deref(), Some("+15035550142"), "{s}");
        }
        assert_eq!(
            found("Call us at (503) 555-0142 or 503.555.0143."),
            ["+15035550142", "+15035550143"]
        );
        assert_eq!(
            normalise("+44 20 7946 0018", Id::US).as_deref(),
            Some("+442079460018")
        );
        assert_eq!(
            normalise("020 7946 0018", Id::GB).as_deref(),
            Some("+442079460018")
        );
    }

    #[test]
    fn vanity_numbers_are_converted() {
        assert_eq!(found("Call 1-800-FLOWERS today"), ["+18003569377"]);
        assert_eq!(found("Call (541) 400-FREE now"), ["+15414003733"]);
        assert_eq!(found("Dial 1-800-CONTACTS"), ["+18002668228"]);
        assert_eq!(dial_string("tel:+1-541-555-PIPE"), "+15415557473");
    }

    #[test]
    fn things_that_are_not_phones_are_ignored() {
        for s in [
            "Serving 2,000 families since 2003",
            "Suite 200, Portland, OR 97201",
            "Order #503555014 shipped",
            "Part 555-01AB",
            "OVER 300 FIVE STAR REVIEWS",
            "Copyright 2019-2024",
            "123-456-7890",
        ] {
            assert!(found(s).is_empty(), "{s}: {:?}", found(s));
        }
    }

    #[test]
    fn fax_context_is_detected() {
        let m = find_in_text(
            "Phone: 503-555-0142 | Fax: 503-555-0143\nF: 503-555-0144",
            Id::US,
        );
        assert_eq!(
            m.iter().map(|m| m.fax).collect::<Vec<_>>(),
            [false, true, true]
        );
        let m = find_in_text("503-555-0145 (fax)", Id::US);
        assert!(m[0].fax);
    }

    #[test]
    fn country_comes_from_address_then_tld() {
        let mut g = Graph::default();
        assert_eq!(country_of(&g, "https://example.co.uk/"), Id::GB);
        assert_eq!(country_of(&g, "http://fixture.test/"), Id::US);
        g.add(
            0,
            serde_json::json!({"@type": "Dentist", "address": {"addressCountry": "CA"}}),
        );
        assert_eq!(country_of(&g, "https://example.co.uk/"), Id::CA);
    }
}
