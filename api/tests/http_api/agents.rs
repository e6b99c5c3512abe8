//! Agents and operations: both create shapes, validation, listing with filters and cursors, the agent
//! shape, PATCH with `changed_fields`, DELETE, templates, and operation status.

use axum::http::{Method, StatusCode};
use dialtone_api::store::{AgentPatch, AgentStatus};
use serde_json::json;

use crate::support::{App, T0, assert_error, provision};

on_both_backends!(
    create_accepts_both_shapes_and_queues_an_operation,
    create_validates_fields,
    list_filters_pages_and_counts,
    patch_reports_changed_fields_and_delete_hides,
    templates_and_unknown_routes,
);

async fn create_accepts_both_shapes_and_queues_an_operation(app: &App) {
    let bare = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_a)
        .json(
            json!({"businessUrl": "https://smiledental.example", "verticalType": "dental",
            "phone_number": "+18435551234", "white_label_id": "your-platform-id"}),
        )
        .send()
        .await;
    assert_eq!(bare.status, StatusCode::ACCEPTED, "{}", bare.text);
    let op_id = bare.body["operation_id"].as_str().unwrap().to_owned();
    assert!(op_id.starts_with("op_"));
    assert_eq!(bare.body["data"]["operation_id"], op_id.as_str());
    assert_eq!(bare.body["status"], "pending");
    assert_eq!(bare.body["estimated_seconds"], 90);
    let agent_id = bare.body["agent_id"].as_str().unwrap().to_owned();

    let nested = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_a)
        .json(
            json!({"payload": {"name": "My Dental AI", "platform": "elevenlabs",
            "business_url": "https://smile-dental.example", "template_id": "dental_receptionist"}}),
        )
        .send()
        .await;
    assert_eq!(nested.status, StatusCode::ACCEPTED, "{}", nested.text);
    assert_eq!(nested.body["data"]["status"], "pending");

    // The operation, as the poller sees it.
    let op = app
        .req(Method::GET, &format!("/v2/operations/{op_id}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(op.status, StatusCode::OK, "{}", op.text);
    assert_eq!(op.body["data"]["status"], "pending");
    assert_eq!(op.body["operation_id"], op_id.as_str());
    assert_eq!(op.body["agent_id"], agent_id.as_str());
    assert_eq!(op.body["phone_number"], "+18435551234");
    assert_eq!(op.body["progress"], 0);
    assert!(op.body.get("error").is_none());

    // What the worker will read.
    let stored = app.ctx.store.operation(&app.a.id, &op_id).await.unwrap();
    assert_eq!(stored.request["url"], "https://smiledental.example/");
    assert_eq!(stored.request["vertical"], "dental_receptionist");
    assert_eq!(stored.request["phone_number"], "+18435551234");

    // The agent, shaped like the product's.
    let agent = app
        .req(Method::GET, &format!("/v2/agents/{agent_id}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(agent.status, StatusCode::OK);
    for key in [
        "id",
        "status",
        "phone_number",
        "verticalType",
        "kb_doc_count",
    ] {
        assert!(
            agent.body["data"].get(key).is_some(),
            "{key}: {}",
            agent.text
        );
    }
    assert_eq!(agent.body["verticalType"], "dental");
    assert_eq!(agent.body["status"], "pending");
    assert_eq!(agent.body["white_label_id"], "your-platform-id");
    assert_eq!(agent.body["created_at"], "2026-04-17T14:23:01Z");

    // Creating emitted operation.updated, once per agent.
    let events = app.ctx.store.events_after(&app.a.id, 0, 100).await.unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.event_type == "operation.updated"));
    assert_eq!(events[0].data["operation_id"], op_id.as_str());
}

async fn create_validates_fields(app: &App) {
    let post = |body: serde_json::Value| {
        app.req(Method::POST, "/v2/agents")
            .token(&app.key_a)
            .json(body)
    };
    let r = post(json!({"businessUrl": "ftp://files.example"}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(r.body["error"]["details"]["field"], "business_url");
    assert_eq!(r.body["error"]["details"]["reason"], "invalid_url");

    let r = post(json!({"payload": {"business_url": "a.example", "template_id": "astrology"}}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(r.body["error"]["details"]["reason"], "template_not_found");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("template_not_found")
    );

    let r = post(json!({"businessUrl": "a.example", "phone_number": "555-1234"}))
        .send()
        .await;
    assert_eq!(
        r.body["error"]["details"]["field"], "phone_number",
        "{}",
        r.text
    );

    let r = post(json!({"name": "no website"})).send().await;
    assert_eq!(r.body["error"]["details"]["field"], "business_url");

    let r = post(json!({"businessUrl": 42})).send().await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let r = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_a)
        .raw("application/json", "{not json")
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let r = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_a)
        .raw("text/plain", "businessUrl=a.example")
        .send()
        .await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "VALIDATION_ERROR");

    // Instructions alone are enough.
    let r = post(json!({"instructions": "A bakery on Main Street, open 7 to 3."}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);

    // Nothing invalid was created.
    let list = app
        .req(Method::GET, "/v2/agents")
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(list.body["meta"]["total"], 1);
}

async fn list_filters_pages_and_counts(app: &App) {
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = provision(app, &format!("https://site{i}.example")).await;
        ids.push(r.body["agent_id"].as_str().unwrap().to_owned());
        app.advance(1000);
    }
    // Two become active, as the worker would make them.
    for id in &ids[..2] {
        let mut tx = app.ctx.store.begin().await.unwrap();
        let patch = AgentPatch {
            status: Some(AgentStatus::Active),
            ..AgentPatch::default()
        };
        app.ctx
            .store
            .update_agent(&mut tx, &app.a.id, id, &patch, T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let get = |path: String| app.req(Method::GET, &path).token(&app.key_a).send();

    let active = get("/v2/agents?status=active&limit=200".into()).await;
    assert_eq!(active.status, StatusCode::OK, "{}", active.text);
    assert_eq!(active.body["meta"]["total"], 2);
    assert_eq!(active.body["meta"]["limit"], 200);
    assert_eq!(active.body["data"].as_array().unwrap().len(), 2);

    let dental = get("/v2/agents?vertical=dental".into()).await;
    assert_eq!(dental.body["meta"]["total"], 5);
    let none = get("/v2/agents?vertical=plumbing".into()).await;
    assert_eq!(none.body["meta"]["total"], 0);

    // Pages of two, newest first, without repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v2/agents?limit=2&cursor={c}"),
            None => "/v2/agents?limit=2".into(),
        };
        let page = get(path).await;
        assert_eq!(page.body["meta"]["total"], 5);
        for a in page.body["data"].as_array().unwrap() {
            seen.push(a["id"].as_str().unwrap().to_owned());
        }
        match page.body["meta"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    for bad in [
        "/v2/agents?limit=0",
        "/v2/agents?limit=201",
        "/v2/agents?limit=ten",
        "/v2/agents?status=sleeping",
        "/v2/agents?cursor=%25%25%25",
    ] {
        let r = get(bad.into()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}

async fn patch_reports_changed_fields_and_delete_hides(app: &App) {
    let id = provision(app, "https://patch.example").await.body["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v2/agents/{id}");
    let before = app
        .ctx
        .store
        .events_after(&app.a.id, 0, 100)
        .await
        .unwrap()
        .len();
    let r = app
        .req(Method::PATCH, &path)
        .token(&app.key_a)
        .json(json!({"name": "Front desk", "greeting": "Hello!", "phone_number": "+18005550100"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Front desk");
    assert_eq!(r.body["greeting"], "Hello!");
    assert_eq!(r.body["data"]["phone_number"], "+18005550100");
    let events = app.ctx.store.events_after(&app.a.id, 0, 100).await.unwrap();
    assert_eq!(events.len(), before + 1);
    let updated = events.last().unwrap();
    assert_eq!(updated.event_type, "agent.updated");
    let mut changed: Vec<String> =
        serde_json::from_value(updated.data["changed_fields"].clone()).unwrap();
    changed.sort();
    assert_eq!(changed, ["greeting", "name", "phone_number"]);

    // The same values again change nothing and emit nothing.
    let r = app
        .req(Method::PATCH, &path)
        .token(&app.key_a)
        .json(json!({"name": "Front desk", "greeting": "Hello!"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.ctx
            .store
            .events_after(&app.a.id, 0, 100)
            .await
            .unwrap()
            .len(),
        before + 1
    );

    let r = app
        .req(Method::PATCH, &path)
        .token(&app.key_a)
        .json(json!({"phone_number": "call me"}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let r = app
        .req(Method::DELETE, &path)
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["deleted"], true);
    let r = app.req(Method::GET, &path).token(&app.key_a).send().await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    let r = app
        .req(Method::DELETE, &path)
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
}

async fn templates_and_unknown_routes(app: &App) {
    let r = app
        .req(Method::GET, "/v2/templates")
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let templates = r.body["data"].as_array().unwrap();
    let dental = templates
        .iter()
        .find(|t| t["id"] == "dental_receptionist")
        .unwrap();
    for key in [
        "name",
        "description",
        "verticals",
        "goals",
        "required_facts",
        "guardrails",
        "tone",
        "greeting",
    ] {
        assert!(dental.get(key).is_some(), "{key}");
    }
    assert_eq!(
        r.body["meta"]["total"].as_u64().unwrap() as usize,
        templates.len()
    );

    let r = app
        .req(Method::GET, "/v2/nothing/here")
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    let r = app.req(Method::GET, "/v2").send().await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    let r = app
        .req(Method::PUT, "/v2/agents")
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");

    let spec = app
        .req(Method::GET, "/.well-known/openapi.json")
        .send()
        .await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["openapi"], "3.1.0");
    let docs = app.req(Method::GET, "/docs").send().await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.text.contains("/v2/agents"));
}
