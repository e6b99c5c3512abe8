//! Mission tasks: "call this number and get this done". One row per task, numbered per tenant.
//!
//! Life: `pending` (queued, or waiting for a retry or for calling hours) -> `accepted` (a worker holds
//! its lease and is about to dial; the requester can still cancel) -> `in_progress` (dialling or on the
//! call; no cancelling any more) -> `completed` or `failed`. `cancelled` is reachable from pending and
//! accepted only. Every change takes the caller's transaction, so the `task.updated` event it causes
//! commits with it.

use serde_json::Value;
use sqlx::any::AnyRow;

use super::agents::ensure_agent;
use super::cursor::{Cursor, Page, cursor_binds, fetch_limit, make_page};
use super::dialect::with_row_lock;
use super::ids::{TASK_PREFIX, new_id};
use super::rows::{col, enum_col, json_text, opt_json_col, text_enum};
use super::{Store, StoreError, Tx};

text_enum! {
    /// Where a task is.
    pub enum TaskStatus {
        /// Created; waiting for a worker (or a retry, or calling hours).
        Pending => "pending",
        /// A worker took it and is about to call. Can still be cancelled.
        Accepted => "accepted",
        /// The call is being placed or is up. Cannot be cancelled.
        InProgress => "in_progress",
        /// Done; `result_data` holds the transcript and summary.
        Completed => "completed",
        /// Cancelled before work started.
        Cancelled => "cancelled",
        /// Given up; `failure_reason` says why.
        Failed => "failed",
    }
}

impl TaskStatus {
    /// Whether the requester may still cancel.
    pub fn cancellable(self) -> bool {
        matches!(self, TaskStatus::Pending | TaskStatus::Accepted)
    }
}

/// A task row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Task {
    /// `task_...`
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// 1, 2, 3... per tenant.
    pub task_number: i64,
    /// Who to call (E.164).
    pub phone_number: String,
    /// What to get done, in the requester's words.
    pub task: String,
    /// The agent that calls; `None` lets the worker pick the tenant's.
    pub agent_id: Option<String>,
    /// The requester's own data, returned as given.
    pub metadata: Option<Value>,
    /// Where it is.
    pub status: TaskStatus,
    /// Why it failed, or why the last attempt did (`no_answer`, `busy`, `rejected`, `trunk_error`,
    /// `timeout`).
    pub failure_reason: Option<String>,
    /// Calls attempted so far.
    pub attempts: i64,
    /// Calls allowed in all.
    pub max_attempts: i64,
    /// `{concatenated_transcript, summary, outcome, answers}` once there is something to report.
    pub result_data: Option<Value>,
    /// Not called before this (unix ms).
    pub run_after: i64,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Its lease's end (unix ms).
    pub lease_until: Option<i64>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
    /// When the first call was placed.
    pub started_at: Option<i64>,
    /// When it completed, failed or was cancelled.
    pub finished_at: Option<i64>,
}

/// A task to queue.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTask {
    /// Who to call (E.164, already checked).
    pub phone_number: String,
    /// What to get done.
    pub task: String,
    /// The agent; must be the tenant's when set.
    pub agent_id: Option<String>,
    /// The requester's data.
    pub metadata: Option<Value>,
    /// Calls allowed in all (at least 1).
    pub max_attempts: u32,
}

/// Filters of [`Store::list_tasks`]; `None` matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only tasks in this state.
    pub status: Option<TaskStatus>,
    /// Only this agent's.
    pub agent_id: Option<String>,
    /// Only calls to this number.
    pub phone_number: Option<String>,
    /// Created at or after (unix ms).
    pub created_from: Option<i64>,
    /// Created before (unix ms).
    pub created_before: Option<i64>,
}

/// A task as held by a worker. Writes through a lease another worker took over fail with
/// [`StoreError::LeaseLost`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskLease<'a> {
    /// The task's tenant.
    pub tenant_id: &'a str,
    /// The task.
    pub task_id: &'a str,
    /// The worker that claimed it.
    pub worker: &'a str,
}

