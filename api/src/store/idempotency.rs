//! Idempotency keys: a retried mutating request with the same `Idempotency-Key` gets the first answer
//! again instead of doing the work twice.
//!
//! The API calls [`Store::begin_idempotent`] before the handler runs. Only the caller that gets
//! [`IdempotencyBegin::New`] runs it, then stores the answer with [`Store::finish_idempotent`] (or gives the
//! key back with [`Store::abandon_idempotent`] when the request failed in a way worth retrying). The claim is
//! one `INSERT ... ON CONFLICT DO NOTHING`, so of concurrent requests with one key exactly one wins on both
//! databases: PostgreSQL makes the others wait for the winner's insert, SQLite has one writer at a time.

use sqlx::Row;

use super::ids::sha256_hex;
use super::rows::col;
use super::{Store, StoreError};

/// The request a key is claimed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdempotencyRequest<'a> {
    /// The `Idempotency-Key` header.
    pub key: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Request path.
    pub path: &'a str,
    /// A hash of the request body; see [`IdempotencyRequest::hash_body`].
    pub request_hash: &'a str,
}

impl IdempotencyRequest<'_> {
    /// The hex SHA-256 of a request body, for [`IdempotencyRequest::request_hash`].
    pub fn hash_body(body: &[u8]) -> String {
        sha256_hex(body)
    }
}

/// What [`Store::begin_idempotent`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key is new and now yours: run the request, then finish or abandon the key.
    New,
    /// The request already ran: answer with this again.
    Replay {
        /// HTTP status.
        status: u16,
        /// Response body.
        body: String,
    },
    /// The key was used for a different request (method, path or body): answer 422.
    Mismatch,
    /// The same request is running right now under this key: answer 409 and let the client retry.
    InProgress,
}

impl Store {
    /// Claims `req.key` for the tenant, or reports what it was used for.
    pub async fn begin_idempotent(
        &self,
        tenant_id: &str,
        req: &IdempotencyRequest<'_>,
        now_ms: i64,
    ) -> Result<IdempotencyBegin, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash, state, created_at)
             VALUES ($1, $2, $3, $4, $5, 'in_progress', $6)
             ON CONFLICT (tenant_id, key) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(req.key)
        .bind(req.method)
        .bind(req.path)
        .bind(req.request_hash)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(IdempotencyBegin::New);
        }
        let row = sqlx::query(
            "SELECT method, path, request_hash, state, response_status, response_body
             FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
        )
        .bind(tenant_id)
        .bind(req.key)
        .fetch_optional(&self.pool)
        .await?;
        // Abandoned between our insert and this read: the key is free again, but another caller may be
        // claiming it now, so report it as busy rather than race for it.
        let Some(row) = row else {
            return Ok(IdempotencyBegin::InProgress);
        };
        let same = col::<String>(&row, "method")? == req.method
            && col::<String>(&row, "path")? == req.path
            && col::<String>(&row, "request_hash")? == req.request_hash;
        if !same {
            return Ok(IdempotencyBegin::Mismatch);
        }
        if col::<String>(&row, "state")? != "done" {
            return Ok(IdempotencyBegin::InProgress);
        }
        let status: Option<i64> = row.try_get("response_status").map_err(StoreError::from)?;
        Ok(IdempotencyBegin::Replay {
            status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
            body: col::<Option<String>>(&row, "response_body")?.unwrap_or_default(),
        })
    }

    /// Stores the answer of the request that claimed `key`, for replays.
    pub async fn finish_idempotent(
        &self,
        tenant_id: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4
             WHERE tenant_id = $1 AND key = $2 AND state = 'in_progress'",
        )
        .bind(tenant_id)
        .bind(key)
        .bind(i64::from(status))
        .bind(body)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Gives back a key whose request failed without an answer worth replaying, so a retry runs anew.
    pub async fn abandon_idempotent(&self, tenant_id: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND state = 'in_progress'",
        )
        .bind(tenant_id)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets keys created before `before_ms` (e.g. older than 24 h); returns how many. Also frees keys
    /// left in progress by a server that died mid-request.
    pub async fn purge_idempotency_keys(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
