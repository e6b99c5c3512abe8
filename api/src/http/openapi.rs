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
use serde_json::{Map, Value, json};
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;

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
        (name = "tasks", description = "Outbound mission calls: call a number with a task, get the transcript and a summary"),
        (name = "webhooks", description = "Event subscriptions and their deliveries"),
        (name = "events", description = "Server-Sent Events"),
    ),
)]
struct ApiDoc;

/// The document before the routes are added.
pub fn base() -> Document {
    ApiDoc::openapi()
}

/// An error answer of the shared shape.
fn error_response(description: &str, retry_after: bool) -> Value {
    let mut response = json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    });
    if retry_after {
        response["headers"] = json!({"Retry-After": {
            "description": "Seconds to wait before retrying",
            "schema": {"type": "integer", "minimum": 1},
        }});
    }
    response
}

/// Adds the shared error answers to one operation, and the rules of the `Idempotency-Key` header.
fn add_errors(op: &mut Value, has_path_params: bool) {
    // `security: [{}]` marks a public route.
    let public = op["security"].as_array().is_some_and(|reqs| {
        reqs.iter()
            .all(|r| r.as_object().is_some_and(Map::is_empty))
    });
    let mut idempotent = false;
    let params = op.get_mut("parameters").and_then(Value::as_array_mut);
    for param in params.into_iter().flatten() {
        if param["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case("Idempotency-Key"))
        {
            idempotent = true;
            param["schema"] = json!({"type": "string", "minLength": 1, "maxLength": 255,
                "pattern": "^[!-~]+$"});
        }
    }
    let mut wanted: Vec<(&str, &str, bool)> = vec![
        (
            "400",
            "VALIDATION_ERROR: a malformed request or an invalid field",
            false,
        ),
        ("500", "INTERNAL: the server failed; retry later", false),
    ];
    if !public {
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
    if !op["requestBody"].is_null() || idempotent {
        wanted.push((
            "413",
            "VALIDATION_ERROR: the body is larger than 2 MB",
            false,
        ));
        wanted.push(("415", "VALIDATION_ERROR: the body is not JSON", false));
    }
    if let Some(responses) = op["responses"].as_object_mut() {
        for (status, description, retry_after) in wanted {
            if let Some(existing) = responses.get_mut(status) {
                if retry_after && existing["headers"].is_null() {
                    existing["headers"] = error_response("", true)["headers"].clone();
                }
            } else {
                responses.insert(status.to_owned(), error_response(description, retry_after));
            }
        }
    }
}

/// Links from one answer: (path, method, status, [(link name, target operationId, its parameter, JSON
/// pointer into the answer)]).
type LinkSet = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str, &'static str)],
);

/// Links from a created resource to the operations that take its id, so clients (and schemathesis'
/// stateful tests) can follow them.
const LINKS: &[LinkSet] = &[
    (
        "/v2/agents",
        "post",
        "202",
        &[
            ("GetOperation", "get_operation", "id", "/operation_id"),
            ("GetAgent", "get_agent", "id", "/agent_id"),
            ("UpdateAgent", "update_agent", "id", "/agent_id"),
            ("GetKnowledgeBase", "get_kb", "id", "/agent_id"),
            ("ProposeKbChange", "create_proposal", "id", "/agent_id"),
            ("SyncKnowledgeBase", "sync", "id", "/agent_id"),
        ],
    ),
    (
        "/v2/agent-builder",
        "post",
        "202",
        &[("GetBuilderJob", "get_job", "job_id", "/job_id")],
    ),
    (
        "/v2/webhooks",
        "post",
        "201",
        &[
            ("GetWebhook", "get_webhook", "id", "/id"),
            ("ListDeliveries", "list_deliveries", "id", "/id"),
            ("TestWebhook", "test_webhook", "id", "/id"),
        ],
    ),
    (
        "/v2/tasks",
        "post",
        "201",
        &[
            ("GetTask", "get_task", "id", "/task_id"),
            ("CancelTask", "cancel_task", "id", "/task_id"),
        ],
    ),
    (
        "/v2/agents/{id}/kb/proposals",
        "post",
        "201",
        &[
            ("GetProposal", "get_proposal", "id", "/id"),
            ("ApproveProposal", "approve", "id", "/id"),
            ("RejectProposal", "reject", "id", "/id"),
        ],
    ),
];

/// Completes the generated document into the served JSON: the bearer scheme, the shared error answers
/// on every operation, the client-credentials grant, and links.
pub fn finish(doc: Document) -> Value {
    let mut doc = serde_json::to_value(&doc).unwrap_or_else(|_| json!({}));
    doc["components"]["securitySchemes"] = json!({"bearer": {
        "type": "http", "scheme": "bearer",
        "description": "An API key (sk_live_...) or an access token from POST /v2/auth/token",
    }});
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let has_path_params = path.contains('{');
            for method in ["get", "post", "patch", "delete", "put"] {
                if let Some(op) = item.get_mut(method) {
                    add_errors(op, has_path_params);
                }
            }
        }
    }
    for (path, method, status, links) in LINKS {
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('~', "~0").replace('/', "~1")
        );
        if let Some(response) = doc.pointer_mut(&pointer) {
            for (name, op, param, pointer) in *links {
                response["links"][*name] = json!({"operationId": op,
                    "parameters": {*param: format!("$response.body#{pointer}")}});
            }
        }
    }
    let token = &mut doc["components"]["schemas"]["TokenRequest"];
    if token.is_object() {
        token["properties"]["grant_type"] = json!({"type": "string", "enum": ["client_credentials"],
            "description": "Must be `client_credentials`."});
        token["required"] = json!(["grant_type", "client_id", "client_secret"]);
        token["description"] = json!(
            "A client_credentials grant. `client_id` and `client_secret` may instead come as HTTP Basic \
             credentials (RFC 6749 section 2.3.1)."
        );
    }
    // Fields that are optional one by one but not all together.
    let either =
        |names: &[&str]| Value::Array(names.iter().map(|n| json!({"required": [n]})).collect());
    if let Some(schema) = doc.pointer_mut("/components/schemas/BuilderRequest") {
        schema["anyOf"] = either(&["website_url", "instructions"]);
    }
    if let Some(schema) = doc.pointer_mut("/components/schemas/CreateAgentRequest") {
        schema["anyOf"] = either(&["business_url", "businessUrl", "instructions", "payload"]);
    }
    doc
}

/// `/.well-known/openapi.json` and `/docs`.
pub fn routes(doc: &Value) -> Router {
    let json = Arc::new(serde_json::to_string_pretty(doc).unwrap_or_else(|_| "{}".into()));
    let page = Arc::new(render(doc));
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
fn render(spec: &Value) -> String {
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
        openapi = escape(text(spec, "openapi")),
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
        let doc = super::super::openapi_document();
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
            "/v2/tasks",
            "/v2/tasks/{id}",
            "/v2/tasks/{id}/cancel",
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
        let idem = &create["parameters"][0];
        assert_eq!(idem["name"], "Idempotency-Key");
        assert_eq!(idem["schema"]["maxLength"], 255);
        let link = &create["responses"]["202"]["links"]["GetOperation"];
        assert_eq!(link["parameters"]["id"], "$response.body#/operation_id");
        let public = &doc["paths"]["/v2/auth/token"]["post"]["responses"];
        assert!(public["401"].is_object() && public["403"].is_null());
        let page = render(&doc);
        assert!(page.contains("/v2/agents/{id}/kb/proposals") && !page.contains("<script"));
    }
}
