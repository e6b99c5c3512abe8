//! Calls: one row per call, written when it starts and completed when it ends.

use serde_json::Value;
use sqlx::any::AnyRow;

use super::cursor::{Cursor, Page, cursor_binds, fetch_limit, make_page};
use super::ids::{CALL_PREFIX, new_id};
use super::rows::{col, enum_col, json_text, opt_json_col, text_enum};
use super::{Store, StoreError, Tx};

text_enum! {
    /// Who dialled.
    pub enum CallDirection {
        /// A caller reached the agent.
        Inbound => "inbound",
        /// The agent dialled out.
        Outbound => "outbound",
    }
}

/// A call row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Call {
    /// `call_...`
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// The agent that took or made it.
    pub agent_id: String,
    /// Who dialled.
    pub direction: CallDirection,
    /// The caller's number (E.164), when known.
    pub from_number: Option<String>,
    /// The dialled number (E.164), when known.
    pub to_number: Option<String>,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Unix milliseconds; `None` while the call is up.
    pub ended_at: Option<i64>,
    /// `ended_at - started_at`.
    pub duration_ms: Option<i64>,
    /// The outcome, e.g. `booked`, `answered`, `voicemail`.
    pub disposition: Option<String>,
    /// Why it ended, e.g. `caller_hangup`.
    pub end_reason: Option<String>,
    /// Turn-by-turn transcript.
    pub transcript: Option<Value>,
    /// Structured data pulled out of the call.
    pub extractions: Option<Value>,
    /// Per-turn timings (latency of each answer).
    pub turns: Option<Value>,
}

/// A new call row's id (`call_...`), for a caller that needs it before the row is written.
pub fn new_call_id() -> String {
    new_id(CALL_PREFIX)
}

/// A call that just started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCall {
    /// The row's id, when chosen beforehand ([`new_call_id`]); a new one otherwise.
    pub id: Option<String>,
    /// The agent; must be the tenant's and not deleted.
    pub agent_id: String,
    /// Who dialled.
    pub direction: CallDirection,
    /// The caller's number.
    pub from_number: Option<String>,
    /// The dialled number.
    pub to_number: Option<String>,
    /// Unix milliseconds.
    pub started_at: i64,
}

/// How a call ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallEnd {
    /// Unix milliseconds.
    pub ended_at: i64,
    /// See [`Call::disposition`].
    pub disposition: Option<String>,
    /// See [`Call::end_reason`].
    pub end_reason: Option<String>,
    /// See [`Call::transcript`].
    pub transcript: Option<Value>,
    /// See [`Call::extractions`].
    pub extractions: Option<Value>,
    /// See [`Call::turns`].
    pub turns: Option<Value>,
}

/// Filters of [`Store::list_calls`]; `None` matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallFilter {
    /// Only this agent's calls.
    pub agent_id: Option<String>,
    /// Only calls that started at or after this (unix ms).
    pub started_from: Option<i64>,
    /// Only calls that started before this (unix ms).
    pub started_before: Option<i64>,
    /// Only calls with this outcome.
    pub disposition: Option<String>,
}

macro_rules! call_columns {
    () => {
        "id, tenant_id, agent_id, direction, from_number, to_number, started_at, ended_at, duration_ms, \
         disposition, end_reason, transcript, extractions, turns"
    };
}

impl Call {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Call {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            agent_id: col(row, "agent_id")?,
            direction: enum_col(row, "direction")?,
            from_number: col(row, "from_number")?,
            to_number: col(row, "to_number")?,
            started_at: col(row, "started_at")?,
            ended_at: col(row, "ended_at")?,
            duration_ms: col(row, "duration_ms")?,
            disposition: col(row, "disposition")?,
            end_reason: col(row, "end_reason")?,
            transcript: opt_json_col(row, "transcript")?,
            extractions: opt_json_col(row, "extractions")?,
            turns: opt_json_col(row, "turns")?,
        })
    }
}

