//! Facts with provenance from crawled pages: `extract(pages) -> Extraction`.
//!
//! Each page is parsed once (`doc.rs`): its visible text as placed blocks (`text.rs`), its tables, and its
//! schema.org data (`jsonld.rs`, `microdata.rs`) gathered into one graph. Each fact then has its own reader
//! that casts weighted votes (`evidence.rs`): structured data and the header/footer that repeat on every page
//! outweigh a single mention in body copy, and quoted content (testimonials, partners) barely counts. Facts
//! the site does not state stay absent; every fact that is stated keeps its source URL, a snippet and a
//! confidence, and fields below [`LOW_CONFIDENCE`] are listed in `low_confidence`.

mod address;
pub(crate) mod doc;
mod elements;
mod emergency;
pub mod evidence;
pub mod hours;
mod identity;
pub(crate) mod jsonld;
mod language;
pub(crate) mod microdata;
mod payment;
mod phones;
mod sections;
mod services;
mod staff;
pub mod text;
pub mod tone;
pub mod vertical;

use std::collections::BTreeMap;

use serde::Serialize;

pub use evidence::{Evidence, LOW_CONFIDENCE};
pub use sections::sections;
pub use tone::{Tone, ToneGuess};
pub use vertical::Vertical;

use crate::facts::Facts;
use crate::page::Page;
use doc::Doc;
use evidence::Found;
use jsonld::Graph;

/// Pages beyond this many are ignored; the crawler's own limit is lower.
const MAX_PAGES: usize = 500;
/// Bytes of HTML read per page; the rest of an enormous page is ignored rather than parsed.
const MAX_HTML: usize = 2 * 1024 * 1024;

/// What extraction found on a site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extraction {
    /// The facts, in the stable shape `dialtone provision --json` prints.
    pub facts: Facts,
    /// Evidence per fact field: `"phones[0]"`, `"hours.monday"`, `"services[3]"`, `"payment.insurers[1]"`,
    /// `"languages[0]"`, `"vertical_hint"`.
    pub provenance: BTreeMap<String, Evidence>,
    /// The voice of the site's copy.
    pub tone: ToneGuess,
    /// Fields whose confidence is below [`LOW_CONFIDENCE`]: `extraction.low_confidence` events.
    pub low_confidence: Vec<String>,
    /// Languages the business works in (page language first); not part of `facts`, whose shape is fixed.
    pub languages: Vec<String>,
    /// The vertical template that fits, if one stands out.
    pub vertical_hint: Option<Vertical>,
    /// The site says visits are by appointment (for some or all days).
    pub by_appointment: bool,
}

/// Reads facts from pages (home page first). Never panics on page content.
pub fn extract(pages: &[Page]) -> Extraction {
    let mut graph = Graph::default();
    let docs: Vec<Doc> = pages
        .iter()
        .take(MAX_PAGES)
        .enumerate()
        .map(|(i, p)| {
            let html = truncate(&p.html, MAX_HTML);
            let (doc, parsed) = Doc::parse(&p.url, p.depth, html, i == 0);
            for v in jsonld::scripts(&parsed)
                .into_iter()
                .chain(microdata::items(&parsed))
            {
                graph.add(i, v);
            }
            doc
        })
        .collect();
    let home = docs.first().map_or("", |d| d.url.as_str());
    let country = phones::country_of(&graph, home);

    let mut out = Builder::default();
    if let Some(f) = identity::business_name(&docs, &graph) {
        out.facts.business_name = Some(out.keep("business_name", f));
    }
    for (i, f) in phones::extract(&docs, &graph, country)
        .into_iter()
        .enumerate()
    {
        let v = out.keep(&format!("phones[{i}]"), f);
        out.facts.phones.push(v);
    }
    if let Some(f) = address::extract(&docs, &graph) {
        out.facts.address = Some(out.keep("address", f));
    }
    let hours = hours::extract(&docs, &graph);
    for (day, f) in hours.days {
        let v = out.keep(&format!("hours.{}", day.key()), f);
        out.facts.hours.insert(day, v);
    }
    if let Some(e) = &hours.by_appointment {
        out.provenance.insert("by_appointment".into(), e.clone());
    }
    for (i, f) in services::extract(&docs, &graph).into_iter().enumerate() {
        let v = out.keep(&format!("services[{i}]"), f);
        out.facts.services.push(v);
    }
    for (i, f) in staff::extract(&docs, &graph).into_iter().enumerate() {
        let v = out.keep(&format!("staff[{i}]"), f);
        out.facts.staff.push(v);
    }
    let pay = payment::extract(&docs, &graph);
    for (field, list) in [
        ("insurers", pay.insurers),
        ("methods", pay.methods),
        ("financing", pay.financing),
    ] {
        for (i, f) in list.into_iter().enumerate() {
            let v = out.keep(&format!("payment.{field}[{i}]"), f);
            match field {
                "insurers" => out.facts.payment.insurers.push(v),
                "methods" => out.facts.payment.methods.push(v),
                _ => out.facts.payment.financing.push(v),
            }
        }
    }
    if let Some(f) = emergency::extract(&docs) {
        out.facts.emergency = Some(out.keep("emergency", f));
    }
    if let Some(f) = identity::email(&docs, &graph) {
        out.facts.email = Some(out.keep("email", f));
    }
    if let Some(f) = identity::website(&docs) {
        out.facts.website = Some(out.keep("website", f));
    }
    let languages: Vec<String> = language::extract(&docs, &graph)
        .into_iter()
        .enumerate()
        .map(|(i, f)| out.keep(&format!("languages[{i}]"), f))
        .collect();
    let vertical_hint = vertical::guess(&docs, &graph).map(|(v, e)| {
        out.note("vertical_hint", e);
        v
    });
    let tone = tone::guess(&docs);
    if tone.confidence < LOW_CONFIDENCE {
        out.low.push("tone".into());
    }
    Extraction {
        facts: out.facts,
        provenance: out.provenance,
        tone,
        low_confidence: out.low,
        languages,
        vertical_hint,
        by_appointment: hours.by_appointment.is_some(),
    }
}

