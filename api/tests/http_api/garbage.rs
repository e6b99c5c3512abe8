//! No input makes a route answer 5xx, and every error comes in the error shape: arbitrary methods, paths,
//! query values, headers and bodies, thrown at every route.

use axum::http::Method;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{App, Backend};

/// Routes to throw things at; `{}` is replaced by a generated path segment. `/v2/events` is left out:
/// a valid request to it is an endless stream.
const PATHS: &[&str] = &[
    "/v2/auth/token",
    "/v2/agents",
    "/v2/agents/{}",
    "/v2/agents/{}/kb",
    "/v2/agents/{}/kb/sync",
    "/v2/agents/{}/kb/proposals",
    "/v2/operations/{}",
    "/v2/templates",
    "/v2/agent-builder",
    "/v2/agent-builder/{}",
    "/v2/kb/proposals/{}",
    "/v2/kb/proposals/{}/approve",
    "/v2/kb/proposals/{}/reject",
    "/v2/calls",
    "/v2/calls/{}",
    "/v2/calls/{}/transcript",
    "/v2/calls/{}/extractions",
    "/v2/webhooks",
    "/v2/webhooks/{}",
    "/v2/webhooks/{}/deliveries",
    "/v2/webhooks/{}/test",
    "/v2/tasks",
    "/v2/tasks/{}",
    "/v2/tasks/{}/cancel",
    "/api/v1/workapi-ai/let-your-agent-make-a-phone-call-with-a-mission/tasks",
    "/api/v1/workapi-ai/let-your-agent-make-a-phone-call-with-a-mission/tasks/{}",
    "/v2/{}",
];

const QUERY_KEYS: &[&str] = &[
    "limit",
    "cursor",
    "status",
    "vertical",
    "from",
    "to",
    "agent_id",
    "disposition",
    "phone_number",
];

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("https://example.com"),
            Just("+18435551234"),
            Just("dental"),
            Just("*"),
            Just("add"),
            Just("client_credentials"),
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("businessUrl".to_owned()),
                    Just("business_url".to_owned()),
                    Just("payload".to_owned()),
                    Just("phone_number".to_owned()),
                    Just("template_id".to_owned()),
                    Just("url".to_owned()),
                    Just("events".to_owned()),
                    Just("action".to_owned()),
                    Just("chunk_index".to_owned()),
                    Just("reason".to_owned()),
                    Just("website_url".to_owned()),
                    Just("instructions".to_owned()),
                    Just("name".to_owned()),
                    Just("grant_type".to_owned()),
                    Just("task".to_owned()),
                    Just("metadata".to_owned()),
                    Just("agent_id".to_owned()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..200),
        Just(Vec::new()),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    idempotency_key: Option<String>,
    body: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![
            Just(Method::GET),
            Just(Method::POST),
            Just(Method::PATCH),
            Just(Method::DELETE),
            Just(Method::PUT),
        ],
        prop::sample::select(PATHS),
        ".{0,30}",
        prop::collection::vec((prop::sample::select(QUERY_KEYS), ".{0,20}"), 0..3),
        prop_oneof![
            Just(None),
            Just(Some("application/json")),
            Just(Some("application/x-www-form-urlencoded")),
            Just(Some("text/plain")),
        ],
        prop_oneof![Just(None), "[ -~]{0,40}".prop_map(Some)],
        body(),
    )
        .prop_map(
            |(method, path, segment, query, content_type, idempotency_key, body)| {
                let mut path = path.replace("{}", &encode(&segment));
                if !query.is_empty() {
                    let pairs: Vec<String> = query
                        .iter()
                        .map(|(k, v)| format!("{k}={}", encode(v)))
                        .collect();
                    path = format!("{path}?{}", pairs.join("&"));
                }
                Case {
                    method,
                    path,
                    content_type,
                    idempotency_key,
                    body,
                }
            },
        )
}

#[test]
fn no_input_answers_5xx_and_errors_keep_their_shape() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(App::new(Backend::Sqlite)).unwrap();
    // A few real resources, so some generated ids and bodies reach the handlers' deeper paths.
    runtime.block_on(crate::support::provision(&app, "https://garbage.example"));
    // An active agent, so task bodies that pass validation are created (and can then be cancelled).
    runtime.block_on(async {
        let mut tx = app.ctx.store.begin().await.unwrap();
        app.ctx
            .store
            .create_agent(
                &mut tx,
                &app.a.id,
                dialtone_api::store::NewAgent {
                    status: Some(dialtone_api::store::AgentStatus::Active),
                    ..dialtone_api::store::NewAgent::default()
                },
                crate::support::T0,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
    });
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(case in case())| {
        let r = runtime.block_on(async {
            let mut req = app.req(case.method.clone(), &case.path).token(&app.key_a);
            if let Some(key) = &case.idempotency_key {
                req = req.header("Idempotency-Key", key);
            }
            match case.content_type {
                Some(ct) => req.raw(ct, case.body.clone()),
                None if !case.body.is_empty() => req.raw("application/json", case.body.clone()),
                None => req,
            }
            .send()
            .await
        });
        prop_assert!(!r.status.is_server_error(), "{:?} -> {} {}", case, r.status, r.text);
        if r.status.is_client_error() {
            prop_assert!(r.body["error"]["code"].is_string(), "{:?} -> {} {}", case, r.status, r.text);
        } else {
            prop_assert!(r.status.is_success(), "{:?} -> {}", case, r.status);
        }
    });
    runtime.block_on(app.finish());
}
