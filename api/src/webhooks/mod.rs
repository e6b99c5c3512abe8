//! Webhook delivery: the worker that empties the outbox [`Store::emit`](crate::store::Store::emit) fills.
//!
//! Every event a webhook wants becomes a delivery row in the same transaction as the change it reports, so
//! a delivery exists exactly when its event was committed and survives restarts. The worker claims due rows
//! with a lease (so several nodes, or a restarted one, never send a row twice at once), POSTs the signed
//! envelope, and records the outcome: 2xx is delivered; anything else (another status, a refused
//! connection, a timeout) waits 30 s, 2 min, 8 min, 32 min, and fails after the fifth attempt, visible in
//! the delivery log.
//!
//! Delivery is at least once: a server killed between the receiver's 2xx and the record retries the event.
//! Receivers deduplicate on `idempotency_key` (the event id, the same on every attempt and webhook).
//!
//! # Envelope
//! ```json
//! {"webhook_id": "wh_...", "event_id": "evt_...", "event_type": "agent.activated",
//!  "created_at": "2026-04-17T14:23:01Z", "idempotency_key": "evt_...", "data": {...}}
//! ```
//! `task.updated` is the exception: its body is the task payload itself (see [`envelope_body`]).
//!
//! Headers: `Content-Type: application/json`, `Dialtone-Signature` (see [`signature`]), `Dialtone-Event`
//! (the event type) and `Dialtone-Delivery` (the delivery id, new per webhook, the same across retries).

pub mod signature;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use dialtone_provisioning::crawl::ssrf::GuardedResolver;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;
use tracing::{Instrument, debug, info_span, warn};

pub use signature::{DEFAULT_TOLERANCE, SIGNATURE_HEADER, SignatureError, sign, verify_signature};

use crate::ApiContext;
use crate::store::{DeliveryOutcome, DeliveryStatus, DueDelivery, StoreError};

/// The header naming the event type.
pub const EVENT_HEADER: &str = "Dialtone-Event";
/// The header naming the delivery.
pub const DELIVERY_HEADER: &str = "Dialtone-Delivery";

/// How the delivery worker behaves.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Limit on one POST, from connecting to the end of the answer.
    pub timeout: Duration,
    /// Deliveries claimed (and sent concurrently) per round.
    pub batch: u32,
    /// How often the worker looks for retries that came due; new events wake it at once.
    pub poll_interval: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            batch: 32,
            poll_interval: Duration::from_secs(2),
        }
    }
}

/// Why the worker could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the webhook HTTP client: {0}")]
pub struct WebhookClientError(String);

/// One attempt, as the worker reports it to subscribers (tests, metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// `whd_...`
    pub delivery_id: String,
    /// `wh_...`
    pub webhook_id: String,
    /// `evt_...`
    pub event_id: String,
    /// What the receiver did.
    pub outcome: DeliveryOutcome,
    /// Where the delivery is after this attempt.
    pub status: DeliveryStatus,
    /// Attempts made so far, this one included.
    pub attempts: i64,
}

/// The JSON a receiver gets.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    /// The subscription it was sent for.
    pub webhook_id: &'a str,
    /// The event.
    pub event_id: &'a str,
    /// e.g. `agent.activated`.
    pub event_type: &'a str,
    /// When the event happened, ISO-8601 in UTC.
    pub created_at: String,
    /// Stable per event: the same on every retry and for every webhook.
    pub idempotency_key: &'a str,
    /// The event's payload.
    pub data: &'a Value,
}