/// Collects facts, their evidence, and the fields that fall below the confidence threshold.
#[derive(Default)]
struct Builder {
    facts: Facts,
    provenance: BTreeMap<String, Evidence>,
    low: Vec<String>,
}

impl Builder {
    fn note(&mut self, field: &str, e: Evidence) {
        if e.confidence < LOW_CONFIDENCE {
            self.low.push(field.to_owned());
        }
        self.provenance.insert(field.to_owned(), e);
    }

    fn keep<T>(&mut self, field: &str, f: Found<T>) -> T {
        self.note(field, f.evidence);
        f.value
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn page(url: &str, depth: u32, html: &str) -> Page {
        Page {
            url: url.into(),
            depth,
            html: html.into(),
        }
    }

    #[test]
    fn nothing_in_nothing_out() {
        let e = extract(&[]);
        assert_eq!(e.facts, Facts::default());
        assert!(e.provenance.is_empty());
        assert_eq!(e.low_confidence, ["tone"]);
        let e = extract(&[page(
            "http://x.test/",
            0,
            "<html><body><p>Hello.</p></body></html>",
        )]);
        assert!(e.facts.phones.is_empty() && e.facts.hours.is_empty() && e.facts.address.is_none());
        assert_eq!(e.facts.website.as_deref(), Some("http://x.test/"));
    }

    #[test]
    fn every_fact_has_provenance_and_low_ones_are_flagged() {
        let e = extract(&[page(
            "http://x.test/",
            0,
            "<header><a href='tel:5035550142'>(503) 555-0142</a></header><main><p>Mon-Fri 9-5</p></main>",
        )]);
        assert_eq!(e.facts.phones, ["+15035550142"]);
        let p = &e.provenance["phones[0]"];
        assert_eq!(p.source, "http://x.test/");
        assert!(p.snippet.contains("555-0142"));
        assert_eq!(e.provenance["hours.monday"].source, "http://x.test/");
        for field in &e.low_confidence {
            assert!(
                e.provenance
                    .get(field)
                    .is_none_or(|p| p.confidence < LOW_CONFIDENCE),
                "{field}"
            );
        }
        assert!(e.low_confidence.contains(&"hours.monday".to_owned()));
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_markup_never_panics(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("\\PC{0,40}").unwrap(),
                    proptest::sample::select(vec![
                        "<p>", "</p>", "<li>", "<header>", "</footer>", "<br>", "<table><tr><td>", "<address>",
                        "<a href='tel:", "'>", "<div itemscope itemtype='https://schema.org/Dentist'>",
                        "<span itemprop='telephone'>", "<script type='application/ld+json'>{\"@type\":",
                        "</script>", "Mon-Fri 9am-5pm", "(503) 555-01", "Closed Sundays", "Dr. ", "Suite 2, Portland, OR 9720",
                    ]).prop_map(str::to_owned),
                ],
                0..40,
            )
        ) {
            let html = parts.concat();
            let e = extract(&[page("http://x.test/", 0, &html), page("http://x.test/contact/", 1, &html)]);
            for p in e.provenance.values() {
                proptest::prop_assert!((0.0..=1.0).contains(&p.confidence));
            }
        }
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let nasty = [
            "<script type=application/ld+json>{\"@graph\": [[[[{\"@type\": [\"Dentist\", 5], \"telephone\": {}}]]]]}</script>",
            "<div itemscope itemtype=x><span itemprop=telephone content='+1'></span><div itemprop=address itemscope>",
            "\u{0}\u{feff}<p>Mon–Fri 25:99–99:99 ☎ 1-800-ÄÖÜ-ＦＲＥＥ</p>",
            "<table><tr><td>Monday</td></tr></table><dl><dt>Sunday</dt></dl>",
        ];
        for html in nasty {
            let _ = extract(&[page("http://x.test/", 0, html), page("not a url", 1, html)]);
        }
    }
}
