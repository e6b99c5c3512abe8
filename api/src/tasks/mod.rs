//! Outbound mission tasks: the worker that calls the number of each pending task with its task, and
//! records the transcript and a summary.
//!
//! A worker claims a due task (`accepted`, with a lease it extends while the call runs), marks it
//! `in_progress` and dials through a [`Dialer`]. Scheduling:
//! - at most `max_concurrent_per_tenant` tasks of one tenant are accepted or on a call at once, over
//!   every node that shares the store (the claim counts live leases);
//! - calls start only inside the calling-hours window in the callee's time zone ([`hours`]); a task due
//!   outside it waits for the next opening, without a status change;
//! - no answer and busy are retried after `retry_backoff` (doubling per attempt) while attempts remain;
//!   so is an answering machine when `retry_voicemail` is set (the last attempt leaves a message).
//!
//! Failure reasons: `no_answer`, `busy`, `rejected`, `trunk_error`, `timeout` (the call outlived
//! `call_timeout`, or the worker died mid-call: such a task is failed, not called twice).
//!
//! `result_data.summary` is written by a language model when the worker has a [`Summarizer`], else (or
//! when the model fails) it is extractive ([`result`]).
//!
//! Every state change emits `task.updated` ([`payload`]) in the transaction that makes it.

pub mod dialer;
pub mod hours;
pub mod payload;
pub mod result;
pub mod summary;

pub use dialer::{DialError, DialRequest, Dialer, SipDialer};
pub use hours::CallingHours;
pub use summary::{OpenAiSummarizer, Summarizer};

use std::sync::Arc;
use std::time::Duration;

use dialtone_telephony::call::{CallEnd, redact_number};
use dialtone_telephony::dialogue::{Mission, VoicemailPolicy};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span, warn};

use crate::ApiContext;
use crate::store::{AgentFilter, AgentStatus, StoreError, Task, TaskLease};
use payload::emit_task_updated;
use result::call_result;

