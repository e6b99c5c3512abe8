//! The mission task worker against a scripted dialer: answering machines retried and then given a
//! message, refusals failed at once, calls cut at the call timeout, calling hours that hold a call back,
//! and the `task.updated` event of each step. (The SIP scenarios in the root `tests/sip_mission_*.rs`
//! dial a real SIPp callee.)

#![allow(clippy::unwrap_used)]

mod jobs_support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use dialtone_api::store::{AgentStatus, NewAgent, NewTask, NewWebhook, Task, TaskStatus};
use dialtone_api::tasks::{
    CallingHours, DialError, DialRequest, Dialer, OpenAiSummarizer, TaskConfig, TaskWorker,
    dialer::DialFuture,
};
use dialtone_api::webhooks::{DEFAULT_TOLERANCE, WebhookConfig, WebhookWorker, verify_signature};
use dialtone_telephony::backend::openai::OpenAiConfig;
use dialtone_telephony::call::{CallEnd, CallReport, Role, TranscriptEntry};
use dialtone_telephony::dialogue::{Action, MissionOutcome, VoicemailPolicy};
use jobs_support::Harness;
use serde_json::Value;
use tokio::sync::mpsc;

on_both_backends!(
    answering_machines_are_retried_then_left_a_message,
    refusals_fail_at_once_and_long_calls_time_out,
    calls_wait_for_calling_hours,
    task_webhooks_carry_the_seed_payload_signed,
    summaries_come_from_the_model_when_one_answers,
    a_tenant_at_its_limit_waits_for_its_call_to_end,
);

/// What the scripted callee does on each call.
#[derive(Debug, Clone)]
enum Callee {
    /// A machine answers; the report says whether the agent left a message (it does what the mission
    /// says).
    Machine,
    /// The call never connects.
    Refuses(DialError),
    /// The call never ends.
    Hangs,
    /// A person answers the question with this.
    Answers(&'static str),
}

#[derive(Debug, Default)]
struct ScriptedDialer {
    script: Mutex<VecDeque<Callee>>,
    dialled: Mutex<Vec<DialRequest>>,
}

impl ScriptedDialer {
    fn new(script: impl IntoIterator<Item = Callee>) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script.into_iter().collect()),
            dialled: Mutex::default(),
        })
    }

    fn dialled(&self) -> Vec<DialRequest> {
        self.dialled.lock().unwrap().clone()
    }
}

fn machine_report(policy: VoicemailPolicy) -> CallReport {
    CallReport {
        call_id: Some("c1".into()),
        agent_id: None,
        from: None,
        to: None,
        started_at: None,
        outbound: false,
        transcript: vec![TranscriptEntry {
            role: Role::Caller,
            text: "You've reached Sam, leave a message after the beep.".into(),
            interrupted: false,
        }],
        turns: Vec::new(),
        actions: vec![
            Action::MissionResult {
                outcome: MissionOutcome::Voicemail,
                answer: None,
                message_left: policy == VoicemailPolicy::LeaveMessage,
            },
            Action::EndCall,
        ],
        end: CallEnd::AgentHungUp,
        media: None,
        backend_errors: Default::default(),
    }
}

fn answered_report(text: &str) -> CallReport {
    let mut report = machine_report(VoicemailPolicy::HangUp);
    report.transcript = vec![
        TranscriptEntry {
            role: Role::Agent,
            text: "Hello, I'm calling about opening hours.".into(),
            interrupted: false,
        },
        TranscriptEntry {
            role: Role::Caller,
            text: text.into(),
            interrupted: false,
        },
    ];
    report.actions = vec![
        Action::MissionResult {
            outcome: MissionOutcome::Answered,
            answer: Some(text.into()),
            message_left: false,
        },
        Action::EndCall,
    ];
    report
}

impl Dialer for ScriptedDialer {
    fn dial(&self, request: DialRequest) -> DialFuture<'_> {
        let policy = request.mission.on_voicemail;
        self.dialled.lock().unwrap().push(request);
        let next = self.script.lock().unwrap().pop_front();
        Box::pin(async move {
            match next {
                Some(Callee::Machine) => Ok(machine_report(policy)),
                Some(Callee::Refuses(e)) => Err(e),
                Some(Callee::Answers(text)) => Ok(answered_report(text)),
                Some(Callee::Hangs) | None => std::future::pending().await,
            }
        })
    }
}

