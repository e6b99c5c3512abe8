//! Agents: what a tenant provisioned, the phone number it answers, and the directory telephony reads.

use serde_json::Value;
use sqlx::any::AnyRow;

use super::cursor::{Cursor, Page, cursor_binds, fetch_limit, make_page};
use super::dialect::with_row_lock;
use super::ids::{AGENT_PREFIX, new_id};
use super::rows::{col, enum_col, json_text, opt_json_col, text_enum};
use super::{Store, StoreError, Tx};

text_enum! {
    /// Where an agent is in its life.
    pub enum AgentStatus {
        /// Created; provisioning has not started.
        Pending => "pending",
        /// A provisioning job is working on it.
        Provisioning => "provisioning",
        /// Live: answers its phone number.
        Active => "active",
        /// Provisioning failed.
        Failed => "failed",
        /// Turned off by its tenant.
        Disabled => "disabled",
    }
}

/// An agent row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Agent {
    /// `agt_...`
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// A display name.
    pub name: Option<String>,
    /// Lifecycle state.
    pub status: AgentStatus,
    /// Industry vertical, e.g. `dental`.
    pub vertical: Option<String>,
    /// The template it was made from.
    pub template_id: Option<String>,
    /// The business website it was provisioned from.
    pub business_url: Option<String>,
    /// The E.164 number it answers.
    pub phone_number: Option<String>,
    /// The reseller's label, when a platform provisions agents for its customers.
    pub white_label_id: Option<String>,
    /// The provisioning output (prompt, greeting, facts, ...).
    pub spec: Option<Value>,
    /// The current knowledge-base version (0: none yet).
    pub kb_version: i64,
    /// Chunks in the current knowledge-base version.
    pub kb_doc_count: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds of the last change.
    pub updated_at: i64,
    /// When it last became active.
    pub activated_at: Option<i64>,
    /// Set when deleted; deleted agents are invisible to every read.
    pub deleted_at: Option<i64>,
}

/// The fields of a new agent. `status` defaults to pending.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewAgent {
    /// See [`Agent::name`].
    pub name: Option<String>,
    /// Initial state; `None` is pending.
    pub status: Option<AgentStatus>,
    /// See [`Agent::vertical`].
    pub vertical: Option<String>,
    /// See [`Agent::template_id`].
    pub template_id: Option<String>,
    /// See [`Agent::business_url`].
    pub business_url: Option<String>,
    /// See [`Agent::phone_number`].
    pub phone_number: Option<String>,
    /// See [`Agent::white_label_id`].
    pub white_label_id: Option<String>,
    /// See [`Agent::spec`].
    pub spec: Option<Value>,
}

/// A change to an agent: `None` leaves a field as it is; `Some(None)` clears a nullable field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentPatch {
    /// New name.
    pub name: Option<Option<String>>,
    /// New state; becoming active stamps `activated_at`.
    pub status: Option<AgentStatus>,
    /// New vertical.
    pub vertical: Option<Option<String>>,
    /// New template.
    pub template_id: Option<Option<String>>,
    /// New website.
    pub business_url: Option<Option<String>>,
    /// New number (or none).
    pub phone_number: Option<Option<String>>,
    /// New label.
    pub white_label_id: Option<Option<String>>,
    /// New spec.
    pub spec: Option<Option<Value>>,
}

/// Filters of [`Store::list_agents`]; `None` matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentFilter {
    /// Only agents in this state.
    pub status: Option<AgentStatus>,
    /// Only agents of this vertical.
    pub vertical: Option<String>,
}

macro_rules! agent_columns {
    () => {
        "id, tenant_id, name, status, vertical, template_id, business_url, phone_number, white_label_id, \
         spec, kb_version, kb_doc_count, created_at, updated_at, activated_at, deleted_at"
    };
}

