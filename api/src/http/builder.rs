//! The Agent Builder: `POST /v2/agent-builder` queues a job that builds an agent from a website and/or
//! instructions; `GET /v2/agent-builder/{job_id}` reports it as `queued`, `processing`, `completed` (with
//! the new agent's id) or `failed` (with an error). A workspace may start
//! `ApiConfig::builder_jobs_per_day` jobs in any 24 hours.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::agent_input::website;
use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, One, one};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, RawBody, parse_json};
use super::fields::optional_text;
use super::idempotency;
use super::operations::{OperationError, enqueue};
use super::time::iso;
use crate::store::{Operation, OperationKind, OperationStatus, StoreError};

/// The quota's window.
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Longest instructions accepted.
const MAX_INSTRUCTIONS: usize = 20_000;

/// A builder job request: a website, instructions, or both.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct BuilderRequest {
    /// The website to analyse (`https://example.com`).
    #[serde(default, alias = "websiteUrl")]
    #[schema(
        max_length = 2048,
        pattern = r"^(https?://)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(:[1-9][0-9]{0,3})?(/[!-~]*)?$",
        example = "https://example.com"
    )]
    pub website_url: Option<String>,
    /// Instructions that guide the agent (`Focus on customer support for our SaaS product`).
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub instructions: Option<String>,
}

/// A builder job.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuilderJob {
    /// `op_...`: the job id to poll.
    pub job_id: String,
    /// `queued`, `processing`, `completed` or `failed`.
    #[schema(example = "queued")]
    pub status: &'static str,
    /// The new agent, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Why it failed, once failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<OperationError>,
    /// The website, as normalised.
    pub website_url: Option<String>,
    /// The instructions.
    pub instructions: Option<String>,
    /// 0 to 100.
    pub progress: i64,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601.
    pub updated_at: String,
}

impl From<&Operation> for BuilderJob {
    fn from(op: &Operation) -> Self {
        let status = match op.status {
            OperationStatus::Pending => "queued",
            OperationStatus::Running => "processing",
            OperationStatus::Active => "completed",
            OperationStatus::Failed => "failed",
        };
        let text = |key: &str| {
            op.request
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        BuilderJob {
            job_id: op.id.clone(),
            status,
            agent_id: (op.status == OperationStatus::Active)
                .then(|| op.agent_id.clone())
                .flatten(),
            error: (op.status == OperationStatus::Failed).then(|| OperationError {
                code: op.error_code.clone().unwrap_or_else(|| "failed".into()),
                message: op.error_message.clone().unwrap_or_default(),
            }),
            website_url: text("website_url").or_else(|| text("url")),
            instructions: text("instructions"),
            progress: op.progress,
            created_at: iso(op.created_at),
            updated_at: iso(op.updated_at),
        }
    }
}

/// Start an agent-builder job.
#[utoipa::path(
    post,
    path = "/v2/agent-builder",
    tag = "agent-builder",
    request_body = BuilderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 202, description = "Queued", body = One<BuilderJob>),
        (status = 400, description = "Neither website_url nor instructions, or an invalid URL", body = ErrorBody),
        (status = 429, description = "The workspace's daily job quota is used up", body = ErrorBody),
    ),
    security(("bearer" = ["agents:write"])),
)]
pub async fn create_job(
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
            let request: BuilderRequest = parse_json(&headers, &body, false)?;
            let website_url = website("website_url", request.website_url)?;
            let instructions =
                optional_text("instructions", request.instructions, MAX_INSTRUCTIONS)?;
            if website_url.is_none() && instructions.is_none() {
                return Err(ApiError::invalid_field(
                    "website_url",
                    "give website_url, instructions, or both",
                ));
            }
            let ctx = &state.ctx;
            let store = &ctx.store;
            let now = ctx.now_ms();
            let mut tx = store.begin().await?;
            let used = store
                .count_operations_since(&mut tx, tenant, OperationKind::Builder, now - DAY_MS)
                .await?;
            let quota = i64::from(ctx.config.builder_jobs_per_day);
            if used >= quota {
                // The store counts but does not say when the oldest job leaves the window; an hour is a
                // conservative wait that never under-states it by much.
                return Err(ApiError::rate_limited(
                    format!(
                        "this workspace has started {quota} agent-builder jobs in the last 24 hours"
                    ),
                    3600,
                ));
            }
            // The worker builds the agent and records it on the job when it completes.
            // `website_url` for the builder worker; `url` too, the key of `ProvisionRequest`.
            let request = json!({"website_url": website_url, "url": website_url,
            "instructions": instructions, "name": null});
            let op = enqueue(
                store,
                &mut tx,
                tenant,
                OperationKind::Builder,
                None,
                request,
                now,
            )
            .await?;
            tx.commit().await.map_err(StoreError::from)?;
            ctx.events.notify_waiters();
            one(StatusCode::ACCEPTED, &BuilderJob::from(&op))
        },
    )
    .await
}

/// Get an agent-builder job.
#[utoipa::path(
    get,
    path = "/v2/agent-builder/{job_id}",
    tag = "agent-builder",
    params(("job_id" = String, Path, description = "The job id from the create answer")),
    responses(
        (status = 200, description = "The job", body = One<BuilderJob>),
        (status = 404, description = "No such job for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["agents:read"])),
)]
pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(job_id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::AgentsRead)?;
    let op = state
        .ctx
        .store
        .operation(tenant, &job_id)
        .await
        .map_err(|e| ApiError::from_store("job", e))?;
    if op.kind != OperationKind::Builder {
        return Err(ApiError::not_found("job"));
    }
    one(StatusCode::OK, &BuilderJob::from(&op))
}
