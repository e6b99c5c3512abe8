//! Knowledge bases: numbered versions of an agent's chunks, and proposed changes awaiting a decision.

use serde_json::Value;
use sqlx::any::AnyRow;

use super::dialect::with_row_lock;
use super::ids::{KB_PROPOSAL_PREFIX, new_id};
use super::rows::{col, enum_col, json_col, json_text, text_enum};
use super::{Store, StoreError, Tx};

/// One version of an agent's knowledge base.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct KbVersion {
    /// The owning tenant.
    pub tenant_id: String,
    /// The agent.
    pub agent_id: String,
    /// 1, 2, ... per agent.
    pub version: i64,
    /// The chunks, as provisioning made them (a JSON list).
    pub chunks: Value,
    /// A hash of the source content, to tell whether a re-crawl changed anything.
    pub content_hash: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A version without its chunks, for listings.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KbVersionInfo {
    /// 1, 2, ... per agent.
    pub version: i64,
    /// See [`KbVersion::content_hash`].
    pub content_hash: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

text_enum! {
    /// Where a proposal is.
    pub enum KbProposalStatus {
        /// Awaiting a decision.
        Pending => "pending",
        /// Accepted.
        Approved => "approved",
        /// Turned down.
        Rejected => "rejected",
    }
}

/// A proposed change to an agent's knowledge base.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct KbProposal {
    /// `kbp_...`
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// The agent.
    pub agent_id: String,
    /// Where it is.
    pub status: KbProposalStatus,
    /// The change, as proposed.
    pub change: Value,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When it was approved or rejected.
    pub decided_at: Option<i64>,
}

impl KbVersion {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(KbVersion {
            tenant_id: col(row, "tenant_id")?,
            agent_id: col(row, "agent_id")?,
            version: col(row, "version")?,
            chunks: json_col(row, "chunks")?,
            content_hash: col(row, "content_hash")?,
            created_at: col(row, "created_at")?,
        })
    }
}

impl KbProposal {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(KbProposal {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            agent_id: col(row, "agent_id")?,
            status: enum_col(row, "status")?,
            change: json_col(row, "change")?,
            created_at: col(row, "created_at")?,
            decided_at: col(row, "decided_at")?,
        })
    }
}

