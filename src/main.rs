//! The `dialtone` binary.

mod cli;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "dialtone",
    version,
    about = "Self-hosted voice-agent telephony runtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Answer calls: carrier media streams (Twilio, Telnyx) and the TwiML webhook, with the embedded
    /// speech engines and the built-in receptionist.
    Serve(Box<cli::serve::ServeArgs>),
    /// A softphone over the carrier WebSocket protocol: say something to an agent and hear the answer.
    Call(cli::call::CallArgs),
    /// Manage the embedded engines' model files.
    Models {
        #[command(subcommand)]
        action: cli::models::ModelsAction,
    },
    /// Run a scripted call's media on a virtual clock over an emulated network.
    Simulate(cli::simulate::SimulateArgs),
    /// One call with the embedded engines, a question per turn: a table of per-turn latency by stage.
    Latency(cli::latency::LatencyArgs),
    /// Many concurrent carrier calls with instant fake backends: the runtime's own capacity.
    Loadtest(cli::loadtest::LoadtestArgs),
    /// Build an agent spec from a business website and/or instructions, and print it.
    Provision(cli::provision::ProvisionArgs),
    /// Provision many agents through the API from a customer CSV, safe to rerun.
    Batch {
        #[command(subcommand)]
        action: cli::batch::BatchAction,
    },
    /// The MCP server over stdio: Dialtone's API as tools for Claude Code and other MCP clients.
    Mcp(cli::mcp::McpArgs),
    /// Operator commands on the API store (API keys).
    Admin {
        #[command(subcommand)]
        action: cli::admin::AdminAction,
    },
}

fn main() -> anyhow::Result<()> {
    cli::init_logging();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(cli::serve::serve(*args)),
        Command::Call(args) => runtime.block_on(cli::call::run(args)),
        Command::Models { action } => cli::models::run(action),
        Command::Simulate(args) => cli::simulate::run(args),
        Command::Latency(args) => runtime.block_on(cli::latency::run(args)),
        Command::Loadtest(args) => runtime.block_on(cli::loadtest::run(args)),
        Command::Provision(args) => runtime.block_on(cli::provision::run(args)),
        Command::Batch { action } => runtime.block_on(cli::batch::run(action)),
        Command::Admin { action } => runtime.block_on(cli::admin::run(action)),
        Command::Mcp(args) => runtime.block_on(cli::mcp::run(args)),
    }
}
