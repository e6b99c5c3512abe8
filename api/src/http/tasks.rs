//! Outbound mission tasks: `POST /v2/tasks` (call a number with a task), `GET /v2/tasks/{id}`,
//! `GET /v2/tasks` (filters and paging) and `POST /v2/tasks/{id}/cancel`. The product page's paths
//! (`/api/v1/workapi-ai/let-your-agent-make-a-phone-call-with-a-mission/tasks...`) answer the same.
//!
//! A created task is `pending`; the task worker (`crate::tasks`) calls it. Each change emits
//! `task.updated` with the full task.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::agent_input::is_e164;
use super::agents::page_limit;
use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, List, One, list, one};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, RawBody, parse_json};
use super::fields::{check_len, non_blank};
use super::idempotency;
use super::time::{iso, iso_opt, parse_time};
use crate::store::{AgentFilter, AgentStatus, NewTask, StoreError, Task, TaskFilter, TaskStatus};
use crate::tasks::DEFAULT_MAX_ATTEMPTS;
use crate::tasks::payload::{emit_task_updated, task_data};

/// The product page's base path, served as an alias of `/v2`'s task routes.
pub const SEED_BASE: &str = "/api/v1/workapi-ai/let-your-agent-make-a-phone-call-with-a-mission";

/// Longest task text.
const MAX_TASK: usize = 4000;
/// Largest metadata, as JSON text.
const MAX_METADATA_BYTES: usize = 16 * 1024;

/// A mission to carry out.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTaskRequest {
    /// The number to call, E.164 (`+14151234567`).
    #[schema(example = "+14151234567", pattern = r"^\+[1-9][0-9]{6,14}$")]
    pub phone_number: Option<String>,
    /// What the voice agent should get done on the call.
    #[schema(
        max_length = 4000,
        example = "Ask whether they have a table for four at 7 pm tonight"
    )]
    pub task: Option<String>,
    /// The agent that calls; the tenant's active agent when absent.
    #[schema(max_length = 200)]
    pub agent_id: Option<String>,
    /// Your own data, returned as given (an object, at most 16 KB).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// A task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    /// `task_...`
    pub task_id: String,
    /// The same id.
    pub id: String,
    /// 1, 2, 3... per workspace.
    pub task_number: i64,
    /// `pending`, `accepted`, `in_progress`, `completed`, `cancelled` or `failed`.
    #[schema(example = "pending")]
    pub status: String,
    /// The number called.
    pub phone_number: String,
    /// The task.
    pub task: String,
    /// The agent that calls, when one was named.
    pub agent_id: Option<String>,
    /// Your data.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// What was sent: `phone_number`, `task` (and `agent_id`, `metadata` when given).
    #[schema(value_type = Object)]
    pub task_data: Value,
    /// `{concatenated_transcript, summary, outcome, answers}` once the call is over; else null.
    #[schema(value_type = Option<Object>)]
    pub result_data: Option<Value>,
    /// Why it failed (`no_answer`, `busy`, `rejected`, `trunk_error`, `timeout`), or why the last
    /// attempt did while a retry waits.
    pub failure_reason: Option<String>,
    /// Calls placed so far.
    pub attempts: i64,
    /// The workspace.
    pub merchant_id: String,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601.
    pub updated_at: String,
    /// ISO-8601, when the first call was placed.
    pub started_at: Option<String>,
    /// ISO-8601, when it completed, failed or was cancelled.
    pub finished_at: Option<String>,
    /// ISO-8601: not called before this (a retry's backoff, or calling hours).
    pub scheduled_at: Option<String>,
}

impl From<&Task> for TaskView {
    fn from(t: &Task) -> Self {
        TaskView {
            task_id: t.id.clone(),
            id: t.id.clone(),
            task_number: t.task_number,
            status: t.status.as_str().to_owned(),
            phone_number: t.phone_number.clone(),
            task: t.task.clone(),
            agent_id: t.agent_id.clone(),
            metadata: t.metadata.clone(),
            task_data: task_data(t),
            result_data: t.result_data.clone(),
            failure_reason: t.failure_reason.clone(),
            attempts: t.attempts,
            merchant_id: t.tenant_id.clone(),
            created_at: iso(t.created_at),
            updated_at: iso(t.updated_at),
            started_at: iso_opt(t.started_at),
            finished_at: iso_opt(t.finished_at),
            scheduled_at: (t.status == TaskStatus::Pending).then(|| iso(t.run_after)),
        }
    }
}

struct ValidTask {
    phone_number: String,
    task: String,
    agent_id: Option<String>,
    metadata: Option<Value>,
}

