//! Links out of an HTML page, resolved against the page URL (or its `<base href>`).

use std::collections::HashSet;
use std::sync::LazyLock;

use scraper::{Html, Selector};
use url::Url;

/// Bound on links taken from one page; a business page with more is a link farm or a generated index.
pub const MAX_LINKS_PER_PAGE: usize = 1000;

static LINK: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href], area[href]").expect("a constant, valid selector"));
static BASE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("base[href]").expect("a constant, valid selector"));

/// What the crawler needs from a page's markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOutline {
    /// See [`extract_links`].
    pub links: Vec<Url>,
    /// Whether the page shows any text (outside scripts and styles).
    pub has_text: bool,
}

/// Parses a page once for its links and whether it has visible text.
pub fn outline(html: &str, page_url: &Url) -> PageOutline {
    let doc = Html::parse_document(html);
    PageOutline {
        links: links_of(&doc, page_url),
        has_text: has_visible_text(&doc),
    }
}

/// The http(s) links of a page, absolute, in document order, each once. `mailto:`, `tel:`,
/// `javascript:` and unparsable hrefs are dropped.
pub fn extract_links(html: &str, page_url: &Url) -> Vec<Url> {
    links_of(&Html::parse_document(html), page_url)
}

fn has_visible_text(doc: &Html) -> bool {
    doc.root_element().descendants().any(|node| {
        let Some(text) = node.value().as_text() else {
            return false;
        };
        let hidden = node
            .parent()
            .and_then(|p| p.value().as_element())
            .is_some_and(|e| matches!(e.name(), "script" | "style" | "noscript" | "template"));
        !hidden && !text.trim().is_empty()
    })
}

fn links_of(doc: &Html, page_url: &Url) -> Vec<Url> {
    let base = doc
        .select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| page_url.clone());
    let mut seen = HashSet::new();
    doc.select(&LINK)
        .filter_map(|a| a.value().attr("href"))
        .map(str::trim)
        .filter(|href| !href.is_empty() && !href.starts_with('#'))
        .filter_map(|href| base.join(href).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .filter(|u| seen.insert(u.as_str().to_owned()))
        .take(MAX_LINKS_PER_PAGE)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn links(html: &str) -> Vec<String> {
        let page = Url::parse("https://clinic.com/services/").unwrap();
        extract_links(html, &page)
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn resolves_relative_links_and_drops_non_web_ones() {
        let html = r##"<html><body>
            <a href="/about">About</a> <a href="team">Team</a> <a href=" ../contact?x=1 ">C</a>
            <a href="mailto:a@b.c">m</a> <a href="tel:+15551234">t</a> <a href="javascript:void(0)">j</a>
            <a href="#top">top</a> <a href="">empty</a> <a>none</a> <a href="http://[bad">bad</a>
            <map><area href="https://other.org/x"></map> <a href="/about">again</a>
        </body></html>"##;
        assert_eq!(
            links(html),
            [
                "https://clinic.com/about",
                "https://clinic.com/services/team",
                "https://clinic.com/contact?x=1",
                "https://other.org/x",
            ]
        );
    }

    #[test]
    fn honours_base_href() {
        let html = r#"<head><base href="https://clinic.com/en/"></head><a href="hours">Hours</a>"#;
        assert_eq!(links(html), ["https://clinic.com/en/hours"]);
        let bad_base = r#"<head><base href="javascript:x"></head><a href="hours">Hours</a>"#;
        assert_eq!(links(bad_base), ["https://clinic.com/services/hours"]);
    }

    #[test]
    fn outline_tells_empty_pages() {
        let page = Url::parse("https://clinic.com/").unwrap();
        assert!(!outline("", &page).has_text);
        assert!(
            !outline(
                "<html><head><style>p{}</style><script>x()</script></head><body> </body>",
                &page
            )
            .has_text
        );
        assert!(outline("<p>Open daily</p>", &page).has_text);
    }

    #[test]
    fn broken_markup_still_yields_links() {
        let html = "<div><p><a href='/a'>a<a href=/b>b</div></table><a href=\"/c\"";
        let found = links(html);
        assert!(found.contains(&"https://clinic.com/a".to_owned()));
        assert!(found.contains(&"https://clinic.com/b".to_owned()));
    }
}