impl Agent {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Agent {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            name: col(row, "name")?,
            status: enum_col(row, "status")?,
            vertical: col(row, "vertical")?,
            template_id: col(row, "template_id")?,
            business_url: col(row, "business_url")?,
            phone_number: col(row, "phone_number")?,
            white_label_id: col(row, "white_label_id")?,
            spec: opt_json_col(row, "spec")?,
            kb_version: col(row, "kb_version")?,
            kb_doc_count: col(row, "kb_doc_count")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
            activated_at: col(row, "activated_at")?,
            deleted_at: col(row, "deleted_at")?,
        })
    }

    /// Applies `patch`, returning the names of the fields whose value changed.
    fn apply(&mut self, patch: &AgentPatch, now_ms: i64) -> Vec<&'static str> {
        fn set<T: PartialEq + Clone>(
            field: &mut T,
            new: &Option<T>,
            name: &'static str,
            changed: &mut Vec<&'static str>,
        ) {
            if let Some(new) = new
                && field != new
            {
                *field = new.clone();
                changed.push(name);
            }
        }
        let mut changed = Vec::new();
        set(&mut self.name, &patch.name, "name", &mut changed);
        if let Some(status) = patch.status
            && self.status != status
        {
            if status == AgentStatus::Active {
                self.activated_at = Some(now_ms);
            }
            self.status = status;
            changed.push("status");
        }
        set(
            &mut self.vertical,
            &patch.vertical,
            "vertical",
            &mut changed,
        );
        set(
            &mut self.template_id,
            &patch.template_id,
            "template_id",
            &mut changed,
        );
        set(
            &mut self.business_url,
            &patch.business_url,
            "business_url",
            &mut changed,
        );
        set(
            &mut self.phone_number,
            &patch.phone_number,
            "phone_number",
            &mut changed,
        );
        set(
            &mut self.white_label_id,
            &patch.white_label_id,
            "white_label_id",
            &mut changed,
        );
        set(&mut self.spec, &patch.spec, "spec", &mut changed);
        if !changed.is_empty() {
            self.updated_at = now_ms;
        }
        changed
    }
}

/// The unique index on active numbers is the only unique rule an agent write can break (ids are random).
fn phone_conflict(e: sqlx::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict("phone_number is already bound to another active agent".into())
        }
        other => other,
    }
}

/// [`StoreError::NotFound`] unless `agent_id` is a live agent of `tenant_id`: the check a row that names an
/// agent passes before it is written, so the caller gets "not found" rather than a foreign-key error.
pub(crate) async fn ensure_agent(
    tx: &mut Tx,
    tenant_id: &str,
    agent_id: &str,
) -> Result<(), StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM agents WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(tenant_id)
    .bind(agent_id)
    .fetch_optional(&mut **tx)
    .await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

