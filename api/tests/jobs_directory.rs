//! The call-side directory over the store and the file agents, and the call log fed by telephony's
//! reports: rows, dispositions, extractions and the four call events.

#![allow(clippy::unwrap_used)]

mod jobs_support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use dialtone_api::browser_calls::browser_call_check;
use dialtone_api::directory::{CallRecorder, StartedRow, StoreDirectory};
use dialtone_api::store::{AgentStatus, CallDirection, NewAgent};
use dialtone_telephony::agent::load_agent_file;
use dialtone_telephony::call::{
    AgentDirectory, CallEnd, CallProgress, CallReport, Role, StartedCall, StaticDirectory,
    TranscriptEntry, TurnLatency,
};
use dialtone_telephony::dialogue::{Action, Booking, Message, TransferReason};
use dialtone_telephony::webrtc::CallDenied;
use jobs_support::Harness;
use serde_json::json;

/// The demo agent's number (agents/bright-smile-dental.toml).
const DEMO: &str = "+15035550142";
const STORE: &str = "+15035550100";

fn demo_agents() -> Arc<dyn AgentDirectory> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/bright-smile-dental.toml");
    let mut demo = load_agent_file(&file).unwrap();
    demo.id = "bright-smile-dental".into();
    Arc::new(StaticDirectory::new([demo]))
}

