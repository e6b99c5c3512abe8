//! How much work waits: the job queue and the webhook outbox, as `/metrics` reports them at each scrape.

use super::{Store, StoreError};

/// Rows waiting in the durable queues, across every tenant and node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Jobs waiting for a worker: new, or retrying after a transient failure.
    pub jobs_pending: i64,
    /// Jobs a worker holds the lease of.
    pub jobs_running: i64,
    /// Webhook deliveries not yet delivered nor given up.
    pub webhooks_pending: i64,
}

impl Store {
    /// Counts the queued jobs by state and the pending webhook deliveries. Three indexed counts; meant
    /// for a scrape every few seconds, not for a hot path.
    pub async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        let count = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::from)
        };
        Ok(QueueDepths {
            jobs_pending: count("SELECT COUNT(*) FROM operations WHERE status = 'pending'").await?,
            jobs_running: count("SELECT COUNT(*) FROM operations WHERE status = 'running'").await?,
            webhooks_pending: count(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'",
            )
            .await?,
        })
    }
}
