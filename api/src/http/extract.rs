//! Request input with errors in the API's shape: axum's extractors answer rejections in plain text, so
//! these wrap them and map every rejection to a `VALIDATION_ERROR`.
//!
//! Mutating handlers take the body as [`RawBody`] and parse it with [`parse_json`] themselves, because the
//! idempotency layer needs the exact bytes to compare a retried request with the first one.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The raw request body (at most axum's default limit, 2 MB).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e| match e {
                BytesRejection::FailedToBufferBody(inner)
                    if inner.status() == StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    ApiError::validation("request body is too large (limit 2 MB)")
                        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
                }
                other => ApiError::validation(format!("cannot read the request body: {other}")),
            })
    }
}

/// Query parameters, deserialised into `T`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::validation(format!("invalid query string: {}", e.body_text())))
    }
}

/// Path parameters, deserialised into `T`.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| ApiPath(p))
            .map_err(|e| ApiError::validation(format!("invalid path: {}", e.body_text())))
    }
}

/// Whether the request says its body is JSON (`application/json`, or any `+json` type).
fn is_json(headers: &HeaderMap) -> Option<bool> {
    let value = headers.get(header::CONTENT_TYPE)?;
    let Ok(text) = value.to_str() else {
        return Some(false);
    };
    let essence = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Some(essence == "application/json" || essence.ends_with("+json"))
}

/// Parses a JSON body. An empty body reads as `{}` when `optional` (routes whose every field is optional).
/// A body sent with a content type other than JSON is refused with 415; a body without one is read as
/// JSON, since many scripts forget the header.
pub fn parse_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
    optional: bool,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        if optional {
            return serde_json::from_slice(b"{}")
                .map_err(|e| ApiError::validation(format!("invalid JSON body: {e}")));
        }
        return Err(ApiError::validation("a JSON request body is required"));
    }
    if is_json(headers) == Some(false) {
        return Err(
            ApiError::validation("Content-Type must be application/json")
                .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        );
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::validation(format!("invalid JSON body: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::http::HeaderValue;
    use serde_json::Value;

    use super::*;

    fn headers(content_type: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = content_type {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        h
    }

    #[test]
    fn json_bodies_parse_and_others_are_refused() {
        let v: Value = parse_json(
            &headers(Some("application/json; charset=utf-8")),
            b"{}",
            false,
        )
        .unwrap();
        assert_eq!(v, serde_json::json!({}));
        let v: Value = parse_json(&headers(None), b"{\"a\":1}", false).unwrap();
        assert_eq!(v["a"], 1);
        let e = parse_json::<Value>(&headers(Some("text/plain")), b"{}", false).unwrap_err();
        assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let e = parse_json::<Value>(&headers(None), b"{", false).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e = parse_json::<Value>(&headers(None), b"  ", false).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let v: Value = parse_json(&headers(None), b"", true).unwrap();
        assert_eq!(v, serde_json::json!({}));
    }
}
