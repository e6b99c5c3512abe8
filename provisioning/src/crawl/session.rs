//! One crawl's fetching: redirect hops checked one by one, robots.txt per origin, sitemaps, and a page
//! fetched, decoded and outlined. The order of work is in `run.rs`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::time::Instant;
use url::Url;

use super::CrawlConfig;
use super::charset::{decode_html, is_html};
use super::fetch::{FetchError, Fetcher, Overflow, Reply};
use super::links;
use super::robots::{MAX_ROBOTS_BYTES, ROBOTS_TOKEN, Robots};
use super::sitemap::{self, Sitemap};
use super::url::{Site, has_non_html_extension, normalise, origin_key};
use crate::error::{ProvisionError, ProvisionErrorCode};
use crate::page::{CrawlReport, SkippedUrl};

/// How deep sitemap indexes may nest (index -> index -> urlset).
const MAX_SITEMAP_NESTING: u32 = 2;

/// What a request is for: it sets the size limit and whether robots.txt applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Page,
    Sitemap,
    Robots,
}

/// Why a URL gave no usable document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    Fetch(FetchError),
    Status(u16),
    /// robots.txt disallows the URL; `all` when it disallows the whole site.
    Robots {
        all: bool,
    },
    /// robots.txt answered a server error, which RFC 9309 reads as "disallow everything for now".
    RobotsUnavailable(u16),
    OffSite,
    NotHtml,
    RedirectLimit,
    RedirectLoop,
    BadRedirect,
}

impl Failure {
    /// The `SkippedUrl` reason.
    pub(super) fn reason(&self) -> String {
        match self {
            Self::Fetch(e) => e.reason().to_owned(),
            Self::Status(code) => format!("http_{code}"),
            Self::Robots { .. } | Self::RobotsUnavailable(_) => "robots".to_owned(),
            Self::OffSite => "off_site".to_owned(),
            Self::NotHtml => "not_html".to_owned(),
            Self::RedirectLimit => "redirect_limit".to_owned(),
            Self::RedirectLoop => "redirect_loop".to_owned(),
            Self::BadRedirect => "fetch_error".to_owned(),
        }
    }
}

/// A failure and the URL (after any redirects) where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failed {
    pub(super) url: Url,
    pub(super) failure: Failure,
}

impl Failed {
    fn new(url: &Url, failure: Failure) -> Self {
        Self {
            url: url.clone(),
            failure,
        }
    }

    /// The crawl's error when the home page fails this way: nothing of the site can be read.
    pub(super) fn into_crawl_error(self, start: &Url, max_redirects: usize) -> ProvisionError {
        let failed = |m: String| ProvisionError::new(ProvisionErrorCode::ScoutCrawlFailed, m);
        let origin = origin_key(&self.url);
        match self.failure {
            Failure::Fetch(e) => e.into_crawl_error(&self.url),
            Failure::Robots { all: true } => failed(format!(
                "robots.txt of {origin} disallows {ROBOTS_TOKEN} from the whole site, so it cannot be crawled"
            )),
            Failure::Robots { all: false } => failed(format!(
                "robots.txt of {origin} disallows {ROBOTS_TOKEN} from the home page {}",
                self.url
            )),
            Failure::RobotsUnavailable(code) => failed(format!(
                "robots.txt of {origin} answered HTTP {code}; the site may not be crawled until it answers"
            )),
            Failure::Status(code) => {
                failed(format!("the home page {} answered HTTP {code}", self.url))
            }
            Failure::NotHtml => failed(format!("the home page {} is not an HTML page", self.url)),
            Failure::RedirectLimit => failed(format!(
                "the home page {start} redirects more than {max_redirects} times"
            )),
            Failure::RedirectLoop => failed(format!("the home page {start} redirects in a loop")),
            Failure::BadRedirect | Failure::OffSite => failed(format!(
                "the home page {start} redirects to an unusable location ({})",
                self.url
            )),
        }
    }
}

/// A 2xx answer after redirects.
#[derive(Debug)]
struct Fetched {
    url: Url,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// A fetched HTML page, decoded, with its links.
#[derive(Debug)]
pub(super) struct FetchedPage {
    pub(super) url: Url,
    pub(super) html: String,
    pub(super) links: Vec<Url>,
    pub(super) has_text: bool,
    pub(super) bytes: usize,
}

/// robots.txt per origin: the parsed rules, or the server error status that makes it disallow all.
type RobotsCache = HashMap<String, Result<Arc<Robots>, u16>>;

type RobotsFuture<'a> = Pin<Box<dyn Future<Output = Result<Arc<Robots>, Failed>> + Send + 'a>>;

/// State shared by the tasks of one crawl.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) config: Arc<CrawlConfig>,
    pub(super) fetcher: Arc<Fetcher>,
    robots: tokio::sync::Mutex<RobotsCache>,
}