fn validate(request: CreateTaskRequest) -> Result<ValidTask, ApiError> {
    let phone_number = request.phone_number.unwrap_or_default();
    if !is_e164(&phone_number) {
        return Err(ApiError::invalid_field(
            "phone_number",
            "phone_number must be an E.164 number such as +14151234567",
        )
        .detail("reason", json!("invalid_phone_number")));
    }
    let task = non_blank("task", Some(request.task.unwrap_or_default()), MAX_TASK)?
        .ok_or_else(|| ApiError::invalid_field("task", "task must not be blank"))?;
    check_len("agent_id", request.agent_id.as_deref(), 200)?;
    let agent_id = request
        .agent_id
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    let metadata = match request.metadata {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            if Value::Object(map.clone()).to_string().len() > MAX_METADATA_BYTES {
                return Err(ApiError::invalid_field(
                    "metadata",
                    "metadata must be at most 16 KB of JSON",
                ));
            }
            Some(Value::Object(map))
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "metadata",
                "metadata must be a JSON object",
            ));
        }
    };
    Ok(ValidTask {
        phone_number,
        task,
        agent_id,
        metadata,
    })
}

/// Create a task: the agent calls `phone_number` and works on `task`. Answers 201 with the pending
/// task; follow it with `GET /v2/tasks/{id}` or the `task.updated` webhook.
#[utoipa::path(
    post,
    path = "/v2/tasks",
    tag = "tasks",
    request_body = CreateTaskRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body get the original answer")),
    responses(
        (status = 201, description = "The task, pending", body = One<TaskView>),
        (status = 400, description = "VALIDATION_ERROR: `details.field` is `phone_number` (not E.164), `task` (missing or blank), `agent_id` or `metadata`", body = ErrorBody),
    ),
    security(("bearer" = ["tasks:write"])),
)]
pub async fn create_task(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tenant = caller.require(Scope::TasksWrite)?;
    idempotency::run(
        &state,
        tenant,
        &headers,
        &method,
        uri.path(),
        &body,
        || async {
            let valid = validate(parse_json::<CreateTaskRequest>(&headers, &body, false)?)?;
            let ctx = &state.ctx;
            let store = &ctx.store;
            // Reads before the write transaction: a SQLite writer must not wait on a second connection.
            match &valid.agent_id {
                Some(agent_id) => {
                    store.agent(tenant, agent_id).await.map_err(|e| match e {
                        StoreError::NotFound => ApiError::invalid_field(
                            "agent_id",
                            "agent_id names no agent of this workspace",
                        )
                        .detail("reason", json!("agent_not_found")),
                        other => other.into(),
                    })?;
                }
                None => {
                    let filter = AgentFilter {
                        status: Some(AgentStatus::Active),
                        vertical: None,
                    };
                    if store.list_agents(tenant, &filter, 1, None).await?.total == 0 {
                        return Err(ApiError::invalid_field(
                            "agent_id",
                            "this workspace has no active agent to make the call; name one with agent_id \
                             or provision one first",
                        )
                        .detail("reason", json!("no_active_agent")));
                    }
                }
            }
            let now = ctx.now_ms();
            let mut tx = store.begin().await?;
            let task = store
                .create_task(
                    &mut tx,
                    tenant,
                    &NewTask {
                        phone_number: valid.phone_number,
                        task: valid.task,
                        agent_id: valid.agent_id,
                        metadata: valid.metadata,
                        max_attempts: DEFAULT_MAX_ATTEMPTS,
                    },
                    now,
                )
                .await?;
            emit_task_updated(ctx, &mut tx, &task, now).await?;
            tx.commit().await.map_err(StoreError::from)?;
            ctx.events.notify_waiters();
            one(StatusCode::CREATED, &TaskView::from(&task))
        },
    )
    .await
}

/// Get one task, with its result once the call is over.
#[utoipa::path(
    get,
    path = "/v2/tasks/{id}",
    tag = "tasks",
    params(("id" = String, Path, description = "Task id (`task_...`)")),
    responses(
        (status = 200, description = "The task", body = One<TaskView>),
        (status = 404, description = "No such task for this workspace", body = ErrorBody),
    ),
    security(("bearer" = ["tasks:read"])),
)]
pub async fn get_task(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::TasksRead)?;
    let task = state
        .ctx
        .store
        .task(tenant, &id)
        .await
        .map_err(|e| ApiError::from_store("task", e))?;
    one(StatusCode::OK, &TaskView::from(&task))
}

