//! What the MCP scenario tests share: the server support and the tool list.

#![allow(dead_code, clippy::unwrap_used)]

#[path = "../support/serve.rs"]
mod serve;

pub use serve::{Server, create_key, temp_dir};

/// The sixteen tools, sorted.
pub const TOOLS: [&str; 16] = [
    "create_task",
    "create_webhook",
    "get_agent",
    "get_call_transcript",
    "get_extractions",
    "get_operation",
    "get_task",
    "list_agents",
    "list_calls",
    "list_templates",
    "list_webhooks",
    "propose_kb_update",
    "provision_agent",
    "scout_research",
    "sync_knowledge_base",
    "update_agent",
];
