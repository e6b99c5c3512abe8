//! Who is calling and what they may do.
//!
//! Every `/v2` route except `POST /v2/auth/token` needs `Authorization: Bearer <token>`, where the token is
//! either an API key (`sk_live_...`, from `dialtone admin create-key`) or an access token (`at_...`,
//! from `POST /v2/auth/token`, valid one hour). Both stand for a service account of one tenant, and every
//! query a route makes is confined to that tenant.
//!
//! # Scopes
//! | scope | routes |
//! | --- | --- |
//! | `agents:read` | `GET` agents, operations, templates, agent-builder jobs, knowledge bases and proposals |
//! | `agents:write` | creating, changing and deleting agents; KB syncs and proposals; agent-builder jobs |
//! | `calls:read` | calls, transcripts, extractions |
//! | `webhooks:manage` | every webhook route, deliveries and test events included |
//! | `events:read` | the SSE stream `GET /v2/events` |
//! | `tasks:read`, `tasks:write` | outbound mission tasks |
//!
//! A `:write` scope includes the `:read` scope of the same resource. `*` (or `admin`) grants everything.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use super::rate_limit::RateClass;
use crate::store::Principal;

/// The scope that grants everything.
pub const ALL: &str = "*";
/// Also grants everything, for operators who think in roles.
pub const ADMIN: &str = "admin";

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Read agents and what belongs to them.
    AgentsRead,
    /// Create, change, delete agents.
    AgentsWrite,
    /// Read calls.
    CallsRead,
    /// Manage webhooks.
    WebhooksManage,
    /// Read mission tasks.
    TasksRead,
    /// Create mission tasks.
    TasksWrite,
    /// Stream events.
    EventsRead,
}

impl Scope {
    /// Every scope, for validating `--scopes` and token requests.
    pub const EVERY: [Scope; 7] = [
        Scope::AgentsRead,
        Scope::AgentsWrite,
        Scope::CallsRead,
        Scope::WebhooksManage,
        Scope::TasksRead,
        Scope::TasksWrite,
        Scope::EventsRead,
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AgentsRead => "agents:read",
            Scope::AgentsWrite => "agents:write",
            Scope::CallsRead => "calls:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::TasksRead => "tasks:read",
            Scope::TasksWrite => "tasks:write",
            Scope::EventsRead => "events:read",
        }
    }

    /// The scope a `:write` grant also covers.
    fn implied_read(self) -> Option<Scope> {
        match self {
            Scope::AgentsWrite => Some(Scope::AgentsRead),
            Scope::TasksWrite => Some(Scope::TasksRead),
            _ => None,
        }
    }
}

/// Whether `name` is a scope a key may be granted.
pub fn is_known_scope(name: &str) -> bool {
    name == ALL || name == ADMIN || Scope::EVERY.iter().any(|s| s.as_str() == name)
}

/// Whether `granted` covers `needed`.
pub fn grants(granted: &[String], needed: Scope) -> bool {
    granted.iter().any(|g| {
        g == ALL
            || g == ADMIN
            || g == needed.as_str()
            || Scope::EVERY
                .iter()
                .any(|s| s.as_str() == g && s.implied_read() == Some(needed))
    })
}

/// An authenticated caller, within its rate limit. Extracting it answers 401 or 429 on failure.
#[derive(Clone, Debug)]
pub struct Caller {
    principal: Principal,
}

impl Caller {
    /// The caller's tenant, if it holds `scope`; 403 otherwise.
    pub fn require(&self, scope: Scope) -> Result<&str, ApiError> {
        if grants(&self.principal.scopes, scope) {
            Ok(&self.principal.tenant_id)
        } else {
            Err(ApiError::forbidden(scope.as_str()))
        }
    }

    /// Who it is.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
}

/// The token of an `Authorization: Bearer` header.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("Authorization header is not valid text"))?;
    let (scheme, token) = text
        .trim()
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::unauthorized(
            "Authorization must be `Bearer <token>`",
        ));
    }
    Ok(token)
}

/// A fingerprint of a token for the rate limiter, so the limiter's map holds no usable secrets.
pub fn token_fingerprint(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let now = state.ctx.now_ms();
        let store = &state.ctx.store;
        // The prefixes tell the two kinds apart, so each token costs one indexed lookup.
        let principal = if token.starts_with("sk_live_") {
            store.verify_api_key(token).await?
        } else if token.starts_with("at_") {
            store.verify_access_token(token, now).await?
        } else {
            None
        };
        let principal =
            principal.ok_or_else(|| ApiError::unauthorized("invalid, expired or revoked token"))?;
        state
            .limiter
            .check(&token_fingerprint(token), RateClass::of(&parts.method), now)
            .map_err(|secs| {
                ApiError::rate_limited("too many requests for this token; slow down", secs)
            })?;
        Ok(Caller { principal })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scopes_grant_themselves_reads_of_writes_and_star_everything() {
        assert!(grants(&scopes(&["agents:read"]), Scope::AgentsRead));
        assert!(!grants(&scopes(&["agents:read"]), Scope::AgentsWrite));
        assert!(grants(&scopes(&["agents:write"]), Scope::AgentsRead));
        assert!(!grants(&scopes(&["agents:write"]), Scope::CallsRead));
        assert!(grants(&scopes(&["*"]), Scope::WebhooksManage));
        assert!(grants(&scopes(&["admin"]), Scope::EventsRead));
        assert!(!grants(&scopes(&[]), Scope::AgentsRead));
        assert!(is_known_scope("calls:read") && is_known_scope("*"));
        assert!(!is_known_scope("calls:write"));
    }
}
