//! Proposed changes to a knowledge base, which a person (or a bot) approves or rejects.
//!
//! A proposal names one change to the current KB: `add` a chunk, `replace` the text of chunk
//! `chunk_index`, or `remove` it, with a `reason`. Approving it writes a new KB version with the change
//! applied and emits `kb.synced`. If the KB moved on since the proposal (a sync), the chunk is found again
//! by its text; if it is gone, approving answers 409 `CONFLICT` and the proposal stays pending.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, List, One, list, one};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, RawBody, parse_json};
use super::fields::{non_blank, optional_text};
use super::idempotency;
use super::knowledge::{chunk_list, chunk_view};
use super::time::{iso, iso_opt};
use crate::jobs::{apply_proposal, stored_content_hash};
use crate::store::{KbProposal, KbProposalStatus, StoreError};

/// Longest chunk text or reason accepted.
const MAX_TEXT: usize = 20_000;

/// What a proposal does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalAction {
    /// Add a chunk (`text`, optional `title`).
    Add,
    /// Replace chunk `chunk_index`'s text (and title, if given).
    Replace,
    /// Remove chunk `chunk_index`.
    Remove,
}

/// A proposed change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProposalRequest {
    /// What to do.
    pub action: ProposalAction,
    /// The chunk to replace or remove (its `index` in `GET /v2/agents/{id}/kb`).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub chunk_index: Option<u32>,
    /// The heading of an added or replaced chunk.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// The new text (`add`, `replace`).
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub text: Option<String>,
    /// Why the change is proposed.
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub reason: String,
}

/// An optional non-negative whole number, also when sent as `3.0` (JSON Schema's `integer` allows it).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f as u64)
    });
    whole
        .and_then(|w| u32::try_from(w).ok())
        .map(Some)
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "chunk_index must be a whole number from 0, not {n}"
            ))
        })
}

/// A proposal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalView {
    /// `kbp_...`
    pub id: String,
    /// The agent.
    pub agent_id: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// `add`, `replace` or `remove`.
    pub action: Option<String>,
    /// The chunk it replaces or removes.
    pub chunk_index: Option<i64>,
    /// Title of the new chunk.
    pub title: Option<String>,
    /// New text.
    pub text: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The KB version it was proposed against.
    pub base_version: Option<i64>,
    /// The KB version approving it made (only in the approve answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kb_version: Option<i64>,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601, once decided.
    pub decided_at: Option<String>,
}

impl ProposalView {
    fn new(p: &KbProposal, kb_version: Option<i64>) -> Self {
        let text = |key: &str| p.change.get(key).and_then(Value::as_str).map(str::to_owned);
        let int = |key: &str| p.change.get(key).and_then(Value::as_i64);
        ProposalView {
            id: p.id.clone(),
            agent_id: p.agent_id.clone(),
            status: p.status.as_str().to_owned(),
            action: text("action"),
            chunk_index: int("chunk_index"),
            title: text("title"),
            text: text("text"),
            reason: text("reason"),
            base_version: int("base_version"),
            kb_version,
            created_at: iso(p.created_at),
            decided_at: iso_opt(p.decided_at),
        }
    }
}

