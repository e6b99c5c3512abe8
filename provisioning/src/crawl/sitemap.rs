//! sitemap.xml: a `urlset` of pages or a `sitemapindex` of further sitemaps (sitemaps.org protocol).

/// Bound on XML nodes per sitemap, so a hostile file cannot make the parser allocate without limit.
const MAX_NODES: u32 = 400_000;

/// What one sitemap file lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sitemap {
    /// Page URLs, as written.
    Pages(Vec<String>),
    /// URLs of further sitemaps, as written.
    Index(Vec<String>),
}

/// Why a sitemap was not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SitemapError {
    /// Not well-formed XML (often an HTML error page served with status 200).
    #[error("not XML: {0}")]
    NotXml(String),
    /// XML whose root is neither `urlset` nor `sitemapindex`.
    #[error("not a sitemap (root element {0:?})")]
    NotSitemap(String),
}

/// Reads the `<loc>` of each entry, keeping at most `max_entries`.
pub fn parse(text: &str, max_entries: usize) -> Result<Sitemap, SitemapError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = roxmltree::ParsingOptions {
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| SitemapError::NotXml(e.to_string()))?;
    let root = doc.root_element();
    // Match local names only: sitemaps use the sitemaps.org namespace, with or without a prefix, and some
    // generators omit or misspell it.
    let entry = match root.tag_name().name() {
        "urlset" => "url",
        "sitemapindex" => "sitemap",
        other => return Err(SitemapError::NotSitemap(other.to_owned())),
    };
    let locs = root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == entry)
        .filter_map(|n| {
            n.children()
                .find(|c| c.is_element() && c.tag_name().name() == "loc")
        })
        .filter_map(|loc| loc.text())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(max_entries)
        .map(str::to_owned)
        .collect();
    Ok(if entry == "url" {
        Sitemap::Pages(locs)
    } else {
        Sitemap::Index(locs)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn reads_a_urlset() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc> https://a.com/ </loc><priority>1.0</priority></url>
  <url><lastmod>2024-01-01</lastmod><loc>https://a.com/about?x=1&amp;y=2</loc></url>
  <url><loc></loc></url>
</urlset>"#;
        assert_eq!(
            parse(xml, 10).unwrap(),
            Sitemap::Pages(vec![
                "https://a.com/".into(),
                "https://a.com/about?x=1&y=2".into()
            ])
        );
    }

    #[test]
    fn reads_an_index_with_a_prefix_and_a_limit() {
        let xml = r#"<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sm:sitemap><sm:loc>https://a.com/s1.xml</sm:loc></sm:sitemap>
  <sm:sitemap><sm:loc>https://a.com/s2.xml</sm:loc></sm:sitemap>
  <sm:sitemap><sm:loc>https://a.com/s3.xml</sm:loc></sm:sitemap>
</sm:sitemapindex>"#;
        assert_eq!(
            parse(xml, 2).unwrap(),
            Sitemap::Index(vec![
                "https://a.com/s1.xml".into(),
                "https://a.com/s2.xml".into()
            ])
        );
    }

    #[test]
    fn rejects_html_and_other_xml() {
        assert!(matches!(
            parse("<html><body>Not found</body>", 10),
            Err(SitemapError::NotXml(_))
        ));
        assert!(matches!(
            parse("<rss><channel/></rss>", 10),
            Err(SitemapError::NotSitemap(root)) if root == "rss"
        ));
        assert!(parse("", 10).is_err());
    }

    #[test]
    fn refuses_entity_expansion() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>
<urlset><url><loc>&b;</loc></url></urlset>"#;
        assert!(parse(bomb, 10).is_err());
    }
}
