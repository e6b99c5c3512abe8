//! `dialtone serve`: the HTTP endpoints carriers reach, with the embedded engines behind them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use dialtone::defaults::{ProviderChoice, build_deps};
use dialtone_telephony::http::stream_routes;
use dialtone_telephony::sip::{SipConfig, SipServer};
use tracing::info;

/// Options of `dialtone serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// HTTP address (API, dashboard, media-stream WebSockets, TwiML).
    #[arg(long, env = "DIALTONE_HTTP", default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// Directory of agent files (`*.toml`, `*.json`).
    #[arg(long, env = "DIALTONE_AGENTS", default_value = "agents")]
    pub agents: PathBuf,
    /// Data directory (store, recordings).
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
    /// SIP (UDP) address; overrides `listen` in the SIP configuration file.
    #[arg(long, env = "DIALTONE_SIP", default_value = "0.0.0.0:5060")]
    pub sip: SocketAddr,
    /// Do not start SIP.
    #[arg(long, env = "DIALTONE_NO_SIP")]
    pub no_sip: bool,
    /// SIP configuration: a TOML file with a `[sip]` table (trunks, users, RTP ports, codecs, limits).
    #[arg(long, env = "DIALTONE_SIP_CONFIG")]
    pub sip_config: Option<PathBuf>,
    /// Take SIP calls from anyone, without trunk addresses or digest (tests and development only).
    #[arg(long, env = "DIALTONE_SIP_ACCEPT_ANY")]
    pub sip_accept_any: bool,
    /// Most concurrent SIP calls (overrides the file's `max_calls`).
    #[arg(long, env = "DIALTONE_SIP_MAX_CALLS")]
    pub sip_max_calls: Option<usize>,
    /// RTP port range, `FIRST-LAST` (overrides the file's `rtp_ports`).
    #[arg(long, env = "DIALTONE_RTP_PORTS")]
    pub rtp_ports: Option<String>,
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
}

/// Runs the server until Ctrl-C.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let choice = ProviderChoice {
        stt: args.stt.clone(),
        llm: args.llm.clone(),
        tts: args.tts.clone(),
        voice: args.voice.clone(),
    };
    let sip_config = args.sip_config()?;
    let deps = Arc::new(build_deps(&args.agents, &choice)?);
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(stream_routes(
            Arc::clone(&deps),
            args.public_url.clone(),
            None,
        ));
    let listener = tokio::net::TcpListener::bind(args.http)
        .await
        .with_context(|| format!("cannot listen on {}", args.http))?;
    let addr = listener.local_addr()?;
    info!(%addr, "listening");
    println!("Dialtone is answering calls on http://{addr}");
    println!("  media streams: ws://{addr}/streams/twilio (Telnyx: /streams/telnyx)");
    println!(
        "  Twilio voice webhook: POST http://{addr}/twilio/voice (set DIALTONE_PUBLIC_URL behind a tunnel)"
    );
    println!(
        "  try it: dialtone call --url ws://{addr}/streams/twilio --say \"What time do you open on Saturday?\""
    );
    let sip = match sip_config {
        Some(config) => {
            let sip = SipServer::start(config, Arc::clone(&deps), None)
                .await
                .context("cannot start SIP (use --no-sip to run without it)")?;
            println!("  SIP: sip:AGENT_NUMBER@{} (UDP)", sip.local_addr());
            Some(sip)
        }
        None => None,
    };
    axum::serve(dialtone_telephony::http::media_listener(listener), app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    if let Some(sip) = sip {
        sip.shutdown();
    }
    Ok(())
}
