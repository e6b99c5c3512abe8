//! The store's one error type.

use sqlx::error::ErrorKind;

/// What went wrong in the store. The messages are safe to show to API users: a database failure says
/// only "database error" and keeps the driver's text for the logs (`{:?}`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such row for this tenant (or it was deleted).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a state rule refused the change, e.g. a phone number that another active agent
    /// holds, or deciding a proposal twice. The text says which, in words fit for an API user.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The action is not allowed in the row's current state, e.g. cancelling a task that is in progress.
    #[error("invalid status: {0}")]
    InvalidStatus(String),
    /// A worker's lease on a job or delivery ran out and another worker took it over: stop working on it.
    #[error("lease lost")]
    LeaseLost,
    /// A pagination cursor that this store did not make.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The database failed, or returned something the store cannot read. The text is for logs only.
    #[error("database error")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation => {
                StoreError::Conflict("already exists".into())
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(format!("migration failed: {e}"))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Database(format!("stored JSON does not parse: {e}"))
    }
}
