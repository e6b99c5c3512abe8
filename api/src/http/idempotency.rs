//! `Idempotency-Key` on mutating routes: a retried request gets the first answer again.
//!
//! - Same key, same request (method, path, body): the stored answer, same status and body (so the same
//!   `operation_id`), marked `Idempotent-Replayed: true`. Nothing runs twice.
//! - Same key, another request: 422 `IDEMPOTENCY_MISMATCH`.
//! - Same key while the first request is still running: this request waits for it (briefly) and then
//!   replays its answer; if it is still running after the wait, 409 `CONFLICT`, retryable.
//!
//! Bodies are compared as JSON values, so a client that re-serialises the same body with other spacing or
//! key order still matches. Answers that a retry could change (5xx, 429, retryable 409) are not kept: the
//! key is given back and a retry runs anew. Validation errors are kept, as they will not change. Keys are
//! per tenant; the store forgets them after a day.

use std::future::Future;
use std::time::Duration;

use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::AppState;
use super::envelope::{ApiReply, replayed};
use super::error::ApiError;
use crate::store::{IdempotencyBegin, IdempotencyRequest};

/// The header.
pub const HEADER: &str = "idempotency-key";
/// The longest key accepted.
const MAX_KEY_LEN: usize = 255;
/// How long a duplicate waits for the first request before answering 409.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
/// How often a waiting duplicate looks again when no wake-up comes (the first request may run on
/// another node, whose finish this process does not hear about).
const RECHECK: Duration = Duration::from_millis(200);

/// The key of a request, if it sent one. Quotes around it are dropped (`Idempotency-Key: "abc"`), as
/// the product's examples show it quoted.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::invalid_field(HEADER, "Idempotency-Key must be visible ASCII"))?;
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| !t.is_empty())
        .unwrap_or(text);
    if text.is_empty() || text.len() > MAX_KEY_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_field(
            HEADER,
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// The hash a request is compared by: of its JSON value when the body is JSON (serde_json's maps are
/// sorted, so key order and spacing do not matter), else of its bytes.
fn body_hash(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => IdempotencyRequest::hash_body(value.to_string().as_bytes()),
        Err(_) => IdempotencyRequest::hash_body(body),
    }
}

/// Whether an error answer is kept for replays: only those a retry cannot change.
fn keep_error(e: &ApiError) -> bool {
    !e.is_retryable() && !e.status().is_server_error()
}

/// Runs `work` at most once per key of `tenant_id`, as the module says. Without a key it just runs.
pub async fn run<F, Fut>(
    state: &AppState,
    tenant_id: &str,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    body: &[u8],
    work: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<ApiReply, ApiError>>,
{
    let Some(key) = key(headers)? else {
        return work().await.map(IntoResponse::into_response);
    };
    let hash = body_hash(body);
    let request = IdempotencyRequest {
        key: &key,
        method: method.as_str(),
        path,
        request_hash: &hash,
    };
    let store = &state.ctx.store;
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        // Listen before looking, so a finish between the look and the wait is not missed.
        let finished = state.idempotency_done.notified();
        tokio::pin!(finished);
        finished.as_mut().enable();
        match store
            .begin_idempotent(tenant_id, &request, state.ctx.now_ms())
            .await?
        {
            IdempotencyBegin::New => break,
            IdempotencyBegin::Replay { status, body } => return Ok(replayed(status, body)),
            IdempotencyBegin::Mismatch => return Err(ApiError::idempotency_mismatch()),
            IdempotencyBegin::InProgress => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(ApiError::conflict(
                        "a request with this Idempotency-Key is still in progress",
                    )
                    .retryable(Some(1))
                    .recovery("retry the same request in a moment to get its answer"));
                }
                tokio::select! {
                    () = &mut finished => {}
                    () = tokio::time::sleep(RECHECK) => {}
                }
            }
        }
    }

    let outcome = work().await;
    let kept = match &outcome {
        Ok(reply) => Some((reply.status.as_u16(), reply.body.to_string())),
        Err(e) if keep_error(e) => serde_json::to_string(&e.body())
            .ok()
            .map(|body| (e.status().as_u16(), body)),
        Err(_) => None,
    };
    let saved = match &kept {
        Some((status, body)) => {
            store
                .finish_idempotent(tenant_id, &key, *status, body)
                .await
        }
        None => store.abandon_idempotent(tenant_id, &key).await,
    };
    if let Err(e) = saved {
        // The answer still goes out; a retry will find the key in progress until the store purges it.
        tracing::warn!(error = ?e, "could not record an idempotent answer");
    }
    state.idempotency_done.notify_waiters();
    // axum's Json writes the same bytes as the stored `to_string`, so the first answer and its replays
    // are identical.
    outcome.map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn keys_are_trimmed_unquoted_and_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(key(&h).unwrap(), None);
        h.insert(HEADER, HeaderValue::from_static("\"provision-acme-1\""));
        assert_eq!(key(&h).unwrap().as_deref(), Some("provision-acme-1"));
        h.insert(HEADER, HeaderValue::from_static("\"\""));
        assert_eq!(key(&h).unwrap().as_deref(), Some("\"\""));
        h.insert(HEADER, HeaderValue::from_static(""));
        assert!(key(&h).is_err());
        h.insert(HEADER, HeaderValue::from_static("has space"));
        assert!(key(&h).is_err());
    }

    #[test]
    fn json_bodies_hash_by_value() {
        assert_eq!(
            body_hash(br#"{"a":1,"b":2}"#),
            body_hash(br#"{ "b": 2, "a": 1 }"#)
        );
        assert_ne!(body_hash(br#"{"a":1}"#), body_hash(br#"{"a":2}"#));
        assert_eq!(body_hash(b"not json"), body_hash(b"not json"));
    }
}
