//! The response envelope, the same on every route.
//!
//! - One resource: the resource under `data`, and the same fields again at the top level:
//!   `{"data": {"operation_id": "op_..", ...}, "operation_id": "op_..", ...}`. `data` is canonical; the
//!   top-level copy is kept because the product's own examples show bare objects (`{"operation_id": ...}`),
//!   and clients written against either shape (`res.operation_id` or `res.data.operation_id`) both work.
//! - A list: `{"data": [...], "meta": {"total", "limit", "next_cursor"}}`, where `total` counts every
//!   match of the filters over all pages and `next_cursor` (absent on the last page) fetches the next.
//! - An error: `{"error": {...}}`, see [`super::error`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::error::ApiError;

/// A successful answer: a status and a JSON body. What the idempotency layer stores and replays.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiReply {
    /// HTTP status.
    pub status: StatusCode,
    /// The body, already in its envelope.
    pub body: Value,
}

impl IntoResponse for ApiReply {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

/// A stored answer replayed as it was first sent (status and body bytes), marked as a replay.
pub fn replayed(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// One resource, in the envelope.
pub fn one(status: StatusCode, item: &impl Serialize) -> Result<ApiReply, ApiError> {
    let value = serde_json::to_value(item)
        .map_err(|e| ApiError::internal(format!("serialising a response: {e}")))?;
    let body = match value {
        Value::Object(fields) => {
            let mut top = fields.clone();
            top.insert("data".into(), Value::Object(fields));
            Value::Object(top)
        }
        other => {
            let mut top = Map::new();
            top.insert("data".into(), other);
            Value::Object(top)
        }
    };
    Ok(ApiReply { status, body })
}

/// A page of a list, in the envelope.
pub fn list<T: Serialize>(
    items: &[T],
    total: i64,
    limit: u32,
    next_cursor: Option<String>,
) -> Result<ApiReply, ApiError> {
    let data = serde_json::to_value(items)
        .map_err(|e| ApiError::internal(format!("serialising a response: {e}")))?;
    let meta = serde_json::to_value(ListMeta {
        total,
        limit,
        next_cursor,
    })
    .map_err(|e| ApiError::internal(format!("serialising a response: {e}")))?;
    let mut body = Map::new();
    body.insert("data".into(), data);
    body.insert("meta".into(), meta);
    Ok(ApiReply {
        status: StatusCode::OK,
        body: Value::Object(body),
    })
}

/// One resource `T`: its fields at the top level and under `data` (canonical).
#[derive(Debug, Serialize, ToSchema)]
pub struct One<T: ToSchema> {
    /// The fields of `data`, repeated at the top level for clients written against bare objects.
    #[serde(flatten)]
    pub fields: T,
    /// The resource.
    pub data: T,
}

/// A page of `T`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T: ToSchema> {
    /// The items of this page, newest first unless the route says otherwise.
    pub data: Vec<T>,
    /// Paging.
    pub meta: ListMeta,
}

/// Paging of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeta {
    /// Items matching the filters, over all pages.
    pub total: i64,
    /// The page size used.
    pub limit: u32,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn one_puts_fields_at_the_top_and_under_data() {
        let reply = one(StatusCode::ACCEPTED, &json!({"operation_id": "op_1"})).unwrap();
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        assert_eq!(
            reply.body,
            json!({"operation_id": "op_1", "data": {"operation_id": "op_1"}})
        );
    }

    #[test]
    fn list_has_data_and_meta() {
        let reply = list(&[json!({"id": "a"})], 7, 1, Some("c".into())).unwrap();
        assert_eq!(
            reply.body,
            json!({"data": [{"id": "a"}], "meta": {"total": 7, "limit": 1, "next_cursor": "c"}})
        );
        let last = list::<Value>(&[], 0, 50, None).unwrap();
        assert_eq!(
            last.body,
            json!({"data": [], "meta": {"total": 0, "limit": 50}})
        );
    }
}