impl Store {
    /// Creates an agent for `tenant_id`. [`StoreError::Conflict`] if it is created active on a number
    /// another active agent holds.
    pub async fn create_agent(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        new: NewAgent,
        now_ms: i64,
    ) -> Result<Agent, StoreError> {
        let status = new.status.unwrap_or(AgentStatus::Pending);
        let agent = Agent {
            id: new_id(AGENT_PREFIX),
            tenant_id: tenant_id.to_owned(),
            name: new.name,
            status,
            vertical: new.vertical,
            template_id: new.template_id,
            business_url: new.business_url,
            phone_number: new.phone_number,
            white_label_id: new.white_label_id,
            spec: new.spec,
            kb_version: 0,
            kb_doc_count: 0,
            created_at: now_ms,
            updated_at: now_ms,
            activated_at: (status == AgentStatus::Active).then_some(now_ms),
            deleted_at: None,
        };
        sqlx::query(concat!(
            "INSERT INTO agents (",
            agent_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&agent.id)
        .bind(&agent.tenant_id)
        .bind(&agent.name)
        .bind(agent.status.as_str())
        .bind(&agent.vertical)
        .bind(&agent.template_id)
        .bind(&agent.business_url)
        .bind(&agent.phone_number)
        .bind(&agent.white_label_id)
        .bind(agent.spec.as_ref().map(json_text))
        .bind(agent.kb_version)
        .bind(agent.kb_doc_count)
        .bind(agent.created_at)
        .bind(agent.updated_at)
        .bind(agent.activated_at)
        .bind(agent.deleted_at)
        .execute(&mut **tx)
        .await
        .map_err(phone_conflict)?;
        Ok(agent)
    }

    /// The agent, unless it is deleted or belongs to another tenant.
    pub async fn agent(&self, tenant_id: &str, agent_id: &str) -> Result<Agent, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            agent_columns!(),
            " FROM agents WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
        ))
        .bind(tenant_id)
        .bind(agent_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Agent::from_row(&row)
    }

    /// The active agent answering `e164`, whatever its tenant: the telephony directory's lookup.
    pub async fn agent_by_number(&self, e164: &str) -> Result<Option<Agent>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            agent_columns!(),
            " FROM agents WHERE phone_number = $1 AND status = 'active' AND deleted_at IS NULL"
        ))
        .bind(e164)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| Agent::from_row(&row))
        .transpose()
    }

    /// A page of the tenant's agents, newest first. `cursor` is a previous page's `next_cursor`.
    pub async fn list_agents(
        &self,
        tenant_id: &str,
        filter: &AgentFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Agent>, StoreError> {
        let (after_at, after_id) = cursor_binds(cursor)?;
        let status = filter.status.map(AgentStatus::as_str);
        let rows = sqlx::query(concat!(
            "SELECT ",
            agent_columns!(),
            " FROM agents WHERE tenant_id = $1 AND deleted_at IS NULL
              AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR vertical = $3)
              AND ($4 IS NULL OR created_at < $4 OR (created_at = $4 AND id < $5))
              ORDER BY created_at DESC, id DESC LIMIT $6"
        ))
        .bind(tenant_id)
        .bind(status)
        .bind(&filter.vertical)
        .bind(after_at)
        .bind(after_id)
        .bind(fetch_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM agents WHERE tenant_id = $1 AND deleted_at IS NULL
             AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR vertical = $3)",
        )
        .bind(tenant_id)
        .bind(status)
        .bind(&filter.vertical)
        .fetch_one(&self.pool)
        .await?;
        let items = rows.iter().map(Agent::from_row).collect::<Result<_, _>>()?;
        Ok(make_page(items, limit, total, |a: &Agent| Cursor {
            at: a.created_at,
            id: a.id.clone(),
        }))
    }

    /// Applies `patch` and returns the agent with the names of the fields that changed (empty: nothing
    /// changed and nothing was written). [`StoreError::Conflict`] if the agent would become active on a
    /// number another active agent holds.
    pub async fn update_agent(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        agent_id: &str,
        patch: &AgentPatch,
        now_ms: i64,
    ) -> Result<(Agent, Vec<&'static str>), StoreError> {
        let sql = with_row_lock!(
            self.backend,
            update,
            "SELECT ",
            agent_columns!(),
            " FROM agents WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
        );
        let row = sqlx::query(sql)
            .bind(tenant_id)
            .bind(agent_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut agent = Agent::from_row(&row)?;
        let changed = agent.apply(patch, now_ms);
        if changed.is_empty() {
            return Ok((agent, changed));
        }
        sqlx::query(
            "UPDATE agents SET name = $3, status = $4, vertical = $5, template_id = $6,
               business_url = $7, phone_number = $8, white_label_id = $9, spec = $10,
               updated_at = $11, activated_at = $12
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .bind(&agent.name)
        .bind(agent.status.as_str())
        .bind(&agent.vertical)
        .bind(&agent.template_id)
        .bind(&agent.business_url)
        .bind(&agent.phone_number)
        .bind(&agent.white_label_id)
        .bind(agent.spec.as_ref().map(json_text))
        .bind(agent.updated_at)
        .bind(agent.activated_at)
        .execute(&mut **tx)
        .await
        .map_err(phone_conflict)?;
        Ok((agent, changed))
    }

    /// Deletes an agent (softly: the row stays for its calls and events, but every read skips it and its
    /// number is free for another agent).
    pub async fn delete_agent(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        agent_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE agents SET deleted_at = $3, updated_at = $3
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(tenant_id)
        .bind(agent_id)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
