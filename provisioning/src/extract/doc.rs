//! One crawled page, parsed once and read by every extractor: its visible text blocks, tables, title,
//! language and what its URL says the page is about.

use scraper::{ElementRef, Html, Selector};

use super::elements::{element_text, placement_of};
use super::evidence::{PageRole, placement_weight};
use super::text::{PageText, Region, collapse};

/// A table's rows of cell texts, with the table's placement.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub rows: Vec<Vec<String>>,
    pub region: Region,
    pub quoted: bool,
    /// The caption or the nearest heading text before the table, lower-cased.
    pub caption: String,
}

/// What a page is about, from its path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Topic {
    pub home: bool,
    pub contact: bool,
    pub team: bool,
    pub services: bool,
    pub menu: bool,
    pub payment: bool,
    pub hours: bool,
    pub about: bool,
}

/// A parsed page.
#[derive(Debug)]
pub(crate) struct Doc {
    pub url: String,
    pub topic: Topic,
    pub text: PageText,
    pub tables: Vec<Table>,
    pub title: Option<String>,
    pub site_name: Option<String>,
    pub lang: Option<String>,
}

fn sel(s: &'static str) -> Option<Selector> {
    Selector::parse(s).ok()
}

static TITLE: std::sync::LazyLock<Option<Selector>> = std::sync::LazyLock::new(|| sel("title"));
static META: std::sync::LazyLock<Option<Selector>> = std::sync::LazyLock::new(|| sel("meta"));
static TABLE: std::sync::LazyLock<Option<Selector>> = std::sync::LazyLock::new(|| sel("table"));
static ROW: std::sync::LazyLock<Option<Selector>> = std::sync::LazyLock::new(|| sel("tr"));
static CELL: std::sync::LazyLock<Option<Selector>> = std::sync::LazyLock::new(|| sel("th, td"));
static CAPTION: std::sync::LazyLock<Option<Selector>> = std::sync::LazyLock::new(|| sel("caption"));

/// Caps per page.
const MAX_TABLES: usize = 50;
const MAX_ROWS: usize = 200;

impl Doc {
    pub fn parse(url: &str, depth: u32, html: &str, is_first: bool) -> (Self, Html) {
        let parsed = Html::parse_document(within_depth(html));
        let text = PageText::from_html(&parsed);
        let title = TITLE
            .as_ref()
            .and_then(|s| parsed.select(s).next())
            .map(element_text)
            .filter(|t| !t.is_empty());
        let site_name = META.as_ref().and_then(|s| {
            parsed.select(s).find_map(|m| {
                let key = m
                    .value()
                    .attr("property")
                    .or_else(|| m.value().attr("name"))?;
                matches!(key, "og:site_name" | "application-name")
                    .then(|| collapse(m.value().attr("content").unwrap_or_default()))
                    .filter(|c| !c.is_empty())
            })
        });
        let lang = parsed
            .root_element()
            .value()
            .attr("lang")
            .map(|l| l.trim().to_ascii_lowercase())
            .filter(|l| !l.is_empty());
        let tables = tables(&parsed);
        let doc = Doc {
            topic: topic(url, depth == 0 || is_first),
            url: url.to_owned(),
            text,
            tables,
            title,
            site_name,
            lang,
        };
        (doc, parsed)
    }

    pub fn role(&self) -> PageRole {
        PageRole {
            home: self.topic.home,
            contact: self.topic.contact,
        }
    }

    /// Weight of a mention on this page at this placement.
    pub fn weight(&self, region: Region, quoted: bool) -> f32 {
        placement_weight(region, quoted, self.role())
    }

    /// Whether a mention here is where a business puts its own details.
    pub fn strong(&self, region: Region, quoted: bool) -> bool {
        super::evidence::is_strong(region, quoted, self.role())
    }
}

/// Element nesting beyond which a document is cut. Real pages nest a few dozen levels; html5ever's tree
/// builder does work proportional to the depth for each start tag, so a hostile page of nothing but
/// `<div>`s would take quadratic time to parse.
const MAX_NESTING: usize = 1_000;

