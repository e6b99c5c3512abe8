//! `GET /v2/calls/{id}/live`: a live call followed from its start (by the store's id or the transport's),
//! a late follower's replay, the stream closing after `ended`, a stored call replayed, a call in progress
//! elsewhere replayed once it ends, and tenant isolation.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use dialtone_api::store::{CallDirection, CallEnd, NewCall};
use http_body_util::BodyExt;
use serde_json::json;

use crate::events::{Frame, next_event};
use crate::support::{App, T0, assert_error, provision};

on_both_backends!(a_call_is_followed_live_then_from_the_store);

async fn open(app: &App, token: &str, id: &str) -> Body {
    let response = app
        .req(Method::GET, &format!("/v2/calls/{id}/live"))
        .token(token)
        .response()
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    response.into_body()
}

/// Every event up to the stream's end.
async fn rest(mut body: Body, buffer: &mut String) -> Vec<Frame> {
    let mut frames = Vec::new();
    loop {
        let frame = next_event(&mut body, buffer).await;
        let last = frame.1 == "ended";
        frames.push(frame);
        if last {
            break;
        }
    }
    let end = tokio::time::timeout(Duration::from_secs(20), body.frame())
        .await
        .expect("the stream closes after `ended`");
    assert!(end.is_none(), "nothing after `ended`");
    frames
}

async fn a_call_is_followed_live_then_from_the_store(app: &App) {
    let agent = provision(app, "https://live.example").await.body["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let live = &app.ctx.live;

    // A live call, as the directory registers it when the agent answers.
    live.start(&app.a.id, "webrtc-00ab", "call_livetest1");
    live.said("webrtc-00ab", "agent", "Thanks for calling.", false);
    let mut early = open(app, &app.key_a, "webrtc-00ab").await;
    let mut buf = String::new();
    let (_, event, data) = next_event(&mut early, &mut buf).await;
    assert_eq!(event, "transcript");
    assert_eq!(data["call_id"], "call_livetest1", "the store's id");
    assert_eq!(data["role"], "agent");
    assert_eq!(data["text"], "Thanks for calling.");

    // The other tenant cannot see it, by either id.
    for id in ["webrtc-00ab", "call_livetest1"] {
        let r = app
            .req(Method::GET, &format!("/v2/calls/{id}/live"))
            .token(&app.key_b)
            .send()
            .await;
        assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    live.said(
        "webrtc-00ab",
        "caller",
        "When do you open on Saturday?",
        false,
    );
    let latency = json!({"stt_final_ms": 210.0, "first_text_ms": 215.0, "first_frame_ms": 480.0});
    live.turn("webrtc-00ab", 1, &latency);
    let (_, event, data) = next_event(&mut early, &mut buf).await;
    assert_eq!(
        (event.as_str(), data["role"].as_str()),
        ("transcript", Some("caller"))
    );
    let (_, event, data) = next_event(&mut early, &mut buf).await;
    assert_eq!(event, "turn");
    assert_eq!(data["turn"], 1);
    assert_eq!(data["first_frame_ms"], 480.0);

    // A late follower, by the store's id, gets everything so far first.
    let late = open(app, &app.key_a, "call_livetest1").await;
    live.said("webrtc-00ab", "agent", "We open at 9 on Saturday.", true);
    live.end("webrtc-00ab", Some("caller_hangup"));
    let mut late_buf = String::new();
    let frames = rest(late, &mut late_buf).await;
    let names: Vec<&str> = frames.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(
        names,
        ["transcript", "transcript", "turn", "transcript", "ended"]
    );
    assert_eq!(frames[3].2["interrupted"], true);
    assert_eq!(frames[4].2["end_reason"], "caller_hangup");
    let frames = rest(early, &mut buf).await;
    let names: Vec<&str> = frames.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(names, ["transcript", "ended"]);
    assert!(live.is_empty());

    // A call this node does not carry, still in progress: replayed from the store once it ends.
    let store = &app.ctx.store;
    let mut tx = store.begin().await.unwrap();
    let call = store
        .start_call(
            &mut tx,
            &app.a.id,
            &NewCall {
                id: Some("call_elsewhere1".into()),
                agent_id: agent.clone(),
                direction: CallDirection::Inbound,
                from_number: None,
                to_number: None,
                started_at: T0,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(call.id, "call_elsewhere1", "the id chosen beforehand");
    let waiting = open(app, &app.key_a, &call.id).await;
    let mut tx = store.begin().await.unwrap();
    store
        .finish_call(
            &mut tx,
            &app.a.id,
            &call.id,
            &CallEnd {
                ended_at: T0 + 30_000,
                disposition: Some("answered".into()),
                end_reason: Some("agent_hangup".into()),
                transcript: Some(json!([
                    {"role": "agent", "text": "Hello", "interrupted": false},
                    {"role": "caller", "text": "Bye", "interrupted": false}
                ])),
                extractions: None,
                turns: Some(json!([{"stt_final_ms": 190.0, "first_frame_ms": 505.5}])),
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.ctx.events.notify_waiters();
    let mut buf = String::new();
    let frames = rest(waiting, &mut buf).await;
    let names: Vec<&str> = frames.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(names, ["transcript", "transcript", "turn", "ended"]);
    assert_eq!(frames[1].2["text"], "Bye");
    assert_eq!(frames[2].2["first_frame_ms"], 505.5);
    assert_eq!(frames[3].2["end_reason"], "agent_hangup");

    // The transcript carries the turns too.
    let r = app
        .req(Method::GET, &format!("/v2/calls/{}/transcript", call.id))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["turns"][0]["first_frame_ms"], 505.5);

    let r = app
        .req(Method::GET, "/v2/calls/call_nosuch/live")
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
}
