//! `dialtone call`: a softphone over the carrier WebSocket protocol.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use dialtone::softphone::{Utterance, call};
use dialtone_media::resample::resample_clip;
use dialtone_media::wav::{read_wav, write_wav};
use dialtone_media::{Pcm, SampleRate};
use dialtone_telephony::engines::models;
use dialtone_telephony::engines::whisper::WhisperEngine;

/// Options of `dialtone call`.
#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// The server's Twilio media-stream endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:8080/streams/twilio")]
    pub url: String,
    /// The number dialled (picks the agent).
    #[arg(long, default_value = "+15035550142")]
    pub to: String,
    /// The caller's number.
    #[arg(long, default_value = "+15035550123")]
    pub from: String,
    /// Say this (synthesised with flite); repeat for several turns.
    #[arg(long)]
    pub say: Vec<String>,
    /// Play this WAV file as the caller; repeat for several turns.
    #[arg(long)]
    pub wav: Vec<PathBuf>,
    /// Record what the caller hears to this WAV file.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Hang up after this many seconds whatever happens.
    #[arg(long, default_value_t = 300)]
    pub limit: u64,
}

/// `text` spoken by flite's `slt` voice.
pub(super) fn synthesize(text: &str) -> anyhow::Result<Pcm> {
    let out = std::process::Command::new("flite")
        .args(["-voice", "slt", "-o", "/dev/stdout", "-t", text])
        .output()
        .context("cannot run flite (install the Debian package `flite`)")?;
    Ok(read_wav(&out.stdout)?)
}

/// Places the call and prints the transcript and the latencies.
pub async fn run(args: CallArgs) -> anyhow::Result<()> {
    let mut clips = Vec::new();
    for text in &args.say {
        clips.push(synthesize(text)?);
    }
    for path in &args.wav {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        clips.push(read_wav(&bytes).with_context(|| format!("{}", path.display()))?);
    }
    if clips.is_empty() {
        bail!("say something: --say TEXT or --wav FILE");
    }
    let utterances: Vec<Utterance> = clips
        .iter()
        .map(|c| {
            Ok(Utterance::after_agent(
                resample_clip(c, SampleRate::HZ_8000)?.into_samples(),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let recording = call(
        &args.url,
        &args.to,
        &args.from,
        &utterances,
        Duration::from_secs(4),
        Duration::from_secs(args.limit),
    )
    .await?;
    if let Some(path) = &args.record {
        std::fs::write(path, write_wav(&recording.heard))?;
        println!(
            "recorded {} s to {}",
            recording.heard.len() / 8_000,
            path.display()
        );
    }
    // Transcribe what the agent said, as the caller heard it.
    let engine = models::default_cache_dir()
        .ok()
        .and_then(|d| models::locate(&d).ok())
        .and_then(|p| WhisperEngine::load(&p.whisper).ok());
    let mut engine = engine;
    let said: Vec<String> = args
        .say
        .iter()
        .cloned()
        .chain(args.wav.iter().map(|p| format!("({})", p.display())))
        .collect();
    // The first span is the greeting; each later one answers the caller line before it.
    for (i, &(start, end)) in recording.agent_spans.iter().enumerate() {
        if let Some(line) = i.checked_sub(1).and_then(|j| said.get(j)) {
            println!("caller: {line}");
        }
        let span = Pcm::new(
            SampleRate::HZ_8000,
            recording.heard.samples()[start..end].to_vec(),
        );
        let text = match &mut engine {
            Some(e) => e.transcribe(resample_clip(&span, SampleRate::HZ_16000)?.samples())?,
            None => format!(
                "({:.1} s of audio; run `dialtone models install` to transcribe)",
                span.len() as f64 / 8e3
            ),
        };
        println!("agent:  {}", text.trim());
    }
    for (i, l) in recording.latencies.iter().enumerate() {
        match l {
            Some(d) => println!(
                "turn {}: end of speech -> first agent audio {} ms",
                i + 1,
                d.as_millis()
            ),
            None => println!("turn {}: no answer", i + 1),
        }
    }
    if !recording.protocol_errors.is_empty() {
        println!("protocol errors: {:?}", recording.protocol_errors);
    }
    Ok(())
}
