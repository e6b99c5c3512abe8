//! The load tool: many concurrent carrier calls against a Dialtone server with instant fake speech
//! backends, to measure the runtime itself. Each emulated caller talks for a second every few seconds and
//! echoes marks like Twilio; the agent greets and answers each time, so audio flows both ways.
//!
//! Measured per step: frames the server had to skip (its call loops fell behind), the pacing of the
//! agent's frames as the callers receive them (deviation from 20 ms inside a talkspurt), and CPU and RSS
//! of the process per call. Client and server share this process and its cores, so the sustained figure is
//! a floor for what the server alone could carry.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dialtone_media::codec::g711::linear_to_ulaw;
use dialtone_media::synth::voiced;
use dialtone_media::{CallMediaConfig, FRAME, SampleRate};
use dialtone_telephony::agent::load_agents_dir;
use dialtone_telephony::backend::fake::{InstantTts, ScriptedStt};
use dialtone_telephony::backend::receptionist::ReceptionistProvider;
use dialtone_telephony::backend::registry::{CallProviders, ProviderRegistry};
use dialtone_telephony::call::{CallDeps, CallReport, StaticDirectory, SystemClock};
use dialtone_telephony::http::stream_routes;
use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

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
    /// p99 of |inter-arrival - 20 ms| of agent frames inside talkspurts, ms.
    pub p99_jitter_ms: f64,
    /// Process CPU time per call, as a share of one core.
    pub cpu_per_call: f64,
    /// Resident memory added per call while the calls ran, KiB.
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

/// Starts an in-process server with instant backends and the agents in `agents`; returns its address.
pub async fn start_server(
    agents: &std::path::Path,
    reports: Arc<Mutex<Vec<CallReport>>>,
) -> anyhow::Result<std::net::SocketAddr> {
    let deps = Arc::new(fake_deps(agents, &[])?);
    let sink = Arc::new(move |r: CallReport| {
        if let Ok(mut v) = reports.lock() {
            v.push(r);
        }
    });
    let app = Router::new().merge(stream_routes(deps, None, Some(sink)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        axum::serve(dialtone_telephony::http::media_listener(listener), app).await
    });
    Ok(addr)
}

/// Caller frames, prebuilt: base64 μ-law of one second of speech (50 frames) and of silence.
struct CallerAudio {
    speech: Vec<String>,
    silence: String,
}

impl CallerAudio {
    fn new() -> Self {
        let pcm = voiced(SampleRate::HZ_8000, 130.0, 8_000, 0);
        let encode =
            |f: &[i16]| STANDARD.encode(f.iter().map(|&s| linear_to_ulaw(s)).collect::<Vec<u8>>());
        Self {
            speech: pcm.chunks(160).map(encode).collect(),
            silence: encode(&[0i16; 160]),
        }
    }
}

#[derive(Default)]
struct CallerStats {
    frames: u64,
    jitter_us: Vec<u32>,
}

/// One emulated caller for `length`: speaks 1 s every `period`, echoes marks at once.
async fn caller(
    url: String,
    index: usize,
    length: Duration,
    audio: Arc<CallerAudio>,
) -> anyhow::Result<CallerStats> {
    let (socket, _) = tokio_tungstenite::connect_async_with_config(
        &url,
        Some(crate::softphone::small_socket_buffers()),
        true,
    )
    .await?;
    let (mut tx, mut rx) = socket.split();
    let stream_sid = format!("MZload{index:026}");
    let start = serde_json::json!({
        "event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
        "start": {"accountSid": "ACload", "streamSid": stream_sid, "callSid": format!("CAload{index}"),
                  "tracks": ["inbound"], "customParameters": {"to": "+15035550142", "from": "+15035550123"},
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}
    });
    tx.send(Message::Text(
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.into(),
    ))
    .await?;
    tx.send(Message::Text(start.to_string().into())).await?;
    let mut stats = CallerStats::default();
    let mut ticker = tokio::time::interval(FRAME);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let began = Instant::now();
    let period = 200 + (index % 50); // frames between utterances, staggered so calls do not talk in step
    let offset = index % 200;
    let mut chunk = 0u64;
    let mut last_media: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if began.elapsed() >= length {
                    break;
                }
                chunk += 1;
                let phase = (chunk as usize + offset) % period;
                let payload = if (100..150).contains(&phase) { &audio.speech[phase - 100] } else { &audio.silence };
                let msg = format!(
                    r#"{{"event":"media","sequenceNumber":"{}","streamSid":"{stream_sid}","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{}","payload":"{payload}"}}}}"#,
                    chunk + 2,
                    chunk * 20
                );
                tx.send(Message::Text(msg.into())).await?;
            }
            message = rx.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if text.contains(r#""event":"media""#) {
                        let now = Instant::now();
                        if let Some(prev) = last_media {
                            let gap = now - prev;
                            if gap < Duration::from_millis(100) {
                                let dev = gap.abs_diff(FRAME);
                                stats.jitter_us.push(dev.as_micros().min(u128::from(u32::MAX)) as u32);
                            }
                        }
                        last_media = Some(now);
                        stats.frames += 1;
                    } else if text.contains(r#""event":"mark""#) {
                        // Twilio echoes a mark once the audio before it has played; at once is close enough here.
                        tx.send(Message::Text(text)).await?;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            }
        }
    }
    let stop = serde_json::json!({"event": "stop", "sequenceNumber": "0", "streamSid": stream_sid,
                                  "stop": {"accountSid": "ACload", "callSid": format!("CAload{index}")}});
    let _ = tx.send(Message::Text(stop.to_string().into())).await;
    // Drain until the server closes, so its report is in before the step is tallied.
    while let Some(Ok(_)) = rx.next().await {}
    Ok(stats)
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process from /proc (Linux); 0 elsewhere.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_kib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Runs `calls` concurrent calls for `length` against `addr`.
pub async fn step(
    addr: std::net::SocketAddr,
    reports: &Arc<Mutex<Vec<CallReport>>>,
    calls: usize,
    length: Duration,
) -> StepResult {
    let audio = Arc::new(CallerAudio::new());
    if let Ok(mut r) = reports.lock() {
        r.clear();
    }
    let rss_before = rss_kib();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let url = format!("ws://{addr}/streams/twilio");
    let mut tasks = Vec::with_capacity(calls);
    // Real calls start at random moments, so their 20 ms ticks fall at every phase; starting them all at
    // once would stack every tick on the same instant. Spread the starts evenly over a second.
    let spacing = Duration::from_secs(1) / calls.max(1) as u32;
    for i in 0..calls {
        tasks.push(tokio::spawn(caller(
            url.clone(),
            i,
            length,
            Arc::clone(&audio),
        )));
        tokio::time::sleep(spacing).await;
    }
    // RSS while all calls are up.
    tokio::time::sleep(length / 2).await;
    let rss_during = rss_kib();
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
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    jitter.sort_unstable();
    let p99 = jitter
        .get(jitter.len().saturating_sub(1) * 99 / 100)
        .map_or(0.0, |&us| f64::from(us) / 1000.0);
    let skipped = reports
        .lock()
        .map(|r| {
            r.iter()
                .filter_map(|c| c.media)
                .map(|m| m.skipped_ticks)
                .sum()
        })
        .unwrap_or(0);
    StepResult {
        calls,
        completed,
        skipped_frames: skipped,
        frames_received: frames,
        p99_jitter_ms: p99,
        cpu_per_call: cpu / wall / calls as f64,
        rss_per_call_kib: (rss_during - rss_before).max(0.0) / calls as f64,
    }
}
