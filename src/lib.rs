//! Dialtone: a self-hosted voice-agent telephony runtime.
//!
//! The binary lives in `main.rs`; this library holds what the binary, the scenario tests and the benches
//! share.

pub mod api_url;
pub mod batch;
pub mod dashboard;
pub mod defaults;
pub mod loadtest;
pub mod mcp;
pub mod sim;
pub mod softphone;
