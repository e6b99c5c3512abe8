//! The SIP scenario tests' harness: a Dialtone SIP endpoint in this process with instant fake backends
//! and the demo agent, and SIPp (Debian `sip-tester`) driven as a child process.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dialtone_telephony::call::CallReport;
use dialtone_telephony::http::ReportSink;
use dialtone_telephony::sip::{PortRange, SipConfig, SipServer};
use tokio::sync::mpsc;

/// A running endpoint and the reports of the calls it finished.
pub struct SipHarness {
    pub server: SipServer,
    pub reports: mpsc::UnboundedReceiver<CallReport>,
}

impl SipHarness {
    /// The next finished call's report, waiting at most `within`.
    pub async fn report(&mut self, within: Duration) -> CallReport {
        tokio::time::timeout(within, self.reports.recv())
            .await
            .expect("a call ended in time")
            .expect("the server is running")
    }
}

/// Starts an endpoint on loopback that takes calls from anyone; `adjust` changes the configuration.
/// The fake recogniser hears `script` line by line.
pub async fn start(script: &[&str], adjust: impl FnOnce(&mut SipConfig)) -> SipHarness {
    let deps = Arc::new(
        dialtone::loadtest::fake_deps(Path::new("agents"), script).expect("demo agent loads"),
    );
    let (tx, reports) = mpsc::unbounded_channel();
    let sink: ReportSink = Arc::new(move |r| {
        let _ = tx.send(r);
    });
    let mut config = SipConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        accept_any: true,
        rtp_ports: PortRange(32_000..=33_999),
        ..SipConfig::default()
    };
    adjust(&mut config);
    let server = SipServer::start(config, deps, Some(sink))
        .await
        .expect("SIP starts");
    SipHarness { server, reports }
}

/// Whether SIPp is installed. Without it the test is skipped, unless `CI` is set (CI installs it through
/// scripts/setup-debian.sh), when it fails.
pub fn have(program: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg("-v")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is required in CI: run scripts/setup-debian.sh"
        );
        eprintln!("skipped: {program} is not installed (scripts/setup-debian.sh installs it)");
    }
    found
}

/// What a SIPp run did.
pub struct SippRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs SIPp with scenario `tests/sip/{scenario}` against `server`, calling `service`; `extra` adds
/// options (`-m`, `-r`, `-l`, `-d`, `-mp`). It gives up after 120 s of scenario time.
pub async fn sipp(server: SocketAddr, scenario: &str, service: &str, extra: &[&str]) -> SippRun {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sip")
        .join(scenario);
    // SIPp's own default is 5060, where a local `dialtone serve` may be listening: take a free port.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port");
    let output = tokio::process::Command::new("sipp")
        .arg(server.to_string())
        .arg("-sf")
        .arg(&path)
        .args(["-s", service, "-i", "127.0.0.1", "-nostdin"])
        .args(["-p", &port.to_string()])
        .args(["-timeout", "120s", "-timeout_error"])
        .args(["-recv_timeout", "30000"])
        .args(extra)
        .kill_on_drop(true)
        .output()
        .await
        .expect("sipp runs");
    let run = SippRun {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if !run.success {
        eprintln!(
            "sipp {scenario} failed:\n{}\n{}",
            run.stderr,
            tail(&run.stdout, 3000)
        );
    }
    run
}

/// Starts SIPp as a server (a registrar, the far end of an outbound call) with scenario
/// `tests/sip/{scenario}` on loopback `port`, for one call. Wait on it with [`finish`].
pub fn sipp_server(scenario: &str, port: u16, extra: &[&str]) -> tokio::process::Child {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sip")
        .join(scenario);
    tokio::process::Command::new("sipp")
        .arg("-sf")
        .arg(&path)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-m",
            "1",
            "-nostdin",
        ])
        .args(["-timeout", "60s", "-timeout_error"])
        .args(extra)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("sipp starts")
}

/// Waits for a SIPp server to finish its call; true when the scenario passed.
pub async fn finish(mut child: tokio::process::Child, within: Duration) -> bool {
    match tokio::time::timeout(within, child.wait()).await {
        Ok(Ok(status)) => status.success(),
        _ => false,
    }
}

fn tail(text: &str, n: usize) -> &str {
    let start = text.len().saturating_sub(n);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}
