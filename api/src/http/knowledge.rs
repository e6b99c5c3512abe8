//! Knowledge bases: syncing an agent's KB from its website, and reading it. Proposed changes are in
//! `kb_proposals`.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::AppState;
use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, One, one};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, RawBody};
use super::idempotency;
use super::operations::{OperationAccepted, enqueue};
use super::time::iso;
use crate::store::{OperationKind, StoreError};

/// Seconds a re-crawl is expected to take.
const SYNC_SECONDS: u32 = 60;

/// One chunk of a knowledge base.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChunkView {
    /// Its position in this version; what `chunk_index` names.
    pub index: usize,
    /// The heading it sits under.
    pub title: String,
    /// The text.
    pub text: String,
    /// The page it came from.
    pub source: Option<String>,
}

/// A version, without its chunks.
#[derive(Debug, Serialize, ToSchema)]
pub struct KbVersionView {
    /// 1, 2, ...
    pub version: i64,
    /// Hash of its content.
    pub content_hash: String,
    /// ISO-8601.
    pub created_at: String,
}

/// An agent's current knowledge base.
#[derive(Debug, Serialize, ToSchema)]
pub struct KbView {
    /// The agent.
    pub agent_id: String,
    /// The current version (0: none yet).
    pub version: i64,
    /// Chunks in it.
    pub doc_count: usize,
    /// Hash of its content.
    pub content_hash: Option<String>,
    /// ISO-8601, when the current version was made.
    pub updated_at: Option<String>,
    /// The chunks.
    pub chunks: Vec<ChunkView>,
    /// Every version, newest first.
    pub versions: Vec<KbVersionView>,
}

pub(super) fn chunk_list(chunks: &Value) -> Vec<Value> {
    chunks.as_array().cloned().unwrap_or_default()
}

pub(super) fn chunk_view(index: usize, chunk: &Value) -> ChunkView {
    let text = |key: &str| chunk.get(key).and_then(Value::as_str).map(str::to_owned);
    ChunkView {
        index,
        title: text("title").unwrap_or_default(),
        text: text("text").unwrap_or_default(),
        source: text("source"),
    }
}

/// Re-crawl the agent's website and build a new KB version if it changed (emits `kb.synced`).
#[utoipa::path(
    post,
    path = "/v2/agents/{id}/kb/sync",
    tag = "knowledge",
    params(
        ("id" = String, Path, description = "Agent id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 202, description = "Sync queued", body = One<OperationAccepted>),
        (status = 404, description = "No such agent for this tenant", body = ErrorBody),
        (status = 409, description = "INVALID_STATUS: the agent has no website to sync from", body = ErrorBody),
    ),
    security(("bearer" = ["agents:write"])),
)]
pub async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tenant = caller.require(Scope::AgentsWrite)?;
    idempotency::run(
        &state,
        tenant,
        &headers,
        &method,
        uri.path(),
        &body,
        || async {
            let ctx = &state.ctx;
            let store = &ctx.store;
            let agent = store
                .agent(tenant, &id)
                .await
                .map_err(|e| ApiError::from_store("agent", e))?;
            let Some(url) = agent.business_url.clone() else {
                return Err(ApiError::invalid_status(
                    "this agent has no business_url to sync its knowledge base from",
                ));
            };
            let now = ctx.now_ms();
            let mut tx = store.begin().await?;
            let request = json!({"agent_id": agent.id, "url": url});
            let op = enqueue(
                store,
                &mut tx,
                tenant,
                OperationKind::KbSync,
                Some(&agent.id),
                request,
                now,
            )
            .await?;
            tx.commit().await.map_err(StoreError::from)?;
            ctx.events.notify_waiters();
            one(
                StatusCode::ACCEPTED,
                &OperationAccepted {
                    operation_id: op.id,
                    status: "pending",
                    estimated_seconds: SYNC_SECONDS,
                    agent_id: Some(agent.id),
                    kind: OperationKind::KbSync.as_str(),
                },
            )
        },
    )
    .await
}

/// Get an agent's current knowledge base.
#[utoipa::path(
    get,
    path = "/v2/agents/{id}/kb",
    tag = "knowledge",
    params(("id" = String, Path, description = "Agent id")),
    responses(
        (status = 200, description = "The current version and its chunks", body = One<KbView>),
        (status = 404, description = "No such agent for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["agents:read"])),
)]
pub async fn get_kb(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::AgentsRead)?;
    let store = &state.ctx.store;
    let agent = store
        .agent(tenant, &id)
        .await
        .map_err(|e| ApiError::from_store("agent", e))?;
    let latest = store.latest_kb_version(tenant, &agent.id).await?;
    let versions = store.list_kb_versions(tenant, &agent.id).await?;
    let chunks: Vec<ChunkView> = latest
        .as_ref()
        .map(|v| chunk_list(&v.chunks))
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, c)| chunk_view(i, c))
        .collect();
    one(
        StatusCode::OK,
        &KbView {
            agent_id: agent.id,
            version: latest.as_ref().map_or(0, |v| v.version),
            doc_count: chunks.len(),
            content_hash: latest.as_ref().map(|v| v.content_hash.clone()),
            updated_at: latest.as_ref().map(|v| iso(v.created_at)),
            chunks,
            versions: versions
                .into_iter()
                .map(|v| KbVersionView {
                    version: v.version,
                    content_hash: v.content_hash,
                    created_at: iso(v.created_at),
                })
                .collect(),
        },
    )
}
