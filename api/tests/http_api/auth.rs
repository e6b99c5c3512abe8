//! Tokens, API keys, scopes on every route group, and rate limits.

use axum::http::{Method, StatusCode, header};
use dialtone_api::ApiConfig;
use serde_json::json;

use crate::support::{App, T0, assert_error};

on_both_backends!(
    client_credentials_buy_a_bearer_token,
    missing_and_bad_tokens_are_401,
    every_route_checks_its_scope,
);

on_both_backends_with!(
    dialtone_api::ApiConfig { write_rate_per_minute: 2, read_rate_per_minute: 3, ..ApiConfig::default() };
    writes_and_reads_have_their_own_rate_limits,
);

async fn client_credentials_buy_a_bearer_token(app: &App) {
    let account = app
        .ctx
        .store
        .create_service_account(
            &app.a.id,
            "bot",
            &["agents:read".into(), "calls:read".into()],
            T0,
        )
        .await
        .unwrap();
    let client_id = account.account.id.clone();
    let r = app
        .req(Method::POST, "/v2/auth/token")
        .json(
            json!({"client_id": client_id, "client_secret": account.secret,
            "grant_type": "client_credentials"}),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["expires_in"], 3600);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scopes"], json!(["agents:read", "calls:read"]));
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(r.body["data"]["access_token"], token.as_str());

    let ok = app
        .req(Method::GET, "/v2/agents")
        .token(&token)
        .send()
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let denied = app
        .req(Method::GET, "/v2/webhooks")
        .token(&token)
        .send()
        .await;
    assert_error(&denied, StatusCode::FORBIDDEN, "FORBIDDEN");

    // The form encoding works too, and can narrow the scopes.
    let form = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={}&scope=calls%3Aread",
        account.secret
    );
    let r = app
        .req(Method::POST, "/v2/auth/token")
        .raw("application/x-www-form-urlencoded", form)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["scopes"], json!(["calls:read"]));
    let narrow = r.body["access_token"].as_str().unwrap().to_owned();
    let r = app
        .req(Method::GET, "/v2/agents")
        .token(&narrow)
        .send()
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");

    // Asking for more than granted, a wrong secret, a wrong grant.
    let ask = |body: serde_json::Value| app.req(Method::POST, "/v2/auth/token").json(body).send();
    let r = ask(
        json!({"client_id": client_id, "client_secret": account.secret,
        "grant_type": "client_credentials", "scope": "webhooks:manage"}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = ask(json!({"client_id": client_id, "client_secret": app.key_a,
        "grant_type": "client_credentials"}))
    .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let r = ask(
        json!({"client_id": client_id, "client_secret": account.secret,
        "grant_type": "password"}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Tokens expire after an hour.
    app.advance(3_600_001);
    let r = app
        .req(Method::GET, "/v2/agents")
        .token(&token)
        .send()
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

async fn missing_and_bad_tokens_are_401(app: &App) {
    let r = app.req(Method::GET, "/v2/agents").send().await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
    for token in ["sk_live_nope", "at_nope", "garbage"] {
        let r = app.req(Method::GET, "/v2/agents").token(token).send().await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
    let r = app
        .req(Method::GET, "/v2/agents")
        .header("authorization", "Basic abc")
        .send()
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    // A revoked key stops working.
    let account = app
        .ctx
        .store
        .create_service_account(&app.a.id, "gone", &["*".into()], T0)
        .await
        .unwrap();
    app.ctx
        .store
        .revoke_service_account(&app.a.id, &account.account.id, T0)
        .await
        .unwrap();
    let r = app
        .req(Method::GET, "/v2/agents")
        .token(&account.secret)
        .send()
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

async fn every_route_checks_its_scope(app: &App) {
    let nothing = app.key(&app.a.id, &["tasks:read"]).await;
    let reader = app.key(&app.a.id, &["agents:read"]).await;
    let writer = app.key(&app.a.id, &["agents:write"]).await;
    let routes: [(Method, &str); 17] = [
        (Method::GET, "/v2/agents"),
        (Method::POST, "/v2/agents"),
        (Method::GET, "/v2/agents/agt_x"),
        (Method::PATCH, "/v2/agents/agt_x"),
        (Method::DELETE, "/v2/agents/agt_x"),
        (Method::GET, "/v2/operations/op_x"),
        (Method::GET, "/v2/templates"),
        (Method::POST, "/v2/agent-builder"),
        (Method::GET, "/v2/agent-builder/op_x"),
        (Method::POST, "/v2/agents/agt_x/kb/sync"),
        (Method::GET, "/v2/agents/agt_x/kb"),
        (Method::POST, "/v2/kb/proposals/kbp_x/approve"),
        (Method::GET, "/v2/calls"),
        (Method::GET, "/v2/calls/call_x/transcript"),
        (Method::GET, "/v2/webhooks"),
        (Method::POST, "/v2/webhooks/wh_x/test"),
        (Method::GET, "/v2/events"),
    ];
    for (method, path) in routes.iter().cloned() {
        let r = app
            .req(method.clone(), path)
            .token(&nothing)
            .json(json!({}))
            .send()
            .await;
        assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert!(r.body["error"]["details"]["required_scope"].is_string());
    }
    // Reading needs agents:read, which agents:write includes; writing needs agents:write.
    let r = app
        .req(Method::GET, "/v2/agents")
        .token(&writer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .req(Method::POST, "/v2/agents")
        .token(&reader)
        .json(json!({"businessUrl": "a.example"}))
        .send()
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
    let r = app
        .req(Method::GET, "/v2/calls")
        .token(&writer)
        .send()
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
}

async fn writes_and_reads_have_their_own_rate_limits(app: &App) {
    let post = || {
        app.req(Method::POST, "/v2/agents")
            .token(&app.key_a)
            .json(json!({"businessUrl": "rate.example"}))
            .send()
    };
    assert_eq!(post().await.status, StatusCode::ACCEPTED);
    assert_eq!(post().await.status, StatusCode::ACCEPTED);
    let r = post().await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    assert_eq!(r.headers[header::RETRY_AFTER], "30");
    assert_eq!(r.body["error"]["retry_after"], 30);
    assert_eq!(r.body["error"]["retryable"], true);

    // Reads still go through, on their own budget; another token is not affected.
    for _ in 0..3 {
        let r = app
            .req(Method::GET, "/v2/agents")
            .token(&app.key_a)
            .send()
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = app
        .req(Method::GET, "/v2/agents")
        .token(&app.key_a)
        .send()
        .await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    let r = app
        .req(Method::GET, "/v2/agents")
        .token(&app.key_b)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // Half a minute later one more write fits.
    app.advance(30_000);
    assert_eq!(post().await.status, StatusCode::ACCEPTED);
    assert_eq!(post().await.status, StatusCode::TOO_MANY_REQUESTS);
}
