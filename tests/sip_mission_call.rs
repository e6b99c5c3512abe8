//! A mission end to end: `POST /v2/tasks`, the task worker dials through a SIP trunk, SIPp answers as the
//! callee and speaks twice (the recogniser hears the scripted answer, then the confirmation), the agent
//! introduces itself and its purpose, asks, reads the answer back, says goodbye and hangs up. Cancelling
//! while the call is up is refused; the task completes with the callee's answer in the transcript and a
//! summary, and `task.updated` marks every step.

mod common;

use std::time::Duration;

use dialtone_api::store::TaskStatus;
use dialtone_api::tasks::{CallingHours, TaskConfig};
use serde_json::json;
use tokio::sync::watch;

const FAR_END_PORT: u16 = 15_090;
const ANSWER: &str = "We have a table for four at seven tonight.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mission_call_completes_with_the_answer_and_a_summary() {
    if !common::sip::have("sipp") {
        return;
    }
    let callee = common::sip::sipp_server("uas_mission.xml", FAR_END_PORT, &["-mp", "16800"]);
    let config = TaskConfig {
        hours: CallingHours {
            start_minute: 0,
            end_minute: 0,
            ..CallingHours::default()
        },
        ..TaskConfig::default()
    };
    let rig = common::mission::start(&[ANSWER, "Yes, that's right."], FAR_END_PORT, config).await;
    let created = rig
        .request(
            "POST",
            "/v2/tasks",
            Some(&json!({
                "phone_number": "+15035550777",
                "task": "Ask whether they have a table for four at 7 pm tonight",
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["task_id"]
        .as_str()
        .expect("task_id")
        .to_owned();

    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(rig.worker.clone().run(stopped));
    rig.wait_for(&id, TaskStatus::InProgress, Duration::from_secs(20))
        .await;
    let refused = rig
        .request("POST", &format!("/v2/tasks/{id}/cancel"), None)
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["code"], "INVALID_STATUS");

    let done = rig
        .wait_for(&id, TaskStatus::Completed, Duration::from_secs(60))
        .await;
    let shown = rig.request("GET", &format!("/v2/tasks/{id}"), None).await;
    assert_eq!(shown.status, 200);
    let result = &shown.body["result_data"];
    assert_eq!(Some(result), done.result_data.as_ref());
    let transcript = result["concatenated_transcript"]
        .as_str()
        .expect("transcript");
    assert!(
        transcript.starts_with("Agent: Hello, this is an automated assistant calling on behalf of"),
        "{transcript}"
    );
    assert!(
        transcript.contains("a table for four at 7 pm tonight"),
        "{transcript}"
    );
    assert!(
        transcript.contains(&format!("Callee: {ANSWER}")),
        "{transcript}"
    );
    assert!(transcript.contains("Goodbye"), "{transcript}");
    assert_eq!(result["outcome"], "answered");
    assert_eq!(result["answers"][0]["answer"], ANSWER);
    let summary = result["summary"].as_str().expect("summary");
    assert!(summary.contains(ANSWER), "{summary}");
    assert_eq!(done.attempts, 1);

    let statuses: Vec<String> = rig
        .updates(&id)
        .await
        .iter()
        .map(|u| u["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        statuses,
        ["pending", "accepted", "in_progress", "completed"],
        "one task.updated on creation and per status change"
    );
    assert!(
        common::sip::finish(callee, Duration::from_secs(10)).await,
        "the callee's scenario passed: the agent hung up"
    );
    let _ = stop.send(true);
    worker.await.expect("the worker stops");
    rig.finish().await;
}
