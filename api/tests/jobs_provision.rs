//! Provisioning and builder jobs against fixture sites: stages, events, the first knowledge version,
//! activation on the number (seen by the call-side directory the moment `agent.activated` exists),
//! permanent failures with their codes, and transient ones retried with the store's backoff.

#![allow(clippy::unwrap_used)]

mod jobs_support;

use std::sync::Arc;

use dialtone_api::directory::StoreDirectory;
use dialtone_api::jobs::JobRunner;
use dialtone_api::store::{AgentStatus, OperationKind, OperationStatus, operation_backoff_ms};
use dialtone_telephony::call::{AgentDirectory, StaticDirectory};
use jobs_support::{Harness, SiteServer, fixture_site};
use serde_json::json;
use tokio::sync::watch;

const NUMBER: &str = "+15035550100";

async fn directory(h: &Harness) -> Arc<StoreDirectory> {
    StoreDirectory::load(h.ctx.clone(), Arc::new(StaticDirectory::default()))
        .await
        .unwrap()
}

async fn a_site_becomes_a_live_agent_that_answers_its_number(h: Harness) {
    let site = SiteServer::start(fixture_site("dental-bright-smile"))
        .await
        .unwrap();
    let directory = directory(&h).await;
    let agent = h.pending_agent(Some(NUMBER)).await;
    let op = h
        .queue(
            OperationKind::Provision,
            Some(&agent.id),
            json!({ "businessUrl": site.url("/"), "verticalType": "dental", "phone_number": NUMBER }),
            3,
        )
        .await;
    assert_eq!(directory.by_number(NUMBER), None);

    let (stop, shutdown) = watch::channel(false);
    let runner = JobRunner::new(h.ctx.clone(), Some(Arc::clone(&directory))).unwrap();
    let workers = tokio::spawn(runner.run(shutdown));

    let activated = h
        .wait_for_event(|e| e.event_type == "agent.activated")
        .await;
    // The number answers as soon as the event exists, with no refresh in between.
    let profile = directory
        .by_number(NUMBER)
        .expect("the number reaches the agent");
    assert_eq!(profile.id, agent.id);
    assert_eq!(
        profile.facts.business_name.as_deref(),
        Some("Bright Smile Dental")
    );
    assert!(profile.greeting_text().contains("Bright Smile Dental"));
    assert!(!profile.documents.is_empty());
    assert!(profile.system_prompt.is_some());

    assert_eq!(activated.data["agent_id"], json!(agent.id));
    assert_eq!(activated.data["phone_number"], json!(NUMBER));
    assert_eq!(activated.data["status"], json!("active"));
    assert_eq!(activated.data["verticalType"], json!("dental"));
    assert!(
        activated.data["provisioned_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let done = h
        .wait_for_event(|e| e.event_type == "operation.updated" && e.data["status"] == "active")
        .await;
    assert_eq!(done.data["progress"], json!(100));
    let stages: Vec<String> = h
        .events_of("operation.updated")
        .await
        .iter()
        .filter(|e| e.data["status"] == "running")
        .map(|e| e.data["stage"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stages,
        ["research", "extract", "kb_build", "prompt", "activate"]
    );

    let op = h.operation(&op.id).await;
    assert_eq!(op.status, OperationStatus::Active);
    assert_eq!(op.agent_id.as_deref(), Some(agent.id.as_str()));
    let result = op.result.unwrap();
    assert!(result["provisioning_time_seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(result["phone_number"], json!(NUMBER));
    let agent = h.store.agent(&h.tenant, &agent.id).await.unwrap();
    assert_eq!(agent.status, AgentStatus::Active);
    assert_eq!(agent.name.as_deref(), Some("Bright Smile Dental"));
    assert_eq!(agent.kb_version, 1);
    assert!(agent.kb_doc_count > 0);
    assert!(agent.spec.unwrap().get("knowledge").is_none());
    let kb = h
        .store
        .latest_kb_version(&h.tenant, &agent.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kb.chunks.as_array().unwrap().len() as i64,
        agent.kb_doc_count
    );
    for low in h.events_of("extraction.low_confidence").await {
        assert_eq!(low.data["agent_id"], json!(agent.id));
        assert!(low.data["field"].is_string());
    }

    // A rebuild from the store finds the same agent.
    directory.refresh().await.unwrap();
    assert_eq!(directory.by_number(NUMBER).unwrap().id, agent.id);

    stop.send(true).unwrap();
    workers.await.unwrap();
    h.finish().await;
}

async fn a_number_held_by_another_active_agent_fails_at_once(h: Harness) {
    let site = SiteServer::start(fixture_site("dental-bright-smile"))
        .await
        .unwrap();
    let runner = JobRunner::new(h.ctx.clone(), None).unwrap();
    let first = h.pending_agent(Some(NUMBER)).await;
    let request = json!({ "business_url": site.url("/"), "phone_number": NUMBER });
    h.queue(
        OperationKind::Provision,
        Some(&first.id),
        request.clone(),
        3,
    )
    .await;
    assert!(runner.run_one().await.unwrap());
    assert_eq!(
        h.store.agent(&h.tenant, &first.id).await.unwrap().status,
        AgentStatus::Active
    );

    let second = h.pending_agent(Some(NUMBER)).await;
    let op = h
        .queue(OperationKind::Provision, Some(&second.id), request, 3)
        .await;
    assert!(runner.run_one().await.unwrap());
    let op = h.operation(&op.id).await;
    assert_eq!(op.status, OperationStatus::Failed);
    assert_eq!(op.error_code.as_deref(), Some("phone_number_in_use"));
    assert_eq!(op.attempts, 1, "a permanent failure is not retried");
    let second = h.store.agent(&h.tenant, &second.id).await.unwrap();
    assert_eq!(second.status, AgentStatus::Failed);
    assert_eq!(second.kb_version, 0, "nothing of the failed attempt stays");
    let failed = h.events_of("agent.provisioning_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].data["agent_id"], json!(second.id));
    assert_eq!(
        failed[0].data["error"]["code"],
        json!("phone_number_in_use")
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_fails_with_the_seed_codes() {
    let h = Harness::new().await;
    let runner = JobRunner::new(h.ctx.clone(), None).unwrap();
    for (request, code) in [
        (json!({ "businessUrl": "ftp://example.com" }), "invalid_url"),
        (
            json!({ "payload": { "business_url": "https://example.com", "template_id": "astrology" } }),
            "template_not_found",
        ),
        // A private address, refused by the SSRF guard before any connection.
        (
            json!({ "businessUrl": "http://10.1.2.3/" }),
            "blocked_address",
        ),
    ] {
        let agent = h.pending_agent(None).await;
        let op = h
            .queue(OperationKind::Provision, Some(&agent.id), request, 3)
            .await;
        assert!(runner.run_one().await.unwrap());
        let op = h.operation(&op.id).await;
        assert_eq!(op.status, OperationStatus::Failed, "{code}");
        assert_eq!(op.error_code.as_deref(), Some(code));
        assert_eq!(op.attempts, 1, "{code} is permanent");
        assert_eq!(
            h.store.agent(&h.tenant, &agent.id).await.unwrap().status,
            AgentStatus::Failed
        );
    }
    let failed = h.events_of("agent.provisioning_failed").await;
    let codes: Vec<&str> = failed
        .iter()
        .map(|e| e.data["error"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["invalid_url", "template_not_found", "blocked_address"]
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_site_is_retried_with_backoff_then_fails() {
    let h = Harness::new().await;
    let runner = JobRunner::new(h.ctx.clone(), None).unwrap();
    // A port nobody listens on: the connection is refused at once.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let agent = h.pending_agent(None).await;
    let op = h
        .queue(
            OperationKind::Provision,
            Some(&agent.id),
            json!({ "businessUrl": format!("http://127.0.0.1:{port}/") }),
            2,
        )
        .await;

    assert!(runner.run_one().await.unwrap());
    let first = h.operation(&op.id).await;
    assert_eq!(first.status, OperationStatus::Pending);
    assert_eq!(first.error_code.as_deref(), Some("scout_crawl_failed"));
    assert_eq!(first.run_after, h.clock.now() + operation_backoff_ms(1));
    assert!(
        h.events_of("agent.provisioning_failed").await.is_empty(),
        "not failed while attempts remain"
    );

    assert!(
        !runner.run_one().await.unwrap(),
        "not due before the backoff"
    );
    h.clock.advance(operation_backoff_ms(1));
    assert!(runner.run_one().await.unwrap());
    let last = h.operation(&op.id).await;
    assert_eq!(last.status, OperationStatus::Failed);
    assert_eq!(last.attempts, 2);
    assert_eq!(h.events_of("agent.provisioning_failed").await.len(), 1);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_makes_an_agent_without_a_number() {
    let h = Harness::new().await;
    let site = SiteServer::start(fixture_site("plumber-rapid-rooter"))
        .await
        .unwrap();
    let directory = directory(&h).await;
    let runner = JobRunner::new(h.ctx.clone(), Some(Arc::clone(&directory))).unwrap();
    let op = h
        .queue(
            OperationKind::Builder,
            None,
            json!({ "website_url": site.url("/"), "instructions": "Focus on emergency calls." }),
            3,
        )
        .await;
    assert!(runner.run_one().await.unwrap());
    let op = h.operation(&op.id).await;
    assert_eq!(op.status, OperationStatus::Active, "{:?}", op.error_message);
    let agent_id = op.agent_id.clone().unwrap();
    assert_eq!(op.result.as_ref().unwrap()["agent_id"], json!(agent_id));
    let agent = h.store.agent(&h.tenant, &agent_id).await.unwrap();
    assert_eq!(agent.status, AgentStatus::Active);
    assert_eq!(agent.phone_number, None);
    let profile = directory.by_id(&agent_id).expect("reachable by id");
    assert!(
        profile
            .documents
            .iter()
            .any(|d| d.text.contains("Focus on emergency calls."))
    );

    // Instructions alone are enough.
    let op = h
        .queue(
            OperationKind::Builder,
            None,
            json!({ "instructions": "Customer support for Nimbus Cloud Backup." }),
            3,
        )
        .await;
    assert!(runner.run_one().await.unwrap());
    let op = h.operation(&op.id).await;
    assert_eq!(op.status, OperationStatus::Active);
    let agent = h
        .store
        .agent(&h.tenant, op.agent_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(agent.name.as_deref(), Some("Nimbus Cloud Backup"));
    h.finish().await;
}

on_both_backends!(
    a_site_becomes_a_live_agent_that_answers_its_number,
    a_number_held_by_another_active_agent_fails_at_once
);
