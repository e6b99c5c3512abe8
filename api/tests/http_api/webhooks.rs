//! Webhooks: create with the secret shown once, validation, listing, the delivery log, test events sent
//! to one webhook only, and deletion.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{App, assert_error, provision};

on_both_backends!(webhooks_subscribe_deliver_test_and_delete);

async fn webhooks_subscribe_deliver_test_and_delete(app: &App) {
    let post = |body: serde_json::Value| {
        app.req(Method::POST, "/v2/webhooks")
            .token(&app.key_a)
            .json(body)
            .send()
    };
    for bad in [
        json!({"url": "ftp://hooks.example", "events": ["*"]}),
        json!({"url": "not a url", "events": ["*"]}),
        json!({"url": "https://hooks.example", "events": []}),
        json!({"url": "https://hooks.example", "events": ["agent.exploded"]}),
        json!({"url": "https://hooks.example"}),
    ] {
        assert_error(
            &post(bad).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        );
    }
    let all = post(json!({"url": "https://hooks.example/all", "events": ["*"]})).await;
    assert_eq!(all.status, StatusCode::CREATED, "{}", all.text);
    let secret = all.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let all_id = all.body["id"].as_str().unwrap().to_owned();
    let activated = post(json!({"url": "http://127.0.0.1:9/activated",
        "events": ["agent.activated", "agent.activated"]}))
    .await;
    assert_eq!(activated.body["events"], json!(["agent.activated"]));
    let activated_id = activated.body["id"].as_str().unwrap().to_owned();

    let list = app
        .req(Method::GET, "/v2/webhooks")
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(list.body["meta"]["total"], 2);
    assert!(
        list.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w.get("secret").is_none())
    );
    let one = app
        .req(Method::GET, &format!("/v2/webhooks/{all_id}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(one.body["url"], "https://hooks.example/all");
    assert!(one.body.get("secret").is_none());

    // An event goes to the webhook that wants it; the delivery log shows it.
    provision(app, "https://wh.example").await;
    let deliveries = |id: &str| {
        app.req(Method::GET, &format!("/v2/webhooks/{id}/deliveries"))
            .token(&app.key_a)
            .send()
    };
    let log = deliveries(&all_id).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert_eq!(log.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(log.body["data"][0]["status"], "pending");
    assert_eq!(log.body["data"][0]["attempts"], 0);
    assert_eq!(
        deliveries(&activated_id).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A test event goes to the webhook under test only, whatever it subscribed to.
    let test = app
        .req(Method::POST, &format!("/v2/webhooks/{activated_id}/test"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.text);
    assert!(test.body["event_id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(
        deliveries(&activated_id).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        deliveries(&all_id).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let events = app.ctx.store.events_after(&app.a.id, 0, 100).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.event_type, "webhook.test");
    assert_eq!(last.data["webhook_id"], activated_id.as_str());

    let r = app
        .req(Method::DELETE, &format!("/v2/webhooks/{all_id}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .req(Method::GET, &format!("/v2/webhooks/{all_id}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    let r = app
        .req(Method::POST, &format!("/v2/webhooks/{all_id}/test"))
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_error(
        &deliveries(&all_id).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    );
}