/// Propose a change to an agent's knowledge base; it waits for approval.
#[utoipa::path(
    post,
    path = "/v2/agents/{id}/kb/proposals",
    tag = "knowledge",
    request_body = ProposalRequest,
    params(
        ("id" = String, Path, description = "Agent id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 201, description = "The pending proposal", body = One<ProposalView>),
        (status = 400, description = "A missing text or chunk_index, or an index past the KB's end", body = ErrorBody),
        (status = 404, description = "No such agent for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["agents:write"])),
)]
pub async fn create_proposal(
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
            let request: ProposalRequest = parse_json(&headers, &body, false)?;
            let reason = non_blank("reason", Some(request.reason), MAX_TEXT)?
                .ok_or_else(|| ApiError::invalid_field("reason", "reason must not be blank"))?;
            let title = optional_text("title", request.title, 200)?;
            let text = optional_text("text", request.text, MAX_TEXT)?;
            let store = &state.ctx.store;
            let agent = store
                .agent(tenant, &id)
                .await
                .map_err(|e| ApiError::from_store("agent", e))?;
            let latest = store.latest_kb_version(tenant, &agent.id).await?;
            let chunks = latest
                .as_ref()
                .map(|v| chunk_list(&v.chunks))
                .unwrap_or_default();
            let base_version = latest.as_ref().map_or(0, |v| v.version);
            let action = request.action;
            if action != ProposalAction::Remove && text.is_none() {
                return Err(ApiError::invalid_field(
                    "text",
                    "text is required to add or replace",
                ));
            }
            let original_text = match action {
                ProposalAction::Add => None,
                ProposalAction::Replace | ProposalAction::Remove => {
                    let index = request.chunk_index.ok_or_else(|| {
                        ApiError::invalid_field(
                            "chunk_index",
                            "chunk_index is required to replace or remove",
                        )
                    })?;
                    let chunk = chunks.get(index as usize).ok_or_else(|| {
                        ApiError::invalid_field(
                            "chunk_index",
                            format!(
                                "the knowledge base (version {base_version}) has {} chunks",
                                chunks.len()
                            ),
                        )
                    })?;
                    Some(chunk_view(index as usize, chunk).text)
                }
            };
            let change = json!({
                "action": action,
                "chunk_index": request.chunk_index.filter(|_| action != ProposalAction::Add),
                "title": title,
                "text": text,
                "reason": reason,
                "base_version": base_version,
                "original_text": original_text,
            });
            let now = state.ctx.now_ms();
            let mut tx = store.begin().await?;
            let proposal = store
                .create_kb_proposal(&mut tx, tenant, &agent.id, &change, now)
                .await
                .map_err(|e| ApiError::from_store("agent", e))?;
            tx.commit().await.map_err(StoreError::from)?;
            one(StatusCode::CREATED, &ProposalView::new(&proposal, None))
        },
    )
    .await
}

/// Filter of `GET /v2/agents/{id}/kb/proposals`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalsQuery {
    /// Only proposals in this state.
    #[param(inline)]
    pub status: Option<ProposalStatusParam>,
}

/// A proposal state, as a filter.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatusParam {
    /// Awaiting a decision.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

/// List an agent's proposals, newest first.
#[utoipa::path(
    get,
    path = "/v2/agents/{id}/kb/proposals",
    tag = "knowledge",
    params(("id" = String, Path, description = "Agent id"), ProposalsQuery),
    responses(
        (status = 200, description = "The proposals", body = List<ProposalView>),
        (status = 404, description = "No such agent for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["agents:read"])),
)]
pub async fn list_proposals(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ProposalsQuery>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::AgentsRead)?;
    let store = &state.ctx.store;
    let agent = store
        .agent(tenant, &id)
        .await
        .map_err(|e| ApiError::from_store("agent", e))?;
    let status = query.status.map(|s| match s {
        ProposalStatusParam::Pending => KbProposalStatus::Pending,
        ProposalStatusParam::Approved => KbProposalStatus::Approved,
        ProposalStatusParam::Rejected => KbProposalStatus::Rejected,
    });
    let proposals = store.list_kb_proposals(tenant, &agent.id, status).await?;
    let views: Vec<ProposalView> = proposals
        .iter()
        .map(|p| ProposalView::new(p, None))
        .collect();
    let total = i64::try_from(views.len()).unwrap_or(i64::MAX);
    let limit = u32::try_from(views.len()).unwrap_or(u32::MAX);
    list(&views, total, limit, None)
}

/// Get one proposal.
#[utoipa::path(
    get,
    path = "/v2/kb/proposals/{id}",
    tag = "knowledge",
    params(("id" = String, Path, description = "Proposal id (`kbp_...`)")),
    responses(
        (status = 200, description = "The proposal", body = One<ProposalView>),
        (status = 404, description = "No such proposal for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["agents:read"])),
)]
pub async fn get_proposal(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::AgentsRead)?;
    let proposal = state
        .ctx
        .store
        .kb_proposal(tenant, &id)
        .await
        .map_err(|e| ApiError::from_store("proposal", e))?;
    one(StatusCode::OK, &ProposalView::new(&proposal, None))
}

/// The chunks with `proposal`'s change applied to `current` (the chunks of version `current_version`).
fn apply(
    proposal: &KbProposal,
    current: Vec<Value>,
    current_version: i64,
) -> Result<Vec<Value>, ApiError> {
    apply_proposal(&proposal.change, current, Some(current_version)).map_err(|_| {
        ApiError::conflict(
            "the chunk this proposal changes is no longer in the knowledge base; propose again",
        )
    })
}

