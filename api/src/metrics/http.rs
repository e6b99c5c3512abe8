//! `GET /metrics` and who may read it.
//!
//! Metrics are for the operator, not for API tenants, so API keys do not open them. The rule:
//! - with a metrics token (`--metrics-token`, `DIALTONE_METRICS_TOKEN`), a scrape must send
//!   `Authorization: Bearer <token>`, wherever the server listens;
//! - without one, metrics are served unauthenticated only when the HTTP listener is bound to a loopback
//!   address (only this machine can reach it); on any other address `/metrics` answers 401 and says how
//!   to enable it. The numbers carry no personal data, but call volume and queue depths are business
//!   information, and the scrape costs a few store queries.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::ApiContext;
use crate::http::error::ApiError;

/// The exposition's media type: OpenMetrics 1.0 text, which Prometheus negotiates by default and which
/// reads as the classic text format apart from its `# EOF` line and the `_total` suffix of counters.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Who may scrape `/metrics`.
#[derive(Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone who can connect: the listener is on loopback.
    Open,
    /// Scrapes bearing this token.
    Token(Arc<str>),
    /// Nobody: a non-loopback listener and no token.
    Closed,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Open => "Open",
            Self::Token(_) => "Token(<redacted>)",
            Self::Closed => "Closed",
        })
    }
}

impl MetricsAccess {
    /// The rule for a server listening on `listen` with `token` (blank counts as none).
    pub fn new(listen: SocketAddr, token: Option<&str>) -> Self {
        match token.map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => Self::Token(token.into()),
            None if listen.ip().is_loopback() => Self::Open,
            None => Self::Closed,
        }
    }

    /// Whether a request with `headers` may read the metrics; the error to answer otherwise.
    fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        match self {
            Self::Open => Ok(()),
            Self::Closed => Err(ApiError::unauthorized(
                "metrics are served without a token only on a loopback listener",
            )
            .recovery(
                "start the server with --metrics-token (or DIALTONE_METRICS_TOKEN) and scrape with \
                 `Authorization: Bearer <token>`, or bind --http to 127.0.0.1",
            )),
            Self::Token(expected) => {
                let given = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::trim)
                    .unwrap_or_default();
                if same_secret(given.as_bytes(), expected.as_bytes()) {
                    Ok(())
                } else {
                    Err(
                        ApiError::unauthorized("missing or wrong metrics token").recovery(
                            "scrape with `Authorization: Bearer <token>`, the server's \
                             --metrics-token",
                        ),
                    )
                }
            }
        }
    }
}

/// Compares without stopping at the first difference, so the time taken says nothing of how much of a
/// guess was right (the length may leak; the token's length is no secret worth keeping).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Clone)]
struct MetricsState {
    ctx: ApiContext,
    access: MetricsAccess,
}

/// `GET /metrics`: `ctx`'s metrics (the call metrics included) for scrapes `access` lets in.
pub fn routes(ctx: ApiContext, access: MetricsAccess) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(MetricsState { ctx, access })
}

async fn scrape(State(state): State<MetricsState>, headers: HeaderMap) -> Response {
    if let Err(e) = state.access.check(&headers) {
        return e.into_response();
    }
    let body = state.ctx.metrics.render(&state.ctx.store).await;
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::ApiConfig;
    use crate::store::{DbLocation, Store};

    #[test]
    fn loopback_is_open_other_addresses_need_a_token() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6_loopback: SocketAddr = "[::1]:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(MetricsAccess::new(loopback, None), MetricsAccess::Open);
        assert_eq!(MetricsAccess::new(v6_loopback, None), MetricsAccess::Open);
        assert_eq!(MetricsAccess::new(any, None), MetricsAccess::Closed);
        assert_eq!(MetricsAccess::new(any, Some("  ")), MetricsAccess::Closed);
        assert_eq!(
            MetricsAccess::new(any, Some("s3cret")),
            MetricsAccess::Token("s3cret".into())
        );
        // A token, once set, is required on loopback too.
        assert_eq!(
            MetricsAccess::new(loopback, Some("s3cret")),
            MetricsAccess::Token("s3cret".into())
        );
        assert!(!format!("{:?}", MetricsAccess::new(any, Some("s3cret"))).contains("s3cret"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"abc"));
    }

    async fn get_metrics(
        access: MetricsAccess,
        auth: Option<&str>,
    ) -> (StatusCode, String, String) {
        let dir = std::env::temp_dir().join(format!(
            "dialtone-metrics-http-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let store = Store::open(&DbLocation::Sqlite(dir.join("dialtone.db")), 2)
            .await
            .unwrap();
        let ctx = ApiContext::new(store.clone(), ApiConfig::default());
        let mut request = Request::get("/metrics");
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        let response = routes(ctx, access)
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn an_open_endpoint_serves_the_exposition_with_queue_depths() {
        let (status, content_type, body) = get_metrics(MetricsAccess::Open, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, CONTENT_TYPE);
        assert!(
            body.contains("dialtone_jobs_queued{state=\"pending\"} 0\n"),
            "{body}"
        );
        assert!(body.contains("dialtone_webhook_outbox 0\n"), "{body}");
        assert!(body.ends_with("# EOF\n"));
    }

    #[tokio::test]
    async fn a_token_is_required_when_set_and_a_closed_endpoint_says_how_to_open_it() {
        let token = MetricsAccess::Token("s3cret".into());
        let (status, _, _) = get_metrics(token.clone(), Some("Bearer s3cret")).await;
        assert_eq!(status, StatusCode::OK);
        for wrong in [
            None,
            Some("Bearer s3cre"),
            Some("Basic s3cret"),
            Some("s3cret"),
        ] {
            let (status, _, body) = get_metrics(token.clone(), wrong).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong:?}");
            assert!(!body.contains("dialtone_calls"), "{body}");
        }
        let (status, _, body) = get_metrics(MetricsAccess::Closed, Some("Bearer s3cret")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("--metrics-token"), "{body}");
    }
}
