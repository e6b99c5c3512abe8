//! Where the store lives and how it is opened: the SQLite file or the PostgreSQL URL, pool settings,
//! pragmas and migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, Executor};

use super::{Backend, Store, StoreError};

/// The SQLite file's name inside the data directory.
pub const DATABASE_FILE: &str = "dialtone.db";

/// How long a SQLite connection waits for the write lock before it gives up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The same timeout as a pragma, for the pool's connections (keep the two in step).
const SQLITE_BUSY_TIMEOUT_PRAGMA: &str = "PRAGMA busy_timeout = 5000";

/// Where the store's data is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbLocation {
    /// A SQLite database file, created if missing (its directory too).
    Sqlite(PathBuf),
    /// A PostgreSQL server, as a `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl DbLocation {
    /// Reads `DATABASE_URL` the way `dialtone serve` does: see [`DbLocation::from_database_url`].
    pub fn from_env(data_dir: &Path) -> Result<Self, StoreError> {
        let url = std::env::var("DATABASE_URL").ok();
        Self::from_database_url(url.as_deref(), data_dir)
    }

    /// Unset or empty: the SQLite file [`DATABASE_FILE`] in `data_dir`. `postgres://` or `postgresql://`:
    /// that server. `sqlite://PATH` or `sqlite:PATH`: that SQLite file. Anything else is refused.
    pub fn from_database_url(url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        let url = url.map(str::trim).unwrap_or_default();
        if url.is_empty() {
            return Ok(DbLocation::Sqlite(data_dir.join(DATABASE_FILE)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbLocation::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if !path.is_empty() {
                return Ok(DbLocation::Sqlite(PathBuf::from(path)));
            }
        }
        Err(StoreError::Database(
            "DATABASE_URL must be a postgres://, postgresql:// or sqlite: URL".into(),
        ))
    }
}

impl Store {
    /// Opens (creating if needed) the store at `location` with up to `max_connections` connections, and
    /// brings its schema up to date.
    pub async fn open(location: &DbLocation, max_connections: u32) -> Result<Store, StoreError> {
        install_default_drivers();
        let store = match location {
            DbLocation::Sqlite(path) => open_sqlite(path, max_connections).await?,
            DbLocation::Postgres(url) => Store {
                pool: AnyPoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .connect(url)
                    .await?,
                backend: Backend::Postgres,
            },
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Backend::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }
}

async fn open_sqlite(path: &Path, max_connections: u32) -> Result<Store, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Database(format!("cannot create {}: {e}", dir.display())))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    // The Any driver rebuilds SQLite options from a URL, which has no room for the journal mode. WAL is a
    // property of the file, so one direct connection sets it (and creates the file) before the pool opens.
    let first = options.connect().await?;
    first.close().await?;

    let url = options.to_url_lossy();
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // Per-connection settings. sqlx's defaults for a URL happen to turn foreign keys on and
                // wait 5 s on a locked database, but SQLite's own defaults are the opposite, and the schema
                // (tenant-scoped foreign keys) and the single-writer claims rely on both: say so here.
                // NORMAL sync is durable enough in WAL mode (a power cut may lose the last commits, never
                // corrupt the file) and saves an fsync per commit.
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute(SQLITE_BUSY_TIMEOUT_PRAGMA).await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                Ok(())
            })
        })
        .connect(url.as_str())
        .await?;
    Ok(Store {
        pool,
        backend: Backend::Sqlite,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn database_url_picks_the_backend() {
        let dir = Path::new("/var/lib/dialtone");
        assert_eq!(
            DbLocation::from_database_url(None, dir).unwrap(),
            DbLocation::Sqlite(dir.join("dialtone.db"))
        );
        assert_eq!(
            DbLocation::from_database_url(Some("  "), dir).unwrap(),
            DbLocation::Sqlite(dir.join("dialtone.db"))
        );
        assert_eq!(
            DbLocation::from_database_url(Some("postgres://u:p@db/x"), dir).unwrap(),
            DbLocation::Postgres("postgres://u:p@db/x".into())
        );
        assert_eq!(
            DbLocation::from_database_url(Some("sqlite:///tmp/a.db?mode=rwc"), dir).unwrap(),
            DbLocation::Sqlite(PathBuf::from("/tmp/a.db"))
        );
        assert!(DbLocation::from_database_url(Some("mysql://x"), dir).is_err());
    }
}
