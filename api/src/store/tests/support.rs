//! Fresh databases for tests, and the macro that runs one test body on both backends.
//!
//! PostgreSQL: each test creates its own database (`dialtone_t_<random>`) through the role in
//! `DIALTONE_TEST_DATABASE_URL` and drops it at the end, so tests run in parallel without seeing each
//! other's rows. Without that variable the PostgreSQL half of each test is skipped, unless
//! `DIALTONE_REQUIRE_POSTGRES=1`, which makes it fail instead (CI sets both; see scripts/test.sh).

use std::path::PathBuf;

use sqlx::{AssertSqlSafe, Connection, Executor};

use crate::store::{AgentStatus, DbLocation, NewAgent, Store, Tenant};

/// A fixed "now" for tests: time only moves when a test passes a later value.
pub(crate) const T0: i64 = 1_700_000_000_000;

const MAX_CONNECTIONS: u32 = 4;

/// A store on a database made for one test.
pub(crate) struct TestDb {
    pub(crate) store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TestDb {
    /// A new SQLite file in a directory of its own.
    pub(crate) async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("dialtone-store-{}", random_suffix()));
        let store = Store::open(
            &DbLocation::Sqlite(dir.join("dialtone.db")),
            MAX_CONNECTIONS,
        )
        .await
        .unwrap();
        TestDb {
            store,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new PostgreSQL database, or `None` when PostgreSQL is not configured and not required.
    pub(crate) async fn postgres() -> Option<TestDb> {
        let admin_url = match std::env::var("DIALTONE_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                if std::env::var("DIALTONE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                    panic!(
                        "DIALTONE_REQUIRE_POSTGRES=1 but DIALTONE_TEST_DATABASE_URL is not set \
                         (scripts/setup-postgres.sh prints it)"
                    );
                }
                eprintln!("skipping the PostgreSQL run: DIALTONE_TEST_DATABASE_URL is not set");
                return None;
            }
        };
        let name = format!("dialtone_t_{}", random_suffix());
        sqlx::any::install_default_drivers();
        let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
        admin.close().await.unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        let store = Store::open(&DbLocation::Postgres(url.to_string()), MAX_CONNECTIONS)
            .await
            .unwrap();
        Some(TestDb {
            store,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// Closes the store and deletes its database.
    pub(crate) async fn finish(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                // Not `WITH (FORCE)`: that would try to end the autovacuum worker that may be visiting
                // the database, which needs rights the test role does not have. A plain DROP waits for
                // autovacuum by itself, and the store's own connections are closed by now. A database
                // that still cannot be dropped is only litter: setup-postgres.sh clears it next run.
                let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
                if let Err(e) = admin
                    .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                    .await
                {
                    eprintln!("could not drop test database {name}: {e}");
                }
                admin.close().await.unwrap();
            }
        }
    }
}

/// Runs each named `async fn(Store)` as two tests, `NAME::sqlite` and `NAME::postgres`, each on a fresh
/// database.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::store::tests::support::TestDb::sqlite().await;
                super::$name(db.store.clone()).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = $crate::store::tests::support::TestDb::postgres().await {
                    super::$name(db.store.clone()).await;
                    db.finish().await;
                }
            }
        }
    )+};
}

/// A tenant named `name`.
pub(crate) async fn tenant(store: &Store, name: &str) -> Tenant {
    store.create_tenant(name, T0).await.unwrap()
}

/// An agent of `tenant_id`, committed, created at `at`.
pub(crate) async fn agent_at(
    store: &Store,
    tenant_id: &str,
    new: NewAgent,
    at: i64,
) -> crate::store::Agent {
    let mut tx = store.begin().await.unwrap();
    let agent = store
        .create_agent(&mut tx, tenant_id, new, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    agent
}

/// A pending agent of `tenant_id` named `name`, created at [`T0`].
pub(crate) async fn agent(store: &Store, tenant_id: &str, name: &str) -> crate::store::Agent {
    agent_at(
        store,
        tenant_id,
        NewAgent {
            name: Some(name.into()),
            status: Some(AgentStatus::Pending),
            ..NewAgent::default()
        },
        T0,
    )
    .await
}
