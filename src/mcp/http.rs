//! The streamable HTTP transport at `/mcp`, mounted by `dialtone serve`.
//!
//! - Every request needs `Authorization: Bearer <token>`, the same API keys and access tokens as
//!   `/v2`; without a valid one the answer is 401 in the API's error shape, before any MCP handling.
//! - The tools call the API router of the same process with the caller's token, so scopes, tenancy,
//!   rate limits (the same budget as the REST routes) and validation are the API's own.
//! - Stateless: each POST is answered on its own (as JSON), no session is kept, so any node behind a
//!   load balancer can answer any request.
//! - Host-header checks (rmcp's guard against DNS rebinding of unauthenticated local servers) are off:
//!   the bearer token is the guard, and `dialtone serve` is reached under whatever name its operator
//!   gives it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use dialtone_api::ApiContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;

use super::client::ApiClient;
use super::server::{Credentials, DialtoneMcp, HttpCaller};

/// Where the transport is mounted.
pub const PATH: &str = "/mcp";

/// The `/mcp` route. `api` is the API router the tools call (the one `serve` mounts, so both share
/// their rate limits); `ctx` checks bearer tokens and gives `scout_research` its crawl settings.
pub fn routes(ctx: ApiContext, api: Router) -> Router {
    let crawl = ctx.config.crawl.clone();
    let factory = move || {
        Ok(DialtoneMcp::new(
            ApiClient::InProcess(api.clone()),
            Credentials::PerRequest,
            crawl.clone(),
        ))
    };
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .disable_allowed_hosts();
    let service =
        StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), config);
    Router::new()
        .route_service(PATH, service)
        .layer(middleware::from_fn_with_state(ctx, require_bearer))
}

/// The token of an `Authorization: Bearer` header, if there is one.
fn bearer(request: &Request) -> Option<&str> {
    let text = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = text.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Lets through requests with a known, live token, carrying it to the tools as an [`HttpCaller`].
async fn require_bearer(
    State(ctx): State<ApiContext>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(&request).map(str::to_owned) else {
        return unauthorized("missing Authorization: Bearer token");
    };
    // The same two kinds of token the API takes, told apart by their prefixes.
    let verified = if token.starts_with("sk_live_") {
        ctx.store.verify_api_key(&token).await
    } else if token.starts_with("at_") {
        ctx.store.verify_access_token(&token, ctx.now_ms()).await
    } else {
        Ok(None)
    };
    let principal = match verified {
        Ok(Some(principal)) => principal,
        Ok(None) => return unauthorized("invalid, expired or revoked token"),
        Err(e) => {
            tracing::warn!(error = %e, "cannot check an /mcp token");
            let body = json!({"error": {"code": "INTERNAL", "message": "internal error",
                "retryable": true}});
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
        }
    };
    request.extensions_mut().insert(HttpCaller {
        token,
        scopes: principal.scopes,
    });
    next.run(request).await
}

/// 401 in the API's error shape, with the challenge HTTP clients expect.
fn unauthorized(message: &str) -> Response {
    let body = json!({"error": {"code": "UNAUTHORIZED", "message": message, "retryable": false,
        "recovery": "send `Authorization: Bearer <token>` with an API key (sk_live_...) or an access \
                     token from POST /v2/auth/token"}});
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
