//! The webhook outbox: deliveries queued by [`Store::emit`], claimed by delivery workers with a lease,
//! retried with exponential backoff, failed after [`DELIVERY_MAX_ATTEMPTS`].

use sqlx::any::AnyRow;

use super::dialect::with_row_lock;
use super::events::Event;
use super::rows::{col, enum_col, text_enum};
use super::{Store, StoreError};

/// Attempts a delivery gets before it is failed.
pub const DELIVERY_MAX_ATTEMPTS: i64 = 5;

/// How long a failed delivery waits before the next attempt: 30 s, then four times longer each time
/// (30 s, 2 min, 8 min, 32 min), so a receiver down for half an hour still gets its events.
pub fn delivery_backoff_ms(attempts: i64) -> i64 {
    let steps = attempts.clamp(1, 6) - 1;
    30_000 * 4i64.pow(steps as u32)
}

text_enum! {
    /// Where a delivery is.
    pub enum DeliveryStatus {
        /// Waiting for its (next) attempt.
        Pending => "pending",
        /// The receiver answered 2xx.
        Delivered => "delivered",
        /// Out of attempts, or its webhook was deleted.
        Failed => "failed",
    }
}

/// A delivery row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WebhookDelivery {
    /// `whd_...`
    pub id: String,
    /// The webhook it goes to.
    pub webhook_id: String,
    /// The event it carries.
    pub event_seq: i64,
    /// The owning tenant.
    pub tenant_id: String,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts started, the current one included.
    pub attempts: i64,
    /// Not claimable before this (unix ms); while claimed, the claim's lease end.
    pub next_attempt_at: i64,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// The last failure in words.
    pub last_error: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When the receiver accepted it.
    pub delivered_at: Option<i64>,
}

/// A claimed delivery with what the worker needs to send it.
#[derive(Clone, Debug, PartialEq)]
pub struct DueDelivery {
    /// The delivery, as claimed.
    pub delivery: WebhookDelivery,
    /// Where to POST.
    pub url: String,
    /// The HMAC key to sign with.
    pub secret: String,
    /// What to send.
    pub event: Event,
}

/// What happened when a worker sent a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx with this status.
    Delivered {
        /// HTTP status.
        status: u16,
    },
    /// Another status, or no answer.
    Failed {
        /// HTTP status, if there was an answer.
        status: Option<u16>,
        /// What went wrong, for the delivery log.
        error: String,
    },
}

macro_rules! delivery_columns {
    () => {
        "id, webhook_id, event_seq, tenant_id, status, attempts, next_attempt_at, last_status, \
         last_error, created_at, delivered_at"
    };
}

impl WebhookDelivery {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(WebhookDelivery {
            id: col(row, "id")?,
            webhook_id: col(row, "webhook_id")?,
            event_seq: col(row, "event_seq")?,
            tenant_id: col(row, "tenant_id")?,
            status: enum_col(row, "status")?,
            attempts: col(row, "attempts")?,
            next_attempt_at: col(row, "next_attempt_at")?,
            last_status: col(row, "last_status")?,
            last_error: col(row, "last_error")?,
            created_at: col(row, "created_at")?,
            delivered_at: col(row, "delivered_at")?,
        })
    }
}

impl Store {
    /// Claims up to `limit` due deliveries, leased until `now_ms + lease_ms`: a worker that dies mid-send
    /// leaves them due again when the lease ends. Each claim counts as an attempt; a due delivery with no
    /// attempts left is failed instead of claimed.
    pub async fn claim_deliveries(
        &self,
        limit: u32,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'failed',
               last_error = COALESCE(last_error, 'no attempts left')
             WHERE status = 'pending' AND next_attempt_at <= $1 AND attempts >= $2",
        )
        .bind(now_ms)
        .bind(DELIVERY_MAX_ATTEMPTS)
        .execute(&mut *tx)
        .await?;
        let pick = with_row_lock!(
            self.backend,
            claim,
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $2"
        );
        let ids: Vec<String> = sqlx::query_scalar(pick)
            .bind(now_ms)
            .bind(i64::from(limit.max(1)))
            .fetch_all(&mut *tx)
            .await?;
        let mut due = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(concat!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2
                 WHERE id = $1 RETURNING ",
                delivery_columns!()
            ))
            .bind(&id)
            .bind(now_ms + lease_ms)
            .fetch_one(&mut *tx)
            .await?;
            let delivery = WebhookDelivery::from_row(&row)?;
            let hook =
                sqlx::query("SELECT url, secret FROM webhooks WHERE id = $1 AND tenant_id = $2")
                    .bind(&delivery.webhook_id)
                    .bind(&delivery.tenant_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let event = sqlx::query(
                "SELECT seq, id, tenant_id, event_type, agent_id, data, created_at FROM events
                 WHERE seq = $1 AND tenant_id = $2",
            )
            .bind(delivery.event_seq)
            .bind(&delivery.tenant_id)
            .fetch_one(&mut *tx)
            .await?;
            due.push(DueDelivery {
                url: col(&hook, "url")?,
                secret: col(&hook, "secret")?,
                event: Event::from_row(&event)?,
                delivery,
            });
        }
        tx.commit().await?;
        Ok(due)
    }

    /// Records the outcome of a claimed delivery's attempt: delivered; or failed, retried after
    /// [`delivery_backoff_ms`] until [`DELIVERY_MAX_ATTEMPTS`] attempts were made, then failed for good.
    pub async fn record_delivery_attempt(
        &self,
        tenant_id: &str,
        delivery_id: &str,
        outcome: &DeliveryOutcome,
        now_ms: i64,
    ) -> Result<WebhookDelivery, StoreError> {
        let mut tx = self.begin().await?;
        let current = with_row_lock!(
            self.backend,
            update,
            "SELECT attempts, status FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2"
        );
        let row = sqlx::query(current)
            .bind(tenant_id)
            .bind(delivery_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let attempts: i64 = col(&row, "attempts")?;
        let status: DeliveryStatus = enum_col(&row, "status")?;
        if status != DeliveryStatus::Pending {
            return Err(StoreError::Conflict(format!(
                "delivery is already {status}"
            )));
        }
        let row = match outcome {
            DeliveryOutcome::Delivered { status } => sqlx::query(concat!(
                "UPDATE webhook_deliveries SET status = 'delivered', last_status = $3, last_error = NULL,
                   delivered_at = $4
                 WHERE tenant_id = $1 AND id = $2 RETURNING ",
                delivery_columns!()
            ))
            .bind(tenant_id)
            .bind(delivery_id)
            .bind(i64::from(*status))
            .bind(now_ms)
            .fetch_one(&mut *tx)
            .await?,
            DeliveryOutcome::Failed { status, error } => {
                let next = if attempts >= DELIVERY_MAX_ATTEMPTS {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Pending
                };
                sqlx::query(concat!(
                    "UPDATE webhook_deliveries SET status = $3, last_status = $4, last_error = $5,
                       next_attempt_at = $6
                     WHERE tenant_id = $1 AND id = $2 RETURNING ",
                    delivery_columns!()
                ))
                .bind(tenant_id)
                .bind(delivery_id)
                .bind(next.as_str())
                .bind(status.map(i64::from))
                .bind(error)
                .bind(now_ms + delivery_backoff_ms(attempts))
                .fetch_one(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        WebhookDelivery::from_row(&row)
    }

    /// A webhook's deliveries, newest first, at most `limit`.
    pub async fn list_deliveries(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2
              ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(tenant_id)
        .bind(webhook_id)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(WebhookDelivery::from_row)
        .collect()
    }
}