/// The document up to the point where its elements nest deeper than [`MAX_NESTING`].
///
/// A cheap scan of the tags, not a parse: elements with optional end tags (`p`, `li`, `td`, ...) and void
/// elements are not counted, so sloppy but ordinary markup is never cut; comments and the contents of
/// `script`, `style` and similar raw-text elements are skipped.
fn within_depth(html: &str) -> &str {
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|b| *b == b'<') {
        let start = i + off;
        i = start + 1;
        if html[i..].starts_with("!--") {
            i = html[i..].find("-->").map_or(bytes.len(), |e| i + e + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let name_start = if closing { i + 1 } else { i };
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 {
            continue;
        }
        let name = html[name_start..name_start + name_len].to_ascii_lowercase();
        let tag_end = html[name_start..]
            .find('>')
            .map_or(bytes.len(), |e| name_start + e);
        let self_closing = html[..tag_end].ends_with('/');
        i = tag_end.min(bytes.len());
        if !closing
            && matches!(
                name.as_str(),
                "script" | "style" | "textarea" | "title" | "xmp" | "template"
            )
        {
            let close = format!("</{name}");
            i = find_ignore_case(&bytes[i..], close.as_bytes()).map_or(bytes.len(), |e| i + e);
            continue;
        }
        if !counts_for_depth(&name) || self_closing {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            if depth > MAX_NESTING {
                return &html[..start];
            }
        }
    }
    html
}

/// Position of `needle` (lower-case ASCII) in `hay`, ignoring ASCII case, without copying the haystack.
fn find_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn counts_for_depth(name: &str) -> bool {
    !matches!(
        name,
        "p" | "li"
            | "dt"
            | "dd"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "option"
            | "optgroup"
            | "colgroup"
            | "caption"
            | "rb"
            | "rt"
            | "rtc"
            | "rp"
            | "html"
            | "head"
            | "body"
            | "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
    )
}

fn tables(doc: &Html) -> Vec<Table> {
    let (Some(table), Some(row), Some(cell)) = (TABLE.as_ref(), ROW.as_ref(), CELL.as_ref()) else {
        return Vec::new();
    };
    doc.select(table)
        .take(MAX_TABLES)
        .map(|t| {
            let (region, quoted) = placement_of(t);
            let rows = t
                .select(row)
                .take(MAX_ROWS)
                .map(|r| r.select(cell).map(element_text).collect::<Vec<_>>())
                .filter(|r| r.iter().any(|c| !c.is_empty()))
                .collect();
            let caption = CAPTION
                .as_ref()
                .and_then(|c| t.select(c).next())
                .map(element_text)
                .or_else(|| heading_before(t))
                .unwrap_or_default()
                .to_lowercase();
            Table {
                rows,
                region,
                quoted,
                caption,
            }
        })
        .collect()
}

/// Text of the nearest heading before an element (preceding siblings, then the parent's).
fn heading_before(el: ElementRef<'_>) -> Option<String> {
    let mut node = Some(el);
    for _ in 0..6 {
        let cur = node?;
        for sib in cur.prev_siblings().filter_map(ElementRef::wrap) {
            if matches!(sib.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
                return Some(element_text(sib));
            }
        }
        node = cur.parent().and_then(ElementRef::wrap);
    }
    None
}

/// What the URL path says the page is about.
pub(crate) fn topic(url: &str, first: bool) -> Topic {
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p))
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| path.contains(w));
    let bare = path.trim_matches('/');
    Topic {
        home: first || bare.is_empty() || bare == "index.html" || bare == "home",
        contact: has(&["contact", "location", "find-us", "visit", "directions"]),
        team: has(&[
            "team",
            "staff",
            "doctor",
            "dentist",
            "provider",
            "attorney",
            "lawyer",
            "people",
            "physician",
            "stylist",
            "meet",
            "who-we-are",
        ]),
        services: has(&[
            "service",
            "treatment",
            "what-we-do",
            "practice-area",
            "procedure",
            "offer",
            "pricing",
            "price",
        ]),
        menu: has(&["menu", "food", "drink"]),
        payment: has(&["insurance", "payment", "financ", "billing", "fees"]),
        hours: has(&["hours", "contact", "location", "visit"]),
        about: has(&["about"]),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pathological_nesting_is_cut_but_ordinary_markup_is_not() {
        let deep = "<div>".repeat(200_000) + "deep";
        let cut = within_depth(&deep);
        assert_eq!(cut.len(), MAX_NESTING * 5);
        let sloppy =
            "<ul>".to_owned() + &"<li><p>item".repeat(5_000) + "</ul><div><br><img src=x></div>";
        assert_eq!(within_depth(&sloppy), sloppy);
        let scripted = format!("<script>{}</script><p>after</p>", "<div>".repeat(5_000));
        assert_eq!(within_depth(&scripted), scripted);
        let started = std::time::Instant::now();
        let (d, _) = Doc::parse("http://x.test/", 0, &deep, true);
        assert!(d.text.blocks.is_empty());
        assert!(started.elapsed().as_secs() < 30, "bounded parse time");
    }

    #[test]
    fn topics_come_from_the_path() {
        assert!(topic("http://x.test/", false).home);
        assert!(topic("http://x.test/contact/", false).contact);
        assert!(topic("http://x.test/our-team/", false).team);
        assert!(topic("http://x.test/services/cleanings", false).services);
        assert!(!topic("http://x.test/contact-lenses-blog", false).home);
        assert!(topic("http://x.test/insurance?x=1", false).payment);
    }

    #[test]
    fn pages_carry_title_site_name_lang_and_tables() {
        let (d, _) = Doc::parse(
            "http://x.test/",
            0,
            r#"<html lang="en-US"><head><title>Home | Bright</title>
               <meta property="og:site_name" content="Bright Smile"></head>
               <body><h2>Office Hours</h2><table><tr><th>Monday</th><td>8-5</td></tr></table></body></html>"#,
            true,
        );
        assert_eq!(d.title.as_deref(), Some("Home | Bright"));
        assert_eq!(d.site_name.as_deref(), Some("Bright Smile"));
        assert_eq!(d.lang.as_deref(), Some("en-us"));
        assert_eq!(
            d.tables[0].rows,
            [vec!["Monday".to_string(), "8-5".to_string()]]
        );
        assert_eq!(d.tables[0].caption, "office hours");
    }
}
