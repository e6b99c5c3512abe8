//! Where SQLite and PostgreSQL differ. Everything else in the store is portable SQL with `$n` placeholders.

/// The database a [`Store`](super::Store) runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One file, one writer at a time: the embedded default.
    Sqlite,
    /// A shared server: several nodes claim work from it with `FOR UPDATE SKIP LOCKED`.
    Postgres,
}

impl Backend {
    /// The statement that opens a write transaction. SQLite's default (deferred) transaction takes the
    /// write lock only at its first write and fails at once if another writer committed since its first
    /// read; `IMMEDIATE` takes the lock up front, where the busy timeout applies.
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }
}

/// A `SELECT` that locks what it reads, for a read-modify-write inside a write transaction; the parts are
/// string literals so both statements stay `&'static str` (sqlx only takes dynamic SQL behind an explicit
/// assertion).
///
/// - `with_row_lock!(backend, update, "SELECT ...")`: PostgreSQL appends `FOR UPDATE`, so a concurrent
///   writer of the same row waits for this transaction.
/// - `with_row_lock!(backend, claim, "SELECT ...")`: PostgreSQL appends `FOR UPDATE SKIP LOCKED`, so
///   concurrent workers on several nodes each pick different due rows instead of queueing on one.
///
/// SQLite has no row locks and needs none: a `BEGIN IMMEDIATE` transaction is the only writer until it
/// commits, so nothing it read can change under it.
macro_rules! with_row_lock {
    ($backend:expr, update, $($part:expr),+ $(,)?) => {
        match $backend {
            $crate::store::Backend::Sqlite => concat!($($part),+),
            $crate::store::Backend::Postgres => concat!($($part),+, " FOR UPDATE"),
        }
    };
    ($backend:expr, claim, $($part:expr),+ $(,)?) => {
        match $backend {
            $crate::store::Backend::Sqlite => concat!($($part),+),
            $crate::store::Backend::Postgres => concat!($($part),+, " FOR UPDATE SKIP LOCKED"),
        }
    };
}
pub(crate) use with_row_lock;
