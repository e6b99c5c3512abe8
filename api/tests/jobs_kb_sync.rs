//! Knowledge syncs: an unchanged site writes no version, a changed one writes the next with `kb.synced`
//! and reaches the call-side directory; the monitor queues one sync per agent and interval; a job whose
//! worker died is taken over when its lease runs out.

#![allow(clippy::unwrap_used)]

mod jobs_support;

use std::sync::Arc;

use dialtone_api::directory::StoreDirectory;
use dialtone_api::jobs::{JobRunner, apply_proposal, enqueue_due_kb_syncs, stored_content_hash};
use dialtone_api::store::{OperationKind, OperationStatus};
use dialtone_telephony::call::{AgentDirectory, StaticDirectory};
use jobs_support::{Harness, SiteServer, copy_site, fixture_site};
use serde_json::json;

const NUMBER: &str = "+15035550100";
const NEWS: &str = "New this spring: Saturday morning whitening appointments for busy families.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_site_makes_a_new_version_and_an_unchanged_one_does_not() {
    let h = Harness::new().await;
    let site_dir = copy_site("dental-bright-smile");
    let site = SiteServer::start(&site_dir).await.unwrap();
    let directory = StoreDirectory::load(h.ctx.clone(), Arc::new(StaticDirectory::default()))
        .await
        .unwrap();
    let runner = JobRunner::new(h.ctx.clone(), Some(Arc::clone(&directory))).unwrap();
    let agent = h.pending_agent(Some(NUMBER)).await;
    h.queue(
        OperationKind::Provision,
        Some(&agent.id),
        json!({ "businessUrl": site.url("/"), "phone_number": NUMBER }),
        3,
    )
    .await;
    assert!(runner.run_one().await.unwrap());

    // Nothing changed on the site.
    h.clock.advance(1000);
    let same = h
        .queue(OperationKind::KbSync, Some(&agent.id), json!({}), 3)
        .await;
    assert!(runner.run_one().await.unwrap());
    let same = h.operation(&same.id).await;
    assert_eq!(
        same.status,
        OperationStatus::Active,
        "{:?}",
        same.error_message
    );
    let result = same.result.unwrap();
    assert_eq!(result["changed"], json!(false));
    assert_eq!(result["version"], json!(1));
    assert!(h.events_of("kb.synced").await.is_empty());
    assert_eq!(
        h.store
            .list_kb_versions(&h.tenant, &agent.id)
            .await
            .unwrap()
            .len(),
        1
    );

    // The practice adds a paragraph to its services page.
    let page = site_dir.join("services/index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let html = html.replacen("</p>", &format!("</p>\n    <p>{NEWS}</p>"), 2);
    std::fs::write(&page, html).unwrap();
    h.clock.advance(1000);
    let changed = h
        .queue(OperationKind::KbSync, Some(&agent.id), json!({}), 3)
        .await;
    let mut rebuilds = directory.rebuilds();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let refresher =
        tokio::spawn(Arc::clone(&directory).run(std::time::Duration::from_secs(3600), shutdown));
    // The refresher's first rebuild: from now on it listens for `agents_changed`.
    tokio::time::timeout(jobs_support::PATIENCE, rebuilds.changed())
        .await
        .unwrap()
        .unwrap();
    assert!(runner.run_one().await.unwrap());
    let changed = h.operation(&changed.id).await;
    assert_eq!(changed.status, OperationStatus::Active);
    assert_eq!(changed.result.as_ref().unwrap()["changed"], json!(true));
    let synced = h.events_of("kb.synced").await;
    assert_eq!(synced.len(), 1);
    assert_eq!(synced[0].data["agent_id"], json!(agent.id));
    assert_eq!(synced[0].data["version"], json!(2));
    assert!(synced[0].data["added"].as_u64().unwrap() >= 1);
    assert!(synced[0].data["removed"].as_u64().is_some());
    let agent_now = h.store.agent(&h.tenant, &agent.id).await.unwrap();
    assert_eq!(agent_now.kb_version, 2);

    // `agents_changed` makes the directory rebuild, and calls get the new knowledge.
    tokio::time::timeout(jobs_support::PATIENCE, rebuilds.changed())
        .await
        .unwrap()
        .unwrap();
    let profile = directory.by_number(NUMBER).unwrap();
    assert!(profile.documents.iter().any(|d| d.text.contains(NEWS)));
    stop.send(true).unwrap();
    refresher.await.unwrap();
    drop(site);
    let _ = std::fs::remove_dir_all(&site_dir);
    h.finish().await;
}

async fn the_monitor_queues_one_sync_per_agent_and_interval(h: Harness) {
    let site = SiteServer::start(fixture_site("dental-bright-smile"))
        .await
        .unwrap();
    let runner = JobRunner::new(h.ctx.clone(), None).unwrap();
    let with_site = h.pending_agent(Some(NUMBER)).await;
    h.queue(
        OperationKind::Provision,
        Some(&with_site.id),
        json!({ "businessUrl": site.url("/"), "phone_number": NUMBER }),
        3,
    )
    .await;
    assert!(runner.run_one().await.unwrap());
    // An agent from instructions alone has no site to watch.
    h.queue(
        OperationKind::Builder,
        None,
        json!({ "instructions": "Support for Nimbus Cloud Backup." }),
        3,
    )
    .await;
    assert!(runner.run_one().await.unwrap());

    let interval = i64::try_from(h.ctx.config.kb_monitor_interval.as_millis()).unwrap();
    assert_eq!(
        enqueue_due_kb_syncs(&h.ctx).await.unwrap(),
        0,
        "just provisioned"
    );
    h.clock.advance(interval);
    assert_eq!(enqueue_due_kb_syncs(&h.ctx).await.unwrap(), 1);
    assert_eq!(
        enqueue_due_kb_syncs(&h.ctx).await.unwrap(),
        0,
        "one is already waiting"
    );
    let ops = h
        .store
        .operations_for_agent(&h.tenant, &with_site.id)
        .await
        .unwrap();
    assert_eq!(ops[0].kind, OperationKind::KbSync);
    assert_eq!(ops[0].request, json!({ "trigger": "monitor" }));

    assert!(runner.run_one().await.unwrap());
    assert_eq!(
        h.operation(&ops[0].id).await.status,
        OperationStatus::Active
    );
    assert_eq!(
        enqueue_due_kb_syncs(&h.ctx).await.unwrap(),
        0,
        "synced within the interval"
    );
    h.clock.advance(interval);
    assert_eq!(enqueue_due_kb_syncs(&h.ctx).await.unwrap(), 1);
    h.finish().await;
}