/// Calls a task may take by default: the first and two retries.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// How the task worker schedules calls.
#[derive(Debug, Clone)]
pub struct TaskConfig {
    /// Calls of one tenant at once.
    pub max_concurrent_per_tenant: u32,
    /// Calls of this process at once.
    pub workers: usize,
    /// When calls may start, in the callee's zone.
    pub hours: CallingHours,
    /// The wait before the first retry; it doubles per attempt, up to an hour.
    pub retry_backoff: Duration,
    /// A call that lasts longer is ended and the task failed with `timeout`.
    pub call_timeout: Duration,
    /// How long a claim holds without a heartbeat.
    pub lease: Duration,
    /// An answering machine is called again while attempts remain (no message left until the last).
    pub retry_voicemail: bool,
    /// How often an idle worker looks for due tasks when nothing woke it.
    pub poll_interval: Duration,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            max_concurrent_per_tenant: 2,
            workers: 8,
            hours: CallingHours::default(),
            retry_backoff: Duration::from_secs(300),
            call_timeout: Duration::from_secs(15 * 60),
            lease: Duration::from_secs(30),
            retry_voicemail: true,
            poll_interval: Duration::from_secs(1),
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The wait before retrying a task that has made `attempts` calls.
pub fn retry_backoff_ms(base: Duration, attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    ms(base).saturating_mul(1 << doublings).min(3_600_000)
}

/// Runs mission tasks. Cheap to clone.
#[derive(Clone)]
pub struct TaskWorker {
    ctx: ApiContext,
    dialer: Arc<dyn Dialer>,
    summarizer: Option<Arc<dyn Summarizer>>,
    config: Arc<TaskConfig>,
    worker: Arc<str>,
}

impl std::fmt::Debug for TaskWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskWorker")
            .field("worker", &self.worker)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TaskWorker {
    /// A worker over `ctx`'s store that calls through `dialer`.
    pub fn new(ctx: ApiContext, dialer: Arc<dyn Dialer>, config: TaskConfig) -> Self {
        let mut salt = [0u8; 4];
        // Only tells this process's leases from a previous one's with the same pid; zeros do no harm.
        let _ = getrandom::fill(&mut salt);
        let worker = format!(
            "tasks-{}-{:08x}",
            std::process::id(),
            u32::from_le_bytes(salt)
        );
        Self {
            ctx,
            dialer,
            summarizer: None,
            config: Arc::new(config),
            worker: worker.into(),
        }
    }

    /// Has `summarizer` (a language model) write each call's summary.
    pub fn with_summarizer(mut self, summarizer: Arc<dyn Summarizer>) -> Self {
        self.summarizer = Some(summarizer);
        self
    }

    /// Claims one due task and runs its call to the end. `Ok(false)` when none was due.
    pub async fn run_one(&self) -> Result<bool, StoreError> {
        match self.claim().await? {
            Some(task) => {
                self.execute(task).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Fails tasks whose worker died mid-call, then claims the next due task (now `accepted`).
    pub async fn claim(&self) -> Result<Option<Task>, StoreError> {
        let now = self.ctx.now_ms();
        let store = &self.ctx.store;
        let mut tx = store.begin().await?;
        let expired = store.expire_tasks(&mut tx, now).await?;
        for task in &expired {
            warn!(task_id = %task.id, "task's worker stopped mid-call; failed with timeout");
            emit_task_updated(&self.ctx, &mut tx, task, now).await?;
        }
        let hours = &self.config.hours;
        let claimed = store
            .claim_task(
                &mut tx,
                &self.worker,
                ms(self.config.lease),
                self.config.max_concurrent_per_tenant,
                now,
                |t| hours.next_opening(&t.phone_number, now),
            )
            .await?;
        if let Some(task) = &claimed {
            emit_task_updated(&self.ctx, &mut tx, task, now).await?;
        }
        tx.commit().await?;
        if claimed.is_some() || !expired.is_empty() {
            // Only when something changed: the run loop listens to the same signal.
            self.ctx.events.notify_waiters();
        }
        Ok(claimed)
    }

    async fn execute(&self, task: Task) {
        let span = info_span!("task", task_id = %task.id, tenant_id = %task.tenant_id,
            to = %redact_number(&task.phone_number), attempt = task.attempts + 1);
        async {
            match self.call(&task).await {
                Ok(()) => {}
                Err(StoreError::InvalidStatus(why)) => info!(%why, "task not called"),
                Err(StoreError::LeaseLost) => warn!("lease lost; another worker has the task"),
                Err(e) => {
                    warn!(error = ?e, "task attempt not recorded; it resumes when its lease ends")
                }
            }
        }
        .instrument(span)
        .await;
    }

    async fn agent_for(&self, task: &Task) -> Result<Option<String>, StoreError> {
        if task.agent_id.is_some() {
            return Ok(task.agent_id.clone());
        }
        let filter = AgentFilter {
            status: Some(AgentStatus::Active),
            vertical: None,
        };
        let page = self
            .ctx
            .store
            .list_agents(&task.tenant_id, &filter, 1, None)
            .await?;
        Ok(page.items.into_iter().next().map(|a| a.id))
    }

    async fn call(&self, task: &Task) -> Result<(), StoreError> {
        let Some(lease) = task.lease() else {
            return Ok(());
        };
        let store = &self.ctx.store;
        let agent_id = self.agent_for(task).await?;
        let now = self.ctx.now_ms();
        let mut tx = store.begin().await?;
        let started = store.start_task(&mut tx, &lease, now).await?;
        emit_task_updated(&self.ctx, &mut tx, &started, now).await?;
        tx.commit().await?;
        self.ctx.events.notify_waiters();
        let Some(agent_id) = agent_id else {
            warn!("the tenant has no active agent to call with");
            return self
                .finish(
                    &lease,
                    Err(DialError::Trunk("no active agent".into())),
                    &started,
                )
                .await;
        };
        let last_attempt = started.attempts >= started.max_attempts;
        let on_voicemail = if self.config.retry_voicemail && !last_attempt {
            VoicemailPolicy::HangUp
        } else {
            VoicemailPolicy::LeaveMessage
        };
        let request = DialRequest {
            agent_id,
            to: task.phone_number.clone(),
            mission: Mission {
                task: task.task.clone(),
                on_voicemail,
            },
        };
        info!("placing the mission call");
        let outcome = self.dial_with_lease(&lease, request).await;
        self.finish(&lease, outcome, &started).await
    }

    /// Dials, extending the lease while the call runs and ending it (hanging up) after `call_timeout`.
    /// A failed heartbeat never cuts the call short: the person on the line is not dropped for a
    /// database hiccup, and a lease that is really lost shows when the outcome is recorded.
    async fn dial_with_lease(
        &self,
        lease: &TaskLease<'_>,
        request: DialRequest,
    ) -> Result<dialtone_telephony::call::CallReport, DialError> {
        let call = self.dialer.dial(request);
        tokio::pin!(call);
        let timeout = tokio::time::sleep(self.config.call_timeout);
        tokio::pin!(timeout);
        let mut beat =
            tokio::time::interval((self.config.lease / 3).max(Duration::from_millis(10)));
        beat.tick().await;
        loop {
            tokio::select! {
                outcome = &mut call => return outcome,
                () = &mut timeout => return Err(DialError::Timeout),
                _ = beat.tick() => {
                    let beat = self
                        .ctx
                        .store
                        .heartbeat_task(lease, ms(self.config.lease), self.ctx.now_ms())
                        .await;
                    if let Err(e) = beat {
                        warn!(error = ?e, "cannot extend the task's lease during its call");
                    }
                }
            }
        }
    }

    /// Records how the attempt went, and emits the change.
    async fn finish(
        &self,
        lease: &TaskLease<'_>,
        outcome: Result<dialtone_telephony::call::CallReport, DialError>,
        task: &Task,
    ) -> Result<(), StoreError> {
        let store = &self.ctx.store;
        // The summary first: no transaction waits on a language model.
        let result = match &outcome {
            Ok(report) if !matches!(report.end, CallEnd::NoAgent | CallEnd::BackendUnavailable) => {
                let mut result = call_result(&task.task, report);
                self.summarize(lease, &task.task, &mut result.data).await;
                Some(result)
            }
            _ => None,
        };
        let now = self.ctx.now_ms();
        let retry_at = now + retry_backoff_ms(self.config.retry_backoff, task.attempts);
        let mut tx = store.begin().await?;
        let updated = match (outcome, result) {
            (Ok(report), None) => {
                warn!(end = ?report.end, "the agent could not run the call");
                store
                    .fail_task(&mut tx, lease, "trunk_error", None, None, now)
                    .await?
            }
            (Ok(_), Some(result)) => {
                info!(outcome = result.outcome, "mission call ended");
                if result.voicemail_without_message {
                    store
                        .fail_task(
                            &mut tx,
                            lease,
                            "no_answer",
                            Some(retry_at),
                            Some(&result.data),
                            now,
                        )
                        .await?
                } else {
                    store
                        .complete_task(&mut tx, lease, &result.data, now)
                        .await?
                }
            }
            (Err(e), _) => {
                info!(reason = e.reason(), error = %e, "mission call did not connect");
                let retry = e.retryable().then_some(retry_at);
                store
                    .fail_task(&mut tx, lease, e.reason(), retry, None, now)
                    .await?
            }
        };
        emit_task_updated(&self.ctx, &mut tx, &updated, now).await?;
        tx.commit().await?;
        self.ctx.events.notify_waiters();
        Ok(())
    }

    /// Replaces the extractive summary with the language model's, when there is a model and a transcript.
    /// The lease is renewed first and the model gets half of it, so the task cannot be taken for a dead
    /// worker's meanwhile; without a renewed lease the extractive summary stays.
    async fn summarize(&self, lease: &TaskLease<'_>, task: &str, data: &mut serde_json::Value) {
        let Some(summarizer) = &self.summarizer else {
            return;
        };
        let transcript = data["concatenated_transcript"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if transcript.is_empty() {
            return;
        }
        let renewed = self
            .ctx
            .store
            .heartbeat_task(lease, ms(self.config.lease), self.ctx.now_ms())
            .await;
        if let Err(e) = renewed {
            warn!(error = ?e, "cannot extend the task's lease; keeping the extractive summary");
            return;
        }
        let budget = self.config.lease / 2;
        match tokio::time::timeout(budget, summarizer.summarize(task, &transcript)).await {
            Ok(Ok(summary)) => data["summary"] = serde_json::Value::String(summary),
            Ok(Err(e)) => warn!(error = %e, "keeping the extractive summary"),
            Err(_) => warn!(
                ?budget,
                "the summary took too long; keeping the extractive one"
            ),
        }
    }

    /// Runs tasks until `shutdown` turns true, at most `config.workers` calls at once. Calls still up at
    /// shutdown are dropped; their tasks fail with `timeout` once their leases run out.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.config.workers.max(1)));
        let events = Arc::clone(&self.ctx.events);
        let mut running = JoinSet::new();
        info!(worker = %self.worker, workers = self.config.workers, "task worker started");
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
                Ok(Some(task)) => {
                    let this = self.clone();
                    running.spawn(async move {
                        this.execute(task).await;
                        drop(slot);
                    });
                    continue;
                }
                Ok(None) => drop(slot),
                Err(e) => {
                    drop(slot);
                    warn!(error = ?e, "cannot claim a task");
                }
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        running.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_up_to_an_hour() {
        let base = Duration::from_secs(300);
        assert_eq!(retry_backoff_ms(base, 1), 300_000);
        assert_eq!(retry_backoff_ms(base, 2), 600_000);
        assert_eq!(retry_backoff_ms(base, 3), 1_200_000);
        assert_eq!(retry_backoff_ms(base, 20), 3_600_000);
    }
}