impl Task {
    /// The lease of a claimed task; `None` if no worker holds it.
    pub fn lease(&self) -> Option<TaskLease<'_>> {
        self.lease_owner.as_deref().map(|worker| TaskLease {
            tenant_id: &self.tenant_id,
            task_id: &self.id,
            worker,
        })
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Task {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            task_number: col(row, "task_number")?,
            phone_number: col(row, "phone_number")?,
            task: col(row, "task")?,
            agent_id: col(row, "agent_id")?,
            metadata: opt_json_col(row, "metadata")?,
            status: enum_col(row, "status")?,
            failure_reason: col(row, "failure_reason")?,
            attempts: col(row, "attempts")?,
            max_attempts: col(row, "max_attempts")?,
            result_data: opt_json_col(row, "result_data")?,
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

macro_rules! task_columns {
    () => {
        "id, tenant_id, task_number, phone_number, task, agent_id, metadata, status, failure_reason, \
         attempts, max_attempts, result_data, run_after, lease_owner, lease_until, created_at, \
         updated_at, started_at, finished_at"
    };
}

/// Tasks a claim looks at in one go; those outside calling hours are pushed back, the first inside is
/// taken.
const CLAIM_CANDIDATES: i64 = 16;

impl Store {
    /// Queues a task with the tenant's next number. [`StoreError::NotFound`] if `new.agent_id` is not the
    /// tenant's.
    pub async fn create_task(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        new: &NewTask,
        now_ms: i64,
    ) -> Result<Task, StoreError> {
        // The tenant row lock serialises numbering: two creates cannot read the same maximum.
        let lock = with_row_lock!(self.backend, update, "SELECT id FROM tenants WHERE id = $1");
        sqlx::query(lock)
            .bind(tenant_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(agent_id) = &new.agent_id {
            ensure_agent(tx, tenant_id, agent_id).await?;
        }
        let number: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(task_number), 0) + 1 FROM tasks WHERE tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_one(&mut **tx)
        .await?;
        let row = sqlx::query(concat!(
            "INSERT INTO tasks (id, tenant_id, task_number, phone_number, task, agent_id, metadata,
               status, attempts, max_attempts, run_after, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $9, $9) RETURNING ",
            task_columns!()
        ))
        .bind(new_id(TASK_PREFIX))
        .bind(tenant_id)
        .bind(number)
        .bind(&new.phone_number)
        .bind(&new.task)
        .bind(&new.agent_id)
        .bind(new.metadata.as_ref().map(json_text))
        .bind(i64::from(new.max_attempts.max(1)))
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?;
        Task::from_row(&row)
    }

    /// One task of the tenant.
    pub async fn task(&self, tenant_id: &str, task_id: &str) -> Result<Task, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(task_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Task::from_row(&row)
    }

    /// A page of the tenant's tasks, newest first. `cursor` is a previous page's `next_cursor`.
    pub async fn list_tasks(
        &self,
        tenant_id: &str,
        filter: &TaskFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Task>, StoreError> {
        let (after_at, after_id) = cursor_binds(cursor)?;
        let status = filter.status.map(TaskStatus::as_str);
        let rows = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE tenant_id = $1
              AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR agent_id = $3)
              AND ($4 IS NULL OR phone_number = $4) AND ($5 IS NULL OR created_at >= $5)
              AND ($6 IS NULL OR created_at < $6)
              AND ($7 IS NULL OR created_at < $7 OR (created_at = $7 AND id < $8))
              ORDER BY created_at DESC, id DESC LIMIT $9"
        ))
        .bind(tenant_id)
        .bind(status)
        .bind(&filter.agent_id)
        .bind(&filter.phone_number)
        .bind(filter.created_from)
        .bind(filter.created_before)
        .bind(after_at)
        .bind(after_id)
        .bind(fetch_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tasks WHERE tenant_id = $1
              AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR agent_id = $3)
              AND ($4 IS NULL OR phone_number = $4) AND ($5 IS NULL OR created_at >= $5)
              AND ($6 IS NULL OR created_at < $6)",
        )
        .bind(tenant_id)
        .bind(status)
        .bind(&filter.agent_id)
        .bind(&filter.phone_number)
        .bind(filter.created_from)
        .bind(filter.created_before)
        .fetch_one(&self.pool)
        .await?;
        let items = rows.iter().map(Task::from_row).collect::<Result<_, _>>()?;
        Ok(make_page(items, limit, total, |t: &Task| Cursor {
            at: t.created_at,
            id: t.id.clone(),
        }))
    }

    /// Cancels a task that has not started. [`StoreError::InvalidStatus`] once it is in progress or over.
    pub async fn cancel_task(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        task_id: &str,
        now_ms: i64,
    ) -> Result<Task, StoreError> {
        let status = self.locked_status(tx, tenant_id, task_id).await?;
        if !status.cancellable() {
            return Err(StoreError::InvalidStatus(format!(
                "a task that is {status} cannot be cancelled"
            )));
        }
        let row = sqlx::query(concat!(
            "UPDATE tasks SET status = 'cancelled', lease_owner = NULL, lease_until = NULL,
               finished_at = $3, updated_at = $3
             WHERE tenant_id = $1 AND id = $2 RETURNING ",
            task_columns!()
        ))
        .bind(tenant_id)
        .bind(task_id)
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?;
        Task::from_row(&row)
    }

    async fn locked_status(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        task_id: &str,
    ) -> Result<TaskStatus, StoreError> {
        let sql = with_row_lock!(
            self.backend,
            update,
            "SELECT status FROM tasks WHERE tenant_id = $1 AND id = $2"
        );
        let row = sqlx::query(sql)
            .bind(tenant_id)
            .bind(task_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        enum_col(&row, "status")
    }

    /// Fails the tasks whose worker died mid-call (in progress, lease run out) with `timeout`: a call
    /// that may have happened is not placed again. Returns them, for their events.
    pub async fn expire_tasks(&self, tx: &mut Tx, now_ms: i64) -> Result<Vec<Task>, StoreError> {
        sqlx::query(concat!(
            "UPDATE tasks SET status = 'failed', failure_reason = 'timeout', lease_owner = NULL,
               lease_until = NULL, finished_at = $1, updated_at = $1
             WHERE status = 'in_progress' AND lease_until < $1 RETURNING ",
            task_columns!()
        ))
        .bind(now_ms)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(Task::from_row)
        .collect()
    }

    /// Claims the next due task for `worker` (status `accepted`, leased until `now_ms + lease_ms`). Due:
    /// `run_after <= now_ms` and pending, or accepted with a lease that ran out, of a tenant with fewer
    /// than `per_tenant` tasks accepted or in progress. `closed(task)` says when the task may not be
    /// called now (calling hours): `Some(next_opening_ms)` pushes it back to then instead.
    pub async fn claim_task(
        &self,
        tx: &mut Tx,
        worker: &str,
        lease_ms: i64,
        per_tenant: u32,
        now_ms: i64,
        closed: impl Fn(&Task) -> Option<i64>,
    ) -> Result<Option<Task>, StoreError> {
        let pick = with_row_lock!(
            self.backend,
            claim,
            "SELECT ",
            task_columns!(),
            " FROM tasks t
             WHERE ((t.status = 'pending' AND t.run_after <= $1)
                    OR (t.status = 'accepted' AND t.lease_until < $1 AND t.run_after <= $1))
               AND (SELECT COUNT(*) FROM tasks a WHERE a.tenant_id = t.tenant_id
                      AND a.status IN ('accepted', 'in_progress') AND a.lease_until >= $1) < $2
             ORDER BY t.run_after, t.created_at, t.id LIMIT $3"
        );
        let rows = sqlx::query(pick)
            .bind(now_ms)
            .bind(i64::from(per_tenant.max(1)))
            .bind(CLAIM_CANDIDATES)
            .fetch_all(&mut **tx)
            .await?;
        for row in &rows {
            let task = Task::from_row(row)?;
            if let Some(opens) = closed(&task) {
                sqlx::query("UPDATE tasks SET run_after = $2 WHERE id = $1")
                    .bind(&task.id)
                    .bind(opens.max(now_ms + 1))
                    .execute(&mut **tx)
                    .await?;
                continue;
            }
            let row = sqlx::query(concat!(
                "UPDATE tasks SET status = 'accepted', lease_owner = $2, lease_until = $3, updated_at = $4
                 WHERE id = $1 RETURNING ",
                task_columns!()
            ))
            .bind(&task.id)
            .bind(worker)
            .bind(now_ms + lease_ms)
            .bind(now_ms)
            .fetch_one(&mut **tx)
            .await?;
            return Task::from_row(&row).map(Some);
        }
        Ok(None)
    }

    /// The call is being placed: accepted -> in_progress, one more attempt counted.
    /// [`StoreError::InvalidStatus`] if it was cancelled meanwhile; [`StoreError::LeaseLost`] if another
    /// worker took it over.
    pub async fn start_task(
        &self,
        tx: &mut Tx,
        lease: &TaskLease<'_>,
        now_ms: i64,
    ) -> Result<Task, StoreError> {
        let row = sqlx::query(concat!(
            "UPDATE tasks SET status = 'in_progress', attempts = attempts + 1,
               started_at = COALESCE(started_at, $4), updated_at = $4
             WHERE tenant_id = $1 AND id = $2 AND status = 'accepted' AND lease_owner = $3 RETURNING ",
            task_columns!()
        ))
        .bind(lease.tenant_id)
        .bind(lease.task_id)
        .bind(lease.worker)
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(row) => Task::from_row(&row),
            None => Err(self.lease_error(tx, lease).await),
        }
    }

    /// Extends the lease while the call runs. [`StoreError::LeaseLost`] if the task is no longer this
    /// worker's.
    pub async fn heartbeat_task(
        &self,
        lease: &TaskLease<'_>,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE tasks SET lease_until = $4
             WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3
               AND status IN ('accepted', 'in_progress')",
        )
        .bind(lease.tenant_id)
        .bind(lease.task_id)
        .bind(lease.worker)
        .bind(now_ms + lease_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::LeaseLost);
        }
        Ok(())
    }

    /// The call ended with a result: completed, with `result_data`.
    pub async fn complete_task(
        &self,
        tx: &mut Tx,
        lease: &TaskLease<'_>,
        result_data: &Value,
        now_ms: i64,
    ) -> Result<Task, StoreError> {
        let row = sqlx::query(concat!(
            "UPDATE tasks SET status = 'completed', result_data = $4, failure_reason = NULL,
               lease_owner = NULL, lease_until = NULL, finished_at = $5, updated_at = $5
             WHERE tenant_id = $1 AND id = $2 AND status = 'in_progress' AND lease_owner = $3
             RETURNING ",
            task_columns!()
        ))
        .bind(lease.tenant_id)
        .bind(lease.task_id)
        .bind(lease.worker)
        .bind(json_text(result_data))
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(row) => Task::from_row(&row),
            None => Err(self.lease_error(tx, lease).await),
        }
    }

    /// The attempt failed with `reason`. With `retry_at` and attempts left: back to pending until then.
    /// Otherwise failed. `result_data`, when given, replaces what the task had (a voicemail's transcript).
    pub async fn fail_task(
        &self,
        tx: &mut Tx,
        lease: &TaskLease<'_>,
        reason: &str,
        retry_at: Option<i64>,
        result_data: Option<&Value>,
        now_ms: i64,
    ) -> Result<Task, StoreError> {
        let row = sqlx::query(concat!(
            "UPDATE tasks SET
               status = CASE WHEN $5 IS NOT NULL AND attempts < max_attempts THEN 'pending' ELSE 'failed' END,
               run_after = CASE WHEN $5 IS NOT NULL AND attempts < max_attempts THEN $5 ELSE run_after END,
               finished_at = CASE WHEN $5 IS NOT NULL AND attempts < max_attempts THEN NULL ELSE $7 END,
               failure_reason = $4, result_data = COALESCE($6, result_data),
               lease_owner = NULL, lease_until = NULL, updated_at = $7
             WHERE tenant_id = $1 AND id = $2 AND status IN ('accepted', 'in_progress')
               AND lease_owner = $3 RETURNING ",
            task_columns!()
        ))
        .bind(lease.tenant_id)
        .bind(lease.task_id)
        .bind(lease.worker)
        .bind(reason)
        .bind(retry_at)
        .bind(result_data.map(json_text))
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(row) => Task::from_row(&row),
            None => Err(self.lease_error(tx, lease).await),
        }
    }

    /// Why a lease-guarded write matched nothing: gone, cancelled, or another worker's.
    async fn lease_error(&self, tx: &mut Tx, lease: &TaskLease<'_>) -> StoreError {
        let found =
            sqlx::query("SELECT status, lease_owner FROM tasks WHERE tenant_id = $1 AND id = $2")
                .bind(lease.tenant_id)
                .bind(lease.task_id)
                .fetch_optional(&mut **tx)
                .await;
        match found {
            Ok(None) => StoreError::NotFound,
            Ok(Some(row)) => match enum_col::<TaskStatus>(&row, "status") {
                Ok(TaskStatus::Cancelled) => {
                    StoreError::InvalidStatus("the task was cancelled".into())
                }
                Ok(_) => StoreError::LeaseLost,
                Err(e) => e,
            },
            Err(e) => e.into(),
        }
    }
}
