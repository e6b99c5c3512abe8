//! The job workers: durable operations taken from the store's queue and run to their end.
//!
//! One dispatcher per process claims due operations (`claim_operation`, with a lease of
//! `config.job_lease`) and runs up to `config.job_workers` at once, each in its own task and tracing span.
//! A running job extends its lease every third of its length; a process that dies stops extending it, and
//! once it has run out the job is claimable again, by another node or by this one after a restart. Jobs
//! are written so that running one again is harmless: all they change is committed in one transaction at
//! the end, with the operation's completion, which fails if the lease was lost.
//!
//! Failures carry a code. Transient ones (a crawl that could not reach the site, a store error) go back to
//! the queue with the store's backoff while attempts remain; permanent ones (`invalid_url`,
//! `template_not_found`, `phone_number_in_use`, ...) fail the operation at once. A provisioning job that
//! fails for good marks its agent failed and emits `agent.provisioning_failed`.
//!
//! # Requests (what the HTTP layer stores in `operations.request`)
//! - `provision`: [`ProvisionJob`], with the operation's `agent_id` set to the agent created for it (if
//!   none is set the job creates the agent when it activates).
//! - `builder`: [`BuilderJob`]; the job creates the agent and completes with its id.
//! - `kb_sync`: any object (the monitor writes `{"trigger": "monitor"}`); the operation's `agent_id` names
//!   the agent.
//!
//! # Events
//! `operation.updated` at every stage and at the end (`{operation_id, kind, status, stage, progress,
//! agent_id, attempts, error?: {code, message}}`), `extraction.low_confidence` per doubtful fact
//! (`{agent_id, field, confidence}`), `agent.activated` (`{agent_id, phone_number, status: "active",
//! verticalType, provisioned_at, operation_id}`), `agent.provisioning_failed` (`{agent_id, operation_id,
//! phone_number, status: "failed", error: {code, message}}`), `kb.synced`.

mod kb_sync;
mod knowledge;
mod lease;
mod provision;

pub use kb_sync::{enqueue_due_kb_syncs, run_monitor};
pub use knowledge::{
    StaleProposal, apply_proposal, chunks_value, content_hash, stored_content_hash,
};
pub use lease::{JobError, operation_payload};

use std::sync::Arc;
use std::time::Duration;

use dialtone_provisioning::{Crawler, ProvisionError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span, warn};

use crate::ApiContext;
use crate::directory::StoreDirectory;
use crate::store::{Operation, OperationKind, OperationStatus, StoreError};
use lease::{Job, emit_operation_updated};

/// How often an idle dispatcher looks for due jobs when nothing woke it (retries come due, other nodes
/// queue jobs). Committed events wake it at once.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The request of a `provision` operation. Field names of both product shapes are accepted
/// (`businessUrl`/`business_url`, `verticalType`/`vertical`, `template_id`), also nested in `payload`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionJob {
    /// The business website.
    #[serde(default, alias = "businessUrl", alias = "url")]
    pub business_url: Option<String>,
    /// The industry vertical (`dental`).
    #[serde(default, alias = "verticalType", alias = "vertical_type")]
    pub vertical: Option<String>,
    /// A template id (`dental_receptionist`); wins over `vertical` for the pipeline.
    #[serde(default)]
    pub template_id: Option<String>,
    /// The E.164 number the agent answers once active.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// The reseller's label.
    #[serde(default)]
    pub white_label_id: Option<String>,
    /// A display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Extra instructions for the template.
    #[serde(default)]
    pub instructions: Option<String>,
}

impl ProvisionJob {
    /// Reads a stored request; `{"payload": {...}}` is read as its contents, top-level fields winning.
    pub fn from_value(request: &Value) -> Result<Self, serde_json::Error> {
        let mut merged = request.get("payload").cloned().unwrap_or(Value::Null);
        match (merged.as_object_mut(), request.as_object()) {
            (Some(inner), Some(outer)) => {
                for (k, v) in outer {
                    if k != "payload" && !v.is_null() {
                        inner.insert(k.clone(), v.clone());
                    }
                }
            }
            _ => merged = request.clone(),
        }
        serde_json::from_value(merged)
    }

    /// What picks the pipeline's template: the template id, else the vertical.
    pub fn template(&self) -> Option<String> {
        self.template_id
            .clone()
            .or_else(|| self.vertical.clone())
            .filter(|t| !t.trim().is_empty())
    }
}

/// The request of a `builder` operation (the Agent Builder).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderJob {
    /// The website to read.
    #[serde(default)]
    pub website_url: Option<String>,
    /// What the agent should do.
    #[serde(default)]
    pub instructions: Option<String>,
    /// A display name.
    #[serde(default)]
    pub name: Option<String>,
}

impl BuilderJob {
    /// Reads a stored request.
    pub fn from_value(request: &Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(request.clone())
    }
}

