//! `Idempotency-Key`: replays, mismatches, and concurrent duplicates that create exactly one agent.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{App, assert_error};

on_both_backends!(
    same_key_same_body_replays_the_first_answer,
    same_key_other_body_is_422,
    parallel_duplicates_create_one_agent,
);

async fn same_key_same_body_replays_the_first_answer(app: &App) {
    let send = |body: serde_json::Value| {
        app.req(Method::POST, "/v2/agents")
            .token(&app.key_a)
            .header("Idempotency-Key", "\"provision-customer-17\"")
            .json(body)
            .send()
    };
    let first =
        send(json!({"payload": {"business_url": "https://c17.example", "name": "C17"}})).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // The same body with other spacing and key order is the same request.
    let again = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_a)
        .header("Idempotency-Key", "provision-customer-17")
        .raw(
            "application/json",
            r#"{ "payload": { "name": "C17", "business_url": "https://c17.example" } }"#,
        )
        .send()
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.text, first.text);
    assert_eq!(
        again.body["data"]["operation_id"],
        first.body["operation_id"]
    );
    let list = app
        .req(Method::GET, "/v2/agents")
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(list.body["meta"]["total"], 1);

    // A validation error is kept too: it will not change.
    let bad = || {
        app.req(Method::POST, "/v2/agents")
            .token(&app.key_a)
            .header("Idempotency-Key", "bad-1")
            .json(json!({"businessUrl": "ftp://x"}))
            .send()
    };
    let r1 = bad().await;
    let r2 = bad().await;
    assert_error(&r1, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(r2.text, r1.text);
    assert_eq!(r2.headers["idempotent-replayed"], "true");

    // Keys are per tenant: tenant b may use the same key for its own request.
    let b = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_b)
        .header("Idempotency-Key", "provision-customer-17")
        .json(json!({"payload": {"business_url": "https://c17.example", "name": "C17"}}))
        .send()
        .await;
    assert_eq!(b.status, StatusCode::ACCEPTED);
    assert_ne!(b.body["operation_id"], first.body["operation_id"]);

    let r = app
        .req(Method::POST, "/v2/agents")
        .token(&app.key_a)
        .header("Idempotency-Key", "has spaces in it")
        .json(json!({"businessUrl": "a.example"}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

async fn same_key_other_body_is_422(app: &App) {
    let send = |url: &str| {
        app.req(Method::POST, "/v2/agents")
            .token(&app.key_a)
            .header("Idempotency-Key", "k-1")
            .json(json!({"businessUrl": url}))
            .send()
    };
    assert_eq!(
        send("https://one.example").await.status,
        StatusCode::ACCEPTED
    );
    let r = send("https://two.example").await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_MISMATCH");
    // Another route with the same key is another request too.
    let r = app
        .req(Method::POST, "/v2/webhooks")
        .token(&app.key_a)
        .header("Idempotency-Key", "k-1")
        .json(json!({"businessUrl": "https://one.example"}))
        .send()
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_MISMATCH");
}

async fn parallel_duplicates_create_one_agent(app: &App) {
    let body = json!({"businessUrl": "https://parallel.example", "verticalType": "dental"});
    let sends = (0..8).map(|_| {
        app.req(Method::POST, "/v2/agents")
            .token(&app.key_a)
            .header("Idempotency-Key", "provision-parallel")
            .json(body.clone())
            .send()
    });
    let answers = futures_util::future::join_all(sends).await;
    let ops: Vec<String> = answers
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
            r.body["operation_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(ops.iter().all(|op| op == &ops[0]), "{ops:?}");
    let replays = answers
        .iter()
        .filter(|r| r.headers.get("idempotent-replayed").is_some())
        .count();
    assert_eq!(replays, 7);
    let list = app
        .req(Method::GET, "/v2/agents")
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(list.body["meta"]["total"], 1);
}
