//! A server killed mid-job finishes the job after a restart: the real `dialtone serve` binary provisions a
//! fixture site whose team page stalls, is killed with SIGKILL while the crawl waits on it, and a second
//! server on the same data directory takes the job over once the dead one's lease has run out. The agent
//! is activated exactly once and the webhook receiver gets `agent.activated` once, signed.
//!
//! The test polls the store and the fixture site with a deadline: a separate process has no signal to
//! wait on.

#![allow(clippy::unwrap_used)]

#[path = "support/serve.rs"]
mod serve;
#[path = "../provisioning/tests/support/site_server.rs"]
mod site_server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::http::HeaderMap;
use dialtone_api::store::{
    AgentStatus, DbLocation, NewAgent, NewOperation, NewWebhook, OperationKind, OperationStatus,
    Store,
};
use dialtone_api::webhooks::{DEFAULT_TOLERANCE, verify_signature};
use serde_json::{Value, json};
use serve::{Server, temp_dir};
use site_server::SiteServer;
use tokio::process::Child;
use tokio::sync::mpsc;

const NUMBER: &str = "+15035550100";
/// Short, so the second server takes the job over soon after the first dies.
const LEASE_MS: &str = "2000";
const DEADLINE: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(50);

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The dental fixture with its team page answering after three seconds.
fn stalling_site() -> PathBuf {
    let dir = temp_dir("stalling-site");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("provisioning/tests/fixtures/sites/dental-bright-smile"),
        &dir,
    );
    std::fs::write(
        dir.join("_routes.toml"),
        "[routes.\"/team/\"]\ndelay_ms = 3000\n",
    )
    .unwrap();
    dir
}

/// Starts `dialtone serve` on `data` with a short job lease and waits until it listens.
async fn start_server(data: &Path) -> Child {
    let server = Server::start_with(
        data,
        &[],
        &[
            ("DIALTONE_CRAWL_ALLOW", "127.0.0.0/8"),
            ("DIALTONE_JOB_LEASE_MS", LEASE_MS),
        ],
    )
    .await;
    server.child
}

/// Polls `check` until it returns something, failing after the deadline.
async fn poll<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let until = Instant::now() + DEADLINE;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A webhook receiver on loopback that accepts everything and hands each delivery to the test.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cut_short_by_a_kill_completes_after_a_restart() {
    let data = temp_dir("resume-data");
    let site_dir = stalling_site();
    let site = SiteServer::start(&site_dir).await.unwrap();
    let (hook_url, mut deliveries) = receiver().await;

    // The job, queued in the store the server will open (what POST /v2/agents does).
    let store = Store::open(&DbLocation::Sqlite(data.join("dialtone.db")), 2)
        .await
        .unwrap();
    let tenant = store.ensure_tenant("acme", now_ms()).await.unwrap().id;
    let webhook = store
        .create_webhook(
            &tenant,
            &NewWebhook {
                url: hook_url,
                events: vec!["agent.activated".into()],
                agent_id: None,
            },
            now_ms(),
        )
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    let agent = store
        .create_agent(
            &mut tx,
            &tenant,
            NewAgent {
                status: Some(AgentStatus::Pending),
                phone_number: Some(NUMBER.into()),
                ..NewAgent::default()
            },
            now_ms(),
        )
        .await
        .unwrap();
    let op = store
        .create_operation(
            &mut tx,
            &tenant,
            NewOperation {
                kind: OperationKind::Provision,
                agent_id: Some(agent.id.clone()),
                request: json!({ "businessUrl": site.url("/"), "verticalType": "dental",
                                 "phone_number": NUMBER }),
                max_attempts: 3,
            },
            now_ms(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // The first server takes the job and is killed while the crawl waits on the team page.
    let mut first = start_server(&data).await;
    poll("the crawl to reach the stalled page", || async {
        (site.count("/team/") > 0).then_some(())
    })
    .await;
    let running = store.operation(&tenant, &op.id).await.unwrap();
    assert_eq!(running.status, OperationStatus::Running);
    let dead_worker = running.lease_owner.clone().unwrap();
    assert!(dead_worker.contains(&first.id().unwrap().to_string()));
    first.kill().await.unwrap(); // SIGKILL: no chance to clean up
    first.wait().await.unwrap();

    let orphan = store.operation(&tenant, &op.id).await.unwrap();
    assert_eq!(
        orphan.status,
        OperationStatus::Running,
        "nobody finished it"
    );
    assert_eq!(orphan.lease_owner.as_deref(), Some(dead_worker.as_str()));
    assert_ne!(
        store.agent(&tenant, &agent.id).await.unwrap().status,
        AgentStatus::Active
    );

    // A new server on the same data directory takes it over once the lease has run out.
    let mut second = start_server(&data).await;
    let done = poll("the job to complete", || async {
        let op = store.operation(&tenant, &op.id).await.unwrap();
        matches!(op.status, OperationStatus::Active | OperationStatus::Failed).then_some(op)
    })
    .await;
    assert_eq!(
        done.status,
        OperationStatus::Active,
        "{:?}: {:?}",
        done.error_code,
        done.error_message
    );
    assert_eq!(
        done.attempts, 2,
        "the killed attempt and the one that finished"
    );
    assert_eq!(done.lease_owner, None);
    assert!(site.count("/team/") >= 2, "the site was read again");
    let agent = store.agent(&tenant, &agent.id).await.unwrap();
    assert_eq!(agent.status, AgentStatus::Active);
    assert_eq!(agent.phone_number.as_deref(), Some(NUMBER));
    assert_eq!(agent.kb_version, 1);
    let activated: Vec<Value> = store
        .events_after(&tenant, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "agent.activated")
        .map(|e| e.data)
        .collect();
    assert_eq!(activated.len(), 1);

    // The webhook receiver hears of it once, signed with the webhook's secret.
    let (headers, body) = tokio::time::timeout(DEADLINE, deliveries.recv())
        .await
        .unwrap()
        .unwrap();
    let signature = headers.get("dialtone-signature").unwrap().to_str().unwrap();
    verify_signature(
        &webhook.secret,
        signature,
        &body,
        SystemTime::now(),
        DEFAULT_TOLERANCE,
    )
    .unwrap();
    let envelope: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(envelope["event_type"], json!("agent.activated"));
    assert_eq!(envelope["data"]["agent_id"], json!(agent.id));
    assert_eq!(envelope["data"]["phone_number"], json!(NUMBER));

    // SIGTERM stops the server cleanly.
    let pid = second.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(DEADLINE, second.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "graceful exit: {exit:?}");
    assert!(
        deliveries.try_recv().is_err(),
        "agent.activated was delivered once"
    );

    store.close().await;
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&site_dir);
}
