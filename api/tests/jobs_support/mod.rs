//! Shared pieces of the jobs, directory and webhook tests: a store in a temporary directory, a context on a
//! clock the test moves, fixture sites, and waiting for events without sleeping.

#![allow(dead_code, unused_imports, clippy::unwrap_used)]

#[path = "../../../provisioning/tests/support/site_server.rs"]
pub mod site_server;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use dialtone_api::store::{
    Agent, AgentStatus, DbLocation, Event, NewAgent, NewOperation, Operation, OperationKind, Store,
};
use dialtone_api::{ApiConfig, ApiContext};
use dialtone_provisioning::CrawlConfig;
use serde_json::Value;
pub use site_server::SiteServer;
use sqlx::{Connection, Executor};

/// Runs each named `async fn(Harness)` as two tests, `NAME::sqlite` and `NAME::postgres`, each on a fresh
/// database (the PostgreSQL one skipped unless `DIALTONE_TEST_DATABASE_URL` is set).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let h = $crate::jobs_support::Harness::on($crate::jobs_support::Backend::Sqlite).await;
                super::$name(h.expect("SQLite is always there")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(h) =
                    $crate::jobs_support::Harness::on($crate::jobs_support::Backend::Postgres).await
                {
                    super::$name(h).await;
                }
            }
        }
    )+};
}

/// The start of virtual time: 2023-11-14T22:13:20Z.
pub const T0: i64 = 1_700_000_000_000;

/// How long a test waits for something before it fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A clock that moves only when the test says.
#[derive(Clone, Debug)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    pub fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

