//! Who the business is: its name (structured data, `og:site_name`, the part of page titles every page
//! repeats, the header's home link, the copyright line), its email and its website.

use std::sync::LazyLock;

use regex::Regex;

use super::doc::Doc;
use super::evidence::{Ballot, Evidence, Found, STRUCTURED, around, norm_key};
use super::jsonld::{self, Graph};
use super::text::{Region, collapse};

static COPYRIGHT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:©|\(c\)|copyright)\s*(?:copyright\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?)?\s*(?:by\s+)?([^.|•·©]+?)\s*(?:\.|,|\||•|·|all rights|$)")
        .ok()
});

static EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}").ok()
});

/// Legal-form suffixes that do not change which business a name means.
fn name_key(name: &str) -> String {
    let mut words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric() && c != '&')
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w == "&" {
                "and".to_owned()
            } else {
                w.to_lowercase()
            }
        })
        .collect();
    while words.last().is_some_and(|w| {
        matches!(
            w.as_str(),
            "llc" | "inc" | "pllc" | "pc" | "ltd" | "llp" | "co" | "corp"
        )
    }) {
        words.pop();
    }
    norm_key(&words.join(" "))
}

/// Title separators: "Services | Bright Smile Dental", "Bright Smile Dental – Home".
fn title_parts(title: &str) -> Vec<String> {
    title
        .split(['|', '–', '—', '·', '•'])
        .flat_map(|p| p.split(" - "))
        .flat_map(|p| p.split(" :: "))
        .map(collapse)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Names a site uses for pages rather than for itself.
fn is_generic(s: &str) -> bool {
    let k = s.to_lowercase();
    matches!(
        k.as_str(),
        "home"
            | "homepage"
            | "welcome"
            | "about"
            | "about us"
            | "contact"
            | "contact us"
            | "services"
            | "menu"
            | "blog"
    ) || k.len() < 2
        || k.len() > 80
}

pub(crate) fn business_name(docs: &[Doc], graph: &Graph) -> Option<Found<String>> {
    let mut ballot: Ballot<String> = Ballot::default();
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        if let Some(name) = jsonld::first_text(node, "name") {
            ballot.add(
                name_key(&name),
                name,
                STRUCTURED,
                true,
                url,
                &jsonld::snippet(node),
            );
        }
    }
    // A title part counts when several pages repeat it; on a one-page site the home title counts a little.
    let titles: Vec<Vec<String>> = docs
        .iter()
        .map(|d| d.title.as_deref().map(title_parts).unwrap_or_default())
        .collect();
    for (doc, parts) in docs.iter().zip(&titles) {
        if let Some(site) = &doc.site_name {
            ballot.add(
                name_key(site),
                site.clone(),
                2.0,
                true,
                &doc.url,
                &format!("og:site_name {site}"),
            );
        }
        for p in parts.iter().filter(|p| !is_generic(p)) {
            let repeats = titles
                .iter()
                .filter(|t| t.iter().any(|q| name_key(q) == name_key(p)))
                .count();
            let w = if repeats > 1 {
                1.0
            } else if doc.topic.home {
                0.5
            } else {
                0.0
            };
            let snippet = format!(
                "<title>{}</title>",
                doc.title.as_deref().unwrap_or_default()
            );
            ballot.add(name_key(p), p.clone(), w, repeats > 1, &doc.url, &snippet);
        }
        for link in doc.text.links.iter().filter(|l| l.region == Region::Header) {
            let home = link.href == "/"
                || link.href == "./"
                || link.href.trim_end_matches('/') == doc_origin(&doc.url);
            if home && !is_generic(&link.text) && link.text.split_whitespace().count() <= 8 {
                let snippet = format!("header link \"{}\"", link.text);
                ballot.add(
                    name_key(&link.text),
                    link.text.clone(),
                    1.0,
                    true,
                    &doc.url,
                    &snippet,
                );
            }
        }
        for b in doc
            .text
            .blocks
            .iter()
            .filter(|b| b.region == Region::Footer)
        {
            let Some(re) = COPYRIGHT.as_ref() else { break };
            if let Some(m) = re.captures(&b.text).and_then(|c| c.get(1)) {
                let name = collapse(m.as_str());
                if !is_generic(&name)
                    && name.split_whitespace().count() <= 8
                    && !name
                        .chars()
                        .all(|c| c.is_ascii_digit() || c.is_whitespace())
                {
                    ballot.add(name_key(&name), name, 1.0, true, &doc.url, &b.text);
                }
            }
        }
    }
    ballot.winner(0.5)
}

fn doc_origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    &url[..end]
}

