//! One HTTP request: the address check for IP-literal hosts, per-host politeness, a bounded body.
//! Redirects are returned, not followed, so the crawler can check and count each hop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, LOCATION};
use tokio::time::Instant;
use url::{Host, Url};

use super::ssrf::{AddressPolicy, GuardedResolver, ResolveError};
use super::url::origin_key;
use crate::error::{ProvisionError, ProvisionErrorCode};

/// What one request gave.
#[derive(Debug)]
pub enum Reply {
    /// A 3xx with the raw `Location` value (None when the header is missing or not text).
    Redirect {
        /// The Location header, unresolved.
        location: Option<String>,
    },
    /// Any other status, with its body (decompressed).
    Body {
        /// HTTP status.
        status: u16,
        /// The Content-Type header, if any.
        content_type: Option<String>,
        /// Body bytes, at most the limit asked for.
        body: Vec<u8>,
    },
}

/// What to do with a body longer than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Fail with [`FetchError::TooLarge`]: a page cut short would lose facts without saying so.
    Fail,
    /// Keep the first bytes: robots.txt is read up to a size and the rest ignored, as RFC 9309 allows.
    Truncate,
}

/// Why a request gave no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The host is, or resolves only to, an address the policy refuses.
    Blocked {
        /// Host name or IP literal.
        host: String,
    },
    /// The host name does not resolve.
    Dns {
        /// Host name.
        host: String,
    },
    /// No TCP or TLS connection could be made.
    Connect,
    /// No complete answer within the request timeout.
    Timeout,
    /// The body is larger than the limit.
    TooLarge,
    /// Anything else: a broken body, a protocol error.
    Other(String),
}

impl FetchError {
    /// The `SkippedUrl` reason for this failure.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Blocked { .. } => "blocked_address",
            Self::TooLarge => "too_large",
            Self::Timeout => "timeout",
            Self::Dns { .. } | Self::Connect | Self::Other(_) => "fetch_error",
        }
    }

    /// The crawl error when this failure hits the home page (or its robots.txt): the site cannot be read.
    pub fn into_crawl_error(self, url: &Url) -> ProvisionError {
        let host = url.host_str().unwrap_or_default();
        let failed = |m: String| ProvisionError::new(ProvisionErrorCode::ScoutCrawlFailed, m);
        match self {
            Self::Blocked { host } => ProvisionError::new(
                ProvisionErrorCode::BlockedAddress,
                format!(
                    "{host} is a loopback, private, link-local or metadata address; the crawler only \
                     fetches public websites unless {} allows it",
                    super::ssrf::ALLOW_ENV
                ),
            ),
            Self::Dns { host } => failed(format!(
                "could not resolve {host}: check the website address"
            )),
            Self::Connect => failed(format!("could not connect to {host}")),
            Self::Timeout => failed(format!("{host} did not answer in time")),
            Self::TooLarge => failed(format!("{url} is larger than the page size limit")),
            Self::Other(why) => failed(format!("could not fetch {url}: {why}")),
        }
    }
}

/// Spaces requests to one site: each waits for the site's previous slot plus the gap. Sites are keyed by
/// origin (scheme, host and port), the unit robots.txt governs (RFC 9309), so sites sharing a host name
/// on different ports each get their own gap.
#[derive(Debug)]
struct Politeness {
    gap: Duration,
    /// Per host: when the next request may start, and the host's own gap if robots.txt asked for more.
    hosts: Mutex<HashMap<String, (Instant, Duration)>>,
}

/// Hosts remembered before slots in the past are forgotten; a long-lived crawler meets many hosts.
const MAX_REMEMBERED_HOSTS: usize = 1024;

