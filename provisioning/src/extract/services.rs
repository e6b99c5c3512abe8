//! Services (or menu items) from structured offers and menus, and from the lists, headings and price
//! tables of services and menu pages.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::doc::Doc;
use super::evidence::{Ballot, Found, STRUCTURED, norm_key};
use super::jsonld::{self, Graph};
use super::text::{Block, BlockKind, Region, collapse};
use crate::facts::Service;

const MAX_SERVICES: usize = 60;
const MAX_DEPTH: usize = 5;

static PRICE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?:from|starting at|starts at)\s+)?[$£€]\s?\d[\d,]*(?:\.\d{2})?\+?(?:\s*[-–]\s*[$£€]?\s?\d[\d,]*(?:\.\d{2})?)?")
        .ok()
});

/// Headings whose sections list services.
fn is_service_heading(h: &str) -> bool {
    let h = h.to_lowercase();
    !is_other_section(&h)
        && [
            "service",
            "treatment",
            "what we do",
            "what we offer",
            "menu",
            "specialt",
            "practice area",
            "procedure",
            "our work",
            "offerings",
            "pricing",
            "price list",
        ]
        .iter()
        .any(|w| h.contains(w))
}

/// Sections of a services page that are about something else.
fn is_other_section(h: &str) -> bool {
    let h = h.to_lowercase();
    [
        "insurance",
        "payment",
        "financ",
        "hours",
        "contact",
        "location",
        "faq",
        "question",
        "testimonial",
        "review",
        "team",
        "staff",
        "about",
        "why ",
        "blog",
        "news",
        "book",
        "appointment",
        "schedule",
        "service area",
        "areas we serve",
        "areas served",
        "what to expect",
        "award",
        "follow us",
        "newsletter",
        "get in touch",
        "visit us",
        "coupon",
    ]
    .iter()
    .any(|w| h.contains(w))
}

/// Splits "Teeth Whitening — $299" or "Cleanings: twice-yearly exams" into name, price and description.
fn split_item(text: &str) -> Option<Service> {
    let text = collapse(&text.replace('\n', " "));
    let mut price = None;
    let mut rest = text.clone();
    if let Some(m) = PRICE.as_ref().and_then(|re| re.find(&text)) {
        price = Some(collapse(m.as_str()));
        rest = format!("{} {}", &text[..m.start()], &text[m.end()..]);
    }
    let mut name = collapse(&rest);
    let mut description = None;
    for sep in [" — ", " – ", " - ", ": ", " | ", "..."] {
        if let Some((a, b)) = name.split_once(sep) {
            let b = collapse(b.trim_matches(|c: char| c == '.' || c.is_whitespace()));
            description = (!b.is_empty()).then_some(b);
            name = collapse(a);
            break;
        }
    }
    let name = name
        .trim_matches(|c: char| !c.is_alphanumeric() && c != ')' && c != '&')
        .to_owned();
    let words = name.split_whitespace().count();
    // A sentence is a description, not a service name.
    if name.is_empty() || words > 8 || name.len() > 70 || (name.ends_with('.') && words > 3) {
        return None;
    }
    if is_other_section(&name)
        || !name
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
    {
        return None;
    }
    Some(Service {
        name,
        price,
        description: description.map(|d| first_sentence(&d)),
    })
}