/// Filters and paging of `GET /v2/tasks`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTasksQuery {
    /// Only tasks in this state.
    #[param(inline)]
    pub status: Option<TaskStatusParam>,
    /// Only this agent's tasks.
    #[param(max_length = 200)]
    pub agent_id: Option<String>,
    /// Only calls to this number (E.164).
    #[param(max_length = 16)]
    pub phone_number: Option<String>,
    /// Only tasks created at or after this: ISO-8601 or unix milliseconds.
    #[param(max_length = 64)]
    pub from: Option<String>,
    /// Only tasks created before this (same forms as `from`).
    #[param(max_length = 64)]
    pub to: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    #[param(max_length = 1000)]
    pub cursor: Option<String>,
}

/// A task state, as a filter.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatusParam {
    /// Waiting to be called.
    Pending,
    /// About to be called.
    Accepted,
    /// On the call.
    InProgress,
    /// Done.
    Completed,
    /// Cancelled.
    Cancelled,
    /// Failed.
    Failed,
}

impl From<TaskStatusParam> for TaskStatus {
    fn from(p: TaskStatusParam) -> Self {
        match p {
            TaskStatusParam::Pending => TaskStatus::Pending,
            TaskStatusParam::Accepted => TaskStatus::Accepted,
            TaskStatusParam::InProgress => TaskStatus::InProgress,
            TaskStatusParam::Completed => TaskStatus::Completed,
            TaskStatusParam::Cancelled => TaskStatus::Cancelled,
            TaskStatusParam::Failed => TaskStatus::Failed,
        }
    }
}

fn time_param(field: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_time(v).map(Some).ok_or_else(|| {
            ApiError::invalid_field(
                field,
                format!("{field} must be ISO-8601 (2026-04-17T14:00:00Z) or unix milliseconds"),
            )
        }),
    }
}

/// List the workspace's tasks, newest first.
#[utoipa::path(
    get,
    path = "/v2/tasks",
    tag = "tasks",
    params(ListTasksQuery),
    responses(
        (status = 200, description = "A page of tasks; `meta.total` counts all matches", body = List<TaskView>),
        (status = 400, description = "A bad filter, limit or cursor", body = ErrorBody),
    ),
    security(("bearer" = ["tasks:read"])),
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListTasksQuery>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::TasksRead)?;
    let limit = page_limit(query.limit)?;
    check_len("agent_id", query.agent_id.as_deref(), 200)?;
    check_len("phone_number", query.phone_number.as_deref(), 16)?;
    check_len("from", query.from.as_deref(), 64)?;
    check_len("to", query.to.as_deref(), 64)?;
    check_len("cursor", query.cursor.as_deref(), 1000)?;
    let trimmed = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = TaskFilter {
        status: query.status.map(TaskStatus::from),
        agent_id: trimmed(query.agent_id),
        phone_number: trimmed(query.phone_number),
        created_from: time_param("from", query.from.as_deref())?,
        created_before: time_param("to", query.to.as_deref())?,
    };
    let page = state
        .ctx
        .store
        .list_tasks(tenant, &filter, limit, query.cursor.as_deref())
        .await?;
    let views: Vec<TaskView> = page.items.iter().map(TaskView::from).collect();
    list(&views, page.total, limit, page.next_cursor)
}

/// Cancel a task before its call starts (`pending` or `accepted`). Once it is `in_progress` or over,
/// 409 `INVALID_STATUS`.
#[utoipa::path(
    post,
    path = "/v2/tasks/{id}/cancel",
    tag = "tasks",
    params(
        ("id" = String, Path, description = "Task id (`task_...`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "The task, cancelled", body = One<TaskView>),
        (status = 404, description = "No such task for this workspace", body = ErrorBody),
        (status = 409, description = "INVALID_STATUS: the call has started or the task is over", body = ErrorBody),
    ),
    security(("bearer" = ["tasks:write"])),
)]
pub async fn cancel_task(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tenant = caller.require(Scope::TasksWrite)?;
    idempotency::run(
        &state,
        tenant,
        &headers,
        &method,
        uri.path(),
        &body,
        || async {
            let ctx = &state.ctx;
            let now = ctx.now_ms();
            let mut tx = ctx.store.begin().await?;
            let task = ctx
                .store
                .cancel_task(&mut tx, tenant, &id, now)
                .await
                .map_err(|e| ApiError::from_store("task", e))?;
            emit_task_updated(ctx, &mut tx, &task, now).await?;
            tx.commit().await.map_err(StoreError::from)?;
            ctx.events.notify_waiters();
            one(StatusCode::OK, &TaskView::from(&task))
        },
    )
    .await
}
