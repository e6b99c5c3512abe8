//! The REST API v2: every route under `/v2`, the OpenAPI document at `/.well-known/openapi.json` and a
//! reference page at `/docs`.
//!
//! - Responses use one envelope ([`envelope`]) and one error shape ([`error`]); axum's own rejections
//!   are mapped to it, and any unknown path under `/v2` answers `NOT_FOUND` in that shape.
//! - Every route but `POST /v2/auth/token` needs a bearer token and a scope ([`auth`]), passes the
//!   caller's tenant to every store call, and draws from the caller's rate limit ([`rate_limit`]).
//! - Every mutating route honours `Idempotency-Key` ([`idempotency`]).
//! - Mission tasks also answer under the product page's paths (`tasks::SEED_BASE`), outside `/v2`.
//! - Events that routes emit are committed with the change they report; after the commit the route
//!   wakes `ApiContext::events`, so SSE streams and the webhook worker see them at once.
//!
//! Work that takes time (provisioning, knowledge syncs, agent-builder jobs) is queued as an operation in
//! the store and answered with 202; the workers in `jobs` pick it up. The operation's `request` JSON is
//! what the worker reads; its keys are those of `dialtone_provisioning::ProvisionRequest` (`url`,
//! `vertical`, `instructions`, `name`) plus, for provisioning, `phone_number`, `white_label_id`,
//! `template_id`, `platform`; for builder jobs `website_url` (the same as `url`); and for knowledge
//! syncs `agent_id`.

pub mod auth;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod fields;
pub mod idempotency;
pub mod rate_limit;
pub mod time;

mod agent_input;
mod agents;
mod auth_token;
mod builder;
mod calls;
mod calls_live;
mod events;
mod kb_proposals;
mod knowledge;
mod openapi;
mod operations;
mod tasks;
mod templates;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get, post};
use tokio::sync::Notify;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::context::ApiContext;
use rate_limit::RateLimiter;

/// What every handler gets.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The shared API context.
    pub ctx: ApiContext,
    /// Per-token budgets.
    pub limiter: Arc<RateLimiter>,
    /// Woken when an idempotent request finishes, so its duplicates stop waiting.
    pub idempotency_done: Arc<Notify>,
}

/// The API's routes, with their OpenAPI document.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(auth_token::issue_token))
        .routes(routes!(agents::create_agent, agents::list_agents))
        .routes(routes!(
            agents::get_agent,
            agents::update_agent,
            agents::delete_agent
        ))
        .routes(routes!(operations::get_operation))
        .routes(routes!(templates::list_templates))
        .routes(routes!(builder::create_job))
        .routes(routes!(builder::get_job))
        .routes(routes!(knowledge::sync))
        .routes(routes!(knowledge::get_kb))
        .routes(routes!(
            kb_proposals::create_proposal,
            kb_proposals::list_proposals
        ))
        .routes(routes!(kb_proposals::get_proposal))
        .routes(routes!(kb_proposals::approve))
        .routes(routes!(kb_proposals::reject))
        .routes(routes!(calls::list_calls))
        .routes(routes!(calls::get_call))
        .routes(routes!(calls::get_transcript))
        .routes(routes!(calls::get_extractions))
        .routes(routes!(calls_live::follow_call))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::get_webhook, webhooks::delete_webhook))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::test_webhook))
        .routes(routes!(tasks::create_task, tasks::list_tasks))
        .routes(routes!(tasks::get_task))
        .routes(routes!(tasks::cancel_task))
        .routes(routes!(events::stream))
}

/// The OpenAPI document of [`router`], as served at `/.well-known/openapi.json`.
pub fn openapi_document() -> serde_json::Value {
    openapi::finish(api_routes().into_openapi())
}

/// The API router: `/v2/...`, `/.well-known/openapi.json` and `/docs`. It sets no fallback of its own
/// outside `/v2`, so `dialtone serve` can merge it with the telephony routes.
pub fn router(ctx: ApiContext) -> Router {
    let state = AppState {
        limiter: Arc::new(RateLimiter::new(
            ctx.config.read_rate_per_minute,
            ctx.config.write_rate_per_minute,
        )),
        idempotency_done: Arc::new(Notify::new()),
        ctx,
    };
    let (api, spec) = api_routes().split_for_parts();
    let spec = openapi::finish(spec);
    let seed = tasks::SEED_BASE;
    api.route(
        &format!("{seed}/tasks"),
        post(tasks::create_task).get(tasks::list_tasks),
    )
    .route(&format!("{seed}/tasks/{{id}}"), get(tasks::get_task))
    .route(
        &format!("{seed}/tasks/{{id}}/cancel"),
        post(tasks::cancel_task),
    )
    // Under the seed's base path too, an unknown route answers in the API's error shape.
    .route(&format!("{seed}/{{*rest}}"), any(error::route_not_found))
    .route("/v2", any(error::route_not_found))
    .route("/v2/", any(error::route_not_found))
    .route("/v2/{*rest}", any(error::route_not_found))
    .method_not_allowed_fallback(error::method_not_allowed)
    .with_state(state)
    .merge(openapi::routes(&spec))
}
