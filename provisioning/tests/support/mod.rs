//! Shared pieces of the crawler scenario tests: fixture sites and a test configuration.

#![allow(dead_code)]

pub mod site_server;

use std::path::PathBuf;
use std::time::Duration;

use dialtone_provisioning::{CrawlConfig, CrawlResult, Crawler, ProvisionError};
pub use site_server::SiteServer;

/// The directory of a fixture site under `tests/fixtures/sites`.
pub fn site_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sites")
        .join(name)
}

/// Serves a fixture site.
pub async fn serve(name: &str) -> SiteServer {
    SiteServer::start(site_dir(name))
        .await
        .expect("the fixture site starts")
}

/// Production limits, but no politeness gap and loopback allowed, since fixtures are served on 127.0.0.1.
pub fn test_config() -> CrawlConfig {
    CrawlConfig {
        per_host_gap: Duration::ZERO,
        request_timeout: Duration::from_secs(10),
        max_total_time: Duration::from_secs(30),
        ..CrawlConfig::default()
    }
    .with_allow_list("127.0.0.0/8")
    .expect("a valid allow-list")
}

/// Crawls a URL with a configuration.
pub async fn crawl_with(config: CrawlConfig, url: &str) -> Result<CrawlResult, ProvisionError> {
    Crawler::new(config)
        .expect("the crawler builds")
        .crawl(url)
        .await
}

/// Paths of the kept pages, in order.
pub fn page_paths(result: &CrawlResult, server: &SiteServer) -> Vec<String> {
    result
        .pages
        .iter()
        .map(|p| {
            p.url
                .strip_prefix(server.origin())
                .unwrap_or(&p.url)
                .to_owned()
        })
        .collect()
}

/// Why a URL was skipped, if it was (the reason of its first entry).
pub fn skip_reason<'a>(result: &'a CrawlResult, url: &str) -> Option<&'a str> {
    result
        .report
        .skipped
        .iter()
        .find(|s| s.url == url)
        .map(|s| s.reason.as_str())
}

/// The HTML of a kept page by path.
pub fn html_of<'a>(result: &'a CrawlResult, server: &SiteServer, path: &str) -> &'a str {
    let url = server.url(path);
    result
        .pages
        .iter()
        .find(|p| p.url == url)
        .map(|p| p.html.as_str())
        .unwrap_or_else(|| {
            panic!(
                "{path} was not kept; pages: {:?}",
                page_paths(result, server)
            )
        })
}
