//! A page's main copy as titled sections for the knowledge base: each heading starts a section, and the
//! paragraphs, list items and cells under it are its text. Navigation, header, footer, asides and quoted
//! content (testimonials, partners) stay out: they are chrome or someone else's words.

use scraper::Html;

use super::text::{BlockKind, PageText, Region};
use crate::kb::Section;
use crate::page::Page;

/// Sections of every page, in page order.
pub fn sections(pages: &[Page]) -> Vec<Section> {
    let mut out = Vec::new();
    for page in pages {
        let text = PageText::from_html(&Html::parse_document(super::truncate(
            &page.html,
            super::MAX_HTML,
        )));
        let fallback = page_title(&page.url);
        let mut current = Section {
            url: page.url.clone(),
            heading: fallback,
            text: String::new(),
        };
        for block in text
            .blocks
            .iter()
            .filter(|b| b.region == Region::Main && !b.quoted)
        {
            if let BlockKind::Heading(_) = block.kind {
                if !current.text.is_empty() {
                    out.push(current.clone());
                }
                current.heading = block.text.clone();
                current.text.clear();
                continue;
            }
            if !current.text.is_empty() {
                current.text.push_str("\n\n");
            }
            current.text.push_str(&block.text);
            // List items and cells rarely end in a full stop; without one the chunker would glue a whole
            // list into one sentence.
            if !block.text.ends_with(['.', '!', '?', ':']) {
                current.text.push('.');
            }
        }
        if !current.text.is_empty() {
            out.push(current);
        }
    }
    out
}

/// "http://x.test/our-team/" -> "Our team"; the home page -> "Home".
fn page_title(url: &str) -> String {
    let path = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split_once('/'))
        .map_or("", |(_, p)| p);
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let last = last.split(['?', '#', '.']).next().unwrap_or("");
    if last.is_empty() {
        return "Home".to_owned();
    }
    let words = last.replace(['-', '_'], " ");
    let mut c = words.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_start_sections_and_chrome_stays_out() {
        let html = r#"<html><body><header>Call 555-0100</header><nav><a href="/">Home</a></nav>
            <main><h1>Our services</h1><p>We clean teeth.</p><ul><li>Whitening</li><li>Implants</li></ul>
            <h2>Insurance</h2><p>We take Delta Dental.</p>
            <blockquote class="testimonial">Best dentist ever!</blockquote></main>
            <footer>123 Main St</footer></body></html>"#;
        let s = sections(&[Page {
            url: "http://x.test/services/".into(),
            depth: 1,
            html: html.into(),
        }]);
        assert_eq!(s.len(), 2, "{s:#?}");
        assert_eq!(s[0].heading, "Our services");
        assert_eq!(s[0].text, "We clean teeth.\n\nWhitening.\n\nImplants.");
        assert_eq!(s[1].heading, "Insurance");
        assert!(
            !s.iter()
                .any(|x| x.text.contains("555-0100") || x.text.contains("Best dentist"))
        );
    }

    #[test]
    fn page_titles_come_from_the_path() {
        assert_eq!(page_title("http://x.test/"), "Home");
        assert_eq!(page_title("http://x.test/our-team/"), "Our team");
        assert_eq!(page_title("http://x.test/faq.html"), "Faq");
    }
}
