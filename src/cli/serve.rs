//! `dialtone serve`: the HTTP endpoints carriers reach, with the embedded engines behind them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use dialtone::defaults::{ProviderChoice, build_deps};
use dialtone_telephony::http::stream_routes;
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
    /// Voice activity detection: `auto` (Silero, gated by the WebRTC VAD, when installed; else WebRTC
    /// alone), `silero` or `webrtc`.
    #[arg(long, env = "DIALTONE_VAD", default_value = "auto")]
    pub vad: String,
}

/// Runs the server until Ctrl-C.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let choice = ProviderChoice {
        stt: args.stt.clone(),
        llm: args.llm.clone(),
        tts: args.tts.clone(),
        voice: args.voice.clone(),
        vad: args.vad.clone(),
    };
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
    axum::serve(dialtone_telephony::http::media_listener(listener), app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
