//! The order of a crawl: the home page alone, then sitemaps and common paths, then a bounded number of
//! page fetches in flight, most useful page first, until the page limit, the time limit or no more pages.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

use super::frontier::{COMMON_PATHS, Entry, Frontier};
use super::session::{Failure, FetchedPage, Session, skip};
use super::url::{Site, dedupe_key, has_non_html_extension, normalise};
use crate::error::{ProvisionError, ProvisionErrorCode};
use crate::page::{CrawlReport, CrawlResult, Page};

/// Bound on pages waiting in the queue; far above any page limit, it only caps memory on huge sites.
const MAX_QUEUED: usize = 2000;

/// What the crawl has gathered so far; owned by the loop, so the fetch tasks share nothing mutable.
#[derive(Debug)]
struct Gathered {
    site: Site,
    frontier: Frontier,
    /// De-duplication keys of the pages kept, by their URL after redirects.
    kept: HashSet<String>,
    /// Kept pages but the home page, with their place in the queue order.
    pages: Vec<(Entry, Page)>,
    report: CrawlReport,
    max_depth: u32,
}

impl Gathered {
    /// Queues a link, sitemap URL or guessed common path found at `depth`, or records why not.
    fn discover(&mut self, session: &Session, url: &Url, depth: u32, guessed: bool) {
        // Beyond the depth limit links are not even recorded: the same URL may yet turn up nearer home.
        if depth > self.max_depth {
            return;
        }
        let url = normalise(url);
        if !self.frontier.see(&url) {
            return;
        }
        let reason = if session.fetcher.literal_blocked(&url) {
            "blocked_address"
        } else if !self.site.contains(&url) {
            "off_site"
        } else if has_non_html_extension(&url) {
            "not_html"
        } else if !self.frontier.push(url.clone(), depth, guessed) {
            "page_limit"
        } else {
            return;
        };
        skip(&mut self.report, &url, reason);
    }

    /// Keeps a fetched page, unless another URL already led to it, and queues its links.
    fn accept(&mut self, session: &Session, entry: Entry, page: FetchedPage) {
        if !self.kept.insert(dedupe_key(&page.url)) {
            skip(&mut self.report, &entry.url, "duplicate");
            return;
        }
        self.kept.insert(dedupe_key(&entry.url));
        self.report.bytes_fetched += page.bytes as u64;
        for link in &page.links {
            self.discover(session, link, entry.depth + 1, false);
        }
        let kept = Page {
            url: page.url.to_string(),
            depth: entry.depth,
            html: page.html,
        };
        self.pages.push((entry, kept));
    }
}

fn failed(message: String) -> ProvisionError {
    ProvisionError::new(ProvisionErrorCode::ScoutCrawlFailed, message)
}

impl Session {
    /// Crawls from `start`; see [`super::Crawler::crawl`].
    pub(super) async fn run(self: Arc<Self>, start: Url) -> Result<CrawlResult, ProvisionError> {
        let started = Instant::now();
        // A time limit too large to add means "no limit": a year stands in for it.
        let deadline = started
            .checked_add(self.config.max_total_time)
            .unwrap_or_else(|| started + Duration::from_secs(365 * 86_400));
        let home_fetch = self.clone().fetch_page(start.clone(), None);
        let home = match tokio::time::timeout_at(deadline, home_fetch).await {
            Err(_) => {
                return Err(failed(format!(
                    "{start} did not answer within the crawl time limit ({:?})",
                    self.config.max_total_time
                )));
            }
            Ok(Err(f)) => return Err(f.into_crawl_error(&start, self.config.max_redirects)),
            Ok(Ok(home)) => home,
        };
        if !home.has_text && home.links.is_empty() {
            return Err(failed(format!(
                "the site is empty: the home page {} has no text and no links",
                home.url
            )));
        }
        let mut gathered = Gathered {
            site: Site::of(&home.url),
            frontier: Frontier::new(MAX_QUEUED),
            kept: HashSet::from([dedupe_key(&start), dedupe_key(&home.url)]),
            pages: Vec::new(),
            report: CrawlReport {
                bytes_fetched: home.bytes as u64,
                ..CrawlReport::default()
            },
            max_depth: self.config.max_depth,
        };
        gathered.frontier.see(&start);
        gathered.frontier.see(&home.url);
        for link in &home.links {
            gathered.discover(&self, link, 1, false);
        }
        // Sitemaps cost requests; a crawl limited to the home page has no use for them.
        if self.config.max_pages > 1 && self.config.max_depth > 0 {
            let site = gathered.site.clone();
            let from_sitemaps = self
                .read_sitemaps(&home.url, &site, deadline, &mut gathered.report)
                .await;
            for url in &from_sitemaps {
                gathered.discover(&self, url, 1, false);
            }
        }
        for &(path, kind) in COMMON_PATHS {
            if !gathered.frontier.has_kind(kind)
                && let Ok(url) = home.url.join(path)
            {
                gathered.discover(&self, &url, 1, true);
            }
        }
        let home_page = Page {
            url: home.url.to_string(),
            depth: 0,
            html: home.html,
        };
        self.fetch_all(&mut gathered, deadline).await;

        gathered.pages.sort_by(|a, b| a.0.cmp(&b.0));
        let mut pages = Vec::with_capacity(gathered.pages.len() + 1);
        pages.push(home_page);
        pages.extend(gathered.pages.into_iter().map(|(_, page)| page));
        let mut report = gathered.report;
        report.pages_fetched = pages.len();
        report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(CrawlResult { pages, report })
    }

    /// Fetches queued pages, `concurrency` at a time, until the page limit, the deadline or an empty queue.
    async fn fetch_all(self: &Arc<Self>, gathered: &mut Gathered, deadline: Instant) {
        let concurrency = self.config.concurrency;
        // The home page counts against the limit.
        let room = self.config.max_pages.saturating_sub(1);
        let mut tasks = JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, Entry> = HashMap::new();
        loop {
            while in_flight.len() < concurrency && gathered.pages.len() + in_flight.len() < room {
                let Some(entry) = gathered.frontier.pop() else {
                    break;
                };
                let fetch = self
                    .clone()
                    .fetch_page(entry.url.clone(), Some(gathered.site.clone()));
                let handle = tasks.spawn(fetch);
                in_flight.insert(handle.id(), entry);
            }
            if in_flight.is_empty() {
                break;
            }
            tokio::select! {
                joined = tasks.join_next_with_id() => {
                    let Some(joined) = joined else { break };
                    let (id, outcome) = match joined {
                        Ok((id, outcome)) => (id, Some(outcome)),
                        Err(e) => (e.id(), None),
                    };
                    let Some(entry) = in_flight.remove(&id) else { continue };
                    match outcome {
                        Some(Ok(page)) => gathered.accept(self, entry, page),
                        // A guessed common path that does not exist is normal, not a broken link.
                        Some(Err(f)) if entry.guessed && matches!(f.failure, Failure::Status(404 | 410)) => {}
                        Some(Err(f)) => skip(&mut gathered.report, &entry.url, f.failure.reason()),
                        // A task that panicked or was cancelled: nothing here panics, but say so if it does.
                        None => skip(&mut gathered.report, &entry.url, "fetch_error"),
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    tasks.abort_all();
                    let mut late: Vec<Entry> = in_flight.drain().map(|(_, e)| e).collect();
                    late.sort();
                    late.extend(gathered.frontier.drain());
                    for entry in late {
                        skip(&mut gathered.report, &entry.url, "time_limit");
                    }
                    return;
                }
            }
        }
        for entry in gathered.frontier.drain() {
            skip(&mut gathered.report, &entry.url, "page_limit");
        }
    }
}