fn always() -> CallingHours {
    CallingHours {
        start_minute: 0,
        end_minute: 0,
        ..CallingHours::default()
    }
}

async fn setup(h: &Harness, max_attempts: u32) -> Task {
    let mut tx = h.store.begin().await.unwrap();
    h.store
        .create_agent(
            &mut tx,
            &h.tenant,
            NewAgent {
                status: Some(AgentStatus::Active),
                ..NewAgent::default()
            },
            h.clock.now(),
        )
        .await
        .unwrap();
    let task = h
        .store
        .create_task(
            &mut tx,
            &h.tenant,
            &NewTask {
                phone_number: "+15035550777".into(),
                task: "Ask about opening hours".into(),
                agent_id: None,
                metadata: None,
                max_attempts,
            },
            h.clock.now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    task
}

async fn task(h: &Harness, id: &str) -> Task {
    h.store.task(&h.tenant, id).await.unwrap()
}

async fn answering_machines_are_retried_then_left_a_message(h: Harness) {
    let created = setup(&h, 2).await;
    let dialer = ScriptedDialer::new([Callee::Machine, Callee::Machine]);
    let config = TaskConfig {
        hours: always(),
        retry_backoff: Duration::from_secs(60),
        ..TaskConfig::default()
    };
    let worker = TaskWorker::new(h.ctx.clone(), dialer.clone(), config);
    assert!(worker.run_one().await.unwrap());
    let retry = task(&h, &created.id).await;
    assert_eq!(retry.status, TaskStatus::Pending);
    assert_eq!(retry.failure_reason.as_deref(), Some("no_answer"));
    assert_eq!(retry.result_data.as_ref().unwrap()["outcome"], "voicemail");
    assert_eq!(retry.run_after, h.clock.now() + 60_000);
    h.clock.advance(60_000);
    assert!(worker.run_one().await.unwrap());
    let done = task(&h, &created.id).await;
    assert_eq!(done.status, TaskStatus::Completed);
    let result = done.result_data.unwrap();
    assert_eq!(result["outcome"], "voicemail");
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .contains("left a short message"),
        "{result}"
    );
    let policies: Vec<VoicemailPolicy> = dialer
        .dialled()
        .iter()
        .map(|r| r.mission.on_voicemail)
        .collect();
    assert_eq!(
        policies,
        [VoicemailPolicy::HangUp, VoicemailPolicy::LeaveMessage],
        "only the last attempt leaves a message"
    );
    let dialled = dialer.dialled();
    assert_eq!(dialled[0].to, "+15035550777");
    assert_eq!(dialled[0].mission.task, "Ask about opening hours");
    let statuses: Vec<String> = h
        .events_of("task.updated")
        .await
        .iter()
        .map(|e| e.data["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        statuses,
        [
            "accepted",
            "in_progress",
            "pending",
            "accepted",
            "in_progress",
            "completed"
        ]
    );
    h.finish().await;
}

async fn refusals_fail_at_once_and_long_calls_time_out(h: Harness) {
    let rejected = setup(&h, 3).await;
    let dialer = ScriptedDialer::new([
        Callee::Refuses(DialError::Rejected(Some(403))),
        Callee::Refuses(DialError::Trunk("no route".into())),
        Callee::Hangs,
    ]);
    let config = TaskConfig {
        hours: always(),
        call_timeout: Duration::from_millis(200),
        lease: Duration::from_millis(90),
        ..TaskConfig::default()
    };
    let worker = TaskWorker::new(h.ctx.clone(), dialer.clone(), config);
    assert!(worker.run_one().await.unwrap());
    let failed = task(&h, &rejected.id).await;
    assert_eq!(failed.status, TaskStatus::Failed);
    assert_eq!(
        (failed.failure_reason.as_deref(), failed.attempts),
        (Some("rejected"), 1)
    );

    let trunk = setup(&h, 3).await;
    assert!(worker.run_one().await.unwrap());
    assert_eq!(
        task(&h, &trunk.id).await.failure_reason.as_deref(),
        Some("trunk_error")
    );

    // The call outlives the timeout while its lease is renewed (the lease is shorter than the call).
    let long = setup(&h, 3).await;
    assert!(worker.run_one().await.unwrap());
    let timed_out = task(&h, &long.id).await;
    assert_eq!(timed_out.status, TaskStatus::Failed);
    assert_eq!(timed_out.failure_reason.as_deref(), Some("timeout"));
    h.finish().await;
}

async fn calls_wait_for_calling_hours(h: Harness) {
    // T0 is 2023-11-14T22:13:20Z: 14:13 in Portland (+1 503), outside a 06:00-08:00 window.
    let created = setup(&h, 3).await;
    let dialer = ScriptedDialer::new([Callee::Machine]);
    let config = TaskConfig {
        hours: CallingHours {
            start_minute: 6 * 60,
            end_minute: 8 * 60,
            default_zone: "UTC".into(),
        },
        ..TaskConfig::default()
    };
    let worker = TaskWorker::new(h.ctx.clone(), dialer.clone(), config);
    assert!(!worker.run_one().await.unwrap());
    let waiting = task(&h, &created.id).await;
    assert_eq!(waiting.status, TaskStatus::Pending);
    // 06:00 PST on the 15th is 14:00Z.
    assert_eq!(waiting.run_after, 1_700_056_800_000);
    assert!(dialer.dialled().is_empty());
    assert!(h.events_of("task.updated").await.is_empty());
    h.clock.advance(1_700_056_800_000 - h.clock.now());
    assert!(worker.run_one().await.unwrap());
    assert_eq!(dialer.dialled().len(), 1);
    h.finish().await;
}

async fn task_webhooks_carry_the_seed_payload_signed(h: Harness) {
    let (hits_tx, mut hits) = mpsc::unbounded_channel::<(String, Bytes)>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let hits_tx = hits_tx.clone();
            async move {
                let signature = headers
                    .get("dialtone-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let _ = hits_tx.send((signature, body));
                "ok"
            }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, receiver).await;
    });
    let webhook = h
        .store
        .create_webhook(
            &h.tenant,
            &NewWebhook {
                url: format!("http://{addr}/hook"),
                events: vec!["task.updated".into()],
                agent_id: None,
            },
            h.clock.now(),
        )
        .await
        .unwrap();
    let created = setup(&h, 1).await;
    let worker = TaskWorker::new(
        h.ctx.clone(),
        ScriptedDialer::new([Callee::Machine]),
        TaskConfig {
            hours: always(),
            ..TaskConfig::default()
        },
    );
    assert!(worker.run_one().await.unwrap());
    let webhooks = WebhookWorker::new(h.ctx.clone(), WebhookConfig::default()).unwrap();
    assert_eq!(webhooks.deliver_due().await.unwrap(), 3);
    let mut bodies = Vec::new();
    while let Ok((signature, body)) = hits.try_recv() {
        let now =
            std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(h.clock.now()).unwrap());
        verify_signature(&webhook.secret, &signature, &body, now, DEFAULT_TOLERANCE)
            .expect("signed with the webhook's secret");
        bodies.push(serde_json::from_slice::<Value>(&body).unwrap());
    }
    bodies.sort_by_key(|b| b["status"].as_str().map(str::to_owned));
    let statuses: Vec<&str> = bodies
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["accepted", "completed", "in_progress"]);
    let done = &bodies[1];
    for key in [
        "event",
        "timestamp",
        "task_id",
        "task_number",
        "status",
        "task_data",
        "result_data",
        "merchant_id",
        "webhook_id",
        "event_id",
        "idempotency_key",
    ] {
        assert!(done.get(key).is_some(), "{key} missing from {done}");
    }
    assert_eq!(done["event"], "task.updated");
    assert_eq!(done["task_id"], created.id.as_str());
    assert_eq!(done["task_number"], 1);
    assert_eq!(done["merchant_id"], h.tenant.as_str());
    assert_eq!(done["task_data"]["phone_number"], "+15035550777");
    assert_eq!(done["result_data"]["outcome"], "voicemail");
    assert_eq!(bodies[0]["result_data"], Value::Null);
    assert!(
        done.get("data").is_none(),
        "the payload is the body, not wrapped"
    );
    server.abort();
    h.finish().await;
}

