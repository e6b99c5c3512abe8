//! Prometheus metrics of the control plane, and `GET /metrics` ([`routes`]) serving them with the call
//! metrics the telephony side records ([`CallMetrics`]).
//!
//! Recorded at the end of each job attempt ([`Metrics::job_attempt`]) and of each webhook attempt
//! ([`Metrics::webhook_attempt`]); the queue depths are read from the store at each scrape, so every node
//! of a fleet reports the shared queue as it is. Labels come from fixed sets (job kind, failure code,
//! delivery outcome, queue state): no tenants, agents, URLs or numbers.

mod http;

pub use http::{CONTENT_TYPE, MetricsAccess, routes};

use std::sync::Arc;
use std::time::Duration;

use dialtone_telephony::call::CallMetrics;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tracing::warn;

use crate::jobs::JobError;
use crate::store::{DeliveryOutcome, OperationKind, Store};

type Label = [(&'static str, &'static str); 1];
type JobLabels = [(&'static str, String); 2];

/// Upper bounds of the job-duration buckets, in seconds: a provisioning crawl waits on a site's
/// politeness gap between pages, so attempts take from a second to several minutes.
pub const JOB_DURATION_BUCKETS: [f64; 12] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

/// The `code` label of a job attempt that completed.
pub const JOB_OK: &str = "ok";
/// The `code` label of an attempt cut short because another worker took its lease over.
pub const JOB_LEASE_LOST: &str = "lease_lost";

const JOB_KINDS: [OperationKind; 3] = [
    OperationKind::Provision,
    OperationKind::Builder,
    OperationKind::KbSync,
];
const DELIVERY_OUTCOMES: [&str; 3] = ["delivered", "rejected", "unreachable"];

/// The registry behind `/metrics` and the control plane's families. Cheap to clone; clones share the
/// series.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    job_duration: Family<Label, Histogram, fn() -> Histogram>,
    job_attempts: Family<JobLabels, Counter>,
    webhook_attempts: Family<Label, Counter>,
    jobs_queued: Family<Label, Gauge>,
    webhook_outbox: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(CallMetrics::global())
    }
}

impl Metrics {
    /// The control plane's families plus `calls`' (the process's [`CallMetrics::global`] in a server).
    pub fn new(calls: &CallMetrics) -> Self {
        let mut registry = Registry::default();
        calls.register(&mut registry);
        let job_duration: Family<Label, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(JOB_DURATION_BUCKETS.iter().copied()));
        let job_attempts = Family::<JobLabels, Counter>::default();
        let webhook_attempts = Family::<Label, Counter>::default();
        let jobs_queued = Family::<Label, Gauge>::default();
        let webhook_outbox = Gauge::default();
        for kind in JOB_KINDS {
            let _ = job_duration.get_or_create(&[("kind", kind.as_str())]);
            let _ = job_attempts.get_or_create(&job_labels(kind, JOB_OK));
        }
        for outcome in DELIVERY_OUTCOMES {
            let _ = webhook_attempts.get_or_create(&[("outcome", outcome)]);
        }
        for state in ["pending", "running"] {
            let _ = jobs_queued.get_or_create(&[("state", state)]);
        }
        registry.register(
            "dialtone_job_duration_seconds",
            "Duration of job attempts (provisioning, agent builder, knowledge sync), by kind",
            job_duration.clone(),
        );
        registry.register(
            "dialtone_job_attempts",
            "Job attempts by kind and outcome code: ok, or the failure's code",
            job_attempts.clone(),
        );
        registry.register(
            "dialtone_webhook_attempts",
            "Webhook delivery attempts by outcome: delivered (2xx), rejected (another status), \
             unreachable (no answer)",
            webhook_attempts.clone(),
        );
        registry.register(
            "dialtone_jobs_queued",
            "Jobs in the durable queue, by state (pending: waiting for a worker; running: leased)",
            jobs_queued.clone(),
        );
        registry.register(
            "dialtone_webhook_outbox",
            "Webhook deliveries waiting to be delivered or retried",
            webhook_outbox.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            job_duration,
            job_attempts,
            webhook_attempts,
            jobs_queued,
            webhook_outbox,
        }))
    }

    /// One job attempt of `kind` ended after `elapsed` with `result`.
    pub fn job_attempt(
        &self,
        kind: OperationKind,
        elapsed: Duration,
        result: &Result<(), JobError>,
    ) {
        let code = match result {
            Ok(()) => JOB_OK.to_owned(),
            Err(e) => e
                .failure()
                .map_or_else(|| JOB_LEASE_LOST.to_owned(), |f| f.code),
        };
        self.0
            .job_duration
            .get_or_create(&[("kind", kind.as_str())])
            .observe(elapsed.as_secs_f64());
        self.0
            .job_attempts
            .get_or_create(&job_labels(kind, &code))
            .inc();
    }

    /// One webhook POST ended with `outcome`.
    pub fn webhook_attempt(&self, outcome: &DeliveryOutcome) {
        let label = match outcome {
            DeliveryOutcome::Delivered { .. } => "delivered",
            DeliveryOutcome::Failed {
                status: Some(_), ..
            } => "rejected",
            DeliveryOutcome::Failed { status: None, .. } => "unreachable",
        };
        self.0
            .webhook_attempts
            .get_or_create(&[("outcome", label)])
            .inc();
    }

    /// The exposition: queue depths read from `store` now, then every family. A store that cannot be read
    /// leaves the depths at their last values (and is logged); the rest is still served.
    pub async fn render(&self, store: &Store) -> String {
        match store.queue_depths().await {
            Ok(depths) => {
                self.0
                    .jobs_queued
                    .get_or_create(&[("state", "pending")])
                    .set(depths.jobs_pending);
                self.0
                    .jobs_queued
                    .get_or_create(&[("state", "running")])
                    .set(depths.jobs_running);
                self.0.webhook_outbox.set(depths.webhooks_pending);
            }
            Err(e) => warn!(error = ?e, "cannot read queue depths for /metrics"),
        }
        self.encode()
    }

    /// Every family in the OpenMetrics text format, as it stands.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.0.registry);
        out
    }
}

