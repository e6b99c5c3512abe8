//! `dialtone serve`: the HTTP endpoints carriers reach, with the embedded engines behind them, and the
//! control plane: the store, the job workers, the knowledge monitor and webhook delivery.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use dialtone::defaults::{ProviderChoice, build_serve_deps};
use dialtone_api::browser_calls::browser_call_check;
use dialtone_api::directory::{CallRecorder, DEFAULT_REFRESH, StoreDirectory};
use dialtone_api::jobs::{JobRunner, run_monitor};
use dialtone_api::metrics::{self, MetricsAccess};
use dialtone_api::store::{DbLocation, Store};
use dialtone_api::tasks::{CallingHours, OpenAiSummarizer, SipDialer, TaskConfig, TaskWorker};
use dialtone_api::webhooks::{WebhookConfig, WebhookWorker};
use dialtone_api::{ApiConfig, ApiContext};
use dialtone_provisioning::CrawlConfig;
use dialtone_telephony::backend::openai::OpenAiConfig;
use dialtone_telephony::http::stream_routes;
use dialtone_telephony::webrtc::{WebRtcConfig, webrtc_routes};
use tokio::sync::watch;
use tracing::{info, warn};

/// Connections the store keeps open: the job workers, the webhook worker, the directory, the call log and
/// API requests share them.
const STORE_CONNECTIONS: u32 = 16;
/// How long shutdown waits for the workers and the call log to finish what they hold.
const DRAIN: Duration = Duration::from_secs(10);
use dialtone_telephony::sip::{SipConfig, SipServer};

