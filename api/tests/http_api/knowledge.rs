//! Knowledge bases: sync requests, reading the KB, proposals and their approval or rejection.

use axum::http::{Method, StatusCode};
use dialtone_api::store::NewAgent;
use serde_json::json;

use crate::support::{App, assert_error, provision};

on_both_backends!(proposals_change_the_kb_once_approved, sync_queues_a_job);

async fn proposals_change_the_kb_once_approved(app: &App) {
    let agent = provision(app, "https://kb.example").await.body["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = &app.ctx.store;
    let now = app.ctx.now_ms();
    let mut tx = store.begin().await.unwrap();
    let chunks = json!([
        {"title": "Hours", "text": "Open 9 to 5.", "source": "https://kb.example/hours"},
        {"title": "Parking", "text": "Park behind the building.", "source": null},
    ]);
    store
        .create_kb_version(&mut tx, &app.a.id, &agent, &chunks, "h1", now)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let kb_path = format!("/v2/agents/{agent}/kb");
    let kb = app
        .req(Method::GET, &kb_path)
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(kb.status, StatusCode::OK, "{}", kb.text);
    assert_eq!(kb.body["version"], 1);
    assert_eq!(kb.body["doc_count"], 2);
    assert_eq!(kb.body["chunks"][1]["text"], "Park behind the building.");

    let propose = |body: serde_json::Value| {
        app.req(Method::POST, &format!("/v2/agents/{agent}/kb/proposals"))
            .token(&app.key_a)
            .json(body)
            .send()
    };
    let r = propose(json!({"action": "replace", "chunk_index": 0, "reason": "no text"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = propose(json!({"action": "remove", "chunk_index": 9, "reason": "too far"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = propose(json!({"action": "rename", "reason": "unknown action"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = propose(json!({"action": "add", "text": "x", "reason": ""})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let replace = propose(json!({"action": "replace", "chunk_index": 0,
        "text": "Open 8 to 6 on weekdays.", "reason": "the site changed its hours"}))
    .await;
    assert_eq!(replace.status, StatusCode::CREATED, "{}", replace.text);
    assert_eq!(replace.body["status"], "pending");
    assert_eq!(replace.body["base_version"], 1);
    let replace_id = replace.body["id"].as_str().unwrap().to_owned();
    let remove =
        propose(json!({"action": "remove", "chunk_index": 1, "reason": "no parking"})).await;
    let remove_id = remove.body["id"].as_str().unwrap().to_owned();
    let add = propose(
        json!({"action": "add", "title": "Payment", "text": "We take cards.",
        "reason": "asked often"}),
    )
    .await;
    let add_id = add.body["id"].as_str().unwrap().to_owned();

    let pending = app
        .req(
            Method::GET,
            &format!("/v2/agents/{agent}/kb/proposals?status=pending"),
        )
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(pending.body["meta"]["total"], 3);
    // Nothing changed yet.
    assert_eq!(
        app.req(Method::GET, &kb_path)
            .token(&app.key_a)
            .send()
            .await
            .body["version"],
        1
    );

    let decide = |id: &str, verdict: &str| {
        app.req(Method::POST, &format!("/v2/kb/proposals/{id}/{verdict}"))
            .token(&app.key_a)
            .send()
    };
    // Removing chunk 1 first moves the KB on; the replace still finds its chunk by its text.
    let r = decide(&remove_id, "approve").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(r.body["kb_version"], 2);
    let r = decide(&replace_id, "approve").await;
    assert_eq!(r.body["kb_version"], 3, "{}", r.text);
    let r = decide(&add_id, "reject").await;
    assert_eq!(r.body["status"], "rejected");

    let kb = app
        .req(Method::GET, &kb_path)
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(kb.body["version"], 3);
    assert_eq!(kb.body["doc_count"], 1);
    assert_eq!(kb.body["chunks"][0]["text"], "Open 8 to 6 on weekdays.");
    assert_eq!(kb.body["versions"].as_array().unwrap().len(), 3);
    let agent_view = app
        .req(Method::GET, &format!("/v2/agents/{agent}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(agent_view.body["kb_doc_count"], 1);

    // Decided is decided.
    for (id, verdict) in [
        (&replace_id, "approve"),
        (&add_id, "approve"),
        (&remove_id, "reject"),
    ] {
        let r = decide(id, verdict).await;
        assert_error(&r, StatusCode::CONFLICT, "INVALID_STATUS");
    }
    let synced: Vec<_> = store
        .events_after(&app.a.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "kb.synced")
        .collect();
    assert_eq!(synced.len(), 2);
    assert_eq!(synced[1].data["version"], 3);
    assert_eq!(synced[1].data["agent_id"], agent.as_str());
}

async fn sync_queues_a_job(app: &App) {
    let agent = provision(app, "https://sync.example").await.body["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .req(Method::POST, &format!("/v2/agents/{agent}/kb/sync"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let op = app
        .ctx
        .store
        .operation(&app.a.id, r.body["operation_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(op.kind.as_str(), "kb_sync");
    assert_eq!(op.request["url"], "https://sync.example/");

    // An agent without a website has nothing to sync from.
    let mut tx = app.ctx.store.begin().await.unwrap();
    let bare = app
        .ctx
        .store
        .create_agent(&mut tx, &app.a.id, NewAgent::default(), app.ctx.now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = app
        .req(Method::POST, &format!("/v2/agents/{}/kb/sync", bare.id))
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::CONFLICT, "INVALID_STATUS");
    let r = app
        .req(Method::POST, "/v2/agents/agt_missing/kb/sync")
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
}
