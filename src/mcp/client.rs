//! The tools' way to the REST API: one request type, sent either over HTTP to `--api-url` (`dialtone mcp`)
//! or straight into the API's axum router in the same process (`/mcp` in `dialtone serve`), always with
//! the caller's bearer token, so the API's own auth, scopes, rate limits and validation apply to every
//! tool call exactly as they do to a REST client.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, header};
use reqwest::Url;
use serde_json::Value;
use tower::ServiceExt as _;

pub use crate::api_url::parse_base_url;

use super::error::ToolError;

/// The largest API answer a tool reads.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How long one API request may take over HTTP.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting to the API may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One API request: a method, a path under `/v2` as segments (each percent-encoded on the way out, so
/// an id from the wire can never change the route), a query and a JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    /// HTTP method.
    pub method: Method,
    /// Path segments after `/v2`, unencoded (`["agents", "agt_1"]`).
    pub segments: Vec<String>,
    /// Query parameters, unencoded; absent ones are simply not listed.
    pub query: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: Option<Value>,
    /// `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
}

impl ApiRequest {
    /// A request without query or body.
    pub fn new(method: Method, segments: &[&str]) -> Self {
        Self {
            method,
            segments: segments.iter().map(|s| (*s).to_owned()).collect(),
            query: Vec::new(),
            body: None,
            idempotency_key: None,
        }
    }

    /// Adds a query parameter when it has a value.
    #[must_use]
    pub fn query(mut self, key: &'static str, value: Option<impl ToString>) -> Self {
        if let Some(value) = value {
            self.query.push((key, value.to_string()));
        }
        self
    }

    /// Sets the JSON body.
    #[must_use]
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets the `Idempotency-Key` header.
    #[must_use]
    pub fn idempotency_key(mut self, key: Option<String>) -> Self {
        self.idempotency_key = key;
        self
    }

    /// `base` with this request's path and query, every part percent-encoded.
    fn url(&self, base: &Url) -> Result<Url, ToolError> {
        // The URL parser drops `.` and `..` segments, which would quietly turn `GET /agents/..` into
        // `GET /agents`: refuse them, and empty ids, before they reach it.
        if let Some(bad) = self
            .segments
            .iter()
            .find(|s| matches!(s.as_str(), "" | "." | ".."))
        {
            return Err(ToolError::InvalidArguments(format!(
                "{bad:?} is not a valid id"
            )));
        }
        let mut url = base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| ToolError::Unavailable("the API URL cannot take a path".into()))?;
            path.pop_if_empty().push("v2");
            for segment in &self.segments {
                path.push(segment);
            }
        }
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in &self.query {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }
}

/// Where tool calls go.
#[derive(Clone, Debug)]
pub enum ApiClient {
    /// The API over HTTP.
    Http {
        /// The client (timeouts set).
        http: reqwest::Client,
        /// The API's base URL, without `/v2`.
        base: Url,
    },
    /// The API's router, in this process.
    InProcess(Router),
}

impl ApiClient {
    /// A client of the API at `base` (see [`parse_base_url`]).
    pub fn http(base: Url) -> Result<Self, String> {
        dialtone_telephony::backend::openai::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("dialtone-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(ApiClient::Http { http, base })
    }

    /// Sends `request` with `token` as the bearer; the answer's JSON on success.
    pub async fn send(&self, request: &ApiRequest, token: &str) -> Result<Value, ToolError> {
        if let Some(key) = &request.idempotency_key
            && HeaderValue::from_str(key).is_err()
        {
            return Err(ToolError::InvalidArguments(
                "idempotency_key must be printable ASCII".into(),
            ));
        }
        let (status, body) = match self {
            ApiClient::Http { http, base } => send_http(http, base, request, token).await?,
            ApiClient::InProcess(router) => send_in_process(router, request, token).await?,
        };
        if !(200..300).contains(&status) {
            return Err(ToolError::from_response(status, &body));
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body).map_err(|e| {
            ToolError::Unavailable(format!(
                "the API answered {status} with a body that is not JSON: {e}"
            ))
        })
    }
}

async fn send_http(
    http: &reqwest::Client,
    base: &Url,
    request: &ApiRequest,
    token: &str,
) -> Result<(u16, Vec<u8>), ToolError> {
    let url = request.url(base)?;
    let mut builder = http.request(request.method.clone(), url).bearer_auth(token);
    if let Some(key) = &request.idempotency_key {
        builder = builder.header("Idempotency-Key", key);
    }
    if let Some(body) = &request.body {
        builder = builder.json(body);
    }
    let response = builder
        .send()
        .await
        .map_err(|e| ToolError::Unavailable(format!("cannot reach the API: {e}")))?;
    let status = response.status().as_u16();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(ToolError::Unavailable(format!(
            "the API answer is larger than {MAX_BODY} bytes"
        )));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| ToolError::Unavailable(format!("reading the API answer: {e}")))?;
    Ok((status, body.to_vec()))
}

async fn send_in_process(
    router: &Router,
    request: &ApiRequest,
    token: &str,
) -> Result<(u16, Vec<u8>), ToolError> {
    // Any base works: only the path and query reach the router.
    let url = request.url(
        &Url::parse("http://localhost/")
            .map_err(|e| ToolError::Unavailable(format!("building the request: {e}")))?,
    )?;
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        ToolError::InvalidArguments("the bearer token is not valid header text".into())
    })?;
    let mut builder = Request::builder()
        .method(request.method.clone())
        .uri(path_and_query)
        .header(header::AUTHORIZATION, bearer);
    if let Some(key) = &request.idempotency_key {
        let key = HeaderValue::from_str(key).map_err(|_| {
            ToolError::InvalidArguments("idempotency_key must be printable ASCII".into())
        })?;
        builder = builder.header("Idempotency-Key", key);
    }
    let body = match &request.body {
        Some(body) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let http_request = builder
        .body(body)
        .map_err(|e| ToolError::InvalidArguments(format!("cannot build the request: {e}")))?;
    let response = router
        .clone()
        .oneshot(http_request)
        .await
        .map_err(|e| ToolError::Unavailable(format!("the API router failed: {e}")))?;
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), MAX_BODY)
        .await
        .map_err(|e| ToolError::Unavailable(format!("reading the API answer: {e}")))?;
    Ok((status, body.to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn base_urls_take_or_drop_v2_and_prefixes() {
        for raw in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/v2",
            "http://127.0.0.1:8080/v2/",
        ] {
            assert_eq!(
                parse_base_url(raw).unwrap().as_str(),
                "http://127.0.0.1:8080/",
                "{raw}"
            );
        }
        assert_eq!(
            parse_base_url("https://x.example/dialtone/v2")
                .unwrap()
                .as_str(),
            "https://x.example/dialtone/"
        );
        assert!(parse_base_url("ftp://x").is_err());
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn ids_from_the_wire_cannot_change_the_route() {
        let base = parse_base_url("http://h/api").unwrap();
        let r = ApiRequest::new(Method::GET, &["agents", "../webhooks?x=1#"])
            .query("cursor", Some("a b&c"))
            .query("limit", None::<u32>);
        assert_eq!(
            r.url(&base).unwrap().as_str(),
            "http://h/api/v2/agents/..%2Fwebhooks%3Fx=1%23?cursor=a+b%26c"
        );
        for id in ["", ".", ".."] {
            let r = ApiRequest::new(Method::GET, &["agents", id]);
            assert!(
                matches!(r.url(&base), Err(ToolError::InvalidArguments(_))),
                "{id:?}"
            );
        }
    }
}