/// The website: the crawled home page's origin. It is where the facts were read, so it is stated by
/// definition rather than guessed.
pub(crate) fn website(docs: &[Doc]) -> Option<Found<String>> {
    let home = docs.first()?;
    let origin = doc_origin(&home.url);
    if !origin.starts_with("http") {
        return None;
    }
    Some(Found {
        value: format!("{origin}/"),
        evidence: Evidence {
            source: home.url.clone(),
            snippet: "crawled home page".to_owned(),
            confidence: 1.0,
        },
    })
}

fn clean_email(raw: &str) -> Option<String> {
    let e = raw.trim().trim_end_matches('.').to_lowercase();
    let tld = e.rsplit('.').next().unwrap_or_default();
    // Retina image names ("logo@2x.png") look like addresses.
    if matches!(
        tld,
        "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp" | "css" | "js"
    ) {
        return None;
    }
    let (user, domain) = e.split_once('@')?;
    if user.is_empty()
        || domain.is_empty()
        || matches!(domain, "example.com" | "domain.com" | "email.com")
    {
        return None;
    }
    Some(e)
}

pub(crate) fn email(docs: &[Doc], graph: &Graph) -> Option<Found<String>> {
    let mut ballot: Ballot<String> = Ballot::default();
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        if let Some(e) = jsonld::first_text(node, "email")
            .and_then(|e| clean_email(e.trim_start_matches("mailto:")))
        {
            ballot.add(e.clone(), e, STRUCTURED, true, url, &jsonld::snippet(node));
        }
    }
    for doc in docs {
        for link in &doc.text.links {
            let Some(rest) = link.href.trim().strip_prefix("mailto:") else {
                continue;
            };
            let addr = rest.split('?').next().unwrap_or_default();
            if let Some(e) = clean_email(addr) {
                let w = doc.weight(link.region, link.quoted) * 1.3;
                ballot.add(
                    e.clone(),
                    e,
                    w,
                    doc.strong(link.region, link.quoted),
                    &doc.url,
                    &link.href,
                );
            }
        }
        let Some(re) = EMAIL.as_ref() else { continue };
        for b in doc.text.blocks.iter().filter(|b| b.region != Region::Nav) {
            for m in re.find_iter(&b.text) {
                if let Some(e) = clean_email(m.as_str()) {
                    let w = doc.weight(b.region, b.quoted);
                    let snippet = around(&b.text, m.start(), m.end());
                    ballot.add(
                        e.clone(),
                        e,
                        w,
                        doc.strong(b.region, b.quoted),
                        &doc.url,
                        &snippet,
                    );
                }
            }
        }
    }
    ballot.winner(0.3)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn docs(pages: &[(&str, &str)]) -> (Vec<Doc>, Graph) {
        let mut g = Graph::default();
        let d = pages
            .iter()
            .enumerate()
            .map(|(i, (u, h))| {
                let (d, parsed) = Doc::parse(u, u32::from(i > 0), h, i == 0);
                for v in jsonld::scripts(&parsed) {
                    g.add(i, v);
                }
                d
            })
            .collect();
        (d, g)
    }

    #[test]
    fn the_repeated_title_part_names_the_business() {
        let footer =
            "<footer><p>© 2024 Bright Smile Dental, LLC. All rights reserved.</p></footer>";
        let (d, g) = docs(&[
            (
                "http://x.test/",
                &format!("<title>Family Dentist in Portland | Bright Smile Dental</title>{footer}"),
            ),
            (
                "http://x.test/about/",
                &format!("<title>About Us | Bright Smile Dental</title>{footer}"),
            ),
        ]);
        let n = business_name(&d, &g).unwrap();
        assert_eq!(n.value, "Bright Smile Dental");
        assert!(n.evidence.confidence > 0.5);
    }

    #[test]
    fn structured_names_win() {
        let (d, g) = docs(&[(
            "http://x.test/",
            r#"<title>Home</title><script type="application/ld+json">{"@type":"Plumber","name":"Rapid Rooter"}</script>"#,
        )]);
        assert_eq!(business_name(&d, &g).unwrap().value, "Rapid Rooter");
    }

    #[test]
    fn emails_prefer_site_wide_placement_and_skip_image_names() {
        let (d, g) = docs(&[(
            "http://x.test/",
            "<main><p>Reviewed by jane@partner.example</p><img src='logo@2x.png'></main>\
             <footer><a href='mailto:Hello@Bright.example?subject=Hi'>Email</a></footer>",
        )]);
        assert_eq!(email(&d, &g).unwrap().value, "hello@bright.example");
        assert!(clean_email("logo@2x.png").is_none());
    }

    #[test]
    fn website_is_the_home_origin() {
        let (d, _) = docs(&[("http://fixture.test/index.html", "<p>x</p>")]);
        assert_eq!(website(&d).unwrap().value, "http://fixture.test/");
    }
}