async fn a_job_whose_worker_died_is_taken_over_when_its_lease_runs_out(h: Harness) {
    let site = SiteServer::start(fixture_site("dental-bright-smile"))
        .await
        .unwrap();
    let agent = h.pending_agent(Some(NUMBER)).await;
    let op = h
        .queue(
            OperationKind::Provision,
            Some(&agent.id),
            json!({ "businessUrl": site.url("/"), "phone_number": NUMBER }),
            3,
        )
        .await;
    let lease = i64::try_from(h.ctx.config.job_lease.as_millis()).unwrap();
    let dead = h
        .store
        .claim_operation("worker-that-died", None, lease, h.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.id, op.id);

    let runner = JobRunner::new(h.ctx.clone(), None).unwrap();
    assert!(!runner.run_one().await.unwrap(), "still leased");
    h.clock.advance(lease + 1);
    assert!(runner.run_one().await.unwrap());
    let op = h.operation(&op.id).await;
    assert_eq!(op.status, OperationStatus::Active);
    assert_eq!(op.attempts, 2);
    assert_eq!(op.lease_owner, None);
    assert_eq!(h.events_of("agent.activated").await.len(), 1);
    h.finish().await;
}

on_both_backends!(
    the_monitor_queues_one_sync_per_agent_and_interval,
    a_job_whose_worker_died_is_taken_over_when_its_lease_runs_out
);

/// What an approval does (see `POST /v2/kb/proposals/{id}/approve`): the proposal decided and a new
/// version with its change.
async fn approve_addition(h: &Harness, agent_id: &str, text: &str) {
    let latest = h
        .store
        .latest_kb_version(&h.tenant, agent_id)
        .await
        .unwrap()
        .unwrap();
    let change = json!({"action": "add", "title": "Parking", "text": text, "reason": "front desk"});
    let chunks = apply_proposal(
        &change,
        latest.chunks.as_array().unwrap().clone(),
        Some(latest.version),
    )
    .unwrap();
    let chunks = serde_json::Value::Array(chunks);
    let mut tx = h.store.begin().await.unwrap();
    let proposal = h
        .store
        .create_kb_proposal(&mut tx, &h.tenant, agent_id, &change, h.clock.now())
        .await
        .unwrap();
    h.store
        .decide_kb_proposal(&mut tx, &h.tenant, &proposal.id, true, h.clock.now())
        .await
        .unwrap();
    h.store
        .create_kb_version(
            &mut tx,
            &h.tenant,
            agent_id,
            &chunks,
            &stored_content_hash(&chunks),
            h.clock.now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_proposals_survive_a_resync() {
    const PARKING: &str = "Free parking in the lot behind the building, entrance on Oak Street.";
    let h = Harness::new().await;
    let site_dir = copy_site("dental-bright-smile");
    let site = SiteServer::start(&site_dir).await.unwrap();
    let runner = JobRunner::new(h.ctx.clone(), None).unwrap();
    let agent = h.pending_agent(Some(NUMBER)).await;
    h.queue(
        OperationKind::Provision,
        Some(&agent.id),
        json!({ "businessUrl": site.url("/"), "phone_number": NUMBER }),
        3,
    )
    .await;
    assert!(runner.run_one().await.unwrap());
    h.clock.advance(1000);
    approve_addition(&h, &agent.id, PARKING).await;

    // The site has not changed: the sync finds the approved version current.
    h.clock.advance(1000);
    let same = h
        .queue(OperationKind::KbSync, Some(&agent.id), json!({}), 3)
        .await;
    assert!(runner.run_one().await.unwrap());
    let result = h.operation(&same.id).await.result.unwrap();
    assert_eq!(result["changed"], json!(false), "{result}");
    assert_eq!(result["version"], json!(2));

    // The site changes: the new version has the site's news and still the approved addition.
    let page = site_dir.join("services/index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    std::fs::write(
        &page,
        html.replacen("</p>", &format!("</p>\n    <p>{NEWS}</p>"), 2),
    )
    .unwrap();
    h.clock.advance(1000);
    let changed = h
        .queue(OperationKind::KbSync, Some(&agent.id), json!({}), 3)
        .await;
    assert!(runner.run_one().await.unwrap());
    let result = h.operation(&changed.id).await.result.unwrap();
    assert_eq!(result["changed"], json!(true), "{result}");
    let latest = h
        .store
        .latest_kb_version(&h.tenant, &agent.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.version, 3);
    let all = latest.chunks.to_string();
    assert!(all.contains(NEWS) && all.contains(PARKING), "{all}");
    let synced = h.events_of("kb.synced").await;
    assert_eq!(synced.last().unwrap().data["proposals_applied"], json!(1));
    drop(site);
    let _ = std::fs::remove_dir_all(&site_dir);
    h.finish().await;
}