impl Store {
    /// Records a call that started. [`StoreError::NotFound`] if the agent is not the tenant's.
    pub async fn start_call(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        new: &NewCall,
    ) -> Result<Call, StoreError> {
        // Insert-from-select: the call is written only if the agent is this tenant's, in one statement.
        let row = sqlx::query(concat!(
            "INSERT INTO calls (id, tenant_id, agent_id, direction, from_number, to_number, started_at)
             SELECT $1, tenant_id, id, $4, $5, $6, $7 FROM agents
             WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING ",
            call_columns!()
        ))
        .bind(new.id.clone().unwrap_or_else(new_call_id))
        .bind(tenant_id)
        .bind(&new.agent_id)
        .bind(new.direction.as_str())
        .bind(&new.from_number)
        .bind(&new.to_number)
        .bind(new.started_at)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        Call::from_row(&row)
    }

    /// Records how a call ended. [`StoreError::Conflict`] if it had already ended.
    pub async fn finish_call(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        call_id: &str,
        end: &CallEnd,
    ) -> Result<Call, StoreError> {
        let row = sqlx::query(concat!(
            "UPDATE calls SET ended_at = $3, duration_ms = $3 - started_at, disposition = $4,
               end_reason = $5, transcript = $6, extractions = $7, turns = $8
             WHERE tenant_id = $1 AND id = $2 AND ended_at IS NULL RETURNING ",
            call_columns!()
        ))
        .bind(tenant_id)
        .bind(call_id)
        .bind(end.ended_at)
        .bind(&end.disposition)
        .bind(&end.end_reason)
        .bind(end.transcript.as_ref().map(json_text))
        .bind(end.extractions.as_ref().map(json_text))
        .bind(end.turns.as_ref().map(json_text))
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(row) => Call::from_row(&row),
            None => {
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT 1 FROM calls WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant_id)
                        .bind(call_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                match exists {
                    Some(_) => Err(StoreError::Conflict("call has already ended".into())),
                    None => Err(StoreError::NotFound),
                }
            }
        }
    }

    /// One call.
    pub async fn call(&self, tenant_id: &str, call_id: &str) -> Result<Call, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            call_columns!(),
            " FROM calls WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(call_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Call::from_row(&row)
    }

    /// A page of the tenant's calls, newest first. `cursor` is a previous page's `next_cursor`.
    pub async fn list_calls(
        &self,
        tenant_id: &str,
        filter: &CallFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Call>, StoreError> {
        let (after_at, after_id) = cursor_binds(cursor)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            call_columns!(),
            " FROM calls WHERE tenant_id = $1
              AND ($2 IS NULL OR agent_id = $2) AND ($3 IS NULL OR started_at >= $3)
              AND ($4 IS NULL OR started_at < $4) AND ($5 IS NULL OR disposition = $5)
              AND ($6 IS NULL OR started_at < $6 OR (started_at = $6 AND id < $7))
              ORDER BY started_at DESC, id DESC LIMIT $8"
        ))
        .bind(tenant_id)
        .bind(&filter.agent_id)
        .bind(filter.started_from)
        .bind(filter.started_before)
        .bind(&filter.disposition)
        .bind(after_at)
        .bind(after_id)
        .bind(fetch_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM calls WHERE tenant_id = $1
             AND ($2 IS NULL OR agent_id = $2) AND ($3 IS NULL OR started_at >= $3)
             AND ($4 IS NULL OR started_at < $4) AND ($5 IS NULL OR disposition = $5)",
        )
        .bind(tenant_id)
        .bind(&filter.agent_id)
        .bind(filter.started_from)
        .bind(filter.started_before)
        .bind(&filter.disposition)
        .fetch_one(&self.pool)
        .await?;
        let items = rows.iter().map(Call::from_row).collect::<Result<_, _>>()?;
        Ok(make_page(items, limit, total, |c: &Call| Cursor {
            at: c.started_at,
            id: c.id.clone(),
        }))
    }
}
