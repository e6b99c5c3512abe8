//! `POST /v2/auth/token`: the OAuth 2 client-credentials grant. A service account's `client_id` and secret
//! (the API key) buy a one-hour bearer token, optionally narrowed to fewer scopes.
//!
//! It takes no `Idempotency-Key`: it creates nothing a retry could duplicate, and replaying a stored
//! answer would mean keeping a live token in the idempotency table.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::token_fingerprint;
use super::envelope::{ApiReply, One, one};
use super::error::{ApiError, ErrorBody};
use super::extract::RawBody;
use super::rate_limit::RateClass;
use crate::store::{ACCESS_TOKEN_TTL_MS, Principal};

/// A token request, as JSON or `application/x-www-form-urlencoded`. The client may instead send its id and
/// secret as HTTP Basic credentials (RFC 6749 section 2.3.1).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// The service account id (`sa_...`).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Its secret, the API key (`sk_live_...`).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Must be `client_credentials`.
    #[serde(default)]
    pub grant_type: Option<String>,
    /// Space-separated scopes to narrow the token to; all of the account's scopes when absent.
    #[serde(default)]
    pub scope: Option<String>,
}

/// An issued token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token (`at_...`).
    pub access_token: String,
    /// Seconds it is valid for: 3600.
    pub expires_in: i64,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// What it may do.
    pub scopes: Vec<String>,
    /// The same scopes, space-separated, as OAuth clients read them.
    pub scope: String,
}

/// Reads the body as form or JSON, by its content type.
fn parse_request(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return parse_form(body);
    }
    super::extract::parse_json(headers, body, true)
}

/// Form fields, read with the `url` crate's parser (one flat map; unknown fields ignored).
fn parse_form(body: &[u8]) -> Result<TokenRequest, ApiError> {
    let mut request = TokenRequest::default();
    for (key, value) in url::form_urlencoded::parse(body) {
        let value = Some(value.into_owned());
        match key.as_ref() {
            "client_id" => request.client_id = value,
            "client_secret" => request.client_secret = value,
            "grant_type" => request.grant_type = value,
            "scope" => request.scope = value,
            _ => {}
        }
    }
    Ok(request)
}

/// `client_id:client_secret` from an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let text = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Exchange client credentials for an access token.
#[utoipa::path(
    post,
    path = "/v2/auth/token",
    tag = "auth",
    request_body(
        content(
            (TokenRequest = "application/json"),
            (TokenRequest = "application/x-www-form-urlencoded"),
        ),
        description = "client_credentials grant; `client_id`/`client_secret` may come as HTTP Basic instead",
    ),
    responses(
        (status = 200, description = "A bearer token valid for one hour", body = One<TokenResponse>),
        (status = 400, description = "Missing fields, an unsupported grant_type or an unknown scope", body = ErrorBody),
        (status = 401, description = "Unknown client or wrong secret", body = ErrorBody),
    ),
    security(()),
)]
pub async fn issue_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<ApiReply, ApiError> {
    let request = parse_request(&headers, &body)?;
    match request.grant_type.as_deref() {
        Some("client_credentials") => {}
        None => {
            return Err(ApiError::invalid_field(
                "grant_type",
                "grant_type is required and must be client_credentials",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "grant_type",
                "unsupported_grant_type: only client_credentials is supported",
            ));
        }
    }
    let (client_id, secret) = match (request.client_id, request.client_secret) {
        (Some(id), Some(secret)) => (id, secret),
        _ => basic_credentials(&headers).ok_or_else(|| {
            ApiError::invalid_field(
                "client_id",
                "client_id and client_secret are required (in the body or as HTTP Basic)",
            )
        })?,
    };
    let now = state.ctx.now_ms();
    // Limit guesses per client id, before any lookup.
    state
        .limiter
        .check(&token_fingerprint(&client_id), RateClass::Write, now)
        .map_err(|secs| ApiError::rate_limited("too many token requests for this client", secs))?;
    let principal = state
        .ctx
        .store
        .verify_client_credentials(&client_id, &secret)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown client_id or wrong client_secret"))?;
    let scopes = narrow(&principal, request.scope.as_deref())?;
    let narrowed = Principal {
        scopes: scopes.clone(),
        ..principal
    };
    let token = state.ctx.store.issue_access_token(&narrowed, now).await?;
    one(
        StatusCode::OK,
        &TokenResponse {
            access_token: token.token,
            expires_in: ACCESS_TOKEN_TTL_MS / 1000,
            token_type: "Bearer",
            scope: scopes.join(" "),
            scopes,
        },
    )
}

/// The scopes a token gets: those asked for, each of which the account must hold; all when none asked.
fn narrow(principal: &Principal, asked: Option<&str>) -> Result<Vec<String>, ApiError> {
    let asked: Vec<&str> = asked.unwrap_or_default().split_whitespace().collect();
    if asked.is_empty() {
        return Ok(principal.scopes.clone());
    }
    let mut out = Vec::new();
    for scope in asked {
        let covered = super::auth::Scope::EVERY
            .iter()
            .find(|s| s.as_str() == scope)
            .is_some_and(|s| super::auth::grants(&principal.scopes, *s))
            || principal.scopes.iter().any(|g| g == scope);
        if !covered {
            return Err(ApiError::invalid_field(
                "scope",
                format!("invalid_scope: this client is not granted `{scope}`"),
            ));
        }
        if !out.iter().any(|s| s == scope) {
            out.push(scope.to_owned());
        }
    }
    Ok(out)
}