impl Store {
    /// Stores the agent's next knowledge-base version and makes it current (the agent's `kb_version` and
    /// `kb_doc_count`, the length of `chunks` when it is a list).
    pub async fn create_kb_version(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        agent_id: &str,
        chunks: &Value,
        content_hash: &str,
        now_ms: i64,
    ) -> Result<KbVersion, StoreError> {
        // Locking the agent row serialises concurrent syncs of one agent, so version numbers never clash.
        let current = with_row_lock!(
            self.backend,
            update,
            "SELECT kb_version FROM agents WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
        );
        let current: i64 = sqlx::query_scalar(current)
            .bind(tenant_id)
            .bind(agent_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let version = KbVersion {
            tenant_id: tenant_id.to_owned(),
            agent_id: agent_id.to_owned(),
            version: current + 1,
            chunks: chunks.clone(),
            content_hash: content_hash.to_owned(),
            created_at: now_ms,
        };
        sqlx::query(
            "INSERT INTO kb_versions (tenant_id, agent_id, version, chunks, content_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .bind(version.version)
        .bind(json_text(chunks))
        .bind(content_hash)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        let doc_count = chunks.as_array().map_or(0, Vec::len);
        sqlx::query(
            "UPDATE agents SET kb_version = $3, kb_doc_count = $4, updated_at = $5
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .bind(version.version)
        .bind(i64::try_from(doc_count).unwrap_or(i64::MAX))
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        Ok(version)
    }

    /// One version of the agent's knowledge base.
    pub async fn kb_version(
        &self,
        tenant_id: &str,
        agent_id: &str,
        version: i64,
    ) -> Result<KbVersion, StoreError> {
        let row = sqlx::query(
            "SELECT tenant_id, agent_id, version, chunks, content_hash, created_at FROM kb_versions
             WHERE tenant_id = $1 AND agent_id = $2 AND version = $3",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        KbVersion::from_row(&row)
    }

    /// The agent's newest knowledge-base version, if it has one.
    pub async fn latest_kb_version(
        &self,
        tenant_id: &str,
        agent_id: &str,
    ) -> Result<Option<KbVersion>, StoreError> {
        sqlx::query(
            "SELECT tenant_id, agent_id, version, chunks, content_hash, created_at FROM kb_versions
             WHERE tenant_id = $1 AND agent_id = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| KbVersion::from_row(&row))
        .transpose()
    }

    /// The agent's knowledge-base versions, newest first, without their chunks.
    pub async fn list_kb_versions(
        &self,
        tenant_id: &str,
        agent_id: &str,
    ) -> Result<Vec<KbVersionInfo>, StoreError> {
        sqlx::query(
            "SELECT version, content_hash, created_at FROM kb_versions
             WHERE tenant_id = $1 AND agent_id = $2 ORDER BY version DESC",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(KbVersionInfo {
                version: col(row, "version")?,
                content_hash: col(row, "content_hash")?,
                created_at: col(row, "created_at")?,
            })
        })
        .collect()
    }

    /// Proposes a change to the agent's knowledge base. [`StoreError::NotFound`] if the agent is not the
    /// tenant's (or is deleted).
    pub async fn create_kb_proposal(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        agent_id: &str,
        change: &Value,
        now_ms: i64,
    ) -> Result<KbProposal, StoreError> {
        // Insert-from-select: the row exists only if the agent is this tenant's, in one statement.
        let row = sqlx::query(
            "INSERT INTO kb_proposals (id, tenant_id, agent_id, status, change, created_at)
             SELECT $1, tenant_id, id, 'pending', $4, $5 FROM agents
             WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL
             RETURNING id, tenant_id, agent_id, status, change, created_at, decided_at",
        )
        .bind(new_id(KB_PROPOSAL_PREFIX))
        .bind(tenant_id)
        .bind(agent_id)
        .bind(json_text(change))
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        KbProposal::from_row(&row)
    }

    /// One proposal.
    pub async fn kb_proposal(
        &self,
        tenant_id: &str,
        proposal_id: &str,
    ) -> Result<KbProposal, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant_id, agent_id, status, change, created_at, decided_at FROM kb_proposals
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(proposal_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        KbProposal::from_row(&row)
    }

    /// The agent's proposals (in `status`, or all), newest first.
    pub async fn list_kb_proposals(
        &self,
        tenant_id: &str,
        agent_id: &str,
        status: Option<KbProposalStatus>,
    ) -> Result<Vec<KbProposal>, StoreError> {
        sqlx::query(
            "SELECT id, tenant_id, agent_id, status, change, created_at, decided_at FROM kb_proposals
             WHERE tenant_id = $1 AND agent_id = $2 AND ($3 IS NULL OR status = $3)
             ORDER BY created_at DESC, id DESC",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .bind(status.map(KbProposalStatus::as_str))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(KbProposal::from_row)
        .collect()
    }

    /// Approves or rejects a pending proposal. [`StoreError::Conflict`] if it was already decided.
    pub async fn decide_kb_proposal(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        proposal_id: &str,
        approve: bool,
        now_ms: i64,
    ) -> Result<KbProposal, StoreError> {
        let status = if approve {
            KbProposalStatus::Approved
        } else {
            KbProposalStatus::Rejected
        };
        let row = sqlx::query(
            "UPDATE kb_proposals SET status = $3, decided_at = $4
             WHERE tenant_id = $1 AND id = $2 AND status = 'pending'
             RETURNING id, tenant_id, agent_id, status, change, created_at, decided_at",
        )
        .bind(tenant_id)
        .bind(proposal_id)
        .bind(status.as_str())
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(row) => KbProposal::from_row(&row),
            None => {
                let exists: Option<String> = sqlx::query_scalar(
                    "SELECT status FROM kb_proposals WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant_id)
                .bind(proposal_id)
                .fetch_optional(&mut **tx)
                .await?;
                match exists {
                    Some(_) => Err(StoreError::Conflict("proposal is already decided".into())),
                    None => Err(StoreError::NotFound),
                }
            }
        }
    }
}
