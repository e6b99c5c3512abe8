//! Business website -> agent knowledge, system prompt and greeting.
//!
//! The pipeline is `crawl` (fetch the site politely and safely) -> `extract` (facts with provenance) ->
//! `kb` (clean, chunked text) -> `template` (vertical goals, guardrails, tone) -> [`AgentSpec`]. Each stage is
//! usable alone; [`provision`] runs them all. This crate depends on none of ours: the API converts its output
//! into telephony's agent profile through the shared JSON shape of `facts`.

pub mod crawl;
pub mod error;
pub mod extract;
pub mod facts;
pub mod kb;
pub mod page;
mod provision;
pub mod spec;
pub mod template;

pub use crawl::{BusinessUrl, CrawlConfig, Crawler};
pub use error::{ProvisionError, ProvisionErrorCode};
pub use extract::{Extraction, extract};
pub use facts::Facts;
pub use page::{CrawlReport, CrawlResult, Page, SkippedUrl};
pub use provision::{ProvisionRequest, Stage, provision, template_for};
pub use spec::{AgentSpec, ProvisionReport};
