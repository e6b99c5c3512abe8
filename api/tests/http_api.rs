//! The REST API v2 through its router (`tower::ServiceExt::oneshot`, no sockets), on SQLite and, when
//! configured, PostgreSQL. One test binary for every route, so the crate links once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "http_api/support.rs"]
mod support;

#[path = "http_api/agents.rs"]
mod agents;
#[path = "http_api/auth.rs"]
mod auth;
#[path = "http_api/builder.rs"]
mod builder;
#[path = "http_api/calls.rs"]
mod calls;
#[path = "http_api/calls_live.rs"]
mod calls_live;
#[path = "http_api/events.rs"]
mod events;
#[path = "http_api/garbage.rs"]
mod garbage;
#[path = "http_api/idempotency.rs"]
mod idempotency;
#[path = "http_api/knowledge.rs"]
mod knowledge;
#[path = "http_api/tasks.rs"]
mod tasks;
#[path = "http_api/tenancy.rs"]
mod tenancy;
#[path = "http_api/webhooks.rs"]
mod webhooks;
