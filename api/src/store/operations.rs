//! Operations: the durable job queue behind provisioning, KB syncs and builder jobs.
//!
//! A worker claims a due job with a lease (`lease_until`), extends the lease with heartbeats while it
//! works, and finishes with [`Store::complete_operation`] or [`Store::fail_operation`]. A server killed
//! mid-job stops heartbeating; once its lease has run out the job is claimable again, by another node or
//! by the same server after a restart. Every attempt counts; a job whose attempts are used up fails.

use serde_json::Value;
use sqlx::any::AnyRow;

use super::agents::ensure_agent;
use super::dialect::with_row_lock;
use super::ids::{OPERATION_PREFIX, new_id};
use super::rows::{col, enum_col, json_col, json_text, opt_enum_col, opt_json_col, text_enum};
use super::{Store, StoreError, Tx};

text_enum! {
    /// What a job does.
    pub enum OperationKind {
        /// Website to live agent.
        Provision => "provision",
        /// Re-read a live agent's website and refresh its knowledge base.
        KbSync => "kb_sync",
        /// The Agent Builder (the API shows its states as queued|processing|completed|failed).
        Builder => "builder",
    }
}

text_enum! {
    /// Where a job is. The API shows builder jobs' states under other names; the store keeps these.
    pub enum OperationStatus {
        /// Waiting for a worker (new, or retrying after a transient failure).
        Pending => "pending",
        /// A worker holds its lease.
        Running => "running",
        /// Done.
        Active => "active",
        /// Given up: a permanent failure or no attempts left.
        Failed => "failed",
    }
}

text_enum! {
    /// The step a running job reports.
    pub enum OperationStage {
        /// Crawling the website.
        Research => "research",
        /// Pulling facts out of the pages.
        Extract => "extract",
        /// Building the knowledge base.
        KbBuild => "kb_build",
        /// Writing the system prompt and greeting.
        Prompt => "prompt",
        /// Putting the agent live.
        Activate => "activate",
    }
}

/// How long a failed attempt waits before the next: 5 s, doubling per attempt, at most 10 minutes.
pub fn operation_backoff_ms(attempts: i64) -> i64 {
    let doublings = attempts.clamp(1, 8) - 1;
    (5_000i64 << doublings).min(600_000)
}

/// A job row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Operation {
    /// `op_...`
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// What it does.
    pub kind: OperationKind,
    /// Where it is.
    pub status: OperationStatus,
    /// The last step reported.
    pub stage: Option<OperationStage>,
    /// 0-100.
    pub progress: i64,
    /// The agent it works on (a builder job sets it when it creates one).
    pub agent_id: Option<String>,
    /// The request that started it.
    pub request: Value,
    /// What it produced, once active.
    pub result: Option<Value>,
    /// Machine-readable reason of the last failure, e.g. `crawl_blocked`.
    pub error_code: Option<String>,
    /// The last failure in words.
    pub error_message: Option<String>,
    /// Attempts started so far, the current one included.
    pub attempts: i64,
    /// Attempts allowed in all.
    pub max_attempts: i64,
    /// Not claimable before this (unix ms).
    pub run_after: i64,
    /// The worker holding the lease.
    pub lease_owner: Option<String>,
    /// The lease's end (unix ms).
    pub lease_until: Option<i64>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
    /// When the first attempt started.
    pub started_at: Option<i64>,
    /// When it became active or failed.
    pub finished_at: Option<i64>,
}

/// A job to queue.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOperation {
    /// What it does.
    pub kind: OperationKind,
    /// The agent it works on, if any yet.
    pub agent_id: Option<String>,
    /// The request, kept for the worker and for `GET /v2/operations/{id}`.
    pub request: Value,
    /// Attempts allowed in all (at least 1).
    pub max_attempts: u32,
}

/// Why an attempt failed, from the worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationFailure {
    /// Machine-readable, e.g. `crawl_timeout`.
    pub code: String,
    /// For people.
    pub message: String,
    /// Transient (a timeout, a 503): retry after a backoff while attempts remain. Permanent: fail now.
    pub retryable: bool,
}

/// A job as held by a worker: what lease-guarded writes name. Writes through a lease another worker took
/// over fail with [`StoreError::LeaseLost`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobLease<'a> {
    /// The job's tenant.
    pub tenant_id: &'a str,
    /// The job.
    pub op_id: &'a str,
    /// The worker that claimed it.
    pub worker: &'a str,
}

impl Operation {
    /// The lease of a job as returned by [`Store::claim_operation`]; `None` if no worker holds it.
    pub fn lease(&self) -> Option<JobLease<'_>> {
        self.lease_owner.as_deref().map(|worker| JobLease {
            tenant_id: &self.tenant_id,
            op_id: &self.id,
            worker,
        })
    }
}

macro_rules! operation_columns {
    () => {
        "id, tenant_id, kind, status, stage, progress, agent_id, request, result, error_code, \
         error_message, attempts, max_attempts, run_after, lease_owner, lease_until, created_at, \
         updated_at, started_at, finished_at"
    };
}

