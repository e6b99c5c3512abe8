//! `GET /v2/events`: resuming after `Last-Event-ID` (header or query), new events arriving as they are
//! committed (woken, not polled), starting at the tail, and tenant isolation. No sleeps: each read waits
//! for the next frame, under a generous timeout that only a broken stream would hit.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::support::{App, assert_error, provision};

on_both_backends!(streams_resume_follow_and_stay_in_their_tenant);

/// One SSE event: (id, event, data).
pub(crate) type Frame = (String, String, Value);

/// Reads the stream until the next event (skipping keep-alive comments).
pub(crate) async fn next_event(body: &mut Body, buffer: &mut String) -> Frame {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer[..end].to_owned();
            buffer.replace_range(..end + 2, "");
            let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if event.is_empty() {
                continue;
            }
            return (id, event, serde_json::from_str(&data).unwrap());
        }
        let frame = tokio::time::timeout(Duration::from_secs(20), body.frame())
            .await
            .expect("an event within 20 s")
            .expect("the stream is open")
            .unwrap();
        if let Ok(bytes) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}

async fn open(app: &App, token: &str, last_event_id: Option<&str>, query: &str) -> Body {
    let mut req = app
        .req(Method::GET, &format!("/v2/events{query}"))
        .token(token);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let response = req.response().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    response.into_body()
}

async fn streams_resume_follow_and_stay_in_their_tenant(app: &App) {
    let first = provision(app, "https://e1.example").await;
    provision(app, "https://e2.example").await;
    let log = app.ctx.store.events_after(&app.a.id, 0, 100).await.unwrap();
    assert_eq!(log.len(), 2);
    let (s1, s2) = (log[0].seq, log[1].seq);

    // Resume after the first: the second comes, with the webhook envelope.
    let mut buffer = String::new();
    let mut body = open(app, &app.key_a, Some(&s1.to_string()), "").await;
    let (id, event, data) = next_event(&mut body, &mut buffer).await;
    assert_eq!(id, s2.to_string());
    assert_eq!(event, "operation.updated");
    assert_eq!(data["event_type"], "operation.updated");
    assert_eq!(data["event_id"], log[1].id.as_str());
    assert_eq!(data["idempotency_key"], log[1].id.as_str());
    assert_eq!(data["created_at"], "2026-04-17T14:23:01Z");
    assert!(data["data"]["operation_id"].is_string());

    // A change committed now reaches the open stream.
    let agent = first.body["agent_id"].as_str().unwrap();
    let r = app
        .req(Method::PATCH, &format!("/v2/agents/{agent}"))
        .token(&app.key_a)
        .json(json!({"name": "Live"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (id, event, data) = next_event(&mut body, &mut buffer).await;
    assert_eq!(event, "agent.updated");
    assert!(id.parse::<i64>().unwrap() > s2);
    assert_eq!(data["data"]["changed_fields"], json!(["name"]));

    // The query parameter resumes too; 0 replays everything.
    let mut buffer0 = String::new();
    let mut all = open(app, &app.key_a, None, "?last_event_id=0").await;
    assert_eq!(next_event(&mut all, &mut buffer0).await.0, s1.to_string());
    assert_eq!(next_event(&mut all, &mut buffer0).await.0, s2.to_string());

    // Without a resume point the stream starts at the tail: the next event is a new one.
    let mut buffer_tail = String::new();
    let mut tail = open(app, &app.key_a, None, "").await;
    let fresh = provision(app, "https://e3.example").await;
    let (_, _, data) = next_event(&mut tail, &mut buffer_tail).await;
    assert_eq!(data["data"]["operation_id"], fresh.body["operation_id"]);

    // Tenant b sees only its own events.
    let mut buffer_b = String::new();
    let mut theirs = open(app, &app.key_b, None, "?last_event_id=0").await;
    provision(app, "https://a-again.example").await;
    let b_op = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_b)
        .json(json!({"businessUrl": "https://b.example"}))
        .send()
        .await;
    let (_, _, data) = next_event(&mut theirs, &mut buffer_b).await;
    assert_eq!(data["data"]["operation_id"], b_op.body["operation_id"]);

    for bad in ["abc", "-1"] {
        let r = app
            .req(Method::GET, "/v2/events")
            .token(&app.key_a)
            .header("Last-Event-ID", bad)
            .send()
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}
