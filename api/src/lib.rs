//! The REST API v2 of Dialtone: routers, auth, jobs and webhooks over the [`store`].
//!
//! Layout: [`context`] is what every part shares; `http` serves `/v2` (auth, agents, operations,
//! templates, agent builder, calls, knowledge, webhooks, events, OpenAPI); `jobs` runs the durable
//! operations (provisioning, knowledge sync, the site monitor); `tasks` places outbound mission calls;
//! `webhooks` delivers the outbox, signed; `directory` gives telephony the active agents and records its
//! calls; `metrics` serves `/metrics`.

pub mod browser_calls;
pub mod context;
pub mod directory;
pub mod http;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod store;
pub mod tasks;
pub mod webhooks;

pub use context::{ApiConfig, ApiContext, NowMs, system_now};
