//! The website crawler: a business site's useful pages, fetched politely and safely.
//!
//! robots.txt is obeyed (RFC 9309, product token `DialtoneBot`); pages come from the home page's links,
//! the sitemap (and sitemap indexes) and a few common paths, most useful first (contact, about, services,
//! team, hours, insurance), within limits on pages, bytes per page, depth and total time. Only the
//! starting site is crawled. Every request passes the SSRF guard ([`ssrf`]): loopback, private,
//! link-local and metadata addresses are refused after DNS resolution and on every redirect hop, unless
//! [`CrawlConfig::allow`] lists them.

pub mod charset;
mod fetch;
mod frontier;
pub mod links;
pub mod robots;
mod run;
mod session;
pub mod sitemap;
pub mod ssrf;
pub mod url;

use std::sync::Arc;
use std::time::Duration;

pub use self::ssrf::{ALLOW_ENV, AddressPolicy, AllowListError, Cidr};
pub use self::url::BusinessUrl;
use crate::error::{ProvisionError, ProvisionErrorCode};
use crate::page::CrawlResult;
use fetch::{FetchSettings, Fetcher};

/// Limits and manners of a crawl. `Default` is what production uses, minus the allow-list, which comes
/// from [`CrawlConfig::from_env`].
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Pages kept at most, the home page included.
    pub max_pages: usize,
    /// Largest page body accepted, after decompression; larger pages are skipped (`too_large`).
    pub max_page_bytes: usize,
    /// Largest sitemap file accepted, after decompression.
    pub max_sitemap_bytes: usize,
    /// Wall time of the whole crawl; pages still waiting then are skipped (`time_limit`).
    pub max_total_time: Duration,
    /// Limit on one request, from connecting to the last body byte.
    pub request_timeout: Duration,
    /// Redirect hops followed per URL.
    pub max_redirects: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Minimum time between two requests to one host.
    pub per_host_gap: Duration,
    /// Ceiling on a robots.txt Crawl-delay, which otherwise widens the per-host gap.
    pub max_crawl_delay: Duration,
    /// Link depth followed from the home page (0 = home page only).
    pub max_depth: u32,
    /// Sitemap files read, indexes included.
    pub max_sitemaps: usize,
    /// Page URLs taken from sitemaps.
    pub max_sitemap_urls: usize,
    /// `User-Agent` header; robots.txt groups are matched on [`robots::ROBOTS_TOKEN`].
    pub user_agent: String,
    /// Which addresses may be fetched; public ones only by default.
    pub allow: AddressPolicy,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        Self {
            max_pages: 50,
            max_page_bytes: 2 * 1024 * 1024,
            max_sitemap_bytes: 10 * 1024 * 1024,
            max_total_time: Duration::from_secs(60),
            request_timeout: Duration::from_secs(15),
            max_redirects: 5,
            concurrency: 4,
            per_host_gap: Duration::from_millis(250),
            max_crawl_delay: Duration::from_secs(2),
            max_depth: 3,
            max_sitemaps: 10,
            max_sitemap_urls: 500,
            user_agent: format!(
                "Mozilla/5.0 (compatible; {}/{}; +https://github.com/dialtone-voice/dialtone)",
                robots::ROBOTS_TOKEN,
                env!("CARGO_PKG_VERSION")
            ),
            allow: AddressPolicy::public_only(),
        }
    }
}

impl CrawlConfig {
    /// The defaults with the allow-list from [`ALLOW_ENV`] (`127.0.0.0/8,::1,...`; unset or empty =
    /// public addresses only).
    pub fn from_env() -> Result<Self, AllowListError> {
        let list = std::env::var(ALLOW_ENV).unwrap_or_default();
        Self::default().with_allow_list(&list)
    }

    /// This configuration with the allow-list parsed from the [`ALLOW_ENV`] format.
    pub fn with_allow_list(mut self, list: &str) -> Result<Self, AllowListError> {
        self.allow = AddressPolicy::parse_allow_list(list)?;
        Ok(self)
    }
}

/// Crawls business websites. Cheap to share: one HTTP client and per-host politeness state serve every
/// crawl made with it.
#[derive(Debug, Clone)]
pub struct Crawler {
    config: Arc<CrawlConfig>,
    fetcher: Arc<Fetcher>,
}

impl Crawler {
    /// A crawler with these limits. Zero limits that would make every crawl fail are refused.
    pub fn new(config: CrawlConfig) -> Result<Self, ProvisionError> {
        if config.max_pages == 0 || config.concurrency == 0 || config.max_page_bytes == 0 {
            return Err(ProvisionError::new(
                ProvisionErrorCode::ScoutCrawlFailed,
                "the crawl configuration allows no page: max_pages, concurrency and max_page_bytes must be \
                 at least 1",
            ));
        }
        let settings = FetchSettings {
            user_agent: config.user_agent.clone(),
            request_timeout: config.request_timeout,
            per_host_gap: config.per_host_gap,
        };
        let fetcher = Fetcher::new(&settings, Arc::new(config.allow.clone()))?;
        Ok(Self {
            config: Arc::new(config),
            fetcher: Arc::new(fetcher),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &CrawlConfig {
        &self.config
    }

    /// Crawls the site at `url` (a bare `example.com` means `https://example.com/`). The home page, after
    /// redirects, is the first page. Fails with `invalid_url` for input that is not a website,
    /// `blocked_address` when the site is on a refused address, and `scout_crawl_failed` when the home
    /// page cannot be read: DNS failure, unreachable host, robots.txt disallowing the site, an error
    /// status, or an empty page.
    pub async fn crawl(&self, url: &str) -> Result<CrawlResult, ProvisionError> {
        let start = BusinessUrl::parse(url)?;
        tracing::debug!(url = %start, "crawl start");
        let session = Arc::new(session::Session::new(
            self.config.clone(),
            self.fetcher.clone(),
        ));
        let result = session.run(start.into_url()).await;
        match &result {
            Ok(r) => tracing::debug!(
                pages = r.pages.len(),
                skipped = r.report.skipped.len(),
                elapsed_ms = r.report.elapsed_ms,
                "crawl done"
            ),
            Err(e) => tracing::debug!(error = %e, "crawl failed"),
        }
        result
    }
}
