//! What the crawler hands to extraction: decoded pages and a report of what it fetched and skipped.

use serde::{Deserialize, Serialize};

/// One fetched HTML page, decoded to UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Final URL after redirects; facts cite it as their source.
    pub url: String,
    /// Link depth from the start page (0 = home page); sitemap and common-path pages count as depth 1.
    pub depth: u32,
    /// The document, decoded from its declared or sniffed charset.
    pub html: String,
}

/// A URL the crawler chose not to fetch or could not fetch, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedUrl {
    /// The URL as found.
    pub url: String,
    /// Short machine-readable reason: `robots`, `not_html`, `too_large`, `http_404` (any status as
    /// `http_<code>`), `redirect_limit`, `redirect_loop`, `blocked_address`, `off_site`, `page_limit`,
    /// `time_limit`, `timeout` (one request), `duplicate` (redirects to a page already kept),
    /// `not_sitemap` (a listed sitemap that is not one), `fetch_error`.
    pub reason: String,
}

/// Counters and skips of one crawl, kept in the extraction report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlReport {
    /// Pages fetched and kept.
    pub pages_fetched: usize,
    /// Bytes received over the wire (after decompression) for kept pages.
    pub bytes_fetched: u64,
    /// URLs not fetched or not kept.
    pub skipped: Vec<SkippedUrl>,
    /// Whether a sitemap was found and read.
    pub sitemap_found: bool,
    /// Wall time of the crawl in milliseconds.
    pub elapsed_ms: u64,
}

/// Pages of one site, home page first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrawlResult {
    /// Kept pages; the home page (after redirects) is first.
    pub pages: Vec<Page>,
    /// What happened.
    pub report: CrawlReport,
}
