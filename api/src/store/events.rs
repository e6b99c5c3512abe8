//! The event log: what happened, per tenant, in order. [`Store::emit`] also fills the webhook outbox, in
//! the same transaction as the change it reports.

use serde_json::Value;
use sqlx::any::AnyRow;

use super::dialect::with_row_lock;
use super::ids::{DELIVERY_PREFIX, EVENT_PREFIX, new_id};
use super::rows::{col, json_col, json_text};
use super::{Store, StoreError, Tx};

/// One event.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Event {
    /// Position in the log, increasing; the SSE `Last-Event-ID`.
    pub seq: i64,
    /// `evt_...`, also the webhook envelope's idempotency key.
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// e.g. `agent.activated`, `call.completed`.
    pub event_type: String,
    /// The agent it is about, if any.
    pub agent_id: Option<String>,
    /// The payload.
    pub data: Value,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Event {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Event {
            seq: col(row, "seq")?,
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            event_type: col(row, "event_type")?,
            agent_id: col(row, "agent_id")?,
            data: json_col(row, "data")?,
            created_at: col(row, "created_at")?,
        })
    }
}

impl Store {
    /// Appends an event to the tenant's log and queues one delivery for each of the tenant's webhooks that
    /// wants it (its event list names `event_type` or `*`, and it is not limited to another agent). Both
    /// happen in the caller's transaction: the event and its deliveries exist exactly when the change they
    /// report was committed.
    ///
    /// Emitting holds a lock on the tenant until the transaction ends, so call it late in the transaction.
    /// The lock is what keeps [`Store::events_after`] from skipping events: on PostgreSQL a sequence value
    /// is taken at insert, and without it a transaction that took seq 11 could commit before one holding
    /// seq 10, letting a reader resume past 10 for good. Serialised per tenant, seq order is commit order.
    pub async fn emit(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        event_type: &str,
        agent_id: Option<&str>,
        data: &Value,
        now_ms: i64,
    ) -> Result<Event, StoreError> {
        let lock = with_row_lock!(self.backend, update, "SELECT id FROM tenants WHERE id = $1");
        sqlx::query(lock)
            .bind(tenant_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let row = sqlx::query(
            "INSERT INTO events (id, tenant_id, event_type, agent_id, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING seq, id, tenant_id, event_type, agent_id, data, created_at",
        )
        .bind(new_id(EVENT_PREFIX))
        .bind(tenant_id)
        .bind(event_type)
        .bind(agent_id)
        .bind(json_text(data))
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?;
        let event = Event::from_row(&row)?;
        // Matching happens here rather than in SQL: the event list is JSON, which the two databases
        // query differently, and a tenant has few webhooks.
        for webhook in Store::webhooks_in(tx, tenant_id).await? {
            if !webhook.wants(event_type, agent_id) {
                continue;
            }
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_seq, tenant_id, status, attempts,
                   next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
            )
            .bind(new_id(DELIVERY_PREFIX))
            .bind(&webhook.id)
            .bind(event.seq)
            .bind(tenant_id)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        }
        Ok(event)
    }

    /// Appends an event to the tenant's log and queues its delivery to one webhook only, whatever the
    /// webhook subscribed to: how `POST /v2/webhooks/{id}/test` sends `webhook.test` to the webhook under
    /// test and to no other. [`StoreError::NotFound`] if the webhook is not the tenant's (or deleted).
    /// Locks the tenant like [`Store::emit`], for the same reason.
    pub async fn emit_to_webhook(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        webhook_id: &str,
        event_type: &str,
        data: &Value,
        now_ms: i64,
    ) -> Result<Event, StoreError> {
        let lock = with_row_lock!(self.backend, update, "SELECT id FROM tenants WHERE id = $1");
        sqlx::query(lock)
            .bind(tenant_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM webhooks WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(tenant_id)
        .bind(webhook_id)
        .fetch_optional(&mut **tx)
        .await?;
        live.ok_or(StoreError::NotFound)?;
        let row = sqlx::query(
            "INSERT INTO events (id, tenant_id, event_type, agent_id, data, created_at)
             VALUES ($1, $2, $3, NULL, $4, $5)
             RETURNING seq, id, tenant_id, event_type, agent_id, data, created_at",
        )
        .bind(new_id(EVENT_PREFIX))
        .bind(tenant_id)
        .bind(event_type)
        .bind(json_text(data))
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?;
        let event = Event::from_row(&row)?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_seq, tenant_id, status, attempts,
               next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
        )
        .bind(new_id(DELIVERY_PREFIX))
        .bind(webhook_id)
        .bind(event.seq)
        .bind(tenant_id)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        Ok(event)
    }

    /// The seq of the tenant's newest event (0 when it has none): where a stream that wants only new
    /// events starts.
    pub async fn latest_event_seq(&self, tenant_id: &str) -> Result<i64, StoreError> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(seq.unwrap_or(0))
    }

    /// The tenant's events after `after_seq` (0: from the start), oldest first, at most `limit`: how an SSE
    /// stream resumes from `Last-Event-ID`.
    pub async fn events_after(
        &self,
        tenant_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        sqlx::query(
            "SELECT seq, id, tenant_id, event_type, agent_id, data, created_at FROM events
             WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant_id)
        .bind(after_seq)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(Event::from_row)
        .collect()
    }
}
