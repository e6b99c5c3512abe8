//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations, served at
//! `/.well-known/openapi.json`, and a reference page rendered from it at `/docs` (plain HTML, no scripts
//! or assets from elsewhere).
//!
//! The handlers annotate what is particular to them; [`finish`] adds what every route shares, so the
//! document states every status a route can answer: the error schema on 400/401/403/429/500 for every
//! authenticated route, 404 where a path names a resource, 409/422 where `Idempotency-Key` applies, and
//! 413/415 where there is a body.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr, Response as ApiResponse,
    ResponseBuilder,
};

use super::error::{ErrorBody, ErrorCode, ErrorDetail};

/// What the document says about the whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Dialtone API",
        version = "2",
        description = include_str!("openapi_intro.md"),
    ),
    components(schemas(ErrorBody, ErrorDetail, ErrorCode)),
    tags(
        (name = "auth", description = "Access tokens from service-account credentials"),
        (name = "agents", description = "Provisioning and managing voice agents"),
        (name = "operations", description = "Asynchronous jobs"),
        (name = "templates", description = "Vertical templates"),
        (name = "agent-builder", description = "Agents from a website and/or instructions"),
        (name = "knowledge", description = "Knowledge bases, syncs and proposed changes"),
        (name = "calls", description = "Call records, transcripts and extractions"),
        (name = "webhooks", description = "Event subscriptions and their deliveries"),
        (name = "events", description = "Server-Sent Events"),
    ),
)]
struct ApiDoc;

/// The document before the routes are added.
pub fn base() -> Document {
    ApiDoc::openapi()
}

fn error_response(description: &str, retry_after: bool) -> RefOr<ApiResponse> {
    let mut builder = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    );
    if retry_after {
        builder = builder.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::Integer)))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    RefOr::T(builder.build())
}

/// Adds the shared error answers to one operation.
fn add_errors(op: &mut Operation, has_path_params: bool) {
    let authenticated = op.security.as_ref().is_none_or(|reqs| {
        // `security: [{}]` marks a public route.
        !reqs.iter().all(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_object().map(serde_json::Map::is_empty))
                .unwrap_or(false)
        })
    });
    let idempotent = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case("Idempotency-Key")));
    let mut wanted: Vec<(&str, &str, bool)> = vec![
        (
            "400",
            "VALIDATION_ERROR: a malformed request or an invalid field",
            false,
        ),
        ("500", "INTERNAL: the server failed; retry later", false),
    ];
    if authenticated {
        wanted.push((
            "401",
            "UNAUTHORIZED: a missing, unknown or expired token",
            false,
        ));
        wanted.push(("403", "FORBIDDEN: the token lacks the route's scope", false));
        wanted.push(("429", "RATE_LIMITED: wait `Retry-After` seconds", true));
    }
    if has_path_params {
        wanted.push(("404", "NOT_FOUND: no such resource for this tenant", false));
    }
    if idempotent {
        wanted.push((
            "409",
            "CONFLICT: a request with this Idempotency-Key is still in progress",
            true,
        ));
        wanted.push((
            "422",
            "IDEMPOTENCY_MISMATCH: the key was used for another request",
            false,
        ));
    }
    if op.request_body.is_some() || idempotent {
        wanted.push((
            "413",
            "VALIDATION_ERROR: the body is larger than 2 MB",
            false,
        ));
        wanted.push(("415", "VALIDATION_ERROR: the body is not JSON", false));
    }
    for (status, description, retry_after) in wanted {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description, retry_after));
    }
}

/// Completes the generated document: the bearer scheme, the shared error answers on every operation.
pub fn finish(mut doc: Document) -> Document {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
            &mut item.put,
        ]
        .into_iter()
        .flatten()
        {
            add_errors(op, has_path_params);
        }
    }
    doc
}

/// `/.well-known/openapi.json` and `/docs`.
pub fn routes(doc: Arc<Document>) -> Router {
    let json = Arc::new(doc.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    let page = Arc::new(render(&doc));
    Router::new()
        .route(
            "/.well-known/openapi.json",
            get(move || {
                let json = Arc::clone(&json);
                async move { json_response(json.as_str()) }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let page = Arc::clone(&page);
                async move { Html(page.as_str().to_owned()) }
            }),
        )
}

fn json_response(body: &str) -> Response {
    let mut response = body.to_owned().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The name of the schema a `$ref` points to, or a short description of an inline one.
fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(other) => other.to_string(),
        None => "object".into(),
    }
}