fn job_labels(kind: OperationKind, code: &str) -> JobLabels {
    [
        ("kind", kind.as_str().to_owned()),
        ("code", code.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use dialtone_provisioning::{ProvisionError, ProvisionErrorCode};

    use super::*;

    fn sample(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
    }

    #[test]
    fn job_attempts_count_by_kind_and_code_with_their_duration() {
        let metrics = Metrics::new(&CallMetrics::new());
        metrics.job_attempt(OperationKind::Provision, Duration::from_secs(3), &Ok(()));
        metrics.job_attempt(
            OperationKind::Provision,
            Duration::from_millis(700),
            &Err(JobError::Refused {
                code: "phone_number_in_use",
                message: "taken".into(),
            }),
        );
        metrics.job_attempt(
            OperationKind::KbSync,
            Duration::from_secs(40),
            &Err(JobError::LeaseLost),
        );
        let text = metrics.encode();
        assert_eq!(
            sample(
                &text,
                "dialtone_job_attempts_total{kind=\"provision\",code=\"ok\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(
                &text,
                "dialtone_job_attempts_total{kind=\"provision\",code=\"phone_number_in_use\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(
                &text,
                "dialtone_job_attempts_total{kind=\"kb_sync\",code=\"lease_lost\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(
                &text,
                "dialtone_job_duration_seconds_count{kind=\"provision\"}"
            ),
            2.0
        );
        assert!(
            (sample(
                &text,
                "dialtone_job_duration_seconds_sum{kind=\"provision\"}"
            ) - 3.7)
                .abs()
                < 1e-9
        );
        assert_eq!(
            sample(
                &text,
                "dialtone_job_duration_seconds_bucket{le=\"1.0\",kind=\"provision\"}"
            ),
            1.0
        );
    }

    #[test]
    fn a_pipeline_failure_is_counted_under_its_code() {
        let metrics = Metrics::new(&CallMetrics::new());
        let error = ProvisionError::new(ProvisionErrorCode::BlockedAddress, "private address");
        metrics.job_attempt(
            OperationKind::Provision,
            Duration::from_secs(1),
            &Err(JobError::Provision(error)),
        );
        let text = metrics.encode();
        assert_eq!(
            sample(
                &text,
                "dialtone_job_attempts_total{kind=\"provision\",code=\"blocked_address\"}"
            ),
            1.0
        );
    }

    #[test]
    fn webhook_attempts_count_by_outcome() {
        let metrics = Metrics::new(&CallMetrics::new());
        metrics.webhook_attempt(&DeliveryOutcome::Delivered { status: 204 });
        metrics.webhook_attempt(&DeliveryOutcome::Failed {
            status: Some(500),
            error: "receiver answered 500".into(),
        });
        metrics.webhook_attempt(&DeliveryOutcome::Failed {
            status: None,
            error: "could not connect".into(),
        });
        metrics.webhook_attempt(&DeliveryOutcome::Failed {
            status: None,
            error: "timed out".into(),
        });
        let text = metrics.encode();
        for (outcome, n) in [("delivered", 1.0), ("rejected", 1.0), ("unreachable", 2.0)] {
            assert_eq!(
                sample(
                    &text,
                    &format!("dialtone_webhook_attempts_total{{outcome=\"{outcome}\"}}")
                ),
                n
            );
        }
    }

    #[test]
    fn the_exposition_has_help_and_type_for_every_family_and_ends_with_eof() {
        let text = Metrics::new(&CallMetrics::new()).encode();
        for family in [
            "dialtone_calls",
            "dialtone_calls_active",
            "dialtone_calls_ended",
            "dialtone_turn_latency_seconds",
            "dialtone_jitter_frames",
            "dialtone_backend_errors",
            "dialtone_job_duration_seconds",
            "dialtone_job_attempts",
            "dialtone_webhook_attempts",
            "dialtone_jobs_queued",
            "dialtone_webhook_outbox",
        ] {
            assert!(
                text.contains(&format!("# HELP {family} ")),
                "no HELP for {family}"
            );
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "no TYPE for {family}"
            );
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
