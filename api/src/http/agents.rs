//! Agents: `POST /v2/agents` (queues provisioning), `GET /v2/agents`, and `GET/PATCH/DELETE
//! /v2/agents/{id}`.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::agent_input::{CreateAgentRequest, UpdateAgentRequest, ValidPatch};
use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, List, One, list, one};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, RawBody, parse_json};
use super::fields::check_len;
use super::idempotency;
use super::operations::{OperationAccepted, enqueue};
use super::time::{iso, iso_opt};
use crate::store::{
    Agent, AgentFilter, AgentPatch, AgentStatus, NewAgent, OperationKind, StoreError,
};

/// Default page size of lists.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size of lists.
pub const MAX_LIMIT: u32 = 200;

/// Seconds a provisioning from a website is expected to take (the product's target).
const PROVISION_SECONDS: u32 = 90;
/// Seconds a provisioning from instructions alone is expected to take.
const INSTRUCTIONS_SECONDS: u32 = 10;

/// An agent.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    /// `agt_...`
    pub id: String,
    /// `pending`, `provisioning`, `active`, `failed` or `disabled`.
    #[schema(example = "active")]
    pub status: String,
    /// Display name.
    pub name: Option<String>,
    /// The E.164 number it answers.
    pub phone_number: Option<String>,
    /// The vertical, under the name the create request used.
    #[serde(rename = "verticalType")]
    pub vertical_type: Option<String>,
    /// The vertical.
    pub vertical: Option<String>,
    /// The template it was built from.
    pub template_id: Option<String>,
    /// The website it was built from.
    pub business_url: Option<String>,
    /// The reseller's label.
    pub white_label_id: Option<String>,
    /// Chunks in its current knowledge base.
    pub kb_doc_count: i64,
    /// Its current knowledge-base version (0: none yet).
    pub kb_version: i64,
    /// Opening line.
    pub greeting: Option<String>,
    /// System prompt.
    pub system_prompt: Option<String>,
    /// Voice.
    pub voice: Option<String>,
    /// How it presents itself.
    pub personality: Option<String>,
    /// What it tries to get done on a call.
    pub goals: Option<Vec<String>>,
    /// Rules it never breaks.
    pub guardrails: Option<Vec<String>>,
    /// How it speaks.
    pub tone: Option<String>,
    /// What the business states about itself (`business_name`, `phones`, `hours`, ...).
    #[schema(value_type = Option<Object>)]
    pub facts: Option<Value>,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601.
    pub updated_at: String,
    /// ISO-8601, when it last became active.
    pub activated_at: Option<String>,
}

fn spec_str(spec: Option<&Value>, key: &str) -> Option<String> {
    spec?.get(key)?.as_str().map(str::to_owned)
}

fn spec_list(spec: Option<&Value>, key: &str) -> Option<Vec<String>> {
    let items = spec?.get(key)?.as_array()?;
    Some(
        items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    )
}

impl From<&Agent> for AgentView {
    fn from(a: &Agent) -> Self {
        let spec = a.spec.as_ref();
        AgentView {
            id: a.id.clone(),
            status: a.status.as_str().to_owned(),
            name: a.name.clone(),
            phone_number: a.phone_number.clone(),
            vertical_type: a.vertical.clone(),
            vertical: a.vertical.clone(),
            template_id: a.template_id.clone(),
            business_url: a.business_url.clone(),
            white_label_id: a.white_label_id.clone(),
            kb_doc_count: a.kb_doc_count,
            kb_version: a.kb_version,
            greeting: spec_str(spec, "greeting"),
            system_prompt: spec_str(spec, "system_prompt"),
            voice: spec_str(spec, "voice"),
            personality: spec_str(spec, "personality"),
            goals: spec_list(spec, "goals"),
            guardrails: spec_list(spec, "guardrails"),
            tone: spec_str(spec, "tone"),
            facts: spec.and_then(|s| s.get("facts")).cloned(),
            created_at: iso(a.created_at),
            updated_at: iso(a.updated_at),
            activated_at: iso_opt(a.activated_at),
        }
    }
}

