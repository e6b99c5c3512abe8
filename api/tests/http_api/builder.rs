//! The Agent Builder: job creation and validation, status mapping, and the daily quota.

use axum::http::{Method, StatusCode};
use dialtone_api::ApiConfig;
use dialtone_api::store::{NewAgent, OperationFailure, OperationKind};
use serde_json::json;

use crate::support::{App, assert_error};

on_both_backends!(jobs_report_queued_processing_completed_failed);

on_both_backends_with!(
    ApiConfig { builder_jobs_per_day: 2, ..ApiConfig::default() };
    the_daily_quota_answers_429,
    concurrent_requests_never_exceed_the_quota,
);

async fn create(app: &App, body: serde_json::Value) -> crate::support::Resp {
    app.req(Method::POST, "/v2/agent-builder")
        .token(&app.key_a)
        .json(body)
        .send()
        .await
}

async fn jobs_report_queued_processing_completed_failed(app: &App) {
    let r = create(app, json!({})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = create(app, json!({"website_url": "not a url at all"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(r.body["error"]["details"]["reason"], "invalid_url");
    let r = create(app, json!({"instructions": "   "})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let r = create(
        app,
        json!({"website_url": "acme-corp.example", "instructions": "Support for our SaaS"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["status"], "queued");
    assert_eq!(r.body["website_url"], "https://acme-corp.example/");
    let job = r.body["job_id"].as_str().unwrap().to_owned();
    let path = format!("/v2/agent-builder/{job}");
    let get = || app.req(Method::GET, &path).token(&app.key_a).send();
    assert_eq!(get().await.body["data"]["status"], "queued");

    // A worker takes it, then finishes it with a new agent.
    let store = &app.ctx.store;
    let now = app.ctx.now_ms();
    let claimed = store
        .claim_operation("w1", Some(OperationKind::Builder), 30_000, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job);
    assert_eq!(get().await.body["status"], "processing");
    let mut tx = store.begin().await.unwrap();
    let agent = store
        .create_agent(&mut tx, &app.a.id, NewAgent::default(), now)
        .await
        .unwrap();
    store
        .complete_operation(
            &mut tx,
            &claimed.lease().unwrap(),
            &json!({}),
            Some(&agent.id),
            now,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let done = get().await;
    assert_eq!(done.body["status"], "completed", "{}", done.text);
    assert_eq!(done.body["agent_id"], agent.id.as_str());

    // Another fails for good.
    let r = create(app, json!({"instructions": "A plumber"})).await;
    let job2 = r.body["job_id"].as_str().unwrap().to_owned();
    let claimed = store
        .claim_operation("w1", Some(OperationKind::Builder), 30_000, now)
        .await
        .unwrap()
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    let failure = OperationFailure {
        code: "scout_crawl_failed".into(),
        message: "the site did not answer".into(),
        retryable: false,
    };
    store
        .fail_operation(&mut tx, &claimed.lease().unwrap(), &failure, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let failed = app
        .req(Method::GET, &format!("/v2/agent-builder/{job2}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(failed.body["status"], "failed");
    assert_eq!(failed.body["error"]["code"], "scout_crawl_failed");
    // The same job through the operations route shows the store's names.
    let op = app
        .req(Method::GET, &format!("/v2/operations/{job2}"))
        .token(&app.key_a)
        .send()
        .await;
    assert_eq!(op.body["status"], "failed");
    assert_eq!(op.body["error"]["message"], "the site did not answer");

    // A provisioning operation is not a builder job.
    let p = crate::support::provision(app, "https://p.example").await;
    let r = app
        .req(
            Method::GET,
            &format!(
                "/v2/agent-builder/{}",
                p.body["operation_id"].as_str().unwrap()
            ),
        )
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
}

async fn the_daily_quota_answers_429(app: &App) {
    for _ in 0..2 {
        assert_eq!(
            create(app, json!({"instructions": "A cafe"})).await.status,
            StatusCode::ACCEPTED
        );
    }
    let r = create(app, json!({"instructions": "A cafe"})).await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    assert!(r.headers.contains_key("retry-after"));
    // Other workspaces have their own quota; a day later this one has it back.
    let b = app
        .req(Method::POST, "/v2/agent-builder")
        .token(&app.key_b)
        .json(json!({"instructions": "A cafe"}))
        .send()
        .await;
    assert_eq!(b.status, StatusCode::ACCEPTED);
    app.advance(24 * 3600 * 1000 + 1);
    assert_eq!(
        create(app, json!({"instructions": "A cafe"})).await.status,
        StatusCode::ACCEPTED
    );
}

async fn concurrent_requests_never_exceed_the_quota(app: &App) {
    let answers = futures_util::future::join_all(
        (0..8).map(|i| create(app, json!({"instructions": format!("Cafe number {i}")}))),
    )
    .await;
    let accepted = answers
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    let limited = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((accepted, limited), (2, 6), "the quota is 2");
}
