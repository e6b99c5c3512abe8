//! `/mcp` on `dialtone serve`: MCP over streamable HTTP with the API's bearer keys. The test runs the
//! real server on a loopback port and talks JSON-RPC over HTTP POSTs as an MCP client does:
//! without a key it is refused; with one, initialize and tools/list answer, and tool calls reach the API
//! with the caller's own key, so its scopes decide (a key without `agents:read` gets the API's
//! FORBIDDEN, and scout_research, which crawls on the server, wants `agents:write`).

#![allow(clippy::unwrap_used)]

#[path = "mcp_support/mod.rs"]
mod support;

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use support::{Server, TOOLS, create_key, temp_dir};

const PROTOCOL: &str = "2025-06-18";

/// POSTs one JSON-RPC message to `/mcp`; the status and the JSON-RPC answer (from a JSON body, or from
/// the first `data:` line of an event stream).
async fn post(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    message: Value,
) -> (u16, Value) {
    let mut request = http
        .post(format!("{url}/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", PROTOCOL)
        .json(&message);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let event_stream = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let text = response.text().await.unwrap();
    let body = if text.trim().is_empty() {
        Value::Null
    } else if event_stream {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .find(|d| !d.is_empty())
            .map(|d| serde_json::from_str(d).unwrap())
            .unwrap_or(Value::Null)
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    (status, body)
}

fn call(id: u64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_http_needs_a_key_and_uses_its_scopes() {
    let data = temp_dir("mcp-http");
    let admin = create_key(&data, "*");
    let calls_only = create_key(&data, "calls:read");
    let server = Server::start(&data).await;
    // reqwest is built without a bundled TLS provider; it needs one installed even for http:// URLs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let url = server.url.as_str();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "mcp-http-test", "version": "1.0"}}});

    // No key, or an unknown one: 401 in the API's error shape, before any MCP handling.
    let (status, body) = post(&http, url, None, initialize.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    let (status, _) = post(&http, url, Some("sk_live_not_a_key"), initialize.clone()).await;
    assert_eq!(status, 401);

    let (status, init) = post(&http, url, Some(&admin), initialize).await;
    assert_eq!(status, 200, "{init}");
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["serverInfo"]["name"], "dialtone", "{init}");
    assert!(init["result"]["capabilities"]["tools"].is_object());
    let (status, _) = post(
        &http,
        url,
        Some(&admin),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert!((200..300).contains(&status), "{status}");

    let (status, list) = post(
        &http,
        url,
        Some(&admin),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let tools = list["result"]["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
    }

    // Tool calls go to the API with the caller's key.
    let (_, templates) = post(
        &http,
        url,
        Some(&admin),
        call(3, "list_templates", json!({})),
    )
    .await;
    let result = &templates["result"];
    assert_ne!(result["isError"], true, "{templates}");
    assert!(
        result["structuredContent"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "dental_receptionist")
    );
    let (_, missing) = post(
        &http,
        url,
        Some(&admin),
        call(4, "get_agent", json!({"agent_id": "agt_nobody"})),
    )
    .await;
    assert_eq!(missing["result"]["isError"], true, "{missing}");
    let error = &missing["result"]["structuredContent"]["error"];
    assert_eq!(error["code"], "NOT_FOUND");
    // The resource is missing, not the route.
    assert_eq!(error["message"], "agent not found", "{error}");

    let (_, forbidden) = post(
        &http,
        url,
        Some(&calls_only),
        call(5, "list_templates", json!({})),
    )
    .await;
    let error = &forbidden["result"]["structuredContent"]["error"];
    assert_eq!(forbidden["result"]["isError"], true, "{forbidden}");
    assert_eq!(error["code"], "FORBIDDEN");
    assert_eq!(forbidden["result"]["structuredContent"]["status"], 403);
    let (_, calls) = post(
        &http,
        url,
        Some(&calls_only),
        call(6, "list_calls", json!({})),
    )
    .await;
    assert_ne!(calls["result"]["isError"], true, "{calls}");
    assert_eq!(calls["result"]["structuredContent"]["meta"]["total"], 0);
    let (_, scout) = post(
        &http,
        url,
        Some(&calls_only),
        call(
            7,
            "scout_research",
            json!({"business_url": "https://example.com"}),
        ),
    )
    .await;
    assert_eq!(scout["result"]["isError"], true, "{scout}");
    assert_eq!(
        scout["result"]["structuredContent"]["error"]["code"],
        "FORBIDDEN"
    );

    server.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}