/// Provision an agent from a business website: queues the job and answers 202 at once.
#[utoipa::path(
    post,
    path = "/v2/agents",
    tag = "agents",
    request_body = CreateAgentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body get the original answer")),
    responses(
        (status = 202, description = "Provisioning queued: poll the operation or wait for agent.activated", body = One<OperationAccepted>),
        (status = 400, description = "Invalid field: `details.field` names it, `details.reason` is `invalid_url`, `template_not_found` or `invalid_phone_number`", body = ErrorBody),
    ),
    security(("bearer" = ["agents:write"])),
)]
pub async fn create_agent(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
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
            let request: CreateAgentRequest = parse_json(&headers, &body, false)?;
            let valid = request.validate()?;
            let ctx = &state.ctx;
            let now = ctx.now_ms();
            let store = &ctx.store;
            let mut tx = store.begin().await?;
            let agent = store
                .create_agent(
                    &mut tx,
                    tenant,
                    NewAgent {
                        name: valid.name.clone(),
                        status: Some(AgentStatus::Pending),
                        vertical: valid.vertical.clone(),
                        template_id: valid.template.map(|t| t.id.to_owned()),
                        business_url: valid.business_url.clone(),
                        phone_number: valid.phone_number.clone(),
                        white_label_id: valid.white_label_id.clone(),
                        spec: None,
                    },
                    now,
                )
                .await?;
            // What the provisioning worker reads: `ProvisionRequest`'s keys plus the agent's binding.
            let job = json!({
                "url": valid.business_url,
                "vertical": valid.template.map(|t| t.id),
                "instructions": valid.instructions,
                "name": valid.name,
                "phone_number": valid.phone_number,
                "white_label_id": valid.white_label_id,
                "template_id": valid.template.map(|t| t.id),
                "platform": valid.platform,
            });
            let op = enqueue(
                store,
                &mut tx,
                tenant,
                OperationKind::Provision,
                Some(&agent.id),
                job,
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
                    estimated_seconds: if valid.business_url.is_some() {
                        PROVISION_SECONDS
                    } else {
                        INSTRUCTIONS_SECONDS
                    },
                    agent_id: Some(agent.id),
                    kind: OperationKind::Provision.as_str(),
                },
            )
        },
    )
    .await
}

/// Filters and paging of `GET /v2/agents`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAgentsQuery {
    /// Only agents in this state.
    #[param(inline)]
    pub status: Option<AgentStatusParam>,
    /// Only agents of this vertical.
    #[param(max_length = 200)]
    pub vertical: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    #[param(max_length = 1000)]
    pub cursor: Option<String>,
}

/// An agent state, as a filter.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatusParam {
    /// Created, not yet provisioning.
    Pending,
    /// Being provisioned.
    Provisioning,
    /// Live.
    Active,
    /// Provisioning failed.
    Failed,
    /// Turned off.
    Disabled,
}

impl From<AgentStatusParam> for AgentStatus {
    fn from(p: AgentStatusParam) -> Self {
        match p {
            AgentStatusParam::Pending => AgentStatus::Pending,
            AgentStatusParam::Provisioning => AgentStatus::Provisioning,
            AgentStatusParam::Active => AgentStatus::Active,
            AgentStatusParam::Failed => AgentStatus::Failed,
            AgentStatusParam::Disabled => AgentStatus::Disabled,
        }
    }
}

/// A page size from a query, checked: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid_field(
            "limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// List the tenant's agents, newest first.
#[utoipa::path(
    get,
    path = "/v2/agents",
    tag = "agents",
    params(ListAgentsQuery),
    responses(
        (status = 200, description = "A page of agents; `meta.total` counts all matches", body = List<AgentView>),
        (status = 400, description = "A bad filter, limit or cursor", body = ErrorBody),
    ),
    security(("bearer" = ["agents:read"])),
)]
pub async fn list_agents(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListAgentsQuery>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::AgentsRead)?;
    let limit = page_limit(query.limit)?;
    check_len("vertical", query.vertical.as_deref(), 200)?;
    check_len("cursor", query.cursor.as_deref(), 1000)?;
    let filter = AgentFilter {
        status: query.status.map(AgentStatus::from),
        vertical: query
            .vertical
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty()),
    };
    let page = state
        .ctx
        .store
        .list_agents(tenant, &filter, limit, query.cursor.as_deref())
        .await?;
    let views: Vec<AgentView> = page.items.iter().map(AgentView::from).collect();
    list(&views, page.total, limit, page.next_cursor)
}

/// Get one agent.
#[utoipa::path(
    get,
    path = "/v2/agents/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "Agent id (`agt_...`)")),
    responses(
        (status = 200, description = "The agent", body = One<AgentView>),
        (status = 404, description = "No such agent for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["agents:read"])),
)]
pub async fn get_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::AgentsRead)?;
    let agent = state
        .ctx
        .store
        .agent(tenant, &id)
        .await
        .map_err(|e| ApiError::from_store("agent", e))?;
    one(StatusCode::OK, &AgentView::from(&agent))
}

