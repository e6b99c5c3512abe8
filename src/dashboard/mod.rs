//! The operations dashboard `dialtone serve` answers at `/dashboard/`: agents and their provisioning
//! (live from `GET /v2/events`), browser calls to an agent over WebRTC, live calls with their running
//! transcript, call history with per-turn latency charts, and webhook deliveries.
//!
//! The page is plain HTML, CSS and ES modules, embedded in the binary so nothing is built or fetched at
//! run time. It holds no secrets and no data: everything it shows it reads from the API with the bearer
//! token the user gives it, so the routes here need no auth of their own. The headers keep the page to
//! its own origin (a strict Content-Security-Policy) and make browsers revalidate after an upgrade.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// Where the dashboard lives.
pub const BASE: &str = "/dashboard/";

/// Only this origin's scripts, styles and API; the remote audio is a `MediaStream`, which `blob:` covers
/// in browsers that treat it as one.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; media-src 'self' blob:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// An embedded file: its name under [`BASE`], its content type and its text.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// One embedded file: `asset!("app.js", JS)` is `assets/app.js`, served as JavaScript.
macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("assets/", $name)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("sse.js", JS),
    asset!("agents.js", JS),
    asset!("talk.js", JS),
    asset!("calls.js", JS),
    asset!("chart.js", JS),
    asset!("webhooks.js", JS),
];

/// The dashboard's routes: `/dashboard` (a redirect), `/dashboard/` and its files.
pub fn routes() -> Router {
    Router::new()
        .route("/dashboard", get(|| async { Redirect::permanent(BASE) }))
        .route("/dashboard/", get(|| async { serve("index.html") }))
        .route(
            "/dashboard/{file}",
            get(|Path(file): Path<String>| async move { serve(&file) }),
        )
}

fn serve(name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return with_headers(
            (StatusCode::NOT_FOUND, "no such dashboard file\n").into_response(),
            "text/plain; charset=utf-8",
        );
    };
    with_headers(asset.body.into_response(), asset.content_type)
}

fn with_headers(mut response: Response, content_type: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The files change with the binary; revalidating costs little next to a stale page after an upgrade.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt as _;

    async fn get(path: &str) -> Response {
        routes()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    fn header(response: &Response, name: header::HeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    async fn text(response: Response) -> String {
        let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn the_bare_path_redirects_to_the_page() {
        let response = get("/dashboard").await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(header(&response, header::LOCATION), BASE);
    }

    #[tokio::test]
    async fn the_page_is_html_that_loads_its_module() {
        let response = get("/dashboard/").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, header::CONTENT_TYPE), HTML);
        assert_eq!(header(&response, header::CACHE_CONTROL), "no-cache");
        let csp = header(&response, header::CONTENT_SECURITY_POLICY).to_owned();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        let body = text(response).await;
        assert!(
            body.contains(r#"<script type="module" src="app.js"></script>"#),
            "{body}"
        );
        assert!(body.contains(r#"href="style.css""#), "{body}");
    }

    #[tokio::test]
    async fn every_file_is_served_with_its_type() {
        for asset in ASSETS {
            let response = get(&format!("{BASE}{}", asset.name)).await;
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.name);
            assert_eq!(
                header(&response, header::CONTENT_TYPE),
                asset.content_type,
                "{}",
                asset.name
            );
            assert_eq!(header(&response, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            assert_eq!(text(response).await, asset.body, "{}", asset.name);
        }
    }

    #[tokio::test]
    async fn unknown_files_are_not_found() {
        for path in [
            "/dashboard/nope.js",
            "/dashboard/..%2fCargo.toml",
            "/dashboard/app.js.map",
        ] {
            let response = get(path).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    /// Nothing is fetched from elsewhere at run time: no absolute URL in any file (the SVG namespace is
    /// an identifier, never fetched), and every module import is one of these files.
    #[test]
    fn assets_name_no_other_origin_and_import_only_each_other() {
        for asset in ASSETS {
            let body = asset.body.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !body.contains("http://") && !body.contains("https://") && !body.contains("//cdn"),
                "{} names another origin",
                asset.name
            );
            for line in body
                .lines()
                .filter(|l| l.trim_start().starts_with("import "))
            {
                let from = line
                    .split(['\'', '"'])
                    .nth(1)
                    .unwrap_or_else(|| panic!("{}: unquoted import {line}", asset.name));
                let file = from
                    .strip_prefix("./")
                    .unwrap_or_else(|| panic!("{}: import {from} not relative", asset.name));
                assert!(
                    ASSETS.iter().any(|a| a.name == file),
                    "{} imports {from}, which is not embedded",
                    asset.name
                );
            }
        }
    }
}
