//! What every part of the API shares: the store, the settings, the clock and the event signal. Built once
//! by `dialtone serve` (or a test) and handed to the HTTP router, the workers and the agent directory.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dialtone_provisioning::CrawlConfig;
use tokio::sync::Notify;

use crate::metrics::Metrics;
use crate::store::Store;

/// Milliseconds since the Unix epoch; injected so tests control time.
pub type NowMs = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The wall clock.
pub fn system_now() -> NowMs {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    })
}

/// Settings of the control plane.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How the provisioning crawler behaves (limits, SSRF allow-list).
    pub crawl: CrawlConfig,
    /// How long a worker owns a claimed job before another may take it over.
    pub job_lease: Duration,
    /// Concurrent provisioning jobs in this process.
    pub job_workers: usize,
    /// How often each agent's website is re-crawled for knowledge changes.
    pub kb_monitor_interval: Duration,
    /// Agent-builder jobs a workspace may start per day.
    pub builder_jobs_per_day: u32,
    /// Requests per minute per token on routes that need `agents:write` (tighter than reads).
    pub write_rate_per_minute: u32,
    /// Requests per minute per token on other routes.
    pub read_rate_per_minute: u32,
    /// Base URL the server is reached at, for links in responses and webhooks.
    pub public_url: Option<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            crawl: CrawlConfig::default(),
            job_lease: Duration::from_secs(30),
            job_workers: 4,
            kb_monitor_interval: Duration::from_secs(24 * 3600),
            builder_jobs_per_day: 50,
            write_rate_per_minute: 120,
            read_rate_per_minute: 1200,
            public_url: None,
        }
    }
}

/// The shared context; cheap to clone.
#[derive(Clone)]
pub struct ApiContext {
    /// Durable state.
    pub store: Store,
    /// Settings.
    pub config: Arc<ApiConfig>,
    /// The clock.
    pub now: NowMs,
    /// Woken after every committed event, so SSE streams and the webhook worker look for new rows at once
    /// instead of polling on a timer.
    pub events: Arc<Notify>,
    /// Woken when agents change (activated, updated, deleted), so the call-side directory refreshes.
    pub agents_changed: Arc<Notify>,
    /// What `/metrics` serves; the job and webhook workers record into it.
    pub metrics: Metrics,
    /// Calls in progress on this node, followed by `GET /v2/calls/{id}/live`.
    pub live: Arc<crate::live::LiveCalls>,
}

impl ApiContext {
    /// A context over `store` with `config` and the wall clock.
    pub fn new(store: Store, config: ApiConfig) -> Self {
        Self {
            store,
            config: Arc::new(config),
            now: system_now(),
            events: Arc::new(Notify::new()),
            agents_changed: Arc::new(Notify::new()),
            metrics: Metrics::default(),
            live: Arc::default(),
        }
    }

    /// Now, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        (self.now)()
    }
}

impl fmt::Debug for ApiContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiContext")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
