//! The durable store behind the REST API v2: tenants, API keys and tokens, agents, the operations queue,
//! knowledge-base versions and proposals, calls, mission tasks, webhooks, the event log with its webhook
//! outbox, and idempotency keys.
//!
//! # Backends
//! SQLite is the default: one file in the data directory (`dialtone.db`), opened in WAL mode with foreign
//! keys on and a busy timeout. PostgreSQL is used when `DATABASE_URL` is a `postgres://` URL, so that several
//! nodes can share one fleet. Each backend has its migrations (`api/migrations/sqlite`,
//! `api/migrations/postgres`), embedded in the binary and run by [`Store::open`].
//!
//! # Why the `Any` driver, and not an enum of two pools
//! sqlx 0.9 still ships `sqlx::any`: one `AnyPool` whose driver is picked from the URL at run time, with
//! runtime queries (`sqlx::query` + binds) and the migrator working on it. Its price is a small type set
//! (integers, floats, text, blobs, booleans, NULL), and that is exactly what this schema uses: times are
//! `BIGINT` unix milliseconds, ids are text, JSON is `TEXT`. An enum of a `SqlitePool` and a `PgPool` would
//! instead need every query written twice or behind generic bounds, and the caller's transaction that
//! [`Store::emit`] writes into would become an enum as well. Two things `Any` does not carry over are handled
//! in [`open`](Store::open): it rebuilds SQLite options from the URL, so WAL mode is set once on a direct
//! connection first and the per-connection pragmas run in `after_connect`; and it has no placeholder
//! rewriting, so every statement uses `$1`-style placeholders, which SQLite accepts as numbered parameters.
//!
//! Dialect differences live in `dialect.rs` (how a write transaction begins, the `FOR UPDATE SKIP LOCKED`
//! clause of the claims) and in the migrations (the events sequence). Everything else is portable SQL.
//!
//! # Conventions
//! - Every function that reads or writes tenant data takes the tenant id and filters by it; the exceptions
//!   are the ones whose input identifies the tenant (API-key and token verification, the telephony
//!   directory's [`Store::agent_by_number`]) and the workers' queue claims, which serve all tenants.
//! - Time is an argument: every function whose result depends on time takes `now_ms` (unix milliseconds) and
//!   never reads the clock, so tests move time by passing a later `now_ms`.
//! - Reads and self-contained writes go through the pool. Writes that a caller combines with others, or
//!   with the event they cause, take a [`Tx`] from [`Store::begin`]: the state change and the notification
//!   (see [`Store::emit`]) commit together.
//!
//! # Workers
//! Jobs ([`Store::claim_operation`]) and webhook deliveries ([`Store::claim_deliveries`]) are claimed in a
//! write transaction with a lease: on PostgreSQL the claim's `SELECT` takes `FOR UPDATE SKIP LOCKED`, so
//! workers on any node take distinct rows; on SQLite the `BEGIN IMMEDIATE` transaction is the only writer.
//! A worker that dies stops extending its lease, and once the lease has run out the row is claimable again.
//! Lease-guarded writes name the job through a [`JobLease`] and fail with [`StoreError::LeaseLost`] once
//! another worker has taken it over.

mod agents;
mod auth;
mod calls;
mod cursor;
mod deliveries;
mod depths;
mod dialect;
mod error;
mod events;
mod fleet;
mod idempotency;
mod ids;
mod knowledge;
mod open;
mod operations;
mod rows;
mod tasks;
mod tenants;
mod webhooks;

#[cfg(test)]
mod tests;

pub use agents::{Agent, AgentFilter, AgentPatch, AgentStatus, NewAgent};
pub use auth::{ACCESS_TOKEN_TTL_MS, AccessToken, NewServiceAccount, Principal, ServiceAccount};
pub use calls::{Call, CallDirection, CallEnd, CallFilter, NewCall, new_call_id};
pub use cursor::{MAX_PAGE_LIMIT, Page};
pub use deliveries::{
    DELIVERY_MAX_ATTEMPTS, DeliveryOutcome, DeliveryStatus, DueDelivery, WebhookDelivery,
    delivery_backoff_ms,
};
pub use depths::QueueDepths;
pub use dialect::Backend;
pub use error::StoreError;
pub use events::Event;
pub use fleet::LiveAgent;
pub use idempotency::{IdempotencyBegin, IdempotencyRequest};
pub use ids::{
    AGENT_PREFIX, CALL_PREFIX, DELIVERY_PREFIX, EVENT_PREFIX, KB_PROPOSAL_PREFIX, OPERATION_PREFIX,
    SERVICE_ACCOUNT_PREFIX, TASK_PREFIX, TENANT_PREFIX, WEBHOOK_PREFIX,
};
pub use knowledge::{KbProposal, KbProposalStatus, KbVersion, KbVersionInfo};
pub use open::{DATABASE_FILE, DbLocation};
pub use operations::{
    JobLease, NewOperation, Operation, OperationFailure, OperationKind, OperationStage,
    OperationStatus, operation_backoff_ms,
};
pub use tasks::{NewTask, Task, TaskFilter, TaskLease, TaskStatus};
pub use tenants::Tenant;
pub use webhooks::{NewWebhook, Webhook};

use sqlx::AnyPool;

/// A write transaction from [`Store::begin`]. Commit it with `tx.commit().await`; dropping it rolls back.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The store: a connection pool on SQLite or PostgreSQL. Cheap to clone; clones share the pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction that reads before it writes waits for the busy timeout instead of failing when another
    /// writer got there first.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.pool.begin_with(self.backend.begin_write()).await?)
    }

    /// Closes every connection; later calls fail. Waits for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
