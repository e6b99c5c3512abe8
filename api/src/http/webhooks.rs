//! Webhook subscriptions: `POST/GET /v2/webhooks`, `GET/DELETE /v2/webhooks/{id}`, the delivery log
//! `GET /v2/webhooks/{id}/deliveries`, and `POST /v2/webhooks/{id}/test`.
//!
//! The signing secret (`whsec_...`) is shown once, in the create answer. Deliveries are signed and sent
//! by the webhook worker from the outbox that emitting an event fills.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::agents::{Deleted, page_limit};
use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, List, One, list, one};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, RawBody, parse_json};
use super::fields::check_len;
use super::idempotency;
use super::time::{iso, iso_opt};
use crate::store::{NewWebhook, StoreError, Webhook, WebhookDelivery};

/// The event types a webhook can subscribe to; `*` subscribes to all.
pub const EVENT_TYPES: [&str; 12] = [
    "agent.activated",
    "agent.updated",
    "agent.provisioning_failed",
    "operation.updated",
    "call.started",
    "call.completed",
    "call.transcript_ready",
    "call.extractions_ready",
    "extraction.low_confidence",
    "kb.synced",
    "task.updated",
    "webhook.test",
];

/// Longest URL accepted.
const MAX_URL: usize = 2048;
/// Most event names in one subscription: the twelve and `*`.
const MAX_EVENTS: usize = 13;

/// A subscription request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    /// Where to POST events: an `http` or `https` URL.
    #[schema(max_length = 2048, example = "https://example.com/hooks/dialtone")]
    pub url: String,
    /// Event types to receive (see `EventType`), or `["*"]` for all.
    #[schema(min_items = 1, max_items = 13)]
    pub events: Vec<EventType>,
    /// Only this agent's events; every agent's when absent.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub agent_id: Option<String>,
}

/// An event type, or `*` for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "*")]
    All,
    #[serde(rename = "agent.activated")]
    AgentActivated,
    #[serde(rename = "agent.updated")]
    AgentUpdated,
    #[serde(rename = "agent.provisioning_failed")]
    AgentProvisioningFailed,
    #[serde(rename = "operation.updated")]
    OperationUpdated,
    #[serde(rename = "call.started")]
    CallStarted,
    #[serde(rename = "call.completed")]
    CallCompleted,
    #[serde(rename = "call.transcript_ready")]
    CallTranscriptReady,
    #[serde(rename = "call.extractions_ready")]
    CallExtractionsReady,
    #[serde(rename = "extraction.low_confidence")]
    ExtractionLowConfidence,
    #[serde(rename = "kb.synced")]
    KbSynced,
    #[serde(rename = "task.updated")]
    TaskUpdated,
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// `wh_...`
    pub id: String,
    /// Where events go.
    pub url: String,
    /// What it receives.
    pub events: Vec<String>,
    /// Only this agent's events, when set.
    pub agent_id: Option<String>,
    /// The HMAC-SHA256 signing key (`whsec_...`): only in the create answer; keep it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// ISO-8601.
    pub created_at: String,
}

impl WebhookView {
    fn new(w: &Webhook, with_secret: bool) -> Self {
        WebhookView {
            id: w.id.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            agent_id: w.agent_id.clone(),
            secret: with_secret.then(|| w.secret.clone()),
            created_at: iso(w.created_at),
        }
    }
}

fn check_url(raw: &str) -> Result<String, ApiError> {
    check_len("url", Some(raw), MAX_URL)?;
    let raw = raw.trim();
    let url = url::Url::parse(raw)
        .map_err(|e| ApiError::invalid_field("url", format!("url is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::invalid_field(
            "url",
            "url must be an http or https URL with a host",
        ));
    }
    Ok(url.to_string())
}

/// Subscribe a URL to events. The answer holds the signing secret, shown this once.
#[utoipa::path(
    post,
    path = "/v2/webhooks",
    tag = "webhooks",
    request_body = CreateWebhookRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "The webhook, with its secret", body = One<WebhookView>),
        (status = 400, description = "A bad URL or an unknown event type", body = ErrorBody),
        (status = 404, description = "agent_id is not an agent of this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tenant = caller.require(Scope::WebhooksManage)?;
    idempotency::run(
        &state,
        tenant,
        &headers,
        &method,
        uri.path(),
        &body,
        || async {
            let request: CreateWebhookRequest = parse_json(&headers, &body, false)?;
            let url = check_url(&request.url)?;
            if request.events.len() > MAX_EVENTS {
                return Err(ApiError::invalid_field(
                    "events",
                    format!("events lists at most {MAX_EVENTS} names"),
                ));
            }
            check_len("agent_id", request.agent_id.as_deref(), 200)?;
            if request.events.is_empty() {
                return Err(ApiError::invalid_field(
                    "events",
                    format!(
                        "events must name at least one of: *, {}",
                        EVENT_TYPES.join(", ")
                    ),
                ));
            }
            let mut events: Vec<String> = Vec::new();
            for name in request.events.iter().map(|e| e.name()) {
                if !events.contains(&name) {
                    events.push(name);
                }
            }
            let agent_id = request
                .agent_id
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty());
            let webhook = state
                .ctx
                .store
                .create_webhook(
                    tenant,
                    &NewWebhook {
                        url,
                        events,
                        agent_id,
                    },
                    state.ctx.now_ms(),
                )
                .await
                .map_err(|e| ApiError::from_store("agent", e))?;
            one(StatusCode::CREATED, &WebhookView::new(&webhook, true))
        },
    )
    .await
}

