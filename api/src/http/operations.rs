//! `GET /v2/operations/{id}`: where an asynchronous job is. Also the one place jobs are queued from the
//! API ([`enqueue`]), so every route that queues one answers and notifies the same way.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::AppState;
use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, One, one};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiPath;
use super::time::{iso, iso_opt};
use crate::store::{NewOperation, Operation, OperationKind, OperationStatus, Store, Tx};

/// Attempts a queued job gets: transient faults (a site timing out) are retried with backoff.
pub const JOB_ATTEMPTS: u32 = 3;

/// The answer to a request that queued a job (202).
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationAccepted {
    /// Poll `GET /v2/operations/{operation_id}`.
    pub operation_id: String,
    /// Always `pending` at first.
    pub status: &'static str,
    /// A rough expectation of how long the job takes.
    pub estimated_seconds: u32,
    /// The agent the job works on.
    pub agent_id: Option<String>,
    /// `provision` or `kb_sync`.
    pub kind: &'static str,
}

/// A failure, once the job has failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationError {
    /// Stable code: `invalid_url`, `scout_crawl_failed`, `template_not_found`, `blocked_address`, ...
    pub code: String,
    /// For people.
    pub message: String,
}

/// An operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationView {
    /// `op_...`
    pub id: String,
    /// The same id, under the name the create answer used.
    pub operation_id: String,
    /// `provision`, `kb_sync` or `builder`.
    pub kind: String,
    /// `pending`, `running`, `active` (done) or `failed`.
    #[schema(example = "running")]
    pub status: String,
    /// The step it is at: `research`, `extract`, `kb_build`, `prompt`, `activate`.
    pub stage: Option<String>,
    /// 0 to 100.
    pub progress: i64,
    /// The agent it works on or made.
    pub agent_id: Option<String>,
    /// The agent's number, when it has one.
    pub phone_number: Option<String>,
    /// Seconds from the request to done, once active.
    pub provisioning_time_seconds: Option<i64>,
    /// Attempts started so far.
    pub attempts: i64,
    /// Why it failed; present only when `status` is `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<OperationError>,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601.
    pub updated_at: String,
    /// ISO-8601, once active or failed.
    pub finished_at: Option<String>,
}

impl OperationView {
    /// The view of `op`, with the phone number of its agent (if the caller looked it up).
    pub fn new(op: &Operation, phone_number: Option<String>) -> Self {
        let failed = op.status == OperationStatus::Failed;
        OperationView {
            id: op.id.clone(),
            operation_id: op.id.clone(),
            kind: op.kind.as_str().to_owned(),
            status: op.status.as_str().to_owned(),
            stage: op.stage.map(|s| s.as_str().to_owned()),
            progress: op.progress,
            agent_id: op.agent_id.clone(),
            phone_number,
            provisioning_time_seconds: (op.status == OperationStatus::Active)
                .then(|| {
                    op.finished_at
                        .map(|f| ((f - op.created_at).max(0) + 500) / 1000)
                })
                .flatten(),
            attempts: op.attempts,
            error: failed.then(|| OperationError {
                code: op.error_code.clone().unwrap_or_else(|| "failed".into()),
                message: op.error_message.clone().unwrap_or_default(),
            }),
            created_at: iso(op.created_at),
            updated_at: iso(op.updated_at),
            finished_at: iso_opt(op.finished_at),
        }
    }
}

/// The `operation.updated` payload for a job as it now is.
pub fn operation_event(op: &Operation) -> Value {
    json!({
        "operation_id": op.id,
        "kind": op.kind.as_str(),
        "status": op.status.as_str(),
        "stage": op.stage.map(|s| s.as_str()),
        "progress": op.progress,
        "agent_id": op.agent_id,
        "attempts": op.attempts,
    })
}

/// Queues a job in `tx` and emits `operation.updated` for it. The caller commits, then wakes
/// `ctx.events`.
pub async fn enqueue(
    store: &Store,
    tx: &mut Tx,
    tenant_id: &str,
    kind: OperationKind,
    agent_id: Option<&str>,
    request: Value,
    now_ms: i64,
) -> Result<Operation, ApiError> {
    let op = store
        .create_operation(
            tx,
            tenant_id,
            NewOperation {
                kind,
                agent_id: agent_id.map(str::to_owned),
                request,
                max_attempts: JOB_ATTEMPTS,
            },
            now_ms,
        )
        .await
        .map_err(|e| ApiError::from_store("agent", e))?;
    store
        .emit(
            tx,
            tenant_id,
            "operation.updated",
            op.agent_id.as_deref(),
            &operation_event(&op),
            now_ms,
        )
        .await?;
    Ok(op)
}

/// Get an operation's status.
#[utoipa::path(
    get,
    path = "/v2/operations/{id}",
    tag = "operations",
    params(("id" = String, Path, description = "Operation id (`op_...`)")),
    responses(
        (status = 200, description = "The operation", body = One<OperationView>),
        (status = 404, description = "No such operation for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["agents:read"])),
)]
pub async fn get_operation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::AgentsRead)?;
    let store = &state.ctx.store;
    let op = store
        .operation(tenant, &id)
        .await
        .map_err(|e| ApiError::from_store("operation", e))?;
    let phone_number = match &op.agent_id {
        Some(agent_id) => match store.agent(tenant, agent_id).await {
            Ok(agent) => agent.phone_number,
            // The agent may have been deleted since; the operation is still worth showing.
            Err(crate::store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    one(StatusCode::OK, &OperationView::new(&op, phone_number))
}
