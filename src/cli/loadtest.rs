//! `dialtone loadtest`: concurrent carrier calls with instant fake backends.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use dialtone::loadtest::{LoadServer, run_child, sip, step};

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
    /// Run the server inside this process instead of a child process (its CPU then includes the callers').
    #[arg(long)]
    pub in_process: bool,
    /// Drive SIP calls with SIPp instead of WebSocket streams: call setups per second, then each `--calls`
    /// step as concurrent calls with speech both ways.
    #[arg(long)]
    pub sip: bool,
    /// SIP mode: calls in the setup-rate run (0 skips it).
    #[arg(long, default_value_t = 5000)]
    pub setups: usize,
    /// SIP mode: most calls in setup at once during the setup-rate run.
    #[arg(long, default_value_t = 200)]
    pub setup_limit: usize,
    /// Internal: be the child server process.
    #[arg(long, hide = true)]
    pub serve_only: bool,
}

/// Runs the steps and prints a table; the sustained figure is the largest step with every call completed,
/// no skipped frame and p99 pacing jitter within 5 ms.
pub async fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    if args.serve_only {
        return run_child(&args.agents).await;
    }
    let server = if args.in_process {
        LoadServer::in_process(&args.agents).await?
    } else {
        let exe = std::env::current_exe().context("cannot find this program")?;
        let agents = args.agents.to_string_lossy();
        LoadServer::child(&exe, &["loadtest", "--serve-only", "--agents", &agents]).await?
    };
    println!(
        "server: {}",
        if server.in_process {
            "in this process (cpu includes callers)"
        } else {
            "child process"
        }
    );
    if args.sip {
        return run_sip(&server, &args).await;
    }
    println!(
        "calls  completed  skipped  frames_rx   p99_jitter  p99_send_late  cpu/call  rss/call  caller_cpu/call"
    );
    let mut sustained = 0;
    let mut sustained_server = 0;
    for &calls in &args.calls {
        let r = step(&server, calls, Duration::from_secs(args.seconds)).await?;
        let ok = r.completed == calls && r.skipped_frames == 0 && r.p99_jitter_ms <= 5.0;
        let server_ok = r.completed == calls
            && r.skipped_frames == 0
            && r.p99_send_lateness_ms.is_some_and(|ms| ms <= 5);
        if server_ok {
            sustained_server = sustained_server.max(calls);
        }
        let send_late = match r.p99_send_lateness_ms {
            None => "-".to_owned(),
            Some(u32::MAX) => "> 100 ms".to_owned(),
            Some(ms) => format!("<= {ms} ms"),
        };
        println!(
            "{:5}  {:9}  {:7}  {:9}  {:8.2} ms  {:>13}  {:6.3} %  {:5.0} KiB  {:6.3} %  {}",
            r.calls,
            r.completed,
            r.skipped_frames,
            r.frames_received,
            r.p99_jitter_ms,
            send_late,
            r.cpu_per_call * 100.0,
            r.rss_per_call_kib,
            r.caller_cpu_per_call * 100.0,
            if ok { "ok" } else { "MISSED" }
        );
        if ok {
            sustained = sustained.max(calls);
        } else if args.stop_on_failure {
            break;
        }
    }
    println!(
        "sustained: {sustained} concurrent calls (0 skipped frames, p99 pacing jitter <= 5 ms at the callers)"
    );
    println!(
        "server pacing: {sustained_server} concurrent calls (0 skipped frames, p99 send slot lateness <= 5 ms in the call loop)"
    );
    Ok(())
}

/// The SIP mode: setups per second, then the concurrent steps.
async fn run_sip(server: &LoadServer, args: &LoadtestArgs) -> anyhow::Result<()> {
    if args.setups > 0 {
        let r = sip::setups(server, args.setups, args.setup_limit).await?;
        println!(
            "setups: {}/{} calls completed, {:.0} setups/s (INVITE -> 200 OK {} at {} in flight)",
            r.completed,
            r.calls,
            r.setups_per_second,
            // SIPp reports response times in whole milliseconds.
            match r.setup_ms {
                Some(ms) if ms >= 1.0 => format!("{ms:.0} ms average"),
                Some(_) => "under 1 ms on average".to_owned(),
                None => "time n/a".to_owned(),
            },
            args.setup_limit
        );
    }
    println!("calls  completed  peak_up  skipped  cpu/call  rss/call");
    let mut sustained = 0;
    for &calls in &args.calls {
        let r = sip::concurrent(server, calls, Duration::from_secs(args.seconds)).await?;
        let ok = r.completed == calls && r.skipped_frames == 0;
        println!(
            "{:5}  {:9}  {:7}  {:7}  {:6.3} %  {:5.0} KiB  {}",
            r.calls,
            r.completed,
            r.peak_active,
            r.skipped_frames,
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
    println!("sustained: {sustained} concurrent SIP calls (all completed, 0 skipped frames)");
    Ok(())
}