/// Options of `dialtone serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// HTTP address (API, dashboard, media-stream WebSockets, TwiML).
    #[arg(long, env = "DIALTONE_HTTP", default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// Directory of agent files (`*.toml`, `*.json`); agents provisioned through the API live in the store.
    #[arg(long, env = "DIALTONE_AGENTS", default_value = "agents")]
    pub agents: PathBuf,
    /// Data directory: the SQLite store (`dialtone.db`) unless `DATABASE_URL` names PostgreSQL.
    #[arg(long, env = "DIALTONE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Public base URL carriers reach this server at (`https://voice.example.com`); TwiML points
    /// Twilio's media stream there. Defaults to the request's Host header.
    #[arg(long, env = "DIALTONE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Voice for agents that name none: a flite voice (`slt`, `kal16`, `awb`, `rms`; default `slt`) or an
    /// OpenAI one (default `alloy`). Piper speaks with its installed voice.
    #[arg(long, env = "DIALTONE_VOICE")]
    pub voice: Option<String>,
    /// Speech recognition for agents that name none (an agent file's `providers` overrides each role):
    /// `embedded` (whisper.cpp) or `openai` (OPENAI_BASE_URL, OPENAI_API_KEY).
    #[arg(long, env = "DIALTONE_STT", default_value = "embedded")]
    pub stt: String,
    /// Dialogue: `receptionist` (built-in, no model) or `openai` (any OpenAI-compatible chat server).
    #[arg(long, env = "DIALTONE_LLM", default_value = "receptionist")]
    pub llm: String,
    /// Speech synthesis: `auto` (Piper when installed, else flite), `piper`, `flite` or `openai`.
    #[arg(long, env = "DIALTONE_TTS", default_value = "auto")]
    pub tts: String,
    /// Voice activity detection: `auto` (Silero, gated by the WebRTC VAD, when installed; else WebRTC
    /// alone), `silero` or `webrtc`.
    #[arg(long, env = "DIALTONE_VAD", default_value = "auto")]
    pub vad: String,
    /// How long a job's claim lasts without a heartbeat, in milliseconds: after a crash, the time before
    /// another worker (or this one, restarted) takes the job over.
    #[arg(long, env = "DIALTONE_JOB_LEASE_MS", default_value_t = 30_000)]
    pub job_lease_ms: u64,
    /// Jobs (provisioning, knowledge syncs) run at once by this process. A job spends nearly all its
    /// time waiting on a website's politeness gap, not on a core, so this is well above the core count.
    #[arg(long, env = "DIALTONE_JOB_WORKERS", default_value_t = 16)]
    pub job_workers: usize,
    /// Seconds between re-reads of each agent's website for knowledge changes.
    #[arg(long, env = "DIALTONE_KB_MONITOR_SECS", default_value_t = 24 * 3600)]
    pub kb_monitor_secs: u64,
    /// API requests that change something (POST, PATCH, DELETE) per minute per token; 0 for no limit.
    #[arg(long, env = "DIALTONE_WRITE_RATE_PER_MINUTE", default_value_t = 120)]
    pub write_rate_per_minute: u32,
    /// API reads per minute per token; 0 for no limit.
    #[arg(long, env = "DIALTONE_READ_RATE_PER_MINUTE", default_value_t = 1200)]
    pub read_rate_per_minute: u32,
    /// SIP (UDP) address; overrides `listen` in the SIP configuration file.
    #[arg(long, env = "DIALTONE_SIP", default_value = "0.0.0.0:5060")]
    pub sip: SocketAddr,
    /// Do not start SIP.
    #[arg(long, env = "DIALTONE_NO_SIP", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_sip: bool,
    /// SIP configuration: a TOML file with a `[sip]` table (trunks, users, RTP ports, codecs, limits).
    #[arg(long, env = "DIALTONE_SIP_CONFIG")]
    pub sip_config: Option<PathBuf>,
    /// Take SIP calls from anyone, without trunk addresses or digest (tests and development only).
    #[arg(long, env = "DIALTONE_SIP_ACCEPT_ANY", value_parser = clap::builder::BoolishValueParser::new())]
    pub sip_accept_any: bool,
    /// Most concurrent SIP calls (overrides the file's `max_calls`).
    #[arg(long, env = "DIALTONE_SIP_MAX_CALLS")]
    pub sip_max_calls: Option<usize>,
    /// RTP port range, `FIRST-LAST` (overrides the file's `rtp_ports`).
    #[arg(long, env = "DIALTONE_RTP_PORTS")]
    pub rtp_ports: Option<String>,
    /// Mission calls (`POST /v2/tasks`) start only in this window, `HH:MM-HH:MM` local to the callee;
    /// equal bounds allow any time.
    #[arg(long, env = "DIALTONE_CALLING_HOURS", default_value = "09:00-20:00")]
    pub calling_hours: String,
    /// The time zone of callees whose number does not name one (IANA, e.g. `America/New_York`).
    #[arg(long, env = "DIALTONE_CALLING_ZONE", default_value = "UTC")]
    pub calling_zone: String,
    /// Mission calls one workspace may have up at once.
    #[arg(long, env = "DIALTONE_TASK_MAX_PER_TENANT", default_value_t = 2)]
    pub task_max_per_tenant: u32,
    /// The trunk mission calls go out through (the first configured one when absent).
    #[arg(long, env = "DIALTONE_TASK_TRUNK")]
    pub task_trunk: Option<String>,
    /// The address browser calls (`POST /webrtc/offer`) take their media on and offer as their ICE host
    /// candidate: the LAN address for browsers on other machines. Default: the HTTP address's IP; when
    /// that is unspecified (`0.0.0.0`), the machine's outward address (loopback if it has no route).
    /// Off loopback the route needs an API key or access token.
    #[arg(long, env = "DIALTONE_WEBRTC_IP")]
    pub webrtc_ip: Option<std::net::IpAddr>,
    /// Bearer token a Prometheus scrape of `/metrics` must send. Without one, `/metrics` is served
    /// unauthenticated when `--http` is a loopback address, and refused on any other.
    #[arg(long, env = "DIALTONE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A web origin (`https://app.example.com`, or `*`) whose pages may call the API, browser-call
    /// signalling and MCP from a browser (CORS); repeat for several. Pages Dialtone serves itself need
    /// none.
    #[arg(
        long = "cors-origin",
        env = "DIALTONE_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
}

impl ServeArgs {
    /// The SIP configuration: the file's, with the flags on top; `None` with `--no-sip`.
    pub fn sip_config(&self) -> anyhow::Result<Option<SipConfig>> {
        if self.no_sip {
            return Ok(None);
        }
        let mut config = match &self.sip_config {
            Some(path) => SipConfig::load(path)?,
            None => SipConfig::default(),
        };
        config.listen = self.sip;
        config.accept_any |= self.sip_accept_any;
        if let Some(max) = self.sip_max_calls {
            config.max_calls = max;
        }
        if let Some(range) = &self.rtp_ports {
            config.rtp_ports = SipConfig::from_toml(&format!("[sip]\nrtp_ports = \"{range}\""))
                .context("bad --rtp-ports")?
                .rtp_ports;
        }
        config.check()?;
        Ok(Some(config))
    }

    /// How the mission task worker schedules calls.
    fn task_config(&self) -> anyhow::Result<TaskConfig> {
        let (start_minute, end_minute) = CallingHours::parse_window(&self.calling_hours)
            .context("bad --calling-hours: expected HH:MM-HH:MM")?;
        dialtone_telephony::agent::time_zone(&self.calling_zone)
            .map_err(anyhow::Error::msg)
            .context("bad --calling-zone")?;
        Ok(TaskConfig {
            max_concurrent_per_tenant: self.task_max_per_tenant.max(1),
            hours: CallingHours {
                start_minute,
                end_minute,
                default_zone: self.calling_zone.clone(),
            },
            ..TaskConfig::default()
        })
    }