/// Approves or rejects a proposal: the common body of both routes.
async fn decide(
    state: &AppState,
    tenant: &str,
    id: &str,
    approve: bool,
) -> Result<ApiReply, ApiError> {
    let ctx = &state.ctx;
    let store = &ctx.store;
    let proposal = store
        .kb_proposal(tenant, id)
        .await
        .map_err(|e| ApiError::from_store("proposal", e))?;
    if proposal.status != KbProposalStatus::Pending {
        return Err(ApiError::invalid_status(format!(
            "the proposal is already {}",
            proposal.status
        )));
    }
    let now = ctx.now_ms();
    let already_decided = |e: StoreError| match e {
        StoreError::Conflict(m) => ApiError::invalid_status(m),
        other => ApiError::from_store("proposal", other),
    };
    if !approve {
        let mut tx = store.begin().await?;
        let decided = store
            .decide_kb_proposal(&mut tx, tenant, id, false, now)
            .await
            .map_err(already_decided)?;
        tx.commit().await.map_err(StoreError::from)?;
        return one(StatusCode::OK, &ProposalView::new(&decided, None));
    }
    // Read before the write transaction: a SQLite writer must not wait on a second connection.
    let latest = store.latest_kb_version(tenant, &proposal.agent_id).await?;
    let version = latest.as_ref().map_or(0, |v| v.version);
    let chunks = Value::Array(apply(
        &proposal,
        latest.map(|v| chunk_list(&v.chunks)).unwrap_or_default(),
        version,
    )?);
    let mut tx = store.begin().await?;
    let decided = store
        .decide_kb_proposal(&mut tx, tenant, id, true, now)
        .await
        .map_err(already_decided)?;
    let kb = store
        .create_kb_version(
            &mut tx,
            tenant,
            &proposal.agent_id,
            &chunks,
            &stored_content_hash(&chunks),
            now,
        )
        .await
        .map_err(|e| ApiError::from_store("agent", e))?;
    let action = proposal.change.get("action").and_then(Value::as_str);
    let added = u8::from(matches!(action, Some("add" | "replace")));
    let removed = u8::from(matches!(action, Some("remove" | "replace")));
    // The payload the knowledge-sync worker emits, plus where this version came from.
    let data = json!({
        "agent_id": proposal.agent_id,
        "version": kb.version,
        "added": added,
        "removed": removed,
        "doc_count": chunks.as_array().map_or(0, Vec::len),
        "source": "proposal",
        "proposal_id": decided.id,
    });
    store
        .emit(
            &mut tx,
            tenant,
            "kb.synced",
            Some(&proposal.agent_id),
            &data,
            now,
        )
        .await?;
    tx.commit().await.map_err(StoreError::from)?;
    ctx.events.notify_waiters();
    ctx.agents_changed.notify_waiters();
    one(
        StatusCode::OK,
        &ProposalView::new(&decided, Some(kb.version)),
    )
}

/// Approve a proposal: a new KB version with the change applied; emits `kb.synced`.
#[utoipa::path(
    post,
    path = "/v2/kb/proposals/{id}/approve",
    tag = "knowledge",
    params(
        ("id" = String, Path, description = "Proposal id (`kbp_...`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Approved; `kb_version` is the new version", body = One<ProposalView>),
        (status = 404, description = "No such proposal for this tenant", body = ErrorBody),
        (status = 409, description = "INVALID_STATUS: already decided; CONFLICT: the chunk is gone", body = ErrorBody),
    ),
    security(("bearer" = ["agents:write"])),
)]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tenant = caller.require(Scope::AgentsWrite)?;
    idempotency::run(&state, tenant, &headers, &method, uri.path(), &body, || {
        decide(&state, tenant, &id, true)
    })
    .await
}

/// Reject a proposal.
#[utoipa::path(
    post,
    path = "/v2/kb/proposals/{id}/reject",
    tag = "knowledge",
    params(
        ("id" = String, Path, description = "Proposal id (`kbp_...`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Rejected", body = One<ProposalView>),
        (status = 404, description = "No such proposal for this tenant", body = ErrorBody),
        (status = 409, description = "INVALID_STATUS: already decided", body = ErrorBody),
    ),
    security(("bearer" = ["agents:write"])),
)]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tenant = caller.require(Scope::AgentsWrite)?;
    idempotency::run(&state, tenant, &headers, &method, uri.path(), &body, || {
        decide(&state, tenant, &id, false)
    })
    .await
}
