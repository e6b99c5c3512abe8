//! The subcommands of the `dialtone` binary.

pub mod admin;
pub mod api_access;
pub mod batch;
pub mod call;
mod cors;
pub mod latency;
pub mod loadtest;
pub mod mcp;
pub mod models;
pub mod provision;
pub mod serve;
pub mod simulate;

/// Logs to stderr; `RUST_LOG` overrides the default (`info` for Dialtone, `warn` for the rest).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,dialtone=info,dialtone_telephony=info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
