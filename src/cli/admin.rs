//! `dialtone admin`: operator commands on the API store.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use dialtone_api::http::auth::is_known_scope;
use dialtone_api::store::{DbLocation, Store};

/// What `dialtone admin` does.
#[derive(Debug, clap::Subcommand)]
pub enum AdminAction {
    /// Create a service account and print its client id and API key; the key (`sk_live_...`) is the
    /// last line. Opens the store like `serve` (`--data-dir` / DIALTONE_DATA_DIR, DATABASE_URL).
    CreateKey(CreateKeyArgs),
}

/// Options of `dialtone admin create-key`.
#[derive(Debug, clap::Args)]
pub struct CreateKeyArgs {
    /// The workspace the key belongs to; created if it does not exist.
    #[arg(long, default_value = "default")]
    pub tenant: String,
    /// Comma-separated scopes: agents:read, agents:write, calls:read, webhooks:manage, events:read,
    /// tasks:read, tasks:write, or * for all.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub scopes: Vec<String>,
    /// A label for people, shown in key listings.
    #[arg(long, default_value = "cli")]
    pub name: String,
    /// Data directory (the SQLite store lives here unless DATABASE_URL names PostgreSQL).
    #[arg(long, env = "DIALTONE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

/// Runs an admin command.
pub async fn run(action: AdminAction) -> anyhow::Result<()> {
    match action {
        AdminAction::CreateKey(args) => create_key(args).await,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn create_key(args: CreateKeyArgs) -> anyhow::Result<()> {
    let scopes: Vec<String> = args
        .scopes
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if scopes.is_empty() {
        bail!("--scopes names no scope");
    }
    if let Some(unknown) = scopes.iter().find(|s| !is_known_scope(s)) {
        bail!(
            "unknown scope {unknown:?}: use agents:read, agents:write, calls:read, webhooks:manage, \
             events:read, tasks:read, tasks:write or *"
        );
    }
    let tenant_name = args.tenant.trim();
    if tenant_name.is_empty() {
        bail!("--tenant must not be empty");
    }
    let location = DbLocation::from_env(&args.data_dir).context("reading DATABASE_URL")?;
    let store = Store::open(&location, 2)
        .await
        .context("opening the store")?;
    let now = now_ms();
    let tenant = store
        .ensure_tenant(tenant_name, now)
        .await
        .context("creating the tenant")?;
    let created = store
        .create_service_account(&tenant.id, args.name.trim(), &scopes, now)
        .await
        .context("creating the service account")?;
    store.close().await;
    println!("tenant: {} ({})", tenant.name, tenant.id);
    println!("client_id: {}", created.account.id);
    println!("scopes: {}", scopes.join(","));
    println!("API key, shown once (a bearer token, or the client_secret for POST /v2/auth/token):");
    println!("{}", created.secret);
    Ok(())
}