impl Politeness {
    fn new(gap: Duration) -> Self {
        Self {
            gap,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    async fn wait(&self, host: &str) {
        let slot = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if hosts.len() >= MAX_REMEMBERED_HOSTS {
                hosts.retain(|_, (next, _)| *next > now);
            }
            let (next, gap) = hosts.get(host).copied().unwrap_or((now, self.gap));
            if gap.is_zero() {
                return;
            }
            let slot = next.max(now);
            // A gap too large to add is a configuration mistake: a day stands in for it.
            let after = slot
                .checked_add(gap)
                .unwrap_or_else(|| slot + Duration::from_secs(86_400));
            hosts.insert(host.to_owned(), (after, gap));
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    fn raise_gap(&self, host: &str, gap: Duration) {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = hosts
            .entry(host.to_owned())
            .or_insert((Instant::now(), self.gap));
        entry.1 = entry.1.max(gap);
    }
}

/// Settings of the HTTP side.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// `User-Agent` header.
    pub user_agent: String,
    /// Limit on one request, connect to last body byte.
    pub request_timeout: Duration,
    /// Minimum time between two requests to one host.
    pub per_host_gap: Duration,
}

/// The crawler's HTTP client.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    politeness: Politeness,
}

impl Fetcher {
    /// A client that resolves through the guarded resolver, follows no redirect and uses no proxy (a
    /// proxy would resolve names itself, out of the guard's reach).
    pub fn new(
        settings: &FetchSettings,
        policy: Arc<AddressPolicy>,
    ) -> Result<Self, ProvisionError> {
        install_crypto_provider();
        let resolver = GuardedResolver::new(policy.clone(), settings.request_timeout);
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(resolver)
            .timeout(settings.request_timeout)
            .connect_timeout(settings.request_timeout)
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|e| {
                ProvisionError::new(
                    ProvisionErrorCode::ScoutCrawlFailed,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(Self {
            client,
            policy,
            politeness: Politeness::new(settings.per_host_gap),
        })
    }

    /// Lets a site ask for more time between requests (robots.txt Crawl-delay).
    pub fn raise_gap(&self, url: &Url, gap: Duration) {
        self.politeness.raise_gap(&origin_key(url), gap);
    }

    /// Whether the URL's host is an IP literal that the policy refuses. Names are checked by the
    /// resolver; literals never reach it.
    pub fn literal_blocked(&self, url: &Url) -> bool {
        match url.host() {
            Some(Host::Ipv4(ip)) => !self.policy.permits(ip.into()),
            Some(Host::Ipv6(ip)) => !self.policy.permits(ip.into()),
            _ => false,
        }
    }

    /// One GET. Bodies of 3xx answers are not read.
    pub async fn get(
        &self,
        url: &Url,
        max_bytes: usize,
        overflow: Overflow,
    ) -> Result<Reply, FetchError> {
        let host = url.host_str().unwrap_or_default().to_owned();
        if self.literal_blocked(url) {
            tracing::debug!(%url, "fetch refused: blocked address");
            return Err(FetchError::Blocked { host });
        }
        self.politeness.wait(&origin_key(url)).await;
        tracing::debug!(%url, "fetch");
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| classify(&e, &host))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            tracing::debug!(%url, status, location = location.as_deref().unwrap_or(""), "fetch redirected");
            return Ok(Reply::Redirect { location });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Content-Length counts compressed bytes, the limit decompressed ones: it can only fail early.
        if overflow == Overflow::Fail
            && response
                .content_length()
                .is_some_and(|n| n > max_bytes as u64)
            && response
                .headers()
                .get(reqwest::header::CONTENT_ENCODING)
                .is_none()
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, &host))? {
            if body.len() + chunk.len() > max_bytes {
                match overflow {
                    Overflow::Fail => return Err(FetchError::TooLarge),
                    Overflow::Truncate => {
                        body.extend_from_slice(&chunk[..max_bytes - body.len()]);
                        break;
                    }
                }
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(%url, status, bytes = body.len(), "fetch done");
        Ok(Reply::Body {
            status,
            content_type,
            body,
        })
    }
}

/// Sorts a client error into what the crawler reports: the resolver's own errors are found in the
/// source chain; the message never carries the URL (it is reported beside it).
fn classify(e: &reqwest::Error, host: &str) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(resolve) = err.downcast_ref::<ResolveError>() {
            return match resolve {
                ResolveError::Blocked { host, .. } => FetchError::Blocked { host: host.clone() },
                ResolveError::Lookup { host } => FetchError::Dns { host: host.clone() },
            };
        }
        source = err.source();
    }
    if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_connect() {
        FetchError::Connect
    } else {
        let mut why = e.to_string();
        if let Some(url) = e.url() {
            why = why.replace(url.as_str(), "");
        }
        tracing::debug!(%host, error = %why, "fetch failed");
        FetchError::Other(why)
    }
}

/// Installs rustls's ring provider as the process default, once; a provider installed first by the
/// binary or another crate serves as well. reqwest is built without a provider of its own.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is already the default, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn politeness_spaces_requests_per_host() {
        let p = Politeness::new(Duration::from_millis(250));
        let t0 = Instant::now();
        p.wait("a.com").await;
        assert_eq!(
            t0.elapsed(),
            Duration::ZERO,
            "the first request goes at once"
        );
        p.wait("b.com").await;
        assert_eq!(t0.elapsed(), Duration::ZERO, "other hosts do not wait");
        p.wait("a.com").await;
        assert_eq!(t0.elapsed(), Duration::from_millis(250));
        p.raise_gap("a.com", Duration::from_secs(1));
        p.wait("a.com").await;
        assert_eq!(
            t0.elapsed(),
            Duration::from_millis(500),
            "the slot was booked with the old gap"
        );
        p.wait("a.com").await;
        assert_eq!(
            t0.elapsed(),
            Duration::from_millis(1500),
            "then Crawl-delay widens the gap"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_gap_means_no_wait() {
        let p = Politeness::new(Duration::ZERO);
        let t0 = Instant::now();
        for _ in 0..3 {
            p.wait("a.com").await;
        }
        assert_eq!(t0.elapsed(), Duration::ZERO);
        p.raise_gap("a.com", Duration::from_millis(100));
        p.wait("a.com").await;
        p.wait("a.com").await;
        assert_eq!(t0.elapsed(), Duration::from_millis(100));
    }
}
