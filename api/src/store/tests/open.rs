//! Opening the store: migrations, SQLite's pragmas, foreign keys, reopening.

use super::support::{T0, TestDb, agent, tenant};
use crate::store::{Backend, DbLocation, NewAgent, Store, StoreError};

on_both_backends!(foreign_keys_are_enforced);

async fn foreign_keys_are_enforced(store: Store) {
    let mut tx = store.begin().await.unwrap();
    let orphan = store
        .create_agent(&mut tx, "ws_missing", NewAgent::default(), T0)
        .await;
    assert!(matches!(orphan, Err(StoreError::Database(_))), "{orphan:?}");
    drop(tx);

    // Below the store's own checks, the schema refuses a row of one tenant naming another's agent.
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let theirs = agent(&store, &a.id, "a's agent").await;
    let cross = sqlx::query(
        "INSERT INTO calls (id, tenant_id, agent_id, direction, started_at)
         VALUES ('call_x', $1, $2, 'inbound', 0)",
    )
    .bind(&b.id)
    .bind(&theirs.id)
    .execute(&store.pool)
    .await;
    assert!(cross.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_is_wal_with_foreign_keys_and_busy_timeout() {
    let db = TestDb::sqlite().await;
    assert_eq!(db.store.backend(), Backend::Sqlite);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&db.store.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&db.store.pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&db.store.pool)
        .await
        .unwrap();
    assert_eq!(busy, 5000);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_rows_and_skips_applied_migrations() {
    let dir = std::env::temp_dir().join(format!("dialtone-store-reopen-{}", std::process::id()));
    let location = DbLocation::Sqlite(dir.join("nested").join("dialtone.db"));
    let store = Store::open(&location, 2).await.unwrap();
    let t = tenant(&store, "acme").await;
    store.close().await;
    let store = Store::open(&location, 2).await.unwrap();
    assert_eq!(store.tenant(&t.id).await.unwrap(), t);
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}
