//! `dialtone loadtest`: concurrent carrier calls with instant fake backends.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dialtone::loadtest::{start_server, step};

/// Options of `dialtone loadtest`.
#[derive(Debug, clap::Args)]
pub struct LoadtestArgs {
    /// Concurrent calls per step.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100,250,500,1000,1500,2000"
    )]
    pub calls: Vec<usize>,
    /// Seconds each step runs.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Agent files.
    #[arg(long, default_value = "agents")]
    pub agents: PathBuf,
    /// Stop at the first step that misses a target.
    #[arg(long)]
    pub stop_on_failure: bool,
}

/// Runs the steps and prints a table; the sustained figure is the largest step with every call completed,
/// no skipped frame and p99 pacing jitter within 5 ms.
pub async fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let addr = start_server(&args.agents, Arc::clone(&reports)).await?;
    println!("calls  completed  skipped  frames_rx   p99_jitter  cpu/call  rss/call");
    let mut sustained = 0;
    for &calls in &args.calls {
        let r = step(addr, &reports, calls, Duration::from_secs(args.seconds)).await;
        let ok = r.completed == calls && r.skipped_frames == 0 && r.p99_jitter_ms <= 5.0;
        println!(
            "{:5}  {:9}  {:7}  {:9}  {:8.2} ms  {:6.2} %  {:5.0} KiB  {}",
            r.calls,
            r.completed,
            r.skipped_frames,
            r.frames_received,
            r.p99_jitter_ms,
            r.cpu_per_call * 100.0,
            r.rss_per_call_kib,
            if ok { "ok" } else { "MISSED" }
        );
        if ok {
            sustained = sustained.max(calls);
        } else if args.stop_on_failure {
            break;
        }
    }
    println!(
        "sustained: {sustained} concurrent calls (0 skipped frames, p99 pacing jitter <= 5 ms)"
    );
    Ok(())
}
