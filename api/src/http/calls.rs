//! Calls, as telephony recorded them: `GET /v2/calls` (filters and paging), `GET /v2/calls/{id}`, its
//! `/transcript` and its `/extractions`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::agents::page_limit;
use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, List, One, list, one};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery};
use super::fields::check_len;
use super::time::{iso, iso_opt, parse_time};
use crate::store::{Call, CallFilter};

/// A call.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    /// `call_...`
    pub id: String,
    /// The same id, under the name events use.
    pub call_id: String,
    /// The agent that took or made it.
    pub agent_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `in_progress` or `completed`.
    pub status: &'static str,
    /// The caller's number (E.164), when known.
    pub from_number: Option<String>,
    /// The dialled number (E.164), when known.
    pub to_number: Option<String>,
    /// ISO-8601.
    pub started_at: String,
    /// ISO-8601, once ended.
    pub ended_at: Option<String>,
    /// Whole seconds, once ended.
    pub duration_seconds: Option<i64>,
    /// The outcome (`booked`, `answered`, `voicemail`, ...).
    pub disposition: Option<String>,
    /// Why it ended (`caller_hangup`, ...).
    pub end_reason: Option<String>,
    /// Whether a transcript is available.
    pub has_transcript: bool,
    /// Whether extractions are available.
    pub has_extractions: bool,
}

impl From<&Call> for CallView {
    fn from(c: &Call) -> Self {
        CallView {
            id: c.id.clone(),
            call_id: c.id.clone(),
            agent_id: c.agent_id.clone(),
            direction: c.direction.as_str().to_owned(),
            status: if c.ended_at.is_some() {
                "completed"
            } else {
                "in_progress"
            },
            from_number: c.from_number.clone(),
            to_number: c.to_number.clone(),
            started_at: iso(c.started_at),
            ended_at: iso_opt(c.ended_at),
            duration_seconds: c.duration_ms.map(|ms| (ms.max(0) + 500) / 1000),
            disposition: c.disposition.clone(),
            end_reason: c.end_reason.clone(),
            has_transcript: c.transcript.is_some(),
            has_extractions: c.extractions.is_some(),
        }
    }
}

/// Filters and paging of `GET /v2/calls`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCallsQuery {
    /// Only this agent's calls.
    #[param(max_length = 200)]
    pub agent_id: Option<String>,
    /// Only calls that started at or after this: ISO-8601 (`2026-04-17T14:00:00Z`, `2026-04-17`) or
    /// unix milliseconds.
    #[param(max_length = 64)]
    pub from: Option<String>,
    /// Only calls that started before this (same forms as `from`).
    #[param(max_length = 64)]
    pub to: Option<String>,
    /// Only calls with this outcome.
    #[param(max_length = 200)]
    pub disposition: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    #[param(max_length = 1000)]
    pub cursor: Option<String>,
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

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// List the tenant's calls, newest first.
#[utoipa::path(
    get,
    path = "/v2/calls",
    tag = "calls",
    params(ListCallsQuery),
    responses(
        (status = 200, description = "A page of calls; `meta.total` counts all matches", body = List<CallView>),
        (status = 400, description = "A bad filter, limit or cursor", body = ErrorBody),
    ),
    security(("bearer" = ["calls:read"])),
)]
pub async fn list_calls(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListCallsQuery>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::CallsRead)?;
    let limit = page_limit(query.limit)?;
    check_len("agent_id", query.agent_id.as_deref(), 200)?;
    check_len("from", query.from.as_deref(), 64)?;
    check_len("to", query.to.as_deref(), 64)?;
    check_len("disposition", query.disposition.as_deref(), 200)?;
    check_len("cursor", query.cursor.as_deref(), 1000)?;
    let filter = CallFilter {
        agent_id: non_empty(query.agent_id),
        started_from: time_param("from", query.from.as_deref())?,
        started_before: time_param("to", query.to.as_deref())?,
        disposition: non_empty(query.disposition),
    };
    let page = state
        .ctx
        .store
        .list_calls(tenant, &filter, limit, query.cursor.as_deref())
        .await?;
    let views: Vec<CallView> = page.items.iter().map(CallView::from).collect();
    list(&views, page.total, limit, page.next_cursor)
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<Call, ApiError> {
    let tenant = caller.require(Scope::CallsRead)?;
    state
        .ctx
        .store
        .call(tenant, id)
        .await
        .map_err(|e| ApiError::from_store("call", e))
}

/// Get one call.
#[utoipa::path(
    get,
    path = "/v2/calls/{id}",
    tag = "calls",
    params(("id" = String, Path, description = "Call id (`call_...`)")),
    responses(
        (status = 200, description = "The call", body = One<CallView>),
        (status = 404, description = "No such call for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["calls:read"])),
)]
pub async fn get_call(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let call = find(&state, &caller, &id).await?;
    one(StatusCode::OK, &CallView::from(&call))
}

/// A call's transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptView {
    /// The call.
    pub call_id: String,
    /// Whether the call has ended (a live call has no transcript yet).
    pub completed: bool,
    /// Turn by turn, as telephony recorded it; `null` until the call ends.
    pub transcript: Option<Value>,
    /// Each answer's latencies, in ms after the caller's end of speech (`end_of_turn_ms`,
    /// `stt_final_ms`, `first_text_ms`, `first_audio_ms`, `first_frame_ms`, `decision_to_frame_ms`; a
    /// milestone not reached is `null`); `null` until the call ends. Live: `GET /v2/calls/{id}/live`.
    pub turns: Option<Value>,
}

/// Get a call's transcript.
#[utoipa::path(
    get,
    path = "/v2/calls/{id}/transcript",
    tag = "calls",
    params(("id" = String, Path, description = "Call id (`call_...`)")),
    responses(
        (status = 200, description = "The transcript", body = One<TranscriptView>),
        (status = 404, description = "No such call for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["calls:read"])),
)]
pub async fn get_transcript(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let call = find(&state, &caller, &id).await?;
    one(
        StatusCode::OK,
        &TranscriptView {
            call_id: call.id,
            completed: call.ended_at.is_some(),
            transcript: call.transcript,
            turns: call.turns,
        },
    )
}

/// What was pulled out of a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractionsView {
    /// The call.
    pub call_id: String,
    /// Whether the call has ended.
    pub completed: bool,
    /// Intent, entities and slots; `null` until the call ends.
    pub extractions: Option<Value>,
}

/// Get a call's extractions.
#[utoipa::path(
    get,
    path = "/v2/calls/{id}/extractions",
    tag = "calls",
    params(("id" = String, Path, description = "Call id (`call_...`)")),
    responses(
        (status = 200, description = "The extractions", body = One<ExtractionsView>),
        (status = 404, description = "No such call for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["calls:read"])),
)]
pub async fn get_extractions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let call = find(&state, &caller, &id).await?;
    one(
        StatusCode::OK,
        &ExtractionsView {
            call_id: call.id,
            completed: call.ended_at.is_some(),
            extractions: call.extractions,
        },
    )
}