impl Session {
    pub(super) fn new(config: Arc<CrawlConfig>, fetcher: Arc<Fetcher>) -> Self {
        Self {
            config,
            fetcher,
            robots: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Fetches an HTML page (checking robots.txt, the site and the address on every hop), decodes it
    /// and finds its links. `site` None lets the home page's redirects move to another host.
    pub(super) async fn fetch_page(
        self: Arc<Self>,
        url: Url,
        site: Option<Site>,
    ) -> Result<FetchedPage, Failed> {
        let fetched = self.follow(url, site.as_ref(), Purpose::Page).await?;
        if !is_html(fetched.content_type.as_deref(), &fetched.body) {
            return Err(Failed::new(&fetched.url, Failure::NotHtml));
        }
        let html = decode_html(&fetched.body, fetched.content_type.as_deref());
        let outline = links::outline(&html, &fetched.url);
        Ok(FetchedPage {
            url: fetched.url,
            html,
            links: outline.links,
            has_text: outline.has_text,
            bytes: fetched.body.len(),
        })
    }

    /// GETs `start`, following at most `max_redirects` redirects by hand so each hop is checked.
    async fn follow(
        &self,
        start: Url,
        site: Option<&Site>,
        purpose: Purpose,
    ) -> Result<Fetched, Failed> {
        let (max_bytes, overflow) = match purpose {
            Purpose::Page => (self.config.max_page_bytes, Overflow::Fail),
            Purpose::Sitemap => (self.config.max_sitemap_bytes, Overflow::Fail),
            Purpose::Robots => (MAX_ROBOTS_BYTES, Overflow::Truncate),
        };
        let mut url = start;
        let mut chain: Vec<Url> = Vec::new();
        for hop in 0..=self.config.max_redirects {
            // The address goes first, so a redirect to a metadata address is reported as such.
            if self.fetcher.literal_blocked(&url) {
                let host = url.host_str().unwrap_or_default().to_owned();
                return Err(Failed::new(
                    &url,
                    Failure::Fetch(FetchError::Blocked { host }),
                ));
            }
            if site.is_some_and(|s| !s.contains(&url)) {
                return Err(Failed::new(&url, Failure::OffSite));
            }
            if purpose == Purpose::Page && hop > 0 && has_non_html_extension(&url) {
                return Err(Failed::new(&url, Failure::NotHtml));
            }
            if purpose != Purpose::Robots {
                let robots = self.robots_for(&url).await?;
                if !robots.allows(&url) {
                    let all = robots.disallows_all();
                    return Err(Failed::new(&url, Failure::Robots { all }));
                }
            }
            let reply = self.fetcher.get(&url, max_bytes, overflow).await;
            match reply.map_err(|e| Failed::new(&url, Failure::Fetch(e)))? {
                Reply::Redirect { location } => {
                    let next = location
                        .and_then(|l| url.join(l.trim()).ok())
                        .filter(|u| {
                            matches!(u.scheme(), "http" | "https") && u.host_str().is_some()
                        })
                        .map(|u| normalise(&u))
                        .ok_or_else(|| Failed::new(&url, Failure::BadRedirect))?;
                    chain.push(url);
                    if chain.contains(&next) {
                        return Err(Failed::new(&next, Failure::RedirectLoop));
                    }
                    url = next;
                }
                Reply::Body {
                    status,
                    content_type,
                    body,
                } => {
                    if !(200..300).contains(&status) {
                        return Err(Failed::new(&url, Failure::Status(status)));
                    }
                    return Ok(Fetched {
                        url,
                        content_type,
                        body,
                    });
                }
            }
        }
        Err(Failed::new(&url, Failure::RedirectLimit))
    }

    /// robots.txt of the URL's origin, fetched once per crawl. A transport failure on robots.txt itself
    /// is returned (the host is unreachable); 4xx and broken redirects mean "no rules"; 5xx and 429 mean
    /// "disallow all" (RFC 9309 section 2.3.1.3-4).
    ///
    /// Boxed: `follow` calls this and this calls `follow`, and an async call cycle needs one indirection
    /// (with `Send` spelled out, which the compiler cannot infer through the cycle).
    fn robots_for<'a>(&'a self, url: &'a Url) -> RobotsFuture<'a> {
        Box::pin(self.robots_for_inner(url))
    }

    async fn robots_for_inner(&self, url: &Url) -> Result<Arc<Robots>, Failed> {
        let key = origin_key(url);
        // Held across the fetch so concurrent pages of one origin wait for one robots.txt request.
        let mut cache = self.robots.lock().await;
        if let Some(entry) = cache.get(&key) {
            return entry
                .clone()
                .map_err(|code| Failed::new(url, Failure::RobotsUnavailable(code)));
        }
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let fetch = self.follow(robots_url.clone(), None, Purpose::Robots);
        let entry = match fetch.await {
            Ok(fetched) => {
                let robots = Robots::parse(&String::from_utf8_lossy(&fetched.body), ROBOTS_TOKEN);
                if let Some(delay) = robots.crawl_delay() {
                    self.fetcher
                        .raise_gap(url, delay.min(self.config.max_crawl_delay));
                }
                Ok(Arc::new(robots))
            }
            Err(Failed {
                failure: Failure::Status(code),
                ..
            }) if code >= 500 || code == 429 => Err(code),
            Err(Failed {
                url: failed_at,
                failure: Failure::Fetch(e),
            }) if failed_at == robots_url => {
                return Err(Failed::new(&failed_at, Failure::Fetch(e)));
            }
            Err(_) => Ok(Arc::new(Robots::allow_all())),
        };
        tracing::debug!(origin = %key, available = entry.is_ok(), "robots.txt read");
        cache.insert(key, entry.clone());
        entry.map_err(|code| Failed::new(url, Failure::RobotsUnavailable(code)))
    }

    /// Page URLs from the sitemaps robots.txt names (else `/sitemap.xml`), following indexes a bounded
    /// number of levels and files.
    pub(super) async fn read_sitemaps(
        &self,
        home: &Url,
        site: &Site,
        deadline: Instant,
        report: &mut CrawlReport,
    ) -> Vec<Url> {
        let mut robots_url = home.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        let listed: Vec<Url> = match self.robots_for(home).await {
            Ok(robots) => robots
                .sitemaps()
                .iter()
                .filter_map(|s| robots_url.join(s).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .collect(),
            Err(_) => Vec::new(),
        };
        // (URL, nesting level, whether it is only a guess whose absence is normal)
        let mut queue: VecDeque<(Url, u32, bool)> =
            listed.into_iter().map(|u| (u, 0, false)).collect();
        if queue.is_empty() {
            let mut guess = home.clone();
            guess.set_path("/sitemap.xml");
            guess.set_query(None);
            queue.push_back((guess, 0, true));
        }
        let mut seen = HashSet::new();
        let mut files = 0;
        let mut pages = Vec::new();
        while let Some((url, level, guessed)) = queue.pop_front() {
            if files >= self.config.max_sitemaps || pages.len() >= self.config.max_sitemap_urls {
                break;
            }
            if !seen.insert(url.as_str().to_owned()) {
                continue;
            }
            files += 1;
            let outcome = tokio::time::timeout_at(
                deadline,
                self.follow(url.clone(), Some(site), Purpose::Sitemap),
            );
            let fetched = match outcome.await {
                Err(_) => {
                    skip(report, &url, "time_limit");
                    break;
                }
                Ok(Err(f)) => {
                    if !guessed {
                        skip(report, &url, f.failure.reason());
                    }
                    continue;
                }
                Ok(Ok(fetched)) => fetched,
            };
            let room = self.config.max_sitemap_urls - pages.len();
            match sitemap::parse(&String::from_utf8_lossy(&fetched.body), room) {
                Ok(Sitemap::Pages(locs)) => {
                    report.sitemap_found = true;
                    pages.extend(locs.iter().filter_map(|l| fetched.url.join(l).ok()));
                }
                Ok(Sitemap::Index(locs)) => {
                    report.sitemap_found = true;
                    if level < MAX_SITEMAP_NESTING {
                        let nested = locs.iter().filter_map(|l| fetched.url.join(l).ok());
                        queue.extend(nested.map(|u| (u, level + 1, false)));
                    }
                }
                Err(e) => {
                    tracing::debug!(%url, error = %e, "sitemap unreadable");
                    // A guessed /sitemap.xml answered by a catch-all HTML page is normal, not news.
                    if !guessed {
                        skip(report, &url, "not_sitemap");
                    }
                }
            }
        }
        pages
    }
}

/// Records a URL that was not fetched or not kept.
pub(super) fn skip(report: &mut CrawlReport, url: &Url, reason: impl Into<String>) {
    let reason = reason.into();
    tracing::debug!(%url, %reason, "skipped");
    report.skipped.push(SkippedUrl {
        url: url.to_string(),
        reason,
    });
}