/// A directory of its own for a test's files.
pub fn temp_dir(what: &str) -> PathBuf {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("dialtone-{what}-{suffix}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Crawls of loopback fixtures, without the politeness gap.
pub fn crawl_config() -> CrawlConfig {
    CrawlConfig {
        per_host_gap: Duration::ZERO,
        request_timeout: Duration::from_secs(10),
        max_total_time: Duration::from_secs(30),
        ..CrawlConfig::default()
    }
    .with_allow_list("127.0.0.0/8")
    .unwrap()
}

/// The settings most tests use: loopback crawls, a 30 s lease, two workers.
pub fn test_config() -> ApiConfig {
    ApiConfig {
        crawl: crawl_config(),
        job_lease: Duration::from_secs(30),
        job_workers: 2,
        ..ApiConfig::default()
    }
}

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A test's store, context and clock.
pub struct Harness {
    pub dir: PathBuf,
    pub location: DbLocation,
    /// The PostgreSQL server URL and database name to drop at the end.
    pg_cleanup: Option<(String, String)>,
    pub store: Store,
    pub ctx: ApiContext,
    pub clock: Clock,
    pub tenant: String,
}

impl Harness {
    /// A fresh SQLite store with one tenant, on a virtual clock at [`T0`].
    pub async fn new() -> Harness {
        Self::with_config(test_config()).await
    }

    pub async fn with_config(config: ApiConfig) -> Harness {
        let dir = temp_dir("api");
        let location = DbLocation::Sqlite(dir.join("dialtone.db"));
        Self::open(dir, location, None, config, T0).await
    }

    /// A fresh store on `backend` with [`test_config`]; `None` for PostgreSQL when
    /// `DIALTONE_TEST_DATABASE_URL` is not set (and `DIALTONE_REQUIRE_POSTGRES` is not `1`), as in the
    /// store's own tests.
    pub async fn on(backend: Backend) -> Option<Harness> {
        match backend {
            Backend::Sqlite => Some(Self::new().await),
            Backend::Postgres => {
                let admin_url = match std::env::var("DIALTONE_TEST_DATABASE_URL") {
                    Ok(url) if !url.is_empty() => url,
                    _ => {
                        assert_ne!(
                            std::env::var("DIALTONE_REQUIRE_POSTGRES").as_deref(),
                            Ok("1"),
                            "DIALTONE_REQUIRE_POSTGRES=1 but DIALTONE_TEST_DATABASE_URL is not set"
                        );
                        eprintln!(
                            "skipping the PostgreSQL run: DIALTONE_TEST_DATABASE_URL is not set"
                        );
                        return None;
                    }
                };
                let mut bytes = [0u8; 8];
                getrandom::fill(&mut bytes).unwrap();
                let name: String = format!(
                    "dialtone_t_{}",
                    bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
                );
                sqlx::any::install_default_drivers();
                let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&format!("/{name}"));
                let location = DbLocation::Postgres(url.to_string());
                let dir = temp_dir("api");
                Some(Self::open(dir, location, Some((admin_url, name)), test_config(), T0).await)
            }
        }
    }

    async fn open(
        dir: PathBuf,
        location: DbLocation,
        pg_cleanup: Option<(String, String)>,
        config: ApiConfig,
        now: i64,
    ) -> Harness {
        let store = Store::open(&location, 4).await.unwrap();
        let clock = Clock(Arc::new(AtomicI64::new(now)));
        let mut ctx = ApiContext::new(store.clone(), config);
        let c = clock.clone();
        ctx.now = Arc::new(move || c.now());
        let tenant = store.ensure_tenant("acme", now).await.unwrap().id;
        Harness {
            dir,
            location,
            pg_cleanup,
            store,
            ctx,
            clock,
            tenant,
        }
    }

    /// Closes this store and opens the same database again with a new context at `now`: a restart.
    pub async fn restart(self, now: i64) -> Harness {
        self.store.close().await;
        let config = (*self.ctx.config).clone();
        Self::open(self.dir, self.location, self.pg_cleanup, config, now).await
    }

    /// An agent of the tenant waiting to be provisioned on `phone`.
    pub async fn pending_agent(&self, phone: Option<&str>) -> Agent {
        let mut tx = self.store.begin().await.unwrap();
        let agent = self
            .store
            .create_agent(
                &mut tx,
                &self.tenant,
                NewAgent {
                    status: Some(AgentStatus::Pending),
                    phone_number: phone.map(str::to_owned),
                    ..NewAgent::default()
                },
                self.clock.now(),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        agent
    }

    /// Queues a job.
    pub async fn queue(
        &self,
        kind: OperationKind,
        agent_id: Option<&str>,
        request: Value,
        max_attempts: u32,
    ) -> Operation {
        let mut tx = self.store.begin().await.unwrap();
        let op = self
            .store
            .create_operation(
                &mut tx,
                &self.tenant,
                NewOperation {
                    kind,
                    agent_id: agent_id.map(str::to_owned),
                    request,
                    max_attempts,
                },
                self.clock.now(),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        op
    }

    pub async fn operation(&self, id: &str) -> Operation {
        self.store.operation(&self.tenant, id).await.unwrap()
    }

    /// Every event of the tenant so far.
    pub async fn events(&self) -> Vec<Event> {
        self.store
            .events_after(&self.tenant, 0, 10_000)
            .await
            .unwrap()
    }

    /// The events of one type so far.
    pub async fn events_of(&self, event_type: &str) -> Vec<Event> {
        self.events()
            .await
            .into_iter()
            .filter(|e| e.event_type == event_type)
            .collect()
    }

    /// Waits until an event matching `pred` is committed, woken by `ctx.events` (never by a timer).
    pub async fn wait_for_event(&self, pred: impl Fn(&Event) -> bool) -> Event {
        let wait = async {
            loop {
                let notified = self.ctx.events.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(e) = self.events().await.into_iter().find(|e| pred(e)) {
                    return e;
                }
                notified.await;
            }
        };
        tokio::time::timeout(PATIENCE, wait)
            .await
            .expect("the event arrives in time")
    }

    pub async fn finish(self) {
        self.store.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin_url, name)) = self.pg_cleanup {
            // A database that cannot be dropped is only litter: setup-postgres.sh clears it next run.
            let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
            if let Err(e) = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name}"
                )))
                .await
            {
                eprintln!("could not drop test database {name}: {e}");
            }
            admin.close().await.unwrap();
        }
    }
}

/// The directory of a provisioning fixture site.
pub fn fixture_site(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../provisioning/tests/fixtures/sites")
        .join(name)
}

/// A copy of a fixture site the test may change.
pub fn copy_site(name: &str) -> PathBuf {
    let to = temp_dir("site");
    copy_dir(&fixture_site(name), &to);
    to
}

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
