//! Webhook subscriptions: where to POST which events, per tenant and optionally per agent.

use sqlx::any::AnyRow;

use super::ids::{WEBHOOK_PREFIX, WEBHOOK_SECRET_PREFIX, new_id, new_secret};
use super::rows::{col, string_list_col, string_list_text};
use super::{Store, StoreError};

/// A subscription.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Webhook {
    /// `wh_...`
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Event types it wants, e.g. `agent.activated`; `*` wants all.
    pub events: Vec<String>,
    /// Only this agent's events, or every agent's when `None`.
    pub agent_id: Option<String>,
    /// The HMAC key deliveries are signed with (`whsec_...`).
    pub secret: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Set when deleted; deleted webhooks get no deliveries and are invisible to reads.
    pub deleted_at: Option<i64>,
}

/// A subscription to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewWebhook {
    /// See [`Webhook::url`].
    pub url: String,
    /// See [`Webhook::events`].
    pub events: Vec<String>,
    /// See [`Webhook::agent_id`]; must be the tenant's agent.
    pub agent_id: Option<String>,
}

impl Webhook {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Webhook {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            url: col(row, "url")?,
            events: string_list_col(row, "events")?,
            agent_id: col(row, "agent_id")?,
            secret: col(row, "secret")?,
            created_at: col(row, "created_at")?,
            deleted_at: col(row, "deleted_at")?,
        })
    }

    /// Whether an event of `event_type` about `agent_id` goes to this webhook.
    pub(crate) fn wants(&self, event_type: &str, agent_id: Option<&str>) -> bool {
        let type_matches = self.events.iter().any(|e| e == "*" || e == event_type);
        let agent_matches = match &self.agent_id {
            None => true,
            Some(wanted) => agent_id == Some(wanted.as_str()),
        };
        type_matches && agent_matches
    }
}

impl Store {
    /// Subscribes `new.url` to events. [`StoreError::NotFound`] if `new.agent_id` is not the tenant's agent.
    pub async fn create_webhook(
        &self,
        tenant_id: &str,
        new: &NewWebhook,
        now_ms: i64,
    ) -> Result<Webhook, StoreError> {
        if let Some(agent_id) = &new.agent_id {
            self.agent(tenant_id, agent_id).await?;
        }
        let webhook = Webhook {
            id: new_id(WEBHOOK_PREFIX),
            tenant_id: tenant_id.to_owned(),
            url: new.url.clone(),
            events: new.events.clone(),
            agent_id: new.agent_id.clone(),
            secret: new_secret(WEBHOOK_SECRET_PREFIX),
            created_at: now_ms,
            deleted_at: None,
        };
        sqlx::query(
            "INSERT INTO webhooks (id, tenant_id, url, events, agent_id, secret, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&webhook.id)
        .bind(&webhook.tenant_id)
        .bind(&webhook.url)
        .bind(string_list_text(&webhook.events))
        .bind(&webhook.agent_id)
        .bind(&webhook.secret)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(webhook)
    }

    /// One webhook, unless deleted.
    pub async fn webhook(&self, tenant_id: &str, webhook_id: &str) -> Result<Webhook, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant_id, url, events, agent_id, secret, created_at, deleted_at FROM webhooks
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(tenant_id)
        .bind(webhook_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Webhook::from_row(&row)
    }

    /// The tenant's webhooks, oldest first.
    pub async fn list_webhooks(&self, tenant_id: &str) -> Result<Vec<Webhook>, StoreError> {
        sqlx::query(
            "SELECT id, tenant_id, url, events, agent_id, secret, created_at, deleted_at FROM webhooks
             WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at, id",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(Webhook::from_row)
        .collect()
    }

    /// Deletes a webhook; its deliveries still waiting are marked failed, so none goes out after this.
    pub async fn delete_webhook(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE webhooks SET deleted_at = $3 WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(tenant_id)
        .bind(webhook_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'failed', last_error = 'webhook deleted'
             WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'pending'",
        )
        .bind(tenant_id)
        .bind(webhook_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tenant's live webhooks, for [`Store::emit`] inside its transaction.
    pub(crate) async fn webhooks_in(
        tx: &mut super::Tx,
        tenant_id: &str,
    ) -> Result<Vec<Webhook>, StoreError> {
        sqlx::query(
            "SELECT id, tenant_id, url, events, agent_id, secret, created_at, deleted_at FROM webhooks
             WHERE tenant_id = $1 AND deleted_at IS NULL",
        )
        .bind(tenant_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(Webhook::from_row)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hook(events: &[&str], agent_id: Option<&str>) -> Webhook {
        Webhook {
            id: "wh_1".into(),
            tenant_id: "ws_1".into(),
            url: "http://127.0.0.1/hook".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            agent_id: agent_id.map(str::to_owned),
            secret: "whsec_x".into(),
            created_at: 0,
            deleted_at: None,
        }
    }

    #[test]
    fn matches_by_event_type_and_agent() {
        assert!(hook(&["agent.activated"], None).wants("agent.activated", Some("agt_a")));
        assert!(!hook(&["agent.activated"], None).wants("call.completed", Some("agt_a")));
        assert!(hook(&["*"], None).wants("call.completed", None));
        assert!(hook(&["call.completed"], Some("agt_a")).wants("call.completed", Some("agt_a")));
        assert!(!hook(&["call.completed"], Some("agt_a")).wants("call.completed", Some("agt_b")));
        assert!(!hook(&["call.completed"], Some("agt_a")).wants("call.completed", None));
    }
}
