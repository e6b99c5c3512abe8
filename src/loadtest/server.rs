//! The server side of the load test: a Dialtone media endpoint with instant fake backends, a SIP endpoint
//! on loopback for `--sip`, and a stats route the load tool reads between steps. It runs in a child
//! process by default, so the server's CPU and memory per call are measured apart from the emulated
//! callers'.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use dialtone_media::{LATENESS_BOUNDS_MS, LatenessHistogram};
use dialtone_telephony::call::CallReport;
use dialtone_telephony::http::stream_routes;
use dialtone_telephony::sip::{PortRange, SipConfig, SipServer};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::fake_deps;
use super::proc_stats::{cpu_seconds, rss_kib};

/// Path of the stats route.
const STATS_PATH: &str = "/loadtest/stats";
/// The line a child server prints once it listens, followed by its address.
const READY: &str = "dialtone-loadtest-server listening on ";

/// Counters of the server process, cumulative since it started.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ServerStats {
    /// Calls that ended and reported.
    pub calls_ended: u64,
    /// 20 ms ticks the call loops skipped because they fell behind.
    pub skipped_ticks: u64,
    /// CPU seconds (user + system) of the server process.
    pub cpu_seconds: f64,
    /// Resident memory of the server process, KiB.
    pub rss_kib: f64,
    /// The SIP endpoint's address.
    #[serde(default)]
    pub sip_addr: Option<SocketAddr>,
    /// SIP calls running now.
    #[serde(default)]
    pub sip_active: usize,
    /// Agent send slots of ended calls by lateness (buckets of `LatenessHistogram`).
    #[serde(default)]
    pub tx_lateness: [u64; LATENESS_BUCKETS],
}

/// Buckets of the send-lateness histogram.
const LATENESS_BUCKETS: usize = LATENESS_BOUNDS_MS.len() + 1;

impl ServerStats {
    /// The send-lateness histogram.
    pub fn lateness(&self) -> LatenessHistogram {
        LatenessHistogram {
            counts: self.tx_lateness,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    calls_ended: AtomicU64,
    skipped_ticks: AtomicU64,
    tx_lateness: [AtomicU64; LATENESS_BUCKETS],
}

/// A running load-test server: where to call it, and the child process if it has its own.
#[derive(Debug)]
pub struct LoadServer {
    /// Address of the media endpoint and the stats route.
    pub addr: SocketAddr,
    /// Whether the server shares this process (its CPU then includes the callers').
    pub in_process: bool,
    _child: Option<tokio::process::Child>,
}

impl LoadServer {
    /// Starts the server inside this process.
    pub async fn in_process(agents: &Path) -> anyhow::Result<Self> {
        let addr = serve(agents, "127.0.0.1:0".parse()?).await?;
        Ok(Self {
            addr,
            in_process: true,
            _child: None,
        })
    }

    /// Starts the server as a child process running `exe` with `args` (normally this binary's hidden
    /// server mode), and waits for it to report its address.
    pub async fn child(exe: &Path, args: &[&str]) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new(exe)
            .args(args)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let stdout = child.stdout.take().context("child has no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await? {
            if let Some(addr) = line.strip_prefix(READY) {
                let addr = addr
                    .trim()
                    .parse()
                    .context("bad address from the load server")?;
                return Ok(Self {
                    addr,
                    in_process: false,
                    _child: Some(child),
                });
            }
        }
        anyhow::bail!("the load server exited before listening")
    }

    /// Reads the server's counters.
    pub async fn stats(&self) -> anyhow::Result<ServerStats> {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await?;
        let request = format!(
            "GET {STATS_PATH} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .context("bad stats response")?;
        Ok(serde_json::from_str(body)?)
    }
}

/// Serves the fake-backend media endpoint and the stats route on `bind`; returns the bound address.
pub async fn serve(agents: &Path, bind: SocketAddr) -> anyhow::Result<SocketAddr> {
    let deps = Arc::new(fake_deps(agents, &[])?);
    let counters = Arc::new(Counters::default());
    let sink = {
        let counters = Arc::clone(&counters);
        Arc::new(move |r: CallReport| {
            if let Some(media) = &r.media {
                counters
                    .skipped_ticks
                    .fetch_add(media.skipped_ticks, Ordering::Relaxed);
                for (total, count) in counters.tx_lateness.iter().zip(media.tx_lateness.counts) {
                    total.fetch_add(count, Ordering::Relaxed);
                }
            }
            counters.calls_ended.fetch_add(1, Ordering::Relaxed);
        })
    };
    // SIP calls on loopback from anyone (the load tool's SIPp), with room for the largest step.
    let sip_config = SipConfig {
        listen: "127.0.0.1:0".parse()?,
        accept_any: true,
        max_calls: 4000,
        rtp_ports: PortRange(20_000..=29_999),
        ..SipConfig::default()
    };
    let sip = SipServer::start(sip_config, Arc::clone(&deps), Some(sink.clone())).await?;
    let stats = move || {
        let counters = Arc::clone(&counters);
        let sip = sip.clone();
        async move {
            axum::Json(ServerStats {
                calls_ended: counters.calls_ended.load(Ordering::Relaxed),
                skipped_ticks: counters.skipped_ticks.load(Ordering::Relaxed),
                cpu_seconds: cpu_seconds(),
                rss_kib: rss_kib(),
                sip_addr: Some(sip.local_addr()),
                sip_active: sip.active_calls(),
                tx_lateness: std::array::from_fn(|i| {
                    counters.tx_lateness[i].load(Ordering::Relaxed)
                }),
            })
        }
    };
    let app = Router::new()
        .merge(stream_routes(deps, None, Some(sink)))
        .route(STATS_PATH, get(stats));
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        axum::serve(dialtone_telephony::http::media_listener(listener), app).await
    });
    Ok(addr)
}

/// The child process's main: serve, announce the address on stdout, run until killed.
pub async fn run_child(agents: &Path) -> anyhow::Result<()> {
    let addr = serve(agents, "127.0.0.1:0".parse()?).await?;
    println!("{READY}{addr}");
    std::future::pending::<()>().await;
    Ok(())
}
