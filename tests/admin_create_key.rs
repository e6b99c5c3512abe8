//! `dialtone admin create-key`: the key is the last line, it works against the store `serve` opens, and
//! bad scopes are refused. Runs the real binary on a temporary data directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use dialtone_api::store::{DbLocation, Store};

fn create_key(data_dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["admin", "create-key", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        // The SQLite file in the data directory, whatever the developer's environment says.
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn the_key_is_the_last_line_and_opens_the_store() {
    let dir = std::env::temp_dir().join(format!("dialtone-create-key-{}", std::process::id()));
    let out = create_key(
        &dir,
        &["--tenant", "acme", "--scopes", "agents:read,calls:read"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap();
    assert!(key.starts_with("sk_live_"), "{stdout}");
    let client_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("client_id: "))
        .unwrap();

    let store = Store::open(&DbLocation::from_database_url(None, &dir).unwrap(), 1)
        .await
        .unwrap();
    let principal = store
        .verify_api_key(key)
        .await
        .unwrap()
        .expect("the key is known");
    assert_eq!(principal.account_id, client_id);
    assert_eq!(principal.scopes, ["agents:read", "calls:read"]);
    let tenant = store.tenant_by_name("acme").await.unwrap().unwrap();
    assert_eq!(principal.tenant_id, tenant.id);
    store.close().await;

    // A second key joins the same tenant; an unknown scope is refused without creating anything.
    let again = create_key(&dir, &["--tenant", "acme"]);
    assert!(again.status.success());
    let bad = create_key(&dir, &["--scopes", "agents:fly"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope"));
    let _ = std::fs::remove_dir_all(&dir);
}
