//! Store tests. Each test body is an `async fn(Store)` that [`on_both_backends!`] runs twice: on a fresh
//! SQLite file, and on a fresh PostgreSQL database when `DIALTONE_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

mod agents;
mod auth;
mod calls;
mod depths;
mod events;
mod idempotency;
mod knowledge;
mod open;
mod operations;
mod tasks;
mod webhooks;