    /// Where browser calls take their media.
    fn webrtc_config(&self) -> WebRtcConfig {
        let http = self.http.ip();
        let host = self.webrtc_ip.unwrap_or_else(|| {
            if http.is_unspecified() {
                // Listening everywhere means browsers elsewhere on the network, which reach the
                // machine's LAN address (so does a browser on this machine); loopback reaches only
                // the latter.
                dialtone_telephony::webrtc::outward_ip()
                    .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
            } else {
                http
            }
        });
        WebRtcConfig {
            host,
            ..WebRtcConfig::default()
        }
    }

    /// The control plane's settings: the crawler's allow-list from `DIALTONE_CRAWL_ALLOW`, the rest from
    /// the flags.
    fn api_config(&self) -> anyhow::Result<ApiConfig> {
        Ok(ApiConfig {
            crawl: CrawlConfig::from_env().context("bad DIALTONE_CRAWL_ALLOW")?,
            job_lease: Duration::from_millis(self.job_lease_ms.max(100)),
            job_workers: self.job_workers.max(1),
            kb_monitor_interval: Duration::from_secs(self.kb_monitor_secs.max(1)),
            public_url: self.public_url.clone(),
            write_rate_per_minute: self.write_rate_per_minute,
            read_rate_per_minute: self.read_rate_per_minute,
            ..ApiConfig::default()
        })
    }
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let choice = ProviderChoice {
        stt: args.stt.clone(),
        llm: args.llm.clone(),
        tts: args.tts.clone(),
        voice: args.voice.clone(),
        vad: args.vad.clone(),
    };
    let sip_config = args.sip_config()?;
    let config = args.api_config()?;
    let task_config = args.task_config()?;
    let mut deps = build_serve_deps(&args.agents, &choice)?;

    let location = DbLocation::from_env(&args.data_dir).context("bad DATABASE_URL")?;
    let store = Store::open(&location, STORE_CONNECTIONS)
        .await
        .with_context(|| match &location {
            DbLocation::Sqlite(path) => format!("cannot open the store at {}", path.display()),
            DbLocation::Postgres(_) => "cannot open the PostgreSQL store".to_owned(),
        })?;
    let ctx = ApiContext::new(store.clone(), config);
    let directory = StoreDirectory::load(ctx.clone(), Arc::clone(&deps.directory))
        .await
        .context("cannot load agents from the store")?;
    deps.directory = Arc::clone(&directory) as _;
    let deps = Arc::new(deps);
    info!(
        store_agents = directory.store_agents(),
        "agent directory loaded"
    );

