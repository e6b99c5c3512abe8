//! The load tool: many concurrent carrier calls against a Dialtone server with instant fake speech
//! backends, to measure the runtime itself. Each emulated caller talks for a second every few seconds and
//! echoes marks like Twilio; the agent greets and answers each time, so audio flows both ways.
//!
//! Measured per step: frames the server had to skip (its call loops fell behind), the pacing of the
//! agent's frames as the callers receive them (deviation from 20 ms inside a talkspurt), and the server
//! process's CPU and RSS per call. The server runs in its own process by default, so its figures exclude
//! the callers; on one machine both still share the cores, so the sustained figure is a floor.

mod caller;
mod proc_stats;
mod server;
pub mod sip;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use dialtone_media::{CallMediaConfig, SampleRate};
use dialtone_telephony::agent::load_agents_dir;
use dialtone_telephony::backend::fake::{InstantTts, ScriptedStt};
use dialtone_telephony::backend::receptionist::ReceptionistProvider;
use dialtone_telephony::backend::registry::{CallProviders, ProviderRegistry};
use dialtone_telephony::call::{CallDeps, StaticDirectory, SystemClock};
use tokio::time::Instant;

use caller::{CallerAudio, caller};
pub use server::{LoadServer, ServerStats, run_child};

/// Results of one step of the load test.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// Concurrent calls.
    pub calls: usize,
    /// Calls that connected and ran to the end.
    pub completed: usize,
    /// 20 ms ticks the server skipped because a call loop fell behind (0 is the target).
    pub skipped_frames: u64,
    /// Agent frames received by callers.
    pub frames_received: u64,
    /// p99 of |inter-arrival - 20 ms| of agent frames inside talkspurts as the callers saw them, ms: the
    /// server's pacing plus the callers' own scheduling on a shared machine.
    pub p99_jitter_ms: f64,
    /// The server's own pacing: the bucket bound (ms) under which 99% of its send slots ran, measured in
    /// the call loop (`u32::MAX` past 100 ms, `None` when no call ended in the step).
    pub p99_send_lateness_ms: Option<u32>,
    /// Server CPU time per call, as a share of one core.
    pub cpu_per_call: f64,
    /// Callers' CPU time per call (this process), as a share of one core; 0 when the server shares it.
    pub caller_cpu_per_call: f64,
    /// Server resident memory added per call while the calls ran, KiB.
    pub rss_per_call_kib: f64,
}

/// Call dependencies with instant fake speech backends (the recogniser hears `script` in order, then
/// "hello") and the real receptionist over the agents in `agents`: the runtime without the engines.
pub fn fake_deps(agents: &std::path::Path, script: &[&str]) -> anyhow::Result<CallDeps> {
    let agents = load_agents_dir(agents).context("cannot load agents")?;
    Ok(CallDeps {
        directory: Arc::new(StaticDirectory::new(agents)),
        providers: ProviderRegistry::fixed(CallProviders {
            stt: Arc::new(ScriptedStt::new(
                SampleRate::HZ_16000,
                script.iter().map(|s| (*s).to_owned()),
            )),
            tts: Arc::new(InstantTts::new(SampleRate::HZ_22050)),
            dialogue: Arc::new(ReceptionistProvider),
        }),
        media: CallMediaConfig::pcmu(),
        clock: Arc::new(SystemClock),
    })
}

/// Runs `calls` concurrent calls for `length` against `server`.
pub async fn step(
    server: &LoadServer,
    calls: usize,
    length: Duration,
) -> anyhow::Result<StepResult> {
    let audio = Arc::new(CallerAudio::new());
    let before = server.stats().await?;
    let caller_cpu_before = proc_stats::cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(calls);
    // Real calls start at random moments, so their 20 ms ticks fall at every phase; starting them all at
    // once would stack every tick on the same instant. Spread the starts evenly over a second.
    let spacing = Duration::from_secs(1) / calls.max(1) as u32;
    for i in 0..calls {
        tasks.push(tokio::spawn(caller(
            server.addr,
            i,
            length,
            Arc::clone(&audio),
        )));
        tokio::time::sleep(spacing).await;
    }
    // Memory while all calls are up.
    tokio::time::sleep(length / 2).await;
    let during = server.stats().await?;
    let mut frames = 0;
    let mut jitter: Vec<u32> = Vec::new();
    let mut completed = 0;
    for t in tasks {
        if let Ok(Ok(s)) = t.await {
            completed += 1;
            frames += s.frames;
            jitter.extend(s.jitter_us);
        }
    }
    // A call's report lands just before the server closes its socket; give stragglers a moment.
    let mut after = server.stats().await?;
    for _ in 0..50 {
        if after.calls_ended - before.calls_ended >= completed as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        after = server.stats().await?;
    }
    let wall = started.elapsed().as_secs_f64();
    jitter.sort_unstable();
    let p99 = jitter
        .get(jitter.len().saturating_sub(1) * 99 / 100)
        .map_or(0.0, |&us| f64::from(us) / 1000.0);
    let per_call = |seconds: f64| seconds / wall / calls.max(1) as f64;
    Ok(StepResult {
        calls,
        completed,
        skipped_frames: after.skipped_ticks - before.skipped_ticks,
        frames_received: frames,
        p99_jitter_ms: p99,
        p99_send_lateness_ms: after
            .lateness()
            .since(&before.lateness())
            .quantile_bound_ms(0.99),
        cpu_per_call: per_call(after.cpu_seconds - before.cpu_seconds),
        caller_cpu_per_call: if server.in_process {
            0.0
        } else {
            per_call(proc_stats::cpu_seconds() - caller_cpu_before)
        },
        rss_per_call_kib: (during.rss_kib - before.rss_kib).max(0.0) / calls.max(1) as f64,
    })
}