/// An active agent with a spec and one knowledge version, committed.
async fn active_agent(h: &Harness, name: &str, phone: &str) -> String {
    let mut tx = h.store.begin().await.unwrap();
    let agent = h
        .store
        .create_agent(
            &mut tx,
            &h.tenant,
            NewAgent {
                name: Some(name.into()),
                status: Some(AgentStatus::Active),
                phone_number: Some(phone.into()),
                spec: Some(json!({
                    "greeting": "Thanks for calling {business_name}!",
                    "system_prompt": "You are the receptionist.",
                    "facts": { "business_name": name, "hours": { "monday": ["09:00-17:00"] } },
                })),
                ..NewAgent::default()
            },
            h.clock.now(),
        )
        .await
        .unwrap();
    let chunks =
        json!([{ "title": "Parking", "text": "Park behind the building.", "source": null }]);
    h.store
        .create_kb_version(&mut tx, &h.tenant, &agent.id, &chunks, "h1", h.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    agent.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_agents_answer_over_the_file_agents() {
    let h = Harness::new().await;
    let directory = StoreDirectory::load(h.ctx.clone(), demo_agents())
        .await
        .unwrap();
    assert_eq!(
        directory.by_number(DEMO).unwrap().id,
        "bright-smile-dental",
        "the demo answers"
    );
    assert!(directory.by_id("bright-smile-dental").is_some());
    assert_eq!(directory.by_number(STORE), None);

    let id = active_agent(&h, "Harbor Physical Therapy", STORE).await;
    directory.refresh().await.unwrap();
    let profile = directory.by_number(STORE).unwrap();
    assert_eq!(profile.id, id);
    assert_eq!(
        profile.greeting_text(),
        "Thanks for calling Harbor Physical Therapy!"
    );
    assert_eq!(profile.documents[0].text, "Park behind the building.");
    assert_eq!(profile.facts.hours.len(), 1);
    assert_eq!(
        directory.by_id(&id).unwrap().name,
        "Harbor Physical Therapy"
    );

    // A store agent on the demo's number wins over the file.
    let takeover = active_agent(&h, "New Owner Dental", DEMO).await;
    directory.refresh().await.unwrap();
    assert_eq!(directory.by_number(DEMO).unwrap().id, takeover);

    // Deleted and disabled agents stop answering at the next rebuild; the file answers again.
    let mut tx = h.store.begin().await.unwrap();
    h.store
        .delete_agent(&mut tx, &h.tenant, &takeover, h.clock.now())
        .await
        .unwrap();
    h.store
        .update_agent(
            &mut tx,
            &h.tenant,
            &id,
            &dialtone_api::store::AgentPatch {
                status: Some(AgentStatus::Disabled),
                ..Default::default()
            },
            h.clock.now() + 1,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    directory.refresh().await.unwrap();
    assert_eq!(directory.by_number(DEMO).unwrap().id, "bright-smile-dental");
    assert_eq!(directory.by_number(STORE), None);
    assert_eq!(directory.store_agents(), 0);
    h.finish().await;
}

fn report(agent_id: &str, actions: Vec<Action>, caller_spoke: bool) -> CallReport {
    let mut transcript = vec![TranscriptEntry {
        role: Role::Agent,
        text: "Thanks for calling!".into(),
        interrupted: false,
    }];
    if caller_spoke {
        transcript.push(TranscriptEntry {
            role: Role::Caller,
            text: "I'd like a cleaning next Tuesday morning.".into(),
            interrupted: false,
        });
    }
    CallReport {
        call_id: Some("CA123".into()),
        agent_id: Some(agent_id.into()),
        from: Some("+15035559876".into()),
        to: Some(STORE.into()),
        started_at: Some(UNIX_EPOCH + Duration::from_millis(jobs_support::T0 as u64 - 42_400)),
        outbound: false,
        transcript,
        turns: Vec::new(),
        actions,
        end: CallEnd::CarrierStopped,
        media: None,
        backend_errors: Default::default(),
    }
}

async fn a_call_is_logged_with_its_outcome_and_events(h: Harness) {
    let id = active_agent(&h, "Harbor Physical Therapy", STORE).await;
    let directory = StoreDirectory::load(h.ctx.clone(), demo_agents())
        .await
        .unwrap();
    let (sink, task) = CallRecorder::spawn(h.ctx.clone(), Arc::clone(&directory));
    let booking = Booking {
        name: Some("Dana Reyes".into()),
        callback: Some("+15035559876".into()),
        reason: "cleaning".into(),
        preferred_time: Some("next Tuesday morning".into()),
    };
    sink(report(
        &id,
        vec![Action::BookingRequest(booking), Action::EndCall],
        true,
    ));
    let completed = h.wait_for_event(|e| e.event_type == "call.completed").await;
    let call_id = completed.data["call_id"].as_str().unwrap().to_owned();
    assert_eq!(completed.data["duration_seconds"], json!(42));
    assert_eq!(completed.data["disposition"], json!("booked"));
    assert_eq!(completed.data["caller_id"], json!("+15035559876"));
    assert_eq!(completed.agent_id.as_deref(), Some(id.as_str()));

    let types: Vec<String> = h.events().await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            "call.started",
            "call.completed",
            "call.transcript_ready",
            "call.extractions_ready"
        ]
    );
    let transcript = h.events_of("call.transcript_ready").await.remove(0);
    assert_eq!(
        transcript.data["transcript_url"],
        json!(format!("/v2/calls/{call_id}/transcript"))
    );
    let extractions = h.events_of("call.extractions_ready").await.remove(0);
    let x = &extractions.data["extractions"];
    assert_eq!(x["intent"], json!("book_appointment"));
    assert_eq!(x["entities"]["caller_name"], json!("Dana Reyes"));
    assert_eq!(
        x["entities"]["preferred_time"],
        json!("next Tuesday morning")
    );
    assert_eq!(x["bookings"].as_array().unwrap().len(), 1);

    let call = h.store.call(&h.tenant, &call_id).await.unwrap();
    assert_eq!(call.direction, CallDirection::Inbound);
    assert_eq!(call.to_number.as_deref(), Some(STORE));
    assert_eq!(call.duration_ms, Some(42_400));
    assert_eq!(call.end_reason.as_deref(), Some("carrier_stopped"));
    assert_eq!(call.transcript.unwrap().as_array().unwrap().len(), 2);

    // A file agent's call and a call nobody answered are not logged.
    let mut demo = report("bright-smile-dental", Vec::new(), true);
    assert!(
        CallRecorder::record(&h.ctx, &directory, &demo)
            .await
            .unwrap()
            .is_none()
    );
    demo.agent_id = None;
    assert!(
        CallRecorder::record(&h.ctx, &directory, &demo)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(h.events().await.len(), 4);

    drop(sink);
    task.await.unwrap();
    h.finish().await;
}

#[test]
fn dispositions_and_intents_follow_what_the_dialogue_did() {
    use dialtone_api::directory::{call_disposition, call_extractions};
    let message = Action::TakeMessage(Message {
        name: None,
        callback: Some("+15035559876".into()),
        reason: "Question about a bill".into(),
    });
    let emergency = Action::Transfer {
        to: "+15035550199".into(),
        reason: TransferReason::Emergency,
    };
    let person = Action::Transfer {
        to: "+15035550199".into(),
        reason: TransferReason::Person,
    };
    let cases = [
        (
            vec![message.clone()],
            true,
            "message_taken",
            "leave_message",
        ),
        (vec![emergency], true, "transferred", "emergency"),
        (
            vec![message, person],
            true,
            "transferred",
            "speak_to_person",
        ),
        (vec![], true, "completed", "inquiry"),
        (vec![Action::EndCall], false, "abandoned", "none"),
    ];
    for (actions, spoke, disposition, intent) in cases {
        let r = report("agt_x", actions, spoke);
        assert_eq!(call_disposition(&r), disposition);
        assert_eq!(
            call_extractions(&r)["intent"],
            json!(intent),
            "{disposition}"
        );
    }
}

on_both_backends!(
    a_call_is_logged_with_its_outcome_and_events,
    a_call_is_logged_when_it_starts_and_finished_when_it_ends,
);

async fn a_call_is_logged_when_it_starts_and_finished_when_it_ends(h: Harness) {
    let id = active_agent(&h, "Harbor Physical Therapy", STORE).await;
    let directory = StoreDirectory::load(h.ctx.clone(), demo_agents())
        .await
        .unwrap();
    let (sink, task) = CallRecorder::spawn(h.ctx.clone(), Arc::clone(&directory));
    let started_at = UNIX_EPOCH + Duration::from_millis(jobs_support::T0 as u64 - 42_400);
    let call = StartedCall {
        call_id: "CA123".into(),
        from: Some("+15035559876".into()),
        to: Some(STORE.into()),
        started_at,
        outbound: false,
    };
    // What the call loop does when the agent answers.
    let agent = directory.by_number(STORE).unwrap();
    directory.call_started(&agent, &call);
    let started = h.wait_for_event(|e| e.event_type == "call.started").await;
    let call_id = started.data["call_id"].as_str().unwrap().to_owned();
    assert_eq!(started.data["direction"], json!("inbound"));
    assert_eq!(started.data["caller_id"], json!("+15035559876"));
    let live = h.store.call(&h.tenant, &call_id).await.unwrap();
    assert_eq!(live.ended_at, None, "in progress");
    assert_eq!(h.events().await.len(), 1);

    // The call can be followed as it goes, under the row's id, from its start.
    let mut following = h.ctx.live.follow(&h.tenant, "CA123").expect("followed");
    assert_eq!(following.call_id, call_id);
    let line = TranscriptEntry {
        role: Role::Caller,
        text: "Are you open Saturday?".into(),
        interrupted: false,
    };
    directory.call_progress("CA123", CallProgress::Said(&line));
    let latency = TurnLatency {
        stt_final_ms: Some(250.0),
        first_frame_ms: Some(610.0),
        ..TurnLatency::default()
    };
    directory.call_progress("CA123", CallProgress::Turn { number: 1, latency });
    let next = &mut following.next;
    let said = next.recv().await.unwrap();
    assert_eq!(said.data["role"], json!("caller"));
    assert_eq!(said.data["text"], json!("Are you open Saturday?"));
    let turn = next.recv().await.unwrap();
    assert_eq!(turn.data["turn"], json!(1));
    assert_eq!(turn.data["first_frame_ms"], json!(610.0));

    // A file agent's call start is neither logged nor followed.
    let demo = directory.by_number(DEMO).unwrap();
    let mut file_call = call.clone();
    file_call.call_id = "CA-file".into();
    directory.call_started(&demo, &file_call);
    assert!(h.ctx.live.follow(&h.tenant, "CA-file").is_none());

    sink(report(&id, vec![Action::EndCall], true));
    let ended = tokio::time::timeout(Duration::from_secs(20), next.recv())
        .await
        .expect("ended once the row is finished")
        .unwrap();
    assert_eq!(ended.name, "ended");
    assert!(h.ctx.live.is_empty(), "an ended call is forgotten");
    let completed = h.wait_for_event(|e| e.event_type == "call.completed").await;
    assert_eq!(completed.data["call_id"], json!(call_id), "the same row");
    assert_eq!(completed.data["duration_seconds"], json!(42));
    let types: Vec<String> = h.events().await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            "call.started",
            "call.completed",
            "call.transcript_ready",
            "call.extractions_ready"
        ]
    );
    let done = h.store.call(&h.tenant, &call_id).await.unwrap();
    assert_eq!(done.duration_ms, Some(42_400));
    assert_eq!(done.direction, CallDirection::Inbound);

    // An outbound mission call seen only at its end is logged as outbound.
    let mut mission = report(&id, vec![Action::EndCall], true);
    mission.call_id = Some("mission-1".into());
    mission.outbound = true;
    let logged = CallRecorder::record(&h.ctx, &directory, &mission)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(logged.direction, CallDirection::Outbound);

    // A call whose row could not be written at its start is written whole at its end, under the id
    // its followers were given then.
    let mut unwritten = report(&id, vec![Action::EndCall], true);
    unwritten.call_id = Some("CA-unwritten".into());
    let logged = CallRecorder::record_end(
        &h.ctx,
        &directory,
        &unwritten,
        StartedRow::Chosen("call_chosenatstart1"),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(logged.id, "call_chosenatstart1");
    assert!(logged.ended_at.is_some());

    drop(sink);
    task.await.unwrap();
    h.finish().await;
}

#[tokio::test]
async fn browser_calls_answer_only_tokens_of_the_agents_tenant() {
    let h = Harness::new().await;
    let id = active_agent(&h, "Harbor Physical Therapy", STORE).await;
    let directory = StoreDirectory::load(h.ctx.clone(), demo_agents())
        .await
        .unwrap();
    let check = browser_call_check(h.ctx.clone(), Arc::clone(&directory));
    let key = |tenant: String| {
        let store = h.store.clone();
        let now = h.clock.now();
        async move {
            store
                .create_service_account(&tenant, "web", &["calls:read".to_owned()], now)
                .await
                .unwrap()
                .secret
        }
    };
    let own = key(h.tenant.clone()).await;
    let other_tenant = h.store.create_tenant("Other", h.clock.now()).await.unwrap();
    let other = key(other_tenant.id).await;
    let store_agent = directory.by_id(&id);
    let file_agent = directory.by_number(DEMO);
    assert!(store_agent.is_some() && file_agent.is_some());

    let cases = [
        (None, store_agent.clone(), Err(CallDenied::Unauthorized)),
        (
            Some("sk_live_forged".to_owned()),
            store_agent.clone(),
            Err(CallDenied::Unauthorized),
        ),
        (
            Some("at_forged".to_owned()),
            None,
            Err(CallDenied::Unauthorized),
        ),
        (Some(own.clone()), store_agent.clone(), Ok(())),
        (Some(other.clone()), store_agent, Err(CallDenied::NotFound)),
        (Some(other.clone()), file_agent, Ok(())),
        // An unknown agent: the route answers 404 once the token is known good.
        (Some(other), None, Ok(())),
    ];
    for (i, (token, agent, expected)) in cases.into_iter().enumerate() {
        assert_eq!(check(token, agent).await, expected, "case {i}");
    }
    h.finish().await;
}