    let (stop, shutdown) = watch::channel(false);
    let (report_sink, call_log) = CallRecorder::spawn(ctx.clone(), Arc::clone(&directory));
    let jobs = JobRunner::new(ctx.clone(), Some(Arc::clone(&directory)))
        .context("bad crawl configuration")?;
    let webhooks = WebhookWorker::new(ctx.clone(), WebhookConfig::default())?;
    let mut workers = vec![
        tokio::spawn(jobs.run(shutdown.clone())),
        tokio::spawn(run_monitor(ctx.clone(), shutdown.clone())),
        tokio::spawn(webhooks.run(shutdown.clone())),
        tokio::spawn(Arc::clone(&directory).run(DEFAULT_REFRESH, shutdown.clone())),
    ];

    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(stream_routes(
            Arc::clone(&deps),
            args.public_url.clone(),
            Some(Arc::clone(&report_sink)),
        ));
    // The REST API v2, its OpenAPI document and reference page; and MCP at /mcp, whose tools call that
    // same router (one rate-limit budget per token).
    let api = dialtone_api::http::router(ctx.clone());
    // Browser calls: open when their media is on loopback (only this machine can reach it), else they
    // need the API's tokens like the REST API.
    let webrtc = args.webrtc_config();
    let auth = (!webrtc.host.is_loopback())
        .then(|| browser_call_check(ctx.clone(), Arc::clone(&directory)));
    let browser_facing = webrtc_routes(
        Arc::clone(&deps),
        webrtc,
        Some(Arc::clone(&report_sink)),
        auth,
    )
    .merge(api.clone())
    .merge(dialtone::mcp::http::routes(ctx.clone(), api));
    let browser_facing = match super::cors::cors_layer(&args.cors_origins)? {
        Some(cors) => browser_facing.layer(cors),
        None => browser_facing,
    };
    // The dashboard is same-origin with the API it calls: no CORS of its own.
    let app = app
        .merge(browser_facing)
        .merge(dialtone::dashboard::routes());
    let listener = tokio::net::TcpListener::bind(args.http)
        .await
        .with_context(|| format!("cannot listen on {}", args.http))?;
    let addr = listener.local_addr()?;
    let metrics_access = MetricsAccess::new(addr, args.metrics_token.as_deref());
    if metrics_access == MetricsAccess::Closed {
        warn!(%addr, "/metrics is refused: not on loopback and no --metrics-token");
    }
    let app = app.merge(metrics::routes(ctx.clone(), metrics_access.clone()));
    info!(%addr, "listening");
    println!("Dialtone is answering calls on http://{addr}");
    println!("  media streams: ws://{addr}/streams/twilio (Telnyx: /streams/telnyx)");
    println!(
        "  Twilio voice webhook: POST http://{addr}/twilio/voice (set DIALTONE_PUBLIC_URL behind a tunnel)"
    );
    println!(
        "  browser calls: POST http://{addr}/webrtc/offer (WebRTC media on {})",
        webrtc.host
    );
    println!("  dashboard: http://{addr}{}", dialtone::dashboard::BASE);
    println!("  MCP: http://{addr}/mcp (streamable HTTP, Authorization: Bearer <API key>)");
    match metrics_access {
        MetricsAccess::Open => println!("  metrics: http://{addr}/metrics (Prometheus)"),
        MetricsAccess::Token(_) => println!(
            "  metrics: http://{addr}/metrics (Prometheus, Authorization: Bearer <metrics token>)"
        ),
        MetricsAccess::Closed => {
            println!("  metrics: off (set --metrics-token to serve /metrics off loopback)")
        }
    }
    println!(
        "  try it: dialtone call --url ws://{addr}/streams/twilio --say \"What time do you open on Saturday?\""
    );
    match &location {
        DbLocation::Sqlite(path) => println!("  store: {}", path.display()),
        DbLocation::Postgres(_) => println!("  store: PostgreSQL (DATABASE_URL)"),
    }
    let sip = match sip_config {
        Some(config) => {
            let sip = SipServer::start(config, Arc::clone(&deps), Some(Arc::clone(&report_sink)))
                .await
                .context("cannot start SIP (use --no-sip to run without it)")?;
            println!("  SIP: sip:AGENT_NUMBER@{} (UDP)", sip.local_addr());
            // Mission tasks dial out through this server's trunk.
            let dialer = SipDialer::new(sip.clone(), args.task_trunk.clone());
            let mut tasks = TaskWorker::new(ctx.clone(), Arc::new(dialer), task_config);
            // With an LLM as the dialogue, the same server writes the mission summaries.
            if args.llm == "openai" {
                let summarizer =
                    OpenAiSummarizer::new(OpenAiConfig::from_env()).map_err(anyhow::Error::msg)?;
                tasks = tasks.with_summarizer(Arc::new(summarizer));
            }
            workers.push(tokio::spawn(tasks.run(shutdown.clone())));
            Some(sip)
        }
        None => None,
    };
    axum::serve(dialtone_telephony::http::media_listener(listener), app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    if let Some(sip) = sip {
        sip.shutdown();
    }

    // Calls have ended and their reports are queued; the workers stop taking work. A job cut short
    // resumes on the next start once its lease runs out.
    info!("shutting down");
    let _ = stop.send(true);
    let drained = async {
        for worker in workers {
            let _ = worker.await;
        }
        let _ = call_log.await;
    };
    if tokio::time::timeout(DRAIN, drained).await.is_err() {
        warn!("workers did not stop in time");
    }
    store.close().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager or container runtime.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn webrtc_host(args: &[&str]) -> std::net::IpAddr {
        let cli = Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .expect("valid flags");
        cli.serve.webrtc_config().host
    }

    #[test]
    fn browser_media_goes_where_browsers_can_reach_it() {
        assert_eq!(
            webrtc_host(&["--http", "127.0.0.1:8080"]).to_string(),
            "127.0.0.1"
        );
        assert_eq!(
            webrtc_host(&["--http", "10.1.2.3:8080"]).to_string(),
            "10.1.2.3"
        );
        assert_eq!(
            webrtc_host(&["--http", "0.0.0.0:8080", "--webrtc-ip", "192.168.1.20"]).to_string(),
            "192.168.1.20"
        );
        // Everywhere: the outward address, never the unspecified one a browser cannot send to.
        let everywhere = webrtc_host(&["--http", "0.0.0.0:8080"]);
        assert!(!everywhere.is_unspecified());
        assert_eq!(
            everywhere.is_loopback(),
            dialtone_telephony::webrtc::outward_ip().is_none()
        );
    }
}
