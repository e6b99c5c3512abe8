//! One tenant never sees or touches another's resources: tenant b gets 404 on each of a's.

use axum::http::{Method, StatusCode};
use dialtone_api::store::{CallDirection, NewCall};
use serde_json::json;

use crate::support::{App, T0, assert_error, provision};

on_both_backends!(another_tenants_resources_are_not_found);

async fn another_tenants_resources_are_not_found(app: &App) {
    let created = provision(app, "https://tenant-a.example").await;
    let agent = created.body["agent_id"].as_str().unwrap().to_owned();
    let op = created.body["operation_id"].as_str().unwrap().to_owned();
    let store = &app.ctx.store;

    let mut tx = store.begin().await.unwrap();
    let call = store
        .start_call(
            &mut tx,
            &app.a.id,
            &NewCall {
                id: None,
                agent_id: agent.clone(),
                direction: CallDirection::Inbound,
                from_number: Some("+15550001111".into()),
                to_number: None,
                started_at: T0,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let hook = app
        .req(Method::POST, "/v2/webhooks")
        .token(&app.key_a)
        .json(json!({"url": "https://hooks.example/a", "events": ["*"]}))
        .send()
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let hook = hook.body["id"].as_str().unwrap().to_owned();

    let job = app
        .req(Method::POST, "/v2/agent-builder")
        .token(&app.key_a)
        .json(json!({"instructions": "A bakery"}))
        .send()
        .await;
    assert_eq!(job.status, StatusCode::ACCEPTED, "{}", job.text);
    let job = job.body["job_id"].as_str().unwrap().to_owned();

    let proposal = app
        .req(Method::POST, &format!("/v2/agents/{agent}/kb/proposals"))
        .token(&app.key_a)
        .json(json!({"action": "add", "text": "We open at 8.", "reason": "new hours"}))
        .send()
        .await;
    assert_eq!(proposal.status, StatusCode::CREATED, "{}", proposal.text);
    let proposal = proposal.body["id"].as_str().unwrap().to_owned();

    let reads = [
        format!("/v2/agents/{agent}"),
        format!("/v2/agents/{agent}/kb"),
        format!("/v2/agents/{agent}/kb/proposals"),
        format!("/v2/operations/{op}"),
        format!("/v2/calls/{}", call.id),
        format!("/v2/calls/{}/transcript", call.id),
        format!("/v2/calls/{}/extractions", call.id),
        format!("/v2/webhooks/{hook}"),
        format!("/v2/webhooks/{hook}/deliveries"),
        format!("/v2/agent-builder/{job}"),
        format!("/v2/kb/proposals/{proposal}"),
    ];
    for path in &reads {
        let mine = app.req(Method::GET, path).token(&app.key_a).send().await;
        assert_eq!(mine.status, StatusCode::OK, "{path}: {}", mine.text);
        let theirs = app.req(Method::GET, path).token(&app.key_b).send().await;
        assert_error(&theirs, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    let writes = [
        (Method::PATCH, format!("/v2/agents/{agent}")),
        (Method::DELETE, format!("/v2/agents/{agent}")),
        (Method::POST, format!("/v2/agents/{agent}/kb/sync")),
        (Method::POST, format!("/v2/agents/{agent}/kb/proposals")),
        (Method::POST, format!("/v2/kb/proposals/{proposal}/approve")),
        (Method::POST, format!("/v2/kb/proposals/{proposal}/reject")),
        (Method::POST, format!("/v2/webhooks/{hook}/test")),
        (Method::DELETE, format!("/v2/webhooks/{hook}")),
    ];
    for (method, path) in &writes {
        let body = json!({"name": "x", "action": "add", "text": "t", "reason": "r"});
        let theirs = app
            .req(method.clone(), path)
            .token(&app.key_b)
            .json(body)
            .send()
            .await;
        assert_error(&theirs, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    // A webhook of b cannot be tied to a's agent, and b's lists are empty.
    let r = app
        .req(Method::POST, "/v2/webhooks")
        .token(&app.key_b)
        .json(json!({"url": "https://hooks.example/b", "events": ["*"], "agent_id": agent}))
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    for path in ["/v2/agents", "/v2/calls", "/v2/webhooks"] {
        let r = app.req(Method::GET, path).token(&app.key_b).send().await;
        assert_eq!(r.body["meta"]["total"], 0, "{path}");
    }
    // Nothing of a's changed.
    let r = app
        .req(Method::GET, &format!("/v2/agents/{agent}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.body["name"], serde_json::Value::Null);
    let r = app
        .req(Method::GET, &format!("/v2/kb/proposals/{proposal}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.body["status"], "pending");
}