/// The spec with the patch's prompt fields applied, and the names of those that changed.
fn patched_spec(current: Option<&Value>, patch: &ValidPatch) -> (Option<Value>, Vec<&'static str>) {
    let mut spec = match current {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let mut changed = Vec::new();
    for (key, value) in [
        ("greeting", &patch.greeting),
        ("system_prompt", &patch.system_prompt),
        ("voice", &patch.voice),
    ] {
        if let Some(value) = value
            && spec.get(key).and_then(Value::as_str) != Some(value.as_str())
        {
            spec.insert(key.to_owned(), Value::String(value.clone()));
            changed.push(key);
        }
    }
    if changed.is_empty() {
        (None, changed)
    } else {
        (Some(Value::Object(spec)), changed)
    }
}

/// Change an agent's name, prompt, greeting, voice, number or vertical; emits `agent.updated` with
/// `changed_fields`.
#[utoipa::path(
    patch,
    path = "/v2/agents/{id}",
    tag = "agents",
    request_body = UpdateAgentRequest,
    params(
        ("id" = String, Path, description = "Agent id (`agt_...`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "The agent as it now is", body = One<AgentView>),
        (status = 400, description = "An invalid field", body = ErrorBody),
        (status = 404, description = "No such agent for this tenant", body = ErrorBody),
        (status = 409, description = "The number is bound to another active agent", body = ErrorBody),
    ),
    security(("bearer" = ["agents:write"])),
)]
pub async fn update_agent(
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
            let patch = parse_json::<UpdateAgentRequest>(&headers, &body, false)?.validate()?;
            let ctx = &state.ctx;
            let store = &ctx.store;
            // Read before the write transaction: a SQLite writer must not wait on a second connection.
            let current = store
                .agent(tenant, &id)
                .await
                .map_err(|e| ApiError::from_store("agent", e))?;
            let (spec, spec_fields) = patched_spec(current.spec.as_ref(), &patch);
            let store_patch = AgentPatch {
                name: patch.name.clone().map(Some),
                vertical: patch.vertical.clone().map(Some),
                phone_number: patch.phone_number.clone(),
                spec: spec.map(Some),
                ..AgentPatch::default()
            };
            let now = ctx.now_ms();
            let mut tx = store.begin().await?;
            let (agent, changed) = store
                .update_agent(&mut tx, tenant, &id, &store_patch, now)
                .await
                .map_err(|e| ApiError::from_store("agent", e))?;
            // Report the prompt fields by name rather than the internal `spec`.
            let changed_fields: Vec<&str> = changed
                .iter()
                .copied()
                .filter(|f| *f != "spec")
                .chain(
                    spec_fields
                        .iter()
                        .copied()
                        .filter(|_| changed.contains(&"spec")),
                )
                .collect();
            if !changed_fields.is_empty() {
                let data = json!({
                    "agent_id": agent.id,
                    "changed_fields": changed_fields,
                    "status": agent.status.as_str(),
                    "phone_number": agent.phone_number,
                });
                store
                    .emit(
                        &mut tx,
                        tenant,
                        "agent.updated",
                        Some(&agent.id),
                        &data,
                        now,
                    )
                    .await?;
            }
            tx.commit().await.map_err(StoreError::from)?;
            if !changed_fields.is_empty() {
                ctx.events.notify_waiters();
                ctx.agents_changed.notify_waiters();
            }
            one(StatusCode::OK, &AgentView::from(&agent))
        },
    )
    .await
}

/// What a delete answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// The deleted resource's id.
    pub id: String,
    /// Always true.
    pub deleted: bool,
}

/// Delete an agent: it stops answering its number at once; its calls stay readable.
#[utoipa::path(
    delete,
    path = "/v2/agents/{id}",
    tag = "agents",
    params(
        ("id" = String, Path, description = "Agent id (`agt_...`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Deleted", body = One<Deleted>),
        (status = 404, description = "No such agent for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["agents:write"])),
)]
pub async fn delete_agent(
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
            let now = ctx.now_ms();
            let mut tx = store.begin().await?;
            store
                .delete_agent(&mut tx, tenant, &id, now)
                .await
                .map_err(|e| ApiError::from_store("agent", e))?;
            // There is no `agent.deleted` among the twelve events: a delete is an update to `deleted`.
            let data = json!({"agent_id": id, "changed_fields": ["deleted"], "status": "deleted"});
            store
                .emit(&mut tx, tenant, "agent.updated", Some(&id), &data, now)
                .await?;
            tx.commit().await.map_err(StoreError::from)?;
            ctx.events.notify_waiters();
            ctx.agents_changed.notify_waiters();
            one(
                StatusCode::OK,
                &Deleted {
                    id: id.clone(),
                    deleted: true,
                },
            )
        },
    )
    .await
}
