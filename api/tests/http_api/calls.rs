//! Calls: filters by agent, time (ISO-8601 or unix ms) and disposition; one call, its transcript and its
//! extractions.

use axum::http::{Method, StatusCode};
use dialtone_api::store::{CallDirection, CallEnd, NewCall};
use serde_json::json;

use crate::support::{App, T0, assert_error, provision};

on_both_backends!(calls_list_filter_and_show);

async fn calls_list_filter_and_show(app: &App) {
    let agent1 = provision(app, "https://one.example").await.body["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let agent2 = provision(app, "https://two.example").await.body["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = &app.ctx.store;
    let minute = 60_000;
    let mut ids = Vec::new();
    for (i, (agent, disposition)) in [
        (&agent1, "booked"),
        (&agent1, "voicemail"),
        (&agent2, "booked"),
    ]
    .iter()
    .enumerate()
    {
        let started = T0 + i as i64 * minute;
        let mut tx = store.begin().await.unwrap();
        let call = store
            .start_call(
                &mut tx,
                &app.a.id,
                &NewCall {
                    id: None,
                    agent_id: (*agent).clone(),
                    direction: CallDirection::Inbound,
                    from_number: Some("+15550001111".into()),
                    to_number: Some("+18005550100".into()),
                    started_at: started,
                },
            )
            .await
            .unwrap();
        store
            .finish_call(
                &mut tx,
                &app.a.id,
                &call.id,
                &CallEnd {
                    ended_at: started + 142_000,
                    disposition: Some((*disposition).into()),
                    end_reason: Some("caller_hangup".into()),
                    transcript: Some(json!([{"role": "caller", "text": "Hi"}, {"role": "agent", "text": "Hello"}])),
                    extractions: Some(json!({"intent": "book_appointment"})),
                    turns: None,
                },
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        ids.push(call.id);
    }
    let get = |path: String| app.req(Method::GET, &path).token(&app.key_a).send();

    let all = get("/v2/calls".into()).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["meta"]["total"], 3);
    assert_eq!(all.body["data"][0]["id"], ids[2].as_str());
    assert_eq!(all.body["data"][0]["duration_seconds"], 142);
    assert_eq!(all.body["data"][0]["status"], "completed");

    assert_eq!(
        get(format!("/v2/calls?agent_id={agent1}")).await.body["meta"]["total"],
        2
    );
    assert_eq!(
        get("/v2/calls?disposition=booked".into()).await.body["meta"]["total"],
        2
    );
    // From the second call on, in both time forms.
    let from_ms = T0 + minute;
    assert_eq!(
        get(format!("/v2/calls?from={from_ms}")).await.body["meta"]["total"],
        2
    );
    assert_eq!(
        get("/v2/calls?from=2026-04-17T14:24:01Z".into()).await.body["meta"]["total"],
        2
    );
    assert_eq!(
        get("/v2/calls?from=2026-04-17T14:24:01Z&to=2026-04-17T14:25:01Z".into())
            .await
            .body["meta"]["total"],
        1
    );
    let page = get("/v2/calls?limit=2".into()).await;
    assert_eq!(page.body["data"].as_array().unwrap().len(), 2);
    let next = page.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let rest = get(format!("/v2/calls?limit=2&cursor={next}")).await;
    assert_eq!(rest.body["data"][0]["id"], ids[0].as_str());
    for bad in [
        "/v2/calls?from=yesterday",
        "/v2/calls?to=14:00",
        "/v2/calls?limit=-1",
    ] {
        assert_error(
            &get(bad.into()).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        );
    }

    let one = get(format!("/v2/calls/{}", ids[0])).await;
    assert_eq!(one.body["data"]["disposition"], "booked");
    assert_eq!(one.body["from_number"], "+15550001111");
    let transcript = get(format!("/v2/calls/{}/transcript", ids[0])).await;
    assert_eq!(transcript.body["transcript"][1]["text"], "Hello");
    let extractions = get(format!("/v2/calls/{}/extractions", ids[0])).await;
    assert_eq!(
        extractions.body["data"]["extractions"]["intent"],
        "book_appointment"
    );
    assert_error(
        &get("/v2/calls/call_nope".into()).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    );
}
