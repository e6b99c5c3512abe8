//! Cross-origin access for web pages on other sites: the API, browser-call signalling and MCP answer
//! CORS preflights for the origins `dialtone serve --cors-origin` names. Without any, only pages served
//! by Dialtone itself (the dashboard) may call them from a browser.

use std::time::Duration;

use anyhow::{Context, bail};
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// How long a browser may cache a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The layer for `origins` (`https://app.example.com`, or `*` for any), `None` when there are none.
pub fn cors_layer(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        if origins.len() > 1 {
            bail!("--cors-origin '*' allows every origin; name no others beside it");
        }
        AllowOrigin::from(Any)
    } else {
        let values = origins
            .iter()
            .map(|o| parse_origin(o))
            .collect::<anyhow::Result<Vec<_>>>()?;
        AllowOrigin::list(values)
    };
    let layer = CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("last-event-id"),
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("mcp-protocol-version"),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::LOCATION,
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("mcp-session-id"),
        ])
        .max_age(PREFLIGHT_MAX_AGE);
    Ok(Some(layer))
}

/// `scheme://host[:port]`, exactly as a browser sends it in `Origin` (no path, no trailing slash).
fn parse_origin(origin: &str) -> anyhow::Result<HeaderValue> {
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let well_formed = authority.is_some_and(|a| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    });
    if !well_formed {
        bail!("--cors-origin {origin:?} is not an origin: write it as scheme://host[:port]");
    }
    HeaderValue::from_str(origin).with_context(|| format!("--cors-origin {origin:?}"))
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    async fn preflight(layer: CorsLayer, origin: &str) -> (StatusCode, Option<String>) {
        let app = Router::new()
            .route("/webrtc/offer", post(|| async { "answer" }))
            .layer(layer);
        let request = Request::builder()
            .method(Method::OPTIONS)
            .uri("/webrtc/offer")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("infallible");
        let allowed = response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status(), allowed)
    }

    #[tokio::test]
    async fn named_origins_are_allowed_and_others_are_not() {
        let layer = cors_layer(&["https://app.example.com".into()])
            .expect("valid")
            .expect("a layer");
        let (status, allowed) = preflight(layer.clone(), "https://app.example.com").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(allowed.as_deref(), Some("https://app.example.com"));
        let (_, allowed) = preflight(layer, "https://evil.example").await;
        assert_eq!(allowed, None, "no CORS grant for an origin not named");
    }

    #[tokio::test]
    async fn a_star_allows_any_origin() {
        let layer = cors_layer(&["*".into()]).expect("valid").expect("a layer");
        let (_, allowed) = preflight(layer, "https://anywhere.example").await;
        assert_eq!(allowed.as_deref(), Some("*"));
    }

    #[test]
    fn no_origins_no_layer_and_bad_ones_are_refused() {
        assert!(cors_layer(&[]).expect("valid").is_none());
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "ftp://files.example.com",
        ] {
            assert!(cors_layer(&[bad.to_owned()]).is_err(), "{bad}");
        }
        assert!(cors_layer(&["*".into(), "https://a.example".into()]).is_err());
    }
}