/// Runs jobs. Cheap to clone.
#[derive(Clone)]
pub struct JobRunner {
    ctx: ApiContext,
    crawler: Crawler,
    directory: Option<Arc<StoreDirectory>>,
    worker: Arc<str>,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner")
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl JobRunner {
    /// A runner over `ctx` that publishes activated agents to `directory` (when the process answers
    /// calls). Fails if the crawl configuration allows no page.
    pub fn new(
        ctx: ApiContext,
        directory: Option<Arc<StoreDirectory>>,
    ) -> Result<Self, ProvisionError> {
        let crawler = Crawler::new(ctx.config.crawl.clone())?;
        let mut salt = [0u8; 4];
        // Only tells this process's leases from a previous one's with the same pid; zeros do no harm.
        let _ = getrandom::fill(&mut salt);
        let worker = format!(
            "worker-{}-{:08x}",
            std::process::id(),
            u32::from_le_bytes(salt)
        );
        Ok(Self {
            ctx,
            crawler,
            directory,
            worker: worker.into(),
        })
    }

    /// The name this process's leases carry.
    pub fn worker_id(&self) -> &str {
        &self.worker
    }

    /// Claims one due job and runs it to its end. `Ok(false)` when none was due.
    pub async fn run_one(&self) -> Result<bool, StoreError> {
        match self.claim().await? {
            Some(op) => {
                self.execute(op).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn claim(&self) -> Result<Option<Operation>, StoreError> {
        let lease_ms = i64::try_from(self.ctx.config.job_lease.as_millis()).unwrap_or(i64::MAX);
        self.ctx
            .store
            .claim_operation(&self.worker, None, lease_ms, self.ctx.now_ms())
            .await
    }

    /// Runs a claimed job and records its failure, if it failed.
    async fn execute(&self, op: Operation) {
        let span = info_span!("job", op_id = %op.id, kind = %op.kind, tenant_id = %op.tenant_id,
            agent_id = op.agent_id.as_deref().unwrap_or(""), attempt = op.attempts);
        let job = Job {
            ctx: self.ctx.clone(),
            op,
            worker: self.worker.to_string(),
            crawler: self.crawler.clone(),
            directory: self.directory.clone(),
        };
        async {
            info!("job started");
            let started = tokio::time::Instant::now();
            let result = match job.op.kind {
                OperationKind::Provision => provision::run_provision(&job).await,
                OperationKind::Builder => provision::run_builder(&job).await,
                OperationKind::KbSync => kb_sync::run_kb_sync(&job).await,
            };
            job.ctx
                .metrics
                .job_attempt(job.op.kind, started.elapsed(), &result);
            match result {
                Ok(()) => info!("job completed"),
                Err(e) => record_failure(&job, &e).await,
            }
        }
        .instrument(span)
        .await;
    }

    /// Dispatches jobs until `shutdown` turns true, at most `config.job_workers` at once. Jobs still
    /// running at shutdown are dropped mid-way; their leases run out and they resume after a restart.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.ctx.config.job_workers.max(1)));
        let events = Arc::clone(&self.ctx.events);
        let mut running = JoinSet::new();
        info!(worker = %self.worker, workers = self.ctx.config.job_workers, "job workers started");
        loop {
            while running.try_join_next().is_some() {}
            let slot = tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break, // the semaphore is never closed
                },
                _ = shutdown.wait_for(|stop| *stop) => break,
            };
            let notified = events.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.claim().await {
                Ok(Some(op)) => {
                    let this = self.clone();
                    running.spawn(async move {
                        this.execute(op).await;
                        drop(slot);
                    });
                    continue;
                }
                Ok(None) => drop(slot),
                Err(e) => {
                    drop(slot);
                    warn!(error = ?e, "cannot claim a job");
                }
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        running.shutdown().await;
    }
}

/// Records a failed attempt: back to the queue if transient and attempts remain, else failed, with the
/// agent marked failed for provisioning jobs. A lost lease records nothing: the job is someone else's.
async fn record_failure(job: &Job, error: &JobError) {
    let Some(failure) = error.failure() else {
        warn!("lease lost; another worker has taken the job over");
        return;
    };
    warn!(code = %failure.code, retryable = failure.retryable, error = %error, "job attempt failed");
    let attempt = async {
        let now = job.now_ms();
        let mut tx = job.ctx.store.begin().await?;
        let op = job
            .ctx
            .store
            .fail_operation(&mut tx, &job.lease(), &failure, now)
            .await?;
        if op.status == OperationStatus::Failed && op.kind == OperationKind::Provision {
            provision::on_provision_failed(job, &mut tx, &failure.code, &failure.message).await?;
        }
        emit_operation_updated(&job.ctx, &mut tx, &op, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(op)
    };
    match attempt.await {
        Ok(op) => {
            job.ctx.events.notify_waiters();
            if op.status == OperationStatus::Failed {
                warn!(code = %failure.code, "job failed");
            }
        }
        // The lease ran out meanwhile: the next claim counts this attempt anyway.
        Err(StoreError::LeaseLost) => warn!("lease lost before the failure was recorded"),
        Err(e) => {
            warn!(error = ?e, "cannot record the job's failure; it is retried when its lease ends")
        }
    }
}
