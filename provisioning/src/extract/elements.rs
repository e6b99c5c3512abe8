//! How an element is treated when reading a page: block or inline, hidden or shown, which region of the
//! page it opens (header, nav, footer, ...), and whether it quotes someone else.

use scraper::ElementRef;

use super::text::{Region, collapse};

pub(crate) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "body"
            | "caption"
            | "dd"
            | "details"
            | "dialog"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "hr"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "td"
            | "tfoot"
            | "th"
            | "thead"
            | "tr"
            | "ul"
            | "option"
            | "button"
    )
}

pub(crate) fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
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

/// Elements whose content is never shown as page text, or is explicitly hidden.
pub(crate) fn is_hidden(el: ElementRef<'_>) -> bool {
    let v = el.value();
    if matches!(
        v.name(),
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "head"
            | "iframe"
            | "object"
            | "canvas"
    ) {
        return true;
    }
    if v.attr("hidden").is_some() || v.attr("aria-hidden") == Some("true") {
        return true;
    }
    v.attr("style").is_some_and(|s| {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

/// Hyphen/underscore-separated words of the element's id and classes, lower-cased.
fn name_tokens(el: ElementRef<'_>) -> impl Iterator<Item = String> + '_ {
    el.value()
        .id()
        .into_iter()
        .chain(el.value().classes())
        .flat_map(|s| s.split(['-', '_']))
        .map(str::to_ascii_lowercase)
}

/// The region an element opens, from its tag, ARIA role, or id/class names.
pub(crate) fn region_of(el: ElementRef<'_>) -> Option<Region> {
    let v = el.value();
    match v.name() {
        "header" => return Some(Region::Header),
        "footer" => return Some(Region::Footer),
        "nav" => return Some(Region::Nav),
        "aside" => return Some(Region::Aside),
        "main" => return Some(Region::Main),
        _ => {}
    }
    match v.attr("role") {
        Some("banner") => return Some(Region::Header),
        Some("contentinfo") => return Some(Region::Footer),
        Some("navigation") => return Some(Region::Nav),
        Some("complementary") => return Some(Region::Aside),
        Some("main") => return Some(Region::Main),
        _ => {}
    }
    if !matches!(v.name(), "div" | "section" | "ul" | "ol") {
        return None;
    }
    for t in name_tokens(el) {
        match t.as_str() {
            "header" | "masthead" | "topbar" | "banner" => return Some(Region::Header),
            "footer" => return Some(Region::Footer),
            "nav" | "navbar" | "navigation" | "breadcrumb" | "breadcrumbs" => {
                return Some(Region::Nav);
            }
            "sidebar" => return Some(Region::Aside),
            _ => {}
        }
    }
    None
}

/// Quotations and content about someone else: testimonials, reviews, partners, sponsors.
pub(crate) fn is_quoted(el: ElementRef<'_>) -> bool {
    if matches!(el.value().name(), "blockquote" | "q" | "cite") {
        return true;
    }
    name_tokens(el).any(|t| {
        matches!(
            t.as_str(),
            "testimonial"
                | "testimonials"
                | "review"
                | "reviews"
                | "quote"
                | "partner"
                | "partners"
                | "sponsor"
                | "sponsors"
                | "referral"
                | "referrals"
                | "affiliate"
                | "affiliates"
        )
    })
}

/// Placement of an element found by selector rather than by the walk: its nearest region and whether it
/// sits in quoted content.
pub(crate) fn placement_of(el: ElementRef<'_>) -> (Region, bool) {
    let mut region = None;
    let mut quoted = false;
    let mut node = Some(el);
    while let Some(e) = node {
        if region.is_none() {
            region = region_of(e);
        }
        quoted |= is_quoted(e);
        node = e.parent().and_then(ElementRef::wrap);
    }
    (region.unwrap_or(Region::Main), quoted)
}

/// All text of an element, whitespace-collapsed, scripts excluded.
pub(crate) fn element_text(el: ElementRef<'_>) -> String {
    let mut s = String::new();
    for t in el.text() {
        if !s.is_empty() && !s.ends_with(' ') {
            s.push(' ');
        }
        s.push_str(t);
    }
    collapse(&s)
}