fn first_sentence(s: &str) -> String {
    let s = collapse(s);
    let end = s
        .char_indices()
        .find(|(i, c)| matches!(c, '.' | '!' | '?') && s[i + c.len_utf8()..].starts_with(' '))
        .map_or(s.len(), |(i, c)| i + c.len_utf8());
    let mut out = s[..end].to_owned();
    if out.len() > 200 {
        let mut cut = 200;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

fn service_key(name: &str) -> String {
    norm_key(&name.replace('&', " and "))
}

/// A price as a caller hears it: "$120" from a number and USD.
fn price_of(offer: &Value) -> Option<String> {
    let spec = jsonld::prop(offer, "priceSpecification").into_iter().next();
    let price = jsonld::first_text(offer, "price")
        .or_else(|| spec.and_then(|s| jsonld::first_text(s, "price")))
        .map(|p| (p, false))
        .or_else(|| {
            spec.and_then(|s| jsonld::first_text(s, "minPrice"))
                .map(|p| (p, true))
        })?;
    let currency = jsonld::first_text(offer, "priceCurrency")
        .or_else(|| spec.and_then(|s| jsonld::first_text(s, "priceCurrency")))
        .unwrap_or_default();
    let (p, from) = price;
    let symbol = match currency.as_str() {
        "USD" | "CAD" | "AUD" | "NZD" => "$",
        "GBP" => "£",
        "EUR" => "€",
        _ => "",
    };
    let p = if p.starts_with(['$', '£', '€']) || symbol.is_empty() {
        p
    } else {
        format!("{symbol}{p}")
    };
    Some(if from { format!("from {p}") } else { p })
}

/// Services named by an offer, catalog, menu or service node, recursively.
fn collect_structured(graph: &Graph, v: &Value, depth: usize, out: &mut Vec<Service>) {
    if depth > MAX_DEPTH || out.len() >= MAX_SERVICES {
        return;
    }
    let v = graph.resolve(v);
    let types = jsonld::types(v);
    let is = |t: &str| types.iter().any(|x| x == t);
    if is("Offer") || is("Demand") {
        let item = graph.prop(v, "itemOffered").into_iter().next();
        let name = item
            .and_then(|i| jsonld::first_text(i, "name"))
            .or_else(|| jsonld::first_text(v, "name"));
        if let Some(name) = name {
            let description = item
                .and_then(|i| jsonld::first_text(i, "description"))
                .or_else(|| jsonld::first_text(v, "description"))
                .map(|d| first_sentence(&d));
            out.push(Service {
                name,
                price: price_of(v),
                description,
            });
        }
        return;
    }
    if is("OfferCatalog") || is("Menu") || is("MenuSection") || is("ItemList") || is("ListItem") {
        for key in ["itemListElement", "hasMenuSection", "hasMenuItem", "item"] {
            for child in graph.prop(v, key) {
                collect_structured(graph, child, depth + 1, out);
            }
        }
        return;
    }
    if let Some(name) = jsonld::first_text(v, "name").or_else(|| v.as_str().map(collapse)) {
        let price = graph.prop(v, "offers").into_iter().find_map(price_of);
        let description = jsonld::first_text(v, "description").map(|d| first_sentence(&d));
        out.push(Service {
            name,
            price,
            description,
        });
    }
}

pub(crate) fn extract(docs: &[Doc], graph: &Graph) -> Vec<Found<Service>> {
    let mut ballot: Ballot<Service> = Ballot::default();
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        let mut found = Vec::new();
        for key in [
            "makesOffer",
            "hasOfferCatalog",
            "availableService",
            "hasMenu",
            "menu",
        ] {
            for v in graph.prop(node, key) {
                // A menu given as a URL is a link, not a list of dishes.
                if v.as_str()
                    .is_some_and(|s| s.starts_with("http") || s.starts_with('/'))
                {
                    continue;
                }
                collect_structured(graph, v, 0, &mut found);
            }
        }
        for s in found {
            let snippet = format!("{} offers {}", jsonld::snippet(node), s.name);
            ballot.add(service_key(&s.name), s, STRUCTURED, true, url, &snippet);
        }
    }
    // Menus and services published as their own top-level items (common with microdata).
    for (page, node) in &graph.nodes {
        let types = jsonld::types(node);
        if types
            .iter()
            .any(|t| matches!(t.as_str(), "Menu" | "MenuItem" | "OfferCatalog"))
        {
            let url = docs.get(*page).map_or("", |d| d.url.as_str());
            let mut found = Vec::new();
            collect_structured(graph, node, 0, &mut found);
            for s in found {
                let snippet = format!("{} {}", jsonld::snippet(node), s.name);
                ballot.add(service_key(&s.name), s, STRUCTURED, true, url, &snippet);
            }
        }
    }
    for doc in docs {
        from_doc(doc, &mut ballot);
    }
    let mut found = ballot.items(0.5, MAX_SERVICES);
    // The heaviest vote names the service; a price or description stated elsewhere (the services page
    // beside a bare JSON-LD name) fills what it lacks.
    for f in &mut found {
        let key = service_key(&f.value.name);
        for other in ballot.values_for(&key) {
            if f.value.price.is_none() {
                f.value.price.clone_from(&other.price);
            }
            if f.value.description.is_none() {
                f.value.description.clone_from(&other.description);
            }
        }
    }
    found
}

/// A page about one service ("/services/dry-needling/"): a path segment follows the services segment.
fn is_detail_page(url: &str) -> bool {
    let path = url
        .split_once("://")
        .map_or(url, |(_, r)| r.split_once('/').map_or("", |(_, p)| p));
    let segments: Vec<&str> = path
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    segments
        .iter()
        .position(|s| {
            let s = s.to_ascii_lowercase();
            ["service", "treatment", "procedure", "practice-area"]
                .iter()
                .any(|w| s.starts_with(w))
        })
        .is_some_and(|i| i + 1 < segments.len())
}

fn from_doc(doc: &Doc, ballot: &mut Ballot<Service>) {
    let page_is_services = doc.topic.services || doc.topic.menu;
    let blocks = &doc.text.blocks;
    // A service's own page names it in its title heading; its subheadings and lists ("What to expect",
    // "Who it helps") describe that one service.
    if is_detail_page(&doc.url) {
        let h1 = blocks
            .iter()
            .position(|b| b.region == Region::Main && b.kind == BlockKind::Heading(1));
        if let Some(i) = h1 {
            let description = blocks
                .get(i + 1)
                .filter(|b| b.kind == BlockKind::Paragraph)
                .map(|b| first_sentence(&b.text));
            if let Some(mut s) = split_item(&blocks[i].text) {
                s.description = s.description.or(description);
                ballot.add(
                    service_key(&s.name),
                    s,
                    1.5,
                    false,
                    &doc.url,
                    &blocks[i].text,
                );
            }
        }
        return;
    }
    // A services page is about services; elsewhere only a section headed as services counts at all.
    let weight = if page_is_services { 1.5 } else { 1.2 };
    for (i, b) in blocks.iter().enumerate() {
        if b.region != Region::Main || b.quoted {
            continue;
        }
        let in_service_section = doc
            .text
            .headings_above(i)
            .any(|h| is_service_heading(&h.text));
        // The page title (h1) may well say "About our services"; sections are what decide.
        let in_other_section = doc
            .text
            .headings_above(i)
            .filter(|h| h.kind != BlockKind::Heading(1))
            .any(|h| is_other_section(&h.text));
        if in_other_section || !(in_service_section || page_is_services) {
            continue;
        }
        match b.kind {
            BlockKind::ListItem => {
                if let Some(s) = split_item(&b.text) {
                    ballot.add(service_key(&s.name), s, weight, false, &doc.url, &b.text);
                }
            }
            BlockKind::Heading(level) if level >= 2 && page_is_services => {
                if let Some(s) = heading_service(blocks, i) {
                    ballot.add(service_key(&s.name), s, weight, false, &doc.url, &b.text);
                }
            }
            _ => {}
        }
    }
    if page_is_services {
        for t in doc
            .tables
            .iter()
            .filter(|t| t.region == Region::Main && !t.quoted && !is_other_section(&t.caption))
        {
            for row in &t.rows {
                if row.len() >= 2
                    && PRICE
                        .as_ref()
                        .is_some_and(|re| re.is_match(&row[row.len() - 1]))
                    && let Some(s) = split_item(&row.join(" — "))
                {
                    ballot.add(
                        service_key(&s.name),
                        s,
                        weight,
                        false,
                        &doc.url,
                        &row.join(" | "),
                    );
                }
            }
        }
    }
}

/// A heading on a services page names a service when prose (or a price) follows it, not a list or a
/// deeper heading (then it is a category).
fn heading_service(blocks: &[Block], i: usize) -> Option<Service> {
    let h = &blocks[i];
    let BlockKind::Heading(level) = h.kind else {
        return None;
    };
    if is_service_heading(&h.text) || is_other_section(&h.text) {
        return None;
    }
    let mut price = None;
    let mut description = None;
    for next in blocks.iter().skip(i + 1).take(3) {
        match next.kind {
            BlockKind::Heading(l) if l <= level => break,
            BlockKind::Heading(_) | BlockKind::ListItem | BlockKind::Cell => return None,
            _ => {
                let only_price = PRICE
                    .as_ref()
                    .and_then(|re| re.find(&next.text))
                    .filter(|m| m.as_str().len() + 2 >= next.text.len());
                match only_price {
                    Some(m) if price.is_none() => price = Some(collapse(m.as_str())),
                    _ if description.is_none() => description = Some(first_sentence(&next.text)),
                    _ => {}
                }
            }
        }
    }
    description.as_ref().or(price.as_ref())?;
    let mut s = split_item(&h.text)?;
    s.price = s.price.or(price);
    s.description = s.description.or(description);
    Some(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(pages: &[(&str, &str)]) -> Vec<Service> {
        let mut g = Graph::default();
        let docs: Vec<Doc> = pages
            .iter()
            .enumerate()
            .map(|(i, (u, h))| {
                let (d, parsed) = Doc::parse(u, u32::from(i > 0), h, i == 0);
                for v in jsonld::scripts(&parsed)
                    .into_iter()
                    .chain(super::super::microdata::items(&parsed))
                {
                    g.add(i, v);
                }
                d
            })
            .collect();
        extract(&docs, &g).into_iter().map(|f| f.value).collect()
    }

    #[test]
    fn items_split_into_name_price_and_description() {
        let s = split_item("Teeth Whitening — $299").unwrap();
        assert_eq!(
            (s.name.as_str(), s.price.as_deref()),
            ("Teeth Whitening", Some("$299"))
        );
        let s = split_item("Cleanings: gentle, thorough exams. Twice a year.").unwrap();
        assert_eq!(s.description.as_deref(), Some("gentle, thorough exams."));
        let s = split_item("Haircut from $45").unwrap();
        assert_eq!(s.price.as_deref(), Some("from $45"));
        assert!(split_item("We are proud to serve the families of Portland since 1998.").is_none());
    }

    #[test]
    fn services_pages_give_list_items_and_described_headings() {
        let got = run(&[(
            "http://x.test/services/",
            "<main><h1>Our Services</h1><h2>General Dentistry</h2><ul><li>Cleanings &amp; Exams</li><li>Fillings</li></ul>\
             <h2>Teeth Whitening</h2><p>Brighter in one visit.</p><p>$299</p>\
             <h2>Insurance</h2><ul><li>Delta Dental</li></ul></main><nav><ul><li>Home</li></ul></nav>",
        )]);
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Cleanings & Exams", "Fillings", "Teeth Whitening"]);
        assert_eq!(got[2].price.as_deref(), Some("$299"));
        assert_eq!(
            got[2].description.as_deref(),
            Some("Brighter in one visit.")
        );
    }

    #[test]
    fn structured_offer_catalogs_and_menus() {
        let got = run(&[(
            "http://x.test/",
            r#"<script type="application/ld+json">{"@type":"Dentist","hasOfferCatalog":{"@type":"OfferCatalog","itemListElement":[
                {"@type":"Offer","itemOffered":{"@type":"Service","name":"Implants"},"price":"1999","priceCurrency":"USD"},
                {"@type":"OfferCatalog","itemListElement":[{"@type":"Offer","itemOffered":{"@type":"Service","name":"Veneers"}}]}]}}</script>
               <div itemscope itemtype="https://schema.org/Menu"><div itemprop="hasMenuItem" itemscope itemtype="https://schema.org/MenuItem">
               <span itemprop="name">Tiramisu</span><div itemprop="offers" itemscope itemtype="https://schema.org/Offer"><span itemprop="price">9</span><meta itemprop="priceCurrency" content="USD"></div></div></div>"#,
        )]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].price.as_deref(), Some("$1999"));
        assert_eq!(got[2].name, "Tiramisu");
        assert_eq!(got[2].price.as_deref(), Some("$9"));
    }

    #[test]
    fn home_page_lists_count_only_under_a_services_heading() {
        let got = run(&[(
            "http://x.test/",
            "<main><h2>Why choose us</h2><ul><li>Free parking</li></ul><h2>Our Services</h2><ul><li>Drain Cleaning</li></ul></main>",
        )]);
        assert_eq!(
            got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["Drain Cleaning"]
        );
    }
}