/// The reference page: every operation with its scopes, parameters, body and answers.
fn render(doc: &Document) -> String {
    let spec = serde_json::to_value(doc).unwrap_or(Value::Null);
    let mut out = String::new();
    let info = &spec["info"];
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} reference</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;\
         line-height:1.45}}code,pre{{background:#f4f4f4;padding:0 .2rem}}pre{{padding:.6rem;white-space:pre-wrap}}\
         .op{{border-top:1px solid #ddd;padding:.6rem 0}}.m{{font-weight:bold;display:inline-block;width:4.5rem}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}}</style>\
         </head><body><h1>{title} v{version}</h1><p>Machine-readable: \
         <a href=\"/.well-known/openapi.json\">/.well-known/openapi.json</a> (OpenAPI {openapi}).</p>\
         <pre>{intro}</pre>",
        title = escape(text(info, "title")),
        version = escape(text(info, "version")),
        openapi = escape(text(&spec, "openapi")),
        intro = escape(text(info, "description")),
    );
    let empty = serde_json::Map::new();
    let paths = spec["paths"].as_object().unwrap_or(&empty);
    for (path, item) in paths {
        for method in ["get", "post", "patch", "delete", "put"] {
            let Some(op) = item.get(method) else {
                continue;
            };
            let scopes: Vec<String> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("bearer"))
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            let _ = write!(
                out,
                "<div class=\"op\" id=\"{id}\"><span class=\"m\">{m}</span><code>{p}</code> \
                 &mdash; {summary}<br><small>{auth}</small>",
                id = escape(text(op, "operationId")),
                m = method.to_uppercase(),
                p = escape(path),
                summary = escape(text(op, "summary")),
                auth = if scopes.is_empty() {
                    "no token needed".to_owned()
                } else {
                    format!("scope: {}", escape(&scopes.join(", ")))
                },
            );
            if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                out.push_str(
                    "<table><tr><th>parameter</th><th>in</th><th>required</th><th>about</th></tr>",
                );
                for p in params {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(text(p, "name")),
                        escape(text(p, "in")),
                        p["required"].as_bool().unwrap_or(false),
                        escape(text(p, "description")),
                    );
                }
                out.push_str("</table>");
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (media, body) in content {
                    let _ = write!(
                        out,
                        "<p>body ({}): <code>{}</code></p>",
                        escape(media),
                        escape(&schema_name(&body["schema"])),
                    );
                }
            }
            if let Some(responses) = op["responses"].as_object() {
                out.push_str("<ul>");
                for (status, r) in responses {
                    let _ = write!(
                        out,
                        "<li><b>{}</b> {}</li>",
                        escape(status),
                        escape(text(r, "description")),
                    );
                }
                out.push_str("</ul>");
            }
            out.push_str("</div>");
        }
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_route_and_shared_errors() {
        let doc = serde_json::to_value(super::super::openapi_document()).unwrap();
        if let Ok(path) = std::env::var("DIALTONE_DUMP_OPENAPI") {
            std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        }
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/v2/auth/token",
            "/v2/agents",
            "/v2/agents/{id}",
            "/v2/operations/{id}",
            "/v2/templates",
            "/v2/agent-builder",
            "/v2/agent-builder/{job_id}",
            "/v2/agents/{id}/kb/sync",
            "/v2/kb/proposals/{id}/approve",
            "/v2/calls/{id}/transcript",
            "/v2/webhooks/{id}/deliveries",
            "/v2/events",
        ] {
            assert!(paths.contains_key(path), "{path} is missing");
        }
        let create = &doc["paths"]["/v2/agents"]["post"];
        assert!(create["responses"]["202"].is_object());
        assert!(create["responses"]["422"].is_object());
        assert!(create["responses"]["429"]["headers"]["Retry-After"].is_object());
        assert_eq!(create["security"][0]["bearer"][0], "agents:write");
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        let page = render(&super::super::openapi_document());
        assert!(page.contains("/v2/agents/{id}/kb/proposals") && !page.contains("<script"));
    }
}