/// An OpenAI-compatible server that answers chat completions with `reply` (or 500 when `None`) and
/// passes on each request body.
async fn fake_model(
    reply: Option<&'static str>,
) -> (
    String,
    mpsc::UnboundedReceiver<Value>,
    tokio::task::JoinHandle<()>,
) {
    let (seen_tx, seen) = mpsc::unbounded_channel::<Value>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |body: Bytes| {
            let seen_tx = seen_tx.clone();
            async move {
                let _ = seen_tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
                match reply {
                    Some(text) => (
                        axum::http::StatusCode::OK,
                        serde_json::json!({"choices": [{"message": {"role": "assistant", "content": text}}]})
                            .to_string(),
                    ),
                    None => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::new()),
                }
            }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/v1"), seen, server)
}

async fn summaries_come_from_the_model_when_one_answers(h: Harness) {
    const ANSWER: &str = "We open at eight and close at six.";
    let config = || TaskConfig {
        hours: always(),
        ..TaskConfig::default()
    };
    let summarizer = |base_url: String| {
        std::sync::Arc::new(
            OpenAiSummarizer::new(OpenAiConfig {
                base_url,
                api_key: Some("sk-test".into()),
                ..OpenAiConfig::default()
            })
            .unwrap(),
        )
    };

    let (url, mut seen, server) = fake_model(Some("They open at 8 am and close at 6 pm.")).await;
    let created = setup(&h, 1).await;
    let worker = TaskWorker::new(
        h.ctx.clone(),
        ScriptedDialer::new([Callee::Answers(ANSWER)]),
        config(),
    )
    .with_summarizer(summarizer(url));
    assert!(worker.run_one().await.unwrap());
    let done = task(&h, &created.id).await;
    let result = done.result_data.unwrap();
    assert_eq!(result["summary"], "They open at 8 am and close at 6 pm.");
    assert_eq!(result["answers"][0]["answer"], ANSWER);
    let request = seen.try_recv().expect("the model was asked");
    let prompt = request["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("Task: Ask about opening hours"), "{prompt}");
    assert!(prompt.contains(&format!("Callee: {ANSWER}")), "{prompt}");
    server.abort();

    // A failing model leaves the extractive summary.
    let (url, mut seen, server) = fake_model(None).await;
    let created = setup(&h, 1).await;
    let worker = TaskWorker::new(
        h.ctx.clone(),
        ScriptedDialer::new([Callee::Answers(ANSWER)]),
        config(),
    )
    .with_summarizer(summarizer(url));
    assert!(worker.run_one().await.unwrap());
    let result = task(&h, &created.id).await.result_data.unwrap();
    assert_eq!(
        result["summary"],
        format!("Task: Ask about opening hours. The callee said: \"{ANSWER}\".")
    );
    assert!(seen.try_recv().is_ok(), "the model was asked");
    server.abort();
    h.finish().await;
}

async fn a_tenant_at_its_limit_waits_for_its_call_to_end(h: Harness) {
    let first = setup(&h, 1).await;
    // Created later, so due later: claimed second.
    h.clock.advance(1);
    let second = setup(&h, 1).await;
    let config = TaskConfig {
        hours: always(),
        max_concurrent_per_tenant: 1,
        workers: 4,
        call_timeout: Duration::from_millis(300),
        ..TaskConfig::default()
    };
    let worker = TaskWorker::new(
        h.ctx.clone(),
        ScriptedDialer::new([Callee::Hangs, Callee::Machine]),
        config,
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));
    let second_id = second.id.clone();
    h.wait_for_event(|e| {
        e.event_type == "task.updated"
            && e.data["task_id"] == second_id.as_str()
            && e.data["status"] == "completed"
    })
    .await;
    let _ = stop.send(true);
    running.await.unwrap();
    // The second task was taken only once the first call had ended, although four workers were free.
    let order: Vec<(String, String)> = h
        .events_of("task.updated")
        .await
        .iter()
        .map(|e| {
            let who = if e.data["task_id"] == first.id.as_str() {
                "first"
            } else {
                "second"
            };
            (
                who.to_owned(),
                e.data["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = order
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("first", "accepted"),
            ("first", "in_progress"),
            ("first", "failed"),
            ("second", "accepted"),
            ("second", "in_progress"),
            ("second", "completed"),
        ]
    );
    assert_eq!(
        task(&h, &first.id).await.failure_reason.as_deref(),
        Some("timeout")
    );
    h.finish().await;
}