/// List the tenant's webhooks, oldest first.
#[utoipa::path(
    get,
    path = "/v2/webhooks",
    tag = "webhooks",
    responses((status = 200, description = "Every webhook (without secrets)", body = List<WebhookView>)),
    security(("bearer" = ["webhooks:manage"])),
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::WebhooksManage)?;
    let hooks = state.ctx.store.list_webhooks(tenant).await?;
    let views: Vec<WebhookView> = hooks.iter().map(|w| WebhookView::new(w, false)).collect();
    let total = i64::try_from(views.len()).unwrap_or(i64::MAX);
    let limit = u32::try_from(views.len()).unwrap_or(u32::MAX);
    list(&views, total, limit, None)
}

/// Get one webhook.
#[utoipa::path(
    get,
    path = "/v2/webhooks/{id}",
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id (`wh_...`)")),
    responses(
        (status = 200, description = "The webhook (without its secret)", body = One<WebhookView>),
        (status = 404, description = "No such webhook for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
pub async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::WebhooksManage)?;
    let hook = state
        .ctx
        .store
        .webhook(tenant, &id)
        .await
        .map_err(|e| ApiError::from_store("webhook", e))?;
    one(StatusCode::OK, &WebhookView::new(&hook, false))
}

/// Delete a webhook; deliveries still waiting are dropped.
#[utoipa::path(
    delete,
    path = "/v2/webhooks/{id}",
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "Webhook id (`wh_...`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 200, description = "Deleted", body = One<Deleted>),
        (status = 404, description = "No such webhook for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tenant = caller.require(Scope::WebhooksManage)?;
    idempotency::run(
        &state,
        tenant,
        &headers,
        &method,
        uri.path(),
        &body,
        || async {
            state
                .ctx
                .store
                .delete_webhook(tenant, &id, state.ctx.now_ms())
                .await
                .map_err(|e| ApiError::from_store("webhook", e))?;
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

/// One delivery of an event to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// `whd_...`
    pub id: String,
    /// The webhook.
    pub webhook_id: String,
    /// The event's position in the tenant's log (its SSE id).
    pub event_seq: i64,
    /// `pending`, `delivered` or `failed` (after 5 attempts, or when the webhook was deleted).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// The last failure in words.
    pub last_error: Option<String>,
    /// ISO-8601 of the next attempt, while pending.
    pub next_attempt_at: Option<String>,
    /// ISO-8601.
    pub created_at: String,
    /// ISO-8601, once delivered.
    pub delivered_at: Option<String>,
}

impl From<&WebhookDelivery> for DeliveryView {
    fn from(d: &WebhookDelivery) -> Self {
        let pending = d.status == crate::store::DeliveryStatus::Pending;
        DeliveryView {
            id: d.id.clone(),
            webhook_id: d.webhook_id.clone(),
            event_seq: d.event_seq,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            next_attempt_at: pending.then(|| iso(d.next_attempt_at)),
            created_at: iso(d.created_at),
            delivered_at: iso_opt(d.delivered_at),
        }
    }
}

/// Paging of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// How many of the newest deliveries, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// A webhook's newest deliveries.
#[utoipa::path(
    get,
    path = "/v2/webhooks/{id}/deliveries",
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id (`wh_...`)"), DeliveriesQuery),
    responses(
        (status = 200, description = "Newest first; `meta.total` counts this page", body = List<DeliveryView>),
        (status = 404, description = "No such webhook for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> Result<ApiReply, ApiError> {
    let tenant = caller.require(Scope::WebhooksManage)?;
    let limit = page_limit(query.limit)?;
    let store = &state.ctx.store;
    store
        .webhook(tenant, &id)
        .await
        .map_err(|e| ApiError::from_store("webhook", e))?;
    let deliveries = store.list_deliveries(tenant, &id, limit).await?;
    let views: Vec<DeliveryView> = deliveries.iter().map(DeliveryView::from).collect();
    let total = i64::try_from(views.len()).unwrap_or(i64::MAX);
    list(&views, total, limit, None)
}

/// What a test send answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestSent {
    /// The webhook.
    pub webhook_id: String,
    /// The `webhook.test` event queued for it (`evt_...`, also its idempotency key).
    pub event_id: String,
    /// Its position in the tenant's log.
    pub event_seq: i64,
    /// Always `webhook.test`.
    pub event_type: &'static str,
}

/// Send a `webhook.test` event to this webhook (and no other).
#[utoipa::path(
    post,
    path = "/v2/webhooks/{id}/test",
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "Webhook id (`wh_...`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 202, description = "Queued for delivery", body = One<TestSent>),
        (status = 404, description = "No such webhook for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
pub async fn test_webhook(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tenant = caller.require(Scope::WebhooksManage)?;
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
            let data = json!({"webhook_id": id, "message": "This is a test event from Dialtone."});
            let mut tx = store.begin().await?;
            let event = store
                .emit_to_webhook(&mut tx, tenant, &id, "webhook.test", &data, now)
                .await
                .map_err(|e| ApiError::from_store("webhook", e))?;
            tx.commit().await.map_err(StoreError::from)?;
            ctx.events.notify_waiters();
            one(
                StatusCode::ACCEPTED,
                &TestSent {
                    webhook_id: id.clone(),
                    event_id: event.id,
                    event_seq: event.seq,
                    event_type: "webhook.test",
                },
            )
        },
    )
    .await
}