impl Operation {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Operation {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            kind: enum_col(row, "kind")?,
            status: enum_col(row, "status")?,
            stage: opt_enum_col(row, "stage")?,
            progress: col(row, "progress")?,
            agent_id: col(row, "agent_id")?,
            request: json_col(row, "request")?,
            result: opt_json_col(row, "result")?,
            error_code: col(row, "error_code")?,
            error_message: col(row, "error_message")?,
            attempts: col(row, "attempts")?,
            max_attempts: col(row, "max_attempts")?,
            run_after: col(row, "run_after")?,
            lease_owner: col(row, "lease_owner")?,
            lease_until: col(row, "lease_until")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
            started_at: col(row, "started_at")?,
            finished_at: col(row, "finished_at")?,
        })
    }
}

impl Store {
    /// Queues a job, claimable at once. [`StoreError::NotFound`] if `new.agent_id` is not the tenant's.
    pub async fn create_operation(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        new: NewOperation,
        now_ms: i64,
    ) -> Result<Operation, StoreError> {
        if let Some(agent_id) = &new.agent_id {
            ensure_agent(tx, tenant_id, agent_id).await?;
        }
        let row = sqlx::query(concat!(
            "INSERT INTO operations (id, tenant_id, kind, status, progress, agent_id, request, attempts,
               max_attempts, run_after, created_at, updated_at)
             VALUES ($1, $2, $3, 'pending', 0, $4, $5, 0, $6, $7, $7, $7) RETURNING ",
            operation_columns!()
        ))
        .bind(new_id(OPERATION_PREFIX))
        .bind(tenant_id)
        .bind(new.kind.as_str())
        .bind(&new.agent_id)
        .bind(json_text(&new.request))
        .bind(i64::from(new.max_attempts.max(1)))
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?;
        Operation::from_row(&row)
    }

    /// The job, if it belongs to `tenant_id`.
    pub async fn operation(&self, tenant_id: &str, op_id: &str) -> Result<Operation, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            operation_columns!(),
            " FROM operations WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(op_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Operation::from_row(&row)
    }

    /// The agent's jobs, newest first.
    pub async fn operations_for_agent(
        &self,
        tenant_id: &str,
        agent_id: &str,
    ) -> Result<Vec<Operation>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            operation_columns!(),
            " FROM operations WHERE tenant_id = $1 AND agent_id = $2 ORDER BY created_at DESC, id DESC"
        ))
        .bind(tenant_id)
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(Operation::from_row)
        .collect()
    }

    /// The tenant's jobs of `kind` created since `since_ms`, counted inside `tx` with the tenant's row
    /// locked: requests that check a quota and then queue a job, each in its own transaction, are
    /// serialised, so two of them can never both see room for one more.
    pub async fn count_operations_since(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        kind: OperationKind,
        since_ms: i64,
    ) -> Result<i64, StoreError> {
        let lock = with_row_lock!(self.backend, update, "SELECT id FROM tenants WHERE id = $1");
        sqlx::query(lock)
            .bind(tenant_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM operations WHERE tenant_id = $1 AND kind = $2 AND created_at >= $3",
        )
        .bind(tenant_id)
        .bind(kind.as_str())
        .bind(since_ms)
        .fetch_one(&mut **tx)
        .await?)
    }

    /// Claims the next due job (of `kind`, or any) for `worker`, leased until `now_ms + lease_ms`.
    /// Due: pending with `run_after <= now_ms`, or running with a lease that ran out (its worker died).
    /// Jobs whose lease ran out with no attempts left are failed (`lease_expired`) instead of claimed.
    pub async fn claim_operation(
        &self,
        worker: &str,
        kind: Option<OperationKind>,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<Option<Operation>, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE operations SET status = 'failed', error_code = 'lease_expired',
               error_message = 'the worker stopped before finishing and no attempts are left',
               lease_owner = NULL, lease_until = NULL, finished_at = $1, updated_at = $1
             WHERE status = 'running' AND lease_until < $1 AND attempts >= max_attempts",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let pick = with_row_lock!(
            self.backend,
            claim,
            "SELECT id FROM operations
             WHERE ((status = 'pending' AND run_after <= $1) OR (status = 'running' AND lease_until < $1))
               AND ($2 IS NULL OR kind = $2)
             ORDER BY run_after, created_at, id LIMIT 1"
        );
        let id: Option<String> = sqlx::query_scalar(pick)
            .bind(now_ms)
            .bind(kind.map(OperationKind::as_str))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else {
            tx.commit().await?;
            return Ok(None);
        };
        let row = sqlx::query(concat!(
            "UPDATE operations SET status = 'running', attempts = attempts + 1, lease_owner = $2,
               lease_until = $3, started_at = COALESCE(started_at, $4), updated_at = $4
             WHERE id = $1 RETURNING ",
            operation_columns!()
        ))
        .bind(&id)
        .bind(worker)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Operation::from_row(&row).map(Some)
    }

    /// Extends `worker`'s lease to `now_ms + lease_ms` and records its progress.
    /// [`StoreError::LeaseLost`] if another worker took the job over: stop working on it.
    pub async fn heartbeat_operation(
        &self,
        lease: &JobLease<'_>,
        stage: Option<OperationStage>,
        progress: Option<u8>,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE operations SET lease_until = $4, stage = COALESCE($5, stage),
               progress = COALESCE($6, progress), updated_at = $7
             WHERE tenant_id = $1 AND id = $2 AND status = 'running' AND lease_owner = $3",
        )
        .bind(lease.tenant_id)
        .bind(lease.op_id)
        .bind(lease.worker)
        .bind(now_ms + lease_ms)
        .bind(stage.map(OperationStage::as_str))
        .bind(progress.map(|p| i64::from(p.min(100))))
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(lease_error(&self.pool, lease).await);
        }
        Ok(())
    }

    /// Marks the leased job done with its `result` (and the agent it made, if it made one; it must be the
    /// tenant's). [`StoreError::LeaseLost`] if another worker took it over meanwhile.
    pub async fn complete_operation(
        &self,
        tx: &mut Tx,
        lease: &JobLease<'_>,
        result: &Value,
        agent_id: Option<&str>,
        now_ms: i64,
    ) -> Result<Operation, StoreError> {
        if let Some(agent_id) = agent_id {
            ensure_agent(tx, lease.tenant_id, agent_id).await?;
        }
        let row = sqlx::query(concat!(
            "UPDATE operations SET status = 'active', progress = 100, result = $4,
               agent_id = COALESCE($5, agent_id), error_code = NULL, error_message = NULL,
               lease_owner = NULL, lease_until = NULL, finished_at = $6, updated_at = $6
             WHERE tenant_id = $1 AND id = $2 AND status = 'running' AND lease_owner = $3 RETURNING ",
            operation_columns!()
        ))
        .bind(lease.tenant_id)
        .bind(lease.op_id)
        .bind(lease.worker)
        .bind(json_text(result))
        .bind(agent_id)
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(row) => Operation::from_row(&row),
            None => Err(lease_error(&mut **tx, lease).await),
        }
    }

    /// Records a failed attempt. Retryable with attempts left: back to pending, claimable after
    /// [`operation_backoff_ms`]. Otherwise: failed, with the code and message. Returns the job as it now is.
    pub async fn fail_operation(
        &self,
        tx: &mut Tx,
        lease: &JobLease<'_>,
        failure: &OperationFailure,
        now_ms: i64,
    ) -> Result<Operation, StoreError> {
        let held = with_row_lock!(
            self.backend,
            update,
            "SELECT attempts, max_attempts FROM operations
             WHERE tenant_id = $1 AND id = $2 AND status = 'running' AND lease_owner = $3"
        );
        let Some(row) = sqlx::query(held)
            .bind(lease.tenant_id)
            .bind(lease.op_id)
            .bind(lease.worker)
            .fetch_optional(&mut **tx)
            .await?
        else {
            return Err(lease_error(&mut **tx, lease).await);
        };
        let attempts: i64 = col(&row, "attempts")?;
        let max_attempts: i64 = col(&row, "max_attempts")?;
        let row = if failure.retryable && attempts < max_attempts {
            sqlx::query(concat!(
                "UPDATE operations SET status = 'pending', run_after = $6, error_code = $3,
                   error_message = $4, lease_owner = NULL, lease_until = NULL, updated_at = $5
                 WHERE tenant_id = $1 AND id = $2 RETURNING ",
                operation_columns!()
            ))
            .bind(lease.tenant_id)
            .bind(lease.op_id)
            .bind(&failure.code)
            .bind(&failure.message)
            .bind(now_ms)
            .bind(now_ms + operation_backoff_ms(attempts))
            .fetch_one(&mut **tx)
            .await?
        } else {
            sqlx::query(concat!(
                "UPDATE operations SET status = 'failed', error_code = $3, error_message = $4,
                   lease_owner = NULL, lease_until = NULL, finished_at = $5, updated_at = $5
                 WHERE tenant_id = $1 AND id = $2 RETURNING ",
                operation_columns!()
            ))
            .bind(lease.tenant_id)
            .bind(lease.op_id)
            .bind(&failure.code)
            .bind(&failure.message)
            .bind(now_ms)
            .fetch_one(&mut **tx)
            .await?
        };
        Operation::from_row(&row)
    }
}

/// Why a lease-guarded write matched nothing: the job is gone (for this tenant), or it is there and another
/// worker holds it.
async fn lease_error<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    lease: &JobLease<'_>,
) -> StoreError {
    let found =
        sqlx::query_scalar::<_, i64>("SELECT 1 FROM operations WHERE tenant_id = $1 AND id = $2")
            .bind(lease.tenant_id)
            .bind(lease.op_id)
            .fetch_optional(db)
            .await;
    match found {
        Ok(Some(_)) => StoreError::LeaseLost,
        Ok(None) => StoreError::NotFound,
        Err(e) => e.into(),
    }
}
