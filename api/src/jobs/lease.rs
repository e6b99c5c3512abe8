//! A claimed job as its body sees it: the lease, kept alive while the body works, and the progress it
//! reports (`operation.updated`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dialtone_provisioning::{
    AgentSpec, Crawler, ProvisionError, ProvisionRequest, Stage, provision,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::ApiContext;
use crate::directory::StoreDirectory;
use crate::store::{JobLease, Operation, OperationFailure, OperationStage, StoreError, Tx};

/// Why a job's attempt ended without completing it.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The pipeline refused or failed; its code says whether a retry may help.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    /// The store failed: transient by nature, retried.
    #[error("store error")]
    Store(StoreError),
    /// The job cannot succeed as asked (a number already in use, a malformed request): failed at once.
    #[error("{code}: {message}")]
    Refused {
        /// Stable, e.g. `phone_number_in_use`.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// Another worker took the job over after this one's lease ran out: stop, write nothing.
    #[error("lease lost")]
    LeaseLost,
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::LeaseLost => JobError::LeaseLost,
            other => JobError::Store(other),
        }
    }
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl JobError {
    /// What the operation records; `None` when the lease is lost and nothing may be recorded.
    pub fn failure(&self) -> Option<OperationFailure> {
        Some(match self {
            JobError::Provision(e) => OperationFailure {
                code: e.code.as_str().to_owned(),
                message: e.message.clone(),
                retryable: e.code.retryable(),
            },
            JobError::Store(_) => OperationFailure {
                code: "internal_error".to_owned(),
                message: "a temporary storage problem interrupted the job".to_owned(),
                retryable: true,
            },
            JobError::Refused { code, message } => OperationFailure {
                code: (*code).to_owned(),
                message: message.clone(),
                retryable: false,
            },
            JobError::LeaseLost => return None,
        })
    }
}

/// One claimed job and what its body needs.
pub(crate) struct Job {
    pub ctx: ApiContext,
    /// The operation as claimed (attempts already counted).
    pub op: Operation,
    pub worker: String,
    pub crawler: Crawler,
    pub directory: Option<Arc<StoreDirectory>>,
}

impl Job {
    pub fn lease(&self) -> JobLease<'_> {
        JobLease {
            tenant_id: &self.op.tenant_id,
            op_id: &self.op.id,
            worker: &self.worker,
        }
    }

    pub fn lease_ms(&self) -> i64 {
        i64::try_from(self.ctx.config.job_lease.as_millis()).unwrap_or(i64::MAX)
    }

    pub fn now_ms(&self) -> i64 {
        self.ctx.now_ms()
    }

    /// Records a new stage (extending the lease) and tells subscribers with `operation.updated`.
    pub async fn stage(&self, stage: OperationStage, progress: u8) -> Result<(), JobError> {
        let now = self.now_ms();
        self.ctx
            .store
            .heartbeat_operation(
                &self.lease(),
                Some(stage),
                Some(progress),
                self.lease_ms(),
                now,
            )
            .await?;
        debug!(stage = %stage, progress, "job stage");
        let mut op = self.op.clone();
        op.stage = Some(stage);
        op.progress = i64::from(progress);
        let mut tx = self.ctx.store.begin().await?;
        emit_operation_updated(&self.ctx, &mut tx, &op, now).await?;
        tx.commit().await?;
        self.ctx.events.notify_waiters();
        Ok(())
    }

    /// Runs `work` while extending the lease every third of its length. A lease found lost ends the work
    /// at once (dropping it cancels the crawl); a heartbeat the store fails is retried at the next tick.
    pub async fn with_heartbeat<F: Future>(&self, work: F) -> Result<F::Output, JobError> {
        let period = (self.ctx.config.job_lease / 3).max(Duration::from_millis(10));
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate; the claim just set the lease
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return Ok(out),
                _ = ticks.tick() => {
                    let beat = self.ctx.store.heartbeat_operation(
                        &self.lease(), None, None, self.lease_ms(), self.now_ms()).await;
                    match beat {
                        Ok(()) => {}
                        Err(StoreError::LeaseLost | StoreError::NotFound) => return Err(JobError::LeaseLost),
                        Err(e) => warn!(error = ?e, "heartbeat failed; retrying at the next tick"),
                    }
                }
            }
        }
    }

    /// Runs the provisioning pipeline, reporting each stage as it starts. The pipeline announces stages
    /// through a synchronous callback, so they travel over a channel and are recorded between its steps.
    pub async fn provision(&self, request: &ProvisionRequest) -> Result<AgentSpec, JobError> {
        let (stages, mut heard) = mpsc::unbounded_channel::<Stage>();
        let mut on_stage = move |s: Stage| {
            let _ = stages.send(s);
        };
        let pipeline = provision(request, &self.crawler, &mut on_stage);
        tokio::pin!(pipeline);
        let result = loop {
            tokio::select! {
                biased;
                Some(stage) = heard.recv() => self.stage(op_stage(stage), stage.progress()).await?,
                result = &mut pipeline => break result,
            }
        };
        while let Ok(stage) = heard.try_recv() {
            self.stage(op_stage(stage), stage.progress()).await?;
        }
        Ok(result?)
    }
}

fn op_stage(stage: Stage) -> OperationStage {
    match stage {
        Stage::Research => OperationStage::Research,
        Stage::Extract => OperationStage::Extract,
        Stage::KbBuild => OperationStage::KbBuild,
        Stage::Prompt => OperationStage::Prompt,
    }
}

/// The `operation.updated` payload.
pub fn operation_payload(op: &Operation) -> Value {
    let mut data = json!({
        "operation_id": op.id,
        "kind": op.kind,
        "status": op.status,
        "stage": op.stage,
        "progress": op.progress,
        "agent_id": op.agent_id,
        "attempts": op.attempts,
    });
    if let Some(code) = &op.error_code {
        data["error"] = json!({ "code": code, "message": op.error_message });
    }
    data
}

/// Emits `operation.updated` for `op` in `tx`.
pub async fn emit_operation_updated(
    ctx: &ApiContext,
    tx: &mut Tx,
    op: &Operation,
    now_ms: i64,
) -> Result<(), StoreError> {
    ctx.store
        .emit(
            tx,
            &op.tenant_id,
            "operation.updated",
            op.agent_id.as_deref(),
            &operation_payload(op),
            now_ms,
        )
        .await
        .map(drop)
}
