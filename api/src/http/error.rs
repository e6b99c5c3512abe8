//! The one error shape every route answers with:
//! `{"error": {"code", "message", "retryable", "retry_after"?, "recovery"?, "details"?}}`.
//!
//! Handlers return [`ApiError`]; axum's own rejections (bad JSON, bad query strings, unknown routes, wrong
//! methods, bodies too large) are turned into it as well, so a client never has to parse a second shape.
//! Internal failures say only "internal error": the cause goes to the log, never to the caller.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::store::StoreError;

/// Machine-readable error codes. Clients branch on these, never on the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// 400 (413, 415): the request is malformed or a field is invalid; `details.field` names it.
    ValidationError,
    /// 401: no bearer token, or one that is unknown, expired or revoked.
    Unauthorized,
    /// 403: the token lacks the scope the route needs.
    Forbidden,
    /// 404: no such resource for this tenant, or no such route.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the change conflicts with another resource (a phone number in use, a request still running).
    Conflict,
    /// 409: the action is not allowed in the resource's current state (deciding a decided proposal).
    InvalidStatus,
    /// 422: the `Idempotency-Key` was used before for a different request.
    IdempotencyMismatch,
    /// 429: too many requests; wait `retry_after` seconds (also the `Retry-After` header).
    RateLimited,
    /// 500: the server failed; the request may be retried.
    Internal,
}

/// The error response body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong and what to do about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code.
    pub code: ErrorCode,
    /// For people; may change between versions.
    pub message: String,
    /// Whether the same request may succeed later.
    pub retryable: bool,
    /// Seconds to wait before retrying (429, and 409 for a request still in progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// A suggested next step, for bots that act on errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<String>,
    /// More about validation errors: `field` (the offending field), `reason` (a stable sub-code such as
    /// `invalid_url` or `template_not_found`) and other hints.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// An error answer, built by handlers and extractors. Boxed: it travels in every `Result` of the API and
/// most of them succeed.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    retryable: bool,
    retry_after: Option<u64>,
    recovery: Option<String>,
    details: Option<Value>,
    /// What really happened, for the log only (internal errors).
    cause: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            status,
            code,
            message: message.into(),
            retryable: false,
            retry_after: None,
            recovery: None,
            details: None,
            cause: None,
        }))
    }

    /// 400: the request is invalid.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::ValidationError, message)
            .recovery("fix the request as the message says; retrying it unchanged will fail again")
    }

    /// 400 about one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(message).detail("field", json!(field))
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message).recovery(
            "send `Authorization: Bearer <token>` with an API key (sk_live_...) or a fresh access token \
             from POST /v2/auth/token",
        )
    }

    /// 403: the caller lacks `scope`.
    pub fn forbidden(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!("this route needs the `{scope}` scope"),
        )
        .detail("required_scope", json!(scope))
        .recovery("use a key or token granted this scope")
    }

    /// 404: `what` does not exist for this tenant.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("{what} not found"),
        )
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "this route does not accept that method",
        )
        .recovery("see /.well-known/openapi.json for the methods each route accepts")
    }

    /// 409: a conflict with other data.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    /// 409: not allowed in the current state.
    pub fn invalid_status(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::InvalidStatus, message)
    }

    /// 422: the idempotency key was used for another request.
    pub fn idempotency_mismatch() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IdempotencyMismatch,
            "this Idempotency-Key was used with a different request (method, path or body)",
        )
        .recovery("use a new Idempotency-Key for a different request")
    }

    /// 429: wait `retry_after` seconds.
    pub fn rate_limited(message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            message,
        )
        .recovery("wait retry_after seconds, then retry");
        e.0.retryable = true;
        e.0.retry_after = Some(retry_after.max(1));
        e
    }

    /// 500. `cause` is logged, never shown.
    pub fn internal(cause: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
        )
        .recovery("retry later; if it persists, report it with the time of the request");
        e.0.retryable = true;
        e.0.cause = Some(cause.into());
        e
    }

    /// A 4xx with another status and the validation code (413, 415).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.0.status = status;
        self
    }

    /// Marks the error retryable, optionally after `retry_after` seconds.
    pub fn retryable(mut self, retry_after: Option<u64>) -> Self {
        self.0.retryable = true;
        self.0.retry_after = retry_after;
        self
    }

    /// Sets the suggested next step.
    pub fn recovery(mut self, recovery: impl Into<String>) -> Self {
        self.0.recovery = Some(recovery.into());
        self
    }

    /// Adds `key: value` to `details`.
    pub fn detail(mut self, key: &str, value: Value) -> Self {
        let details = self.0.details.get_or_insert_with(|| json!({}));
        if let Value::Object(map) = details {
            map.insert(key.to_owned(), value);
        }
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        self.0.retryable
    }

    /// The body as sent.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.0.code,
                message: self.0.message.clone(),
                retryable: self.0.retryable,
                retry_after: self.0.retry_after,
                recovery: self.0.recovery.clone(),
                details: self.0.details.clone(),
            },
        }
    }

    /// Maps a store error where "not found" means `what`.
    pub fn from_store(what: &str, e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(what),
            other => other.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found("resource"),
            StoreError::Conflict(message) => Self::conflict(message),
            StoreError::InvalidStatus(message) => Self::invalid_status(message),
            StoreError::InvalidCursor => Self::invalid_field(
                "cursor",
                "cursor is not valid: pass back a next_cursor from a previous page",
            ),
            other => Self::internal(format!("store: {other:?}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let inner = &self.0;
        if let Some(cause) = &inner.cause {
            tracing::error!(%cause, status = %inner.status, "request failed");
        }
        let mut response = (inner.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = inner.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if inner.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The answer to any unknown path under `/v2`.
pub async fn route_not_found() -> ApiError {
    ApiError::not_found("route").recovery("see /.well-known/openapi.json for the routes")
}

/// The answer to a known path with a method it does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