/// Unix milliseconds as ISO-8601 UTC to the second (`2026-04-17T14:23:01Z`).
pub fn iso8601(ms: i64) -> String {
    jiff::Timestamp::from_second(ms.div_euclid(1000))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// The body of a delivery. `task.updated` events go out in the product's own shape: the task's fields
/// (`event`, `timestamp`, `task_id`, `task_number`, `status`, `task_data`, `result_data`, `merchant_id`)
/// at the top level, with `webhook_id`, `event_id` and `idempotency_key` beside them.
pub fn envelope_body(due: &DueDelivery) -> Vec<u8> {
    if due.event.event_type == crate::tasks::payload::TASK_UPDATED
        && let Value::Object(fields) = &due.event.data
    {
        let mut body = fields.clone();
        body.insert(
            "webhook_id".into(),
            Value::from(due.delivery.webhook_id.as_str()),
        );
        body.insert("event_id".into(), Value::from(due.event.id.as_str()));
        body.insert("idempotency_key".into(), Value::from(due.event.id.as_str()));
        return serde_json::to_vec(&body).unwrap_or_default();
    }
    let envelope = Envelope {
        webhook_id: &due.delivery.webhook_id,
        event_id: &due.event.id,
        event_type: &due.event.event_type,
        created_at: iso8601(due.event.created_at),
        idempotency_key: &due.event.id,
        data: &due.event.data,
    };
    // Serialising borrowed strings and a JSON value cannot fail.
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// The delivery worker. Clones share the HTTP client and the attempt channel.
#[derive(Clone)]
pub struct WebhookWorker {
    ctx: ApiContext,
    config: WebhookConfig,
    client: reqwest::Client,
    attempts: broadcast::Sender<Attempt>,
    policy: Arc<dialtone_provisioning::crawl::AddressPolicy>,
}

impl std::fmt::Debug for WebhookWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookWorker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is already the process default, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl WebhookWorker {
    /// A worker over `ctx`'s store. Receivers go through the crawler's address policy
    /// (`DIALTONE_CRAWL_ALLOW`): a webhook URL is user input, and without the guard it would let a tenant
    /// make this server POST to its own private network.
    pub fn new(ctx: ApiContext, config: WebhookConfig) -> Result<Self, WebhookClientError> {
        install_crypto_provider();
        let policy = Arc::new(ctx.config.crawl.allow.clone());
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect would send the signed body somewhere the tenant did not register.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver::new(
                Arc::clone(&policy),
                config.timeout,
            )))
            .user_agent(concat!("Dialtone-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookClientError(e.to_string()))?;
        let (attempts, _) = broadcast::channel(1024);
        Ok(Self {
            ctx,
            config,
            client,
            attempts,
            policy,
        })
    }

    /// Every attempt from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Attempt> {
        self.attempts.subscribe()
    }

    /// One round: claims the deliveries due now (at most one batch), sends them concurrently and records
    /// each outcome. Returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let lease = self.config.timeout + Duration::from_secs(20);
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let due = self
            .ctx
            .store
            .claim_deliveries(self.config.batch, lease_ms, self.ctx.now_ms())
            .await?;
        let count = due.len();
        let mut sends = JoinSet::new();
        for due in due {
            let this = self.clone();
            let span = info_span!("webhook_delivery", delivery_id = %due.delivery.id,
                event_type = %due.event.event_type, attempt = due.delivery.attempts);
            sends.spawn(async move { this.attempt(due).await }.instrument(span));
        }
        while let Some(done) = sends.join_next().await {
            if let Err(e) = done {
                warn!(error = %e, "a webhook send task failed");
            }
        }
        Ok(count)
    }

    async fn attempt(&self, due: DueDelivery) {
        let outcome = self.send(&due).await;
        self.ctx.metrics.webhook_attempt(&outcome);
        match &outcome {
            DeliveryOutcome::Delivered { status } => debug!(status, "webhook delivered"),
            DeliveryOutcome::Failed { status, error } => {
                debug!(?status, %error, "webhook attempt failed");
            }
        }
        let recorded = self
            .ctx
            .store
            .record_delivery_attempt(
                &due.delivery.tenant_id,
                &due.delivery.id,
                &outcome,
                self.ctx.now_ms(),
            )
            .await;
        match recorded {
            Ok(row) => {
                // Nobody listening is the normal case outside tests.
                let _ = self.attempts.send(Attempt {
                    delivery_id: row.id,
                    webhook_id: row.webhook_id,
                    event_id: due.event.id,
                    outcome,
                    status: row.status,
                    attempts: row.attempts,
                });
            }
            // The webhook was deleted meanwhile (its deliveries are failed) or the lease ran out and
            // another worker owns the row now: its record wins.
            Err(StoreError::Conflict(why)) => debug!(%why, "delivery outcome not recorded"),
            Err(e) => {
                warn!(error = ?e, "cannot record a webhook attempt; it is retried when its lease ends")
            }
        }
    }

    async fn send(&self, due: &DueDelivery) -> DeliveryOutcome {
        let failed = |error: &str| DeliveryOutcome::Failed {
            status: None,
            error: error.to_owned(),
        };
        let Ok(url) = reqwest::Url::parse(&due.url) else {
            return failed("invalid webhook URL");
        };
        if !matches!(url.scheme(), "http" | "https") {
            return failed("webhook URL is not http(s)");
        }
        // Names are checked by the resolver; IP literals never reach it.
        let literal = url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<IpAddr>().ok());
        if literal.is_some_and(|ip| !self.policy.permits(ip)) {
            return failed("webhook address is not allowed (private or loopback)");
        }
        let body = envelope_body(due);
        let timestamp = self.ctx.now_ms().div_euclid(1000);
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sign(&due.secret, timestamp, &body))
            .header(EVENT_HEADER, &due.event.event_type)
            .header(DELIVERY_HEADER, &due.delivery.id)
            .body(body);
        match request.send().await {
            Ok(response) if response.status().is_success() => DeliveryOutcome::Delivered {
                status: response.status().as_u16(),
            },
            Ok(response) => DeliveryOutcome::Failed {
                status: Some(response.status().as_u16()),
                error: format!("receiver answered {}", response.status()),
            },
            Err(e) if e.is_timeout() => failed("timed out"),
            Err(e) if e.is_connect() => failed("could not connect"),
            Err(_) => failed("request failed"),
        }
    }

    /// Delivers until `shutdown` turns true: a round whenever an event is committed (`ctx.events`), and one
    /// every `poll_interval` for retries that came due. A round that filled its batch is followed at once
    /// by another.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let events = Arc::clone(&self.ctx.events);
        loop {
            // Registered before the round, so an event committed during it still wakes the next wait.
            let notified = events.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.deliver_due().await {
                Ok(n) if n >= self.config.batch as usize => continue,
                Ok(_) => {}
                Err(e) => warn!(error = ?e, "cannot claim webhook deliveries"),
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
    }
}
