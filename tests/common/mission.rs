//! The mission scenario tests' harness: the REST API on a loopback socket over a fresh SQLite store, a
//! workspace with an API key and an active agent, a SIP endpoint whose trunk points at a SIPp callee,
//! and the task worker dialling through that SIP endpoint. The recogniser hears `script` line by line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dialtone_api::store::{AgentStatus, DbLocation, NewAgent, Store, Task, TaskStatus};
use dialtone_api::tasks::{SipDialer, TaskConfig, TaskWorker};
use dialtone_api::{ApiConfig, ApiContext};
use dialtone_telephony::agent::load_agents_dir;
use dialtone_telephony::call::StaticDirectory;
use dialtone_telephony::sip::{PortRange, SipConfig, SipServer, TrunkConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Everything a mission scenario runs against.
pub struct MissionRig {
    pub ctx: ApiContext,
    pub sip: SipServer,
    pub worker: TaskWorker,
    pub http: SocketAddr,
    pub key: String,
    pub tenant_id: String,
    pub agent_id: String,
    clock: Arc<AtomicI64>,
    dir: PathBuf,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

/// Starts the rig; the SIP trunk sends calls to SIPp on loopback `far_end_port`.
pub async fn start(script: &[&str], far_end_port: u16, config: TaskConfig) -> MissionRig {
    // Tests of one binary run in parallel and may start in the same millisecond: a counter keeps their
    // stores apart.
    static RIGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dialtone-mission-{}-{}-{}",
        std::process::id(),
        now_ms(),
        RIGS.fetch_add(1, Ordering::Relaxed)
    ));
    let store = Store::open(&DbLocation::Sqlite(dir.join("dialtone.db")), 8)
        .await
        .expect("the store opens");
    let clock = Arc::new(AtomicI64::new(now_ms()));
    let mut ctx = ApiContext::new(store, ApiConfig::default());
    let read = Arc::clone(&clock);
    ctx.now = Arc::new(move || read.load(Ordering::SeqCst));
    let now = ctx.now_ms();
    let tenant = ctx.store.create_tenant("acme", now).await.expect("tenant");
    let key = ctx
        .store
        .create_service_account(&tenant.id, "test", &["tasks:write".to_owned()], now)
        .await
        .expect("key")
        .secret;
    let mut tx = ctx.store.begin().await.expect("tx");
    let agent = ctx
        .store
        .create_agent(
            &mut tx,
            &tenant.id,
            NewAgent {
                name: Some("Bright Smile Dental".into()),
                status: Some(AgentStatus::Active),
                ..NewAgent::default()
            },
            now,
        )
        .await
        .expect("agent");
    tx.commit().await.expect("commit");

    // The demo agent's profile, under the store agent's id, so the task's agent speaks on the call.
    let mut deps =
        dialtone::loadtest::fake_deps(Path::new("agents"), script).expect("demo agent loads");
    let mut profile = load_agents_dir(Path::new("agents"))
        .expect("agents load")
        .into_iter()
        .find(|a| a.id == "bright-smile-dental")
        .expect("the demo agent");
    profile.id = agent.id.clone();
    deps.directory = Arc::new(StaticDirectory::new([profile]));
    let sip = SipServer::start(
        SipConfig {
            listen: "127.0.0.1:0".parse().expect("address"),
            accept_any: true,
            rtp_ports: PortRange(34_000..=34_999),
            trunks: vec![TrunkConfig {
                name: "carrier".into(),
                proxy: Some(format!("sip:127.0.0.1:{far_end_port}")),
                from: Some("+15035550142".into()),
                ..TrunkConfig::default()
            }],
            ..SipConfig::default()
        },
        Arc::new(deps),
        None,
    )
    .await
    .expect("SIP starts");
    let worker = TaskWorker::new(
        ctx.clone(),
        Arc::new(SipDialer::new(sip.clone(), None)),
        config,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let http = listener.local_addr().expect("address");
    let router = dialtone_api::http::router(ctx.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    MissionRig {
        ctx,
        sip,
        worker,
        http,
        key,
        tenant_id: tenant.id,
        agent_id: agent.id,
        clock,
        dir,
    }
}

/// An HTTP answer: status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl MissionRig {
    /// Moves the API's clock on (retries' backoff).
    pub fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    /// One HTTP/1.1 request to the API with the rig's key.
    pub async fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = tokio::net::TcpStream::connect(self.http)
            .await
            .expect("connect");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.key,
            body.len()
        );
        stream
            .write_all(format!("{head}{body}").as_bytes())
            .await
            .expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let text = String::from_utf8_lossy(&raw);
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        Answer { status, body }
    }

    /// The task as the store has it.
    pub async fn task(&self, id: &str) -> Task {
        self.ctx
            .store
            .task(&self.tenant_id, id)
            .await
            .expect("task")
    }

    /// Polls the task until it is in `status`, for at most `within`.
    pub async fn wait_for(&self, id: &str, status: TaskStatus, within: Duration) -> Task {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let task = self.task(id).await;
            if task.status == status {
                return task;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "task still {} after {within:?}: {task:?}",
                task.status
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The `task.updated` payloads emitted for task `id`, in order.
    pub async fn updates(&self, id: &str) -> Vec<Value> {
        self.ctx
            .store
            .events_after(&self.tenant_id, 0, 1000)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| e.event_type == "task.updated" && e.data["task_id"] == id)
            .map(|e| e.data)
            .collect()
    }

    /// Stops SIP and drops the store.
    pub async fn finish(self) {
        self.sip.shutdown();
        self.ctx.store.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
