//! Mission tasks over HTTP: create (and the product page's path), validation, auth and scopes, one task,
//! lists with filters and pages, cancelling (409 INVALID_STATUS once the call started), tenant
//! isolation, idempotent retries, and the `task.updated` events each change emits.

use axum::http::{Method, StatusCode};
use dialtone_api::store::{AgentStatus, NewAgent};
use serde_json::{Value, json};

use crate::support::{App, T0, assert_error};

on_both_backends!(
    tasks_are_created_numbered_shown_and_listed,
    invalid_tasks_are_refused_with_the_seed_codes,
    tasks_cancel_before_the_call_only,
    tasks_emit_task_updated_with_the_seed_payload,
);

const SEED: &str = "/api/v1/workapi-ai/let-your-agent-make-a-phone-call-with-a-mission";

async fn active_agent(app: &App, tenant_id: &str) -> String {
    let mut tx = app.ctx.store.begin().await.unwrap();
    let agent = app
        .ctx
        .store
        .create_agent(
            &mut tx,
            tenant_id,
            NewAgent {
                name: Some("Caller".into()),
                status: Some(AgentStatus::Active),
                ..NewAgent::default()
            },
            T0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    agent.id
}

async fn create(app: &App, body: Value) -> crate::support::Resp {
    app.req(Method::POST, "/v2/tasks")
        .token(&app.key_a)
        .json(body)
        .send()
        .await
}

async fn tasks_are_created_numbered_shown_and_listed(app: &App) {
    active_agent(app, &app.a.id).await;
    let r = create(
        app,
        json!({"phone_number": "+14151234567", "task": "Ask whether they are open on Sunday",
               "metadata": {"order": 17}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let first = r.body["data"].clone();
    assert!(first["task_id"].as_str().unwrap().starts_with("task_"));
    assert_eq!(r.body["task_id"], first["task_id"]);
    assert_eq!(first["task_number"], 1);
    assert_eq!(first["status"], "pending");
    assert_eq!(first["result_data"], Value::Null);
    assert_eq!(
        first["task_data"],
        json!({"phone_number": "+14151234567", "task": "Ask whether they are open on Sunday",
               "metadata": {"order": 17}})
    );
    assert_eq!(first["merchant_id"], app.a.id.as_str());

    // The product page's path shape does the same.
    app.advance(1000);
    let r = app
        .req(Method::POST, &format!("{SEED}/tasks"))
        .token(&app.key_a)
        .json(json!({"phone_number": "+14151234568", "task": "Ask for the price of a cleaning"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["task_number"], 2);
    let second_id = r.body["task_id"].as_str().unwrap().to_owned();
    let r = app
        .req(Method::GET, &format!("{SEED}/tasks/{second_id}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["task"], "Ask for the price of a cleaning");
    // An unknown route under the seed's base answers in the API's error shape.
    for path in [format!("{SEED}/tasks/"), format!("{SEED}/nothing/here")] {
        let r = app.req(Method::GET, &path).token(&app.key_a).send().await;
        assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    let first_id = first["task_id"].as_str().unwrap();
    let r = app
        .req(Method::GET, &format!("/v2/tasks/{first_id}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["task_number"], 1);

    let r = app
        .req(Method::GET, "/v2/tasks?limit=1")
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.body["meta"]["total"], 2, "{}", r.text);
    assert_eq!(r.body["data"][0]["task_id"], second_id.as_str());
    let cursor = r.body["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .req(Method::GET, &format!("/v2/tasks?limit=1&cursor={cursor}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.body["data"][0]["task_id"], first_id);
    assert!(r.body["meta"].get("next_cursor").is_none());
    let r = app
        .req(
            Method::GET,
            "/v2/tasks?phone_number=%2B14151234567&status=pending",
        )
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.body["meta"]["total"], 1, "{}", r.text);
    let r = app
        .req(Method::GET, "/v2/tasks?status=completed")
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.body["meta"]["total"], 0);

    // Another workspace sees none of it.
    let r = app
        .req(Method::GET, &format!("/v2/tasks/{first_id}"))
        .token(&app.key_b)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    let r = app
        .req(Method::GET, "/v2/tasks")
        .token(&app.key_b)
        .send()
        .await;
    assert_eq!(r.body["meta"]["total"], 0);

    // A retried create with the same Idempotency-Key gets the same task, not a third one.
    let body = json!({"phone_number": "+14151234569", "task": "Ask about parking"});
    let once = app
        .req(Method::POST, "/v2/tasks")
        .token(&app.key_a)
        .header("Idempotency-Key", "task-3")
        .json(body.clone())
        .send()
        .await;
    let twice = app
        .req(Method::POST, "/v2/tasks")
        .token(&app.key_a)
        .header("Idempotency-Key", "task-3")
        .json(body)
        .send()
        .await;
    assert_eq!(once.body["task_id"], twice.body["task_id"]);
    assert_eq!(twice.headers["idempotent-replayed"], "true");
    assert_eq!(twice.body["task_number"], 3);
}

async fn invalid_tasks_are_refused_with_the_seed_codes(app: &App) {
    let agent = active_agent(app, &app.a.id).await;
    for (body, field) in [
        (
            json!({"phone_number": "4151234567", "task": "x"}),
            "phone_number",
        ),
        (
            json!({"phone_number": "+1 415 123 4567", "task": "x"}),
            "phone_number",
        ),
        (
            json!({"phone_number": "+0151234567", "task": "x"}),
            "phone_number",
        ),
        (json!({"task": "x"}), "phone_number"),
        (
            json!({"phone_number": "+14151234567", "task": "   "}),
            "task",
        ),
        (json!({"phone_number": "+14151234567"}), "task"),
        (
            json!({"phone_number": "+14151234567", "task": "x", "metadata": [1]}),
            "metadata",
        ),
        (
            json!({"phone_number": "+14151234567", "task": "x", "agent_id": "agt_nope"}),
            "agent_id",
        ),
    ] {
        let r = create(app, body.clone()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(r.body["error"]["details"]["field"], field, "{body}");
    }
    let r = create(app, json!({"phone_number": 14151234567_i64, "task": "x"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Workspace b has no agent to call with.
    let r = app
        .req(Method::POST, "/v2/tasks")
        .token(&app.key_b)
        .json(json!({"phone_number": "+14151234567", "task": "x"}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(r.body["error"]["details"]["reason"], "no_active_agent");

    let r = app
        .req(Method::POST, "/v2/tasks")
        .json(json!({"phone_number": "+14151234567", "task": "x"}))
        .send()
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let reader = app.key(&app.a.id, &["tasks:read"]).await;
    let r = app
        .req(Method::POST, "/v2/tasks")
        .token(&reader)
        .json(json!({"phone_number": "+14151234567", "task": "x", "agent_id": agent}))
        .send()
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
    let calls_only = app.key(&app.a.id, &["calls:read"]).await;
    let r = app
        .req(Method::GET, "/v2/tasks")
        .token(&calls_only)
        .send()
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
    let writer = app.key(&app.a.id, &["tasks:write"]).await;
    let r = app
        .req(Method::GET, "/v2/tasks")
        .token(&writer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "tasks:write includes tasks:read");
    let r = app
        .req(Method::GET, "/v2/tasks/task_nope")
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    let r = app
        .req(Method::GET, "/v2/tasks?status=done")
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

async fn tasks_cancel_before_the_call_only(app: &App) {
    active_agent(app, &app.a.id).await;
    let r = create(
        app,
        json!({"phone_number": "+14151234567", "task": "Ask about hours"}),
    )
    .await;
    let id = r.body["task_id"].as_str().unwrap().to_owned();
    let r = app
        .req(Method::POST, &format!("/v2/tasks/{id}/cancel"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "cancelled");
    let r = app
        .req(Method::POST, &format!("{SEED}/tasks/{id}/cancel"))
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::CONFLICT, "INVALID_STATUS");
    let r = app
        .req(Method::POST, "/v2/tasks/task_nope/cancel")
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    let r = app
        .req(Method::POST, &format!("/v2/tasks/{id}/cancel"))
        .token(&app.key_b)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");

    // Once the worker has started the call, cancelling is refused.
    let r = create(
        app,
        json!({"phone_number": "+14151234567", "task": "Ask about hours"}),
    )
    .await;
    let id = r.body["task_id"].as_str().unwrap().to_owned();
    let store = &app.ctx.store;
    let mut tx = store.begin().await.unwrap();
    let claimed = store
        .claim_task(&mut tx, "w1", 30_000, 5, T0, |_| None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, id);
    store
        .start_task(&mut tx, &claimed.lease().unwrap(), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = app
        .req(Method::POST, &format!("/v2/tasks/{id}/cancel"))
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::CONFLICT, "INVALID_STATUS");
    let r = app
        .req(Method::GET, &format!("/v2/tasks/{id}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.body["status"], "in_progress");
}

async fn tasks_emit_task_updated_with_the_seed_payload(app: &App) {
    active_agent(app, &app.a.id).await;
    let r = create(
        app,
        json!({"phone_number": "+14151234567", "task": "Ask about hours"}),
    )
    .await;
    let id = r.body["task_id"].as_str().unwrap().to_owned();
    app.advance(500);
    app.req(Method::POST, &format!("/v2/tasks/{id}/cancel"))
        .token(&app.key_a)
        .send()
        .await;
    let events = app.ctx.store.events_after(&app.a.id, 0, 100).await.unwrap();
    let updates: Vec<&Value> = events
        .iter()
        .filter(|e| e.event_type == "task.updated")
        .map(|e| &e.data)
        .collect();
    assert_eq!(
        updates.len(),
        2,
        "one on creation, one on the status change"
    );
    let created = updates[0];
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "event",
        "merchant_id",
        "result_data",
        "status",
        "task_data",
        "task_id",
        "task_number",
        "timestamp",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(created["event"], "task.updated");
    assert_eq!(created["timestamp"], "2026-04-17T14:23:01.000Z");
    assert_eq!(created["task_id"], id.as_str());
    assert_eq!(created["status"], "pending");
    assert_eq!(created["merchant_id"], app.a.id.as_str());
    assert_eq!(created["result_data"], Value::Null);
    assert_eq!(updates[1]["status"], "cancelled");
    assert_eq!(updates[1]["timestamp"], "2026-04-17T14:23:01.500Z");
}
