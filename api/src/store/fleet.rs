//! Reads across tenants for the workers that serve the whole fleet: the call-side agent directory and the
//! knowledge monitor. No API request reaches these; each caller keeps the tenant of every row it reads.

use super::operations::{OperationKind, OperationStatus};
use super::rows::{col, enum_col};
use super::{Store, StoreError};

/// An active agent as the fleet workers first see it: enough to tell whether it changed since the last
/// look (`updated_at` moves with every change, knowledge versions included) and whether it has a site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveAgent {
    /// The owning tenant.
    pub tenant_id: String,
    /// `agt_...`
    pub id: String,
    /// Unix milliseconds of the last change.
    pub updated_at: i64,
    /// The website it was provisioned from.
    pub business_url: Option<String>,
    /// When it last became active.
    pub activated_at: Option<i64>,
}

impl Store {
    /// Every active, undeleted agent of every tenant, without specs: cheap enough to run every few seconds
    /// on a fleet of thousands, so directories on several nodes converge without any signal between them.
    pub async fn live_agents(&self) -> Result<Vec<LiveAgent>, StoreError> {
        sqlx::query(
            "SELECT tenant_id, id, updated_at, business_url, activated_at FROM agents
             WHERE status = 'active' AND deleted_at IS NULL ORDER BY tenant_id, id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(LiveAgent {
                tenant_id: col(row, "tenant_id")?,
                id: col(row, "id")?,
                updated_at: col(row, "updated_at")?,
                business_url: col(row, "business_url")?,
                activated_at: col(row, "activated_at")?,
            })
        })
        .collect()
    }

    /// The status and creation time of the agent's newest job of `kind`, if it has one: the monitor
    /// queues no second sync while one waits or runs, and none before the interval has passed.
    pub async fn latest_operation(
        &self,
        tenant_id: &str,
        agent_id: &str,
        kind: OperationKind,
    ) -> Result<Option<(OperationStatus, i64)>, StoreError> {
        sqlx::query(
            "SELECT status, created_at FROM operations WHERE tenant_id = $1 AND agent_id = $2 AND kind = $3
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| Ok((enum_col(&row, "status")?, col(&row, "created_at")?)))
        .transpose()
    }
}
