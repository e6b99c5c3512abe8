//! The load tool's SIP mode: SIPp (Debian `sip-tester`) drives calls at the server's SIP endpoint, whose
//! agents answer with instant fake backends. Two measures: call setups per second (INVITE, 200, ACK,
//! BYE with no media, as fast as the server answers) and concurrent calls (each playing G.711 speech from
//! SIPp's pcap while the agent sends RTP back), with the frames the server's call loops skipped.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::time::Instant;

use super::LoadServer;

const SETUP_SCENARIO: &str = include_str!("../../tests/sip/uac_setup.xml");
const PCAP_SCENARIO: &str = include_str!("../../tests/sip/uac_pcap.xml");
/// The demo agent's number.
const SERVICE: &str = "15035550142";

/// Results of a setup-rate run.
#[derive(Debug, Clone)]
pub struct SetupResult {
    /// Calls attempted.
    pub calls: usize,
    /// Calls that completed (INVITE answered 200, BYE answered 200).
    pub completed: usize,
    /// Completed calls per second of wall time.
    pub setups_per_second: f64,
    /// Median INVITE -> 200 OK time SIPp measured, ms (when it reported one).
    pub setup_ms: Option<f64>,
}

/// Results of a concurrent-calls step.
#[derive(Debug, Clone)]
pub struct ConcurrentResult {
    /// Calls held at once.
    pub calls: usize,
    /// Calls that completed.
    pub completed: usize,
    /// Most calls the server had up at one time, as sampled.
    pub peak_active: usize,
    /// 20 ms ticks the server's call loops skipped over the step (0 is the target).
    pub skipped_frames: u64,
    /// Server CPU per call, as a share of one core.
    pub cpu_per_call: f64,
    /// Server resident memory added per call at the peak, KiB.
    pub rss_per_call_kib: f64,
}

/// Writes a scenario to a temporary file for SIPp.
fn scenario_file(name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("dialtone-{}-{name}", std::process::id()));
    std::fs::write(&path, text)?;
    Ok(path)
}

struct SippOutput {
    ok: bool,
    successful: usize,
    setup_ms: Option<f64>,
}

async fn run_sipp(target: &str, scenario: &PathBuf, args: &[String]) -> anyhow::Result<SippOutput> {
    // SIPp's own default is 5060, where a local `dialtone serve` may be listening: take a free port.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let output = tokio::process::Command::new("sipp")
        .arg(target)
        .args(["-p", &port.to_string()])
        .arg("-sf")
        .arg(scenario)
        .args(["-s", SERVICE, "-i", "127.0.0.1", "-nostdin"])
        .args([
            "-timeout",
            "600s",
            "-timeout_error",
            "-recv_timeout",
            "30000",
        ])
        .args(args)
        .output()
        .await
        .context("cannot run sipp (install Debian's sip-tester)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(SippOutput {
        ok: output.status.success(),
        successful: last_count(&stdout, "Successful call").unwrap_or(0),
        setup_ms: response_time(&stdout),
    })
}

/// The cumulative column of a SIPp statistics line (`  Successful call  |  0  |  5000`).
fn last_count(screen: &str, label: &str) -> Option<usize> {
    screen
        .lines()
        .rfind(|l| l.trim_start().starts_with(label))?
        .rsplit('|')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// SIPp's cumulative response time of the `setup` timer (`Response Time setup | 00:00:00:001000 | ...`),
/// in ms.
fn response_time(screen: &str) -> Option<f64> {
    let line = screen
        .lines()
        .rfind(|l| l.trim_start().starts_with("Response Time setup"))?;
    let value = line.rsplit('|').next()?.trim();
    let mut parts = value.split(':');
    let (h, m, s, us) = (
        parts.next()?.parse::<f64>().ok()?,
        parts.next()?.parse::<f64>().ok()?,
        parts.next()?.parse::<f64>().ok()?,
        parts.next()?.parse::<f64>().ok()?,
    );
    Some(((h * 60.0 + m) * 60.0 + s) * 1000.0 + us / 1000.0)
}

async fn sip_target(server: &LoadServer) -> anyhow::Result<String> {
    let stats = server.stats().await?;
    let addr = stats
        .sip_addr
        .context("the load server has no SIP endpoint")?;
    Ok(addr.to_string())
}

/// Sets up `calls` calls, at most `limit` at a time, as fast as the server answers.
pub async fn setups(
    server: &LoadServer,
    calls: usize,
    limit: usize,
) -> anyhow::Result<SetupResult> {
    let target = sip_target(server).await?;
    let scenario = scenario_file("uac_setup.xml", SETUP_SCENARIO)?;
    let started = Instant::now();
    let args: Vec<String> = [
        "-m",
        &calls.to_string(),
        "-l",
        &limit.to_string(),
        "-r",
        "2000",
        "-rate_increase",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = run_sipp(&target, &scenario, &args).await?;
    let wall = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&scenario);
    if !out.ok && out.successful == 0 {
        bail!("no call completed; is sipp installed and the server up?");
    }
    Ok(SetupResult {
        calls,
        completed: out.successful,
        setups_per_second: out.successful as f64 / wall,
        setup_ms: out.setup_ms,
    })
}

/// Holds `calls` calls at once for `length`, each with speech both ways.
pub async fn concurrent(
    server: &LoadServer,
    calls: usize,
    length: Duration,
) -> anyhow::Result<ConcurrentResult> {
    let target = sip_target(server).await?;
    let scenario = scenario_file("uac_pcap.xml", PCAP_SCENARIO)?;
    let before = server.stats().await?;
    let started = Instant::now();
    // Starts spread over a few seconds, like real arrivals; each call then lasts `length`.
    let rate = (calls / 5).max(10);
    let args: Vec<String> = [
        "-m".to_string(),
        calls.to_string(),
        "-l".into(),
        calls.to_string(),
        "-r".into(),
        rate.to_string(),
        "-d".into(),
        length.as_millis().to_string(),
        "-mp".into(),
        "18000".into(),
    ]
    .into();
    let sipp = tokio::spawn(async move { run_sipp(&target, &scenario, &args).await });
    // Sample the server while the calls are up: the most calls at once, and its memory then.
    let mut peak = 0;
    let mut peak_rss_kib = before.rss_kib;
    while !sipp.is_finished() {
        let now = server.stats().await?;
        if now.sip_active >= peak {
            peak = now.sip_active;
            peak_rss_kib = peak_rss_kib.max(now.rss_kib);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let out = sipp.await??;
    // Reports land as each call ends; wait for the last ones.
    let mut after = server.stats().await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while after.calls_ended - before.calls_ended < out.successful as u64
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = server.stats().await?;
    }
    let wall = started.elapsed().as_secs_f64();
    Ok(ConcurrentResult {
        calls,
        completed: out.successful,
        peak_active: peak,
        skipped_frames: after.skipped_ticks - before.skipped_ticks,
        cpu_per_call: (after.cpu_seconds - before.cpu_seconds) / wall / calls.max(1) as f64,
        rss_per_call_kib: (peak_rss_kib - before.rss_kib).max(0.0) / peak.max(1) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sipp_screens_are_read() {
        let screen = "  Successful call        |        0                  |        5000\n\
                      Response Time setup      | 00:00:00:000000          | 00:00:00:002500\n\
                        Failed call            |        0                  |        0\n";
        assert_eq!(last_count(screen, "Successful call"), Some(5000));
        assert_eq!(response_time(screen), Some(2.5));
    }
}
