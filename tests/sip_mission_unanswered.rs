//! Missions whose callee does not take the call: SIPp answers every INVITE with 486 Busy Here (retried
//! with backoff until the attempts run out, then failed `busy`) or 480 Temporarily Unavailable (failed
//! attempt `no_answer`, a retry scheduled, then cancelled by the requester before it is called). A task
//! cancelled before its first call is never dialled.

mod common;

use std::time::Duration;

use dialtone_api::store::TaskStatus;
use dialtone_api::tasks::{CallingHours, TaskConfig};
use serde_json::json;

fn config() -> TaskConfig {
    TaskConfig {
        hours: CallingHours {
            start_minute: 0,
            end_minute: 0,
            ..CallingHours::default()
        },
        retry_backoff: Duration::from_secs(60),
        ..TaskConfig::default()
    }
}

async fn create(rig: &common::mission::MissionRig) -> String {
    let created = rig
        .request(
            "POST",
            "/v2/tasks",
            Some(&json!({"phone_number": "+15035550777", "task": "Ask about opening hours"})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body["task_id"]
        .as_str()
        .expect("task_id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_is_retried_with_backoff_then_fails() {
    if !common::sip::have("sipp") {
        return;
    }
    const PORT: u16 = 15_091;
    let callee = common::sip::sipp_server("uas_486.xml", PORT, &["-m", "3"]);
    let rig = common::mission::start(&[], PORT, config()).await;
    let id = create(&rig).await;
    assert!(rig.worker.run_one().await.expect("claims"));
    let first = rig.task(&id).await;
    assert_eq!(first.status, TaskStatus::Pending);
    assert_eq!(first.failure_reason.as_deref(), Some("busy"));
    assert_eq!(first.attempts, 1);
    let now = rig.ctx.now_ms();
    assert_eq!(
        first.run_after,
        now + 60_000,
        "the first retry waits the base backoff"
    );
    assert!(!rig.worker.run_one().await.expect("looks"), "not due yet");
    rig.advance(60_000);
    assert!(rig.worker.run_one().await.expect("claims"));
    let second = rig.task(&id).await;
    assert_eq!((second.status, second.attempts), (TaskStatus::Pending, 2));
    assert_eq!(
        second.run_after,
        rig.ctx.now_ms() + 120_000,
        "the backoff doubles"
    );
    rig.advance(120_000);
    assert!(rig.worker.run_one().await.expect("claims"));
    let last = rig.task(&id).await;
    assert_eq!(last.status, TaskStatus::Failed);
    assert_eq!(last.failure_reason.as_deref(), Some("busy"));
    assert_eq!(last.attempts, 3);
    let shown = rig.request("GET", &format!("/v2/tasks/{id}"), None).await;
    assert_eq!(shown.body["status"], "failed");
    assert_eq!(shown.body["failure_reason"], "busy");
    assert!(common::sip::finish(callee, Duration::from_secs(10)).await);
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_schedules_a_retry_and_cancelled_tasks_are_not_called() {
    if !common::sip::have("sipp") {
        return;
    }
    const PORT: u16 = 15_092;
    let callee = common::sip::sipp_server("uas_480.xml", PORT, &["-m", "1"]);
    let rig = common::mission::start(&[], PORT, config()).await;

    // Cancelled before any call: the worker finds nothing to do.
    let early = create(&rig).await;
    let cancelled = rig
        .request("POST", &format!("/v2/tasks/{early}/cancel"), None)
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert!(!rig.worker.run_one().await.expect("looks"));
    assert_eq!(rig.task(&early).await.attempts, 0);

    let id = create(&rig).await;
    assert!(rig.worker.run_one().await.expect("claims"));
    let waiting = rig.task(&id).await;
    assert_eq!(waiting.status, TaskStatus::Pending);
    assert_eq!(waiting.failure_reason.as_deref(), Some("no_answer"));
    // The retry is still cancellable; once cancelled, it is never called (SIPp takes one call only).
    let cancelled = rig
        .request("POST", &format!("/v2/tasks/{id}/cancel"), None)
        .await;
    assert_eq!(
        cancelled.body["status"], "cancelled",
        "{:?}",
        cancelled.body
    );
    rig.advance(60_000);
    assert!(!rig.worker.run_one().await.expect("looks"));
    let statuses: Vec<String> = rig
        .updates(&id)
        .await
        .iter()
        .map(|u| u["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        statuses,
        ["pending", "accepted", "in_progress", "pending", "cancelled"]
    );
    assert!(common::sip::finish(callee, Duration::from_secs(10)).await);
    rig.finish().await;
}
