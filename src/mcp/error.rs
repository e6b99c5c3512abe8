//! Failures of a tool call, and how they reach the MCP client.
//!
//! A tool that ran and failed answers a tool result with `isError: true` (the MCP way for errors the
//! model should see and act on), never a JSON-RPC error. Its `structuredContent` is the API's own error
//! shape, `{"error": {"code", "message", "retryable", "retry_after"?, "recovery"?, "details"?}}`, plus
//! the HTTP `status` when the API answered, so an agent branches on the same codes a REST client does.
//! Its text content is the same JSON, for clients that only show text.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};

/// Why a tool call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The API answered with an error; its fields are passed on as they came.
    #[error("{code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's stable code (`NOT_FOUND`, `VALIDATION_ERROR`, ...).
        code: String,
        /// For people.
        message: String,
        /// Whether the same call may succeed later.
        retryable: bool,
        /// Seconds to wait before retrying.
        retry_after: Option<u64>,
        /// A suggested next step.
        recovery: Option<String>,
        /// More about the error (`field`, `reason`, ...).
        details: Option<Value>,
    },
    /// The arguments do not fit the tool's input schema.
    #[error("VALIDATION_ERROR: {0}")]
    InvalidArguments(String),
    /// The API could not be reached, or answered something that is not the API's JSON.
    #[error("UNAVAILABLE: {0}")]
    Unavailable(String),
    /// The caller's key lacks the scope a locally run tool needs.
    #[error("FORBIDDEN: this tool needs the `{0}` scope")]
    Forbidden(&'static str),
    /// A locally run tool (scout_research) failed with its own stable code.
    #[error("{code}: {message}")]
    Local {
        /// Stable code (`invalid_url`, `crawl_failed`, ...).
        code: String,
        /// For people.
        message: String,
        /// Whether the same call may succeed later.
        retryable: bool,
    },
}

impl ToolError {
    /// An error answer of the API, from its status and body. A body that is not the API's error shape
    /// still becomes an error with a code made from the status.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let text = |key: &str| error?.get(key)?.as_str().map(str::to_owned);
        match (text("code"), text("message")) {
            (Some(code), Some(message)) => ToolError::Api {
                status,
                code,
                message,
                retryable: error
                    .and_then(|e| e.get("retryable"))
                    .and_then(Value::as_bool)
                    .unwrap_or(status_retryable(status)),
                retry_after: error
                    .and_then(|e| e.get("retry_after"))
                    .and_then(Value::as_u64),
                recovery: text("recovery"),
                details: error.and_then(|e| e.get("details")).cloned(),
            },
            _ => ToolError::Api {
                status,
                code: format!("HTTP_{status}"),
                message: format!("the API answered HTTP {status} without an error body"),
                retryable: status_retryable(status),
                retry_after: None,
                recovery: None,
                details: None,
            },
        }
    }

    /// The error in the API's shape, plus `status` when the API answered.
    pub fn to_json(&self) -> Value {
        let (status, mut error) = match self {
            ToolError::Api {
                status,
                code,
                message,
                retryable,
                retry_after,
                recovery,
                details,
            } => {
                let mut e = Map::new();
                e.insert("code".into(), json!(code));
                e.insert("message".into(), json!(message));
                e.insert("retryable".into(), json!(retryable));
                if let Some(secs) = retry_after {
                    e.insert("retry_after".into(), json!(secs));
                }
                if let Some(recovery) = recovery {
                    e.insert("recovery".into(), json!(recovery));
                }
                if let Some(details) = details {
                    e.insert("details".into(), details.clone());
                }
                (Some(*status), e)
            }
            ToolError::InvalidArguments(message) => (
                None,
                shape(
                    "VALIDATION_ERROR",
                    message,
                    false,
                    Some("fix the arguments to match the tool's input schema"),
                ),
            ),
            ToolError::Unavailable(message) => (
                None,
                shape(
                    "UNAVAILABLE",
                    message,
                    true,
                    Some("check that the Dialtone API is running at --api-url, then retry"),
                ),
            ),
            ToolError::Forbidden(scope) => (
                None,
                shape(
                    "FORBIDDEN",
                    &format!("this tool needs the `{scope}` scope"),
                    false,
                    Some("use a key or token granted this scope"),
                ),
            ),
            ToolError::Local {
                code,
                message,
                retryable,
            } => (None, shape(code, message, *retryable, None)),
        };
        let mut top = Map::new();
        if let Some(status) = status {
            top.insert("status".into(), json!(status));
        }
        top.insert("error".into(), Value::Object(std::mem::take(&mut error)));
        Value::Object(top)
    }

    /// The tool result that reports this error to the client.
    pub fn into_result(self) -> CallToolResult {
        let body = self.to_json();
        let text = serde_json::to_string_pretty(&body).unwrap_or_else(|_| self.to_string());
        let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
        result.structured_content = Some(body);
        result
    }
}

/// Whether an error status without a body is worth retrying: rate limits and server-side failures.
fn status_retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

fn shape(code: &str, message: &str, retryable: bool, recovery: Option<&str>) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("code".into(), json!(code));
    e.insert("message".into(), json!(message));
    e.insert("retryable".into(), json!(retryable));
    if let Some(recovery) = recovery {
        e.insert("recovery".into(), json!(recovery));
    }
    e
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn api_errors_keep_their_fields() {
        let body = br#"{"error":{"code":"RATE_LIMITED","message":"slow down","retryable":true,
            "retry_after":30,"recovery":"wait"}}"#;
        let e = ToolError::from_response(429, body);
        assert_eq!(
            e.to_json(),
            json!({"status": 429, "error": {"code": "RATE_LIMITED", "message": "slow down",
                "retryable": true, "retry_after": 30, "recovery": "wait"}})
        );
        let result = e.into_result();
        assert_eq!(result.is_error, Some(true));
        assert_eq!(
            result.structured_content.unwrap()["error"]["code"],
            "RATE_LIMITED"
        );
    }

    #[test]
    fn bodies_that_are_not_the_api_shape_still_map() {
        let e = ToolError::from_response(502, b"<html>bad gateway</html>");
        let json = e.to_json();
        assert_eq!(json["error"]["code"], "HTTP_502");
        assert_eq!(json["error"]["retryable"], true);
        let e = ToolError::from_response(404, br#"{"error": "nope"}"#);
        assert_eq!(e.to_json()["error"]["retryable"], false);
    }

    #[test]
    fn local_failures_use_the_same_shape() {
        let json = ToolError::InvalidArguments("missing field `agent_id`".into()).to_json();
        assert_eq!(json["error"]["code"], "VALIDATION_ERROR");
        assert!(json.get("status").is_none());
        assert_eq!(
            ToolError::Unavailable("refused".into()).to_json()["error"]["retryable"],
            true
        );
    }
}
