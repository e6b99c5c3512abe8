//! `dialtone latency`: one call to an agent with the embedded engines, a question per turn, and a table
//! of where the time went between the caller's last word and the agent's first sound.
//!
//! The server runs in this process (the same call side as `dialtone serve`, providers chosen the same
//! way), so the table has the server's own milestones for every turn next to what the caller heard.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use dialtone::defaults::{ProviderChoice, build_deps};
use dialtone::softphone::{Utterance, call};
use dialtone_media::SampleRate;
use dialtone_media::resample::resample_clip;
use dialtone_telephony::call::{CallReport, TurnLatency};
use dialtone_telephony::http::{ReportSink, media_listener, stream_routes};
use tokio::sync::mpsc;

/// Questions a caller asks the demo dental practice.
const QUESTIONS: [&str; 22] = [
    "What time do you open on Saturday?",
    "Do you take Delta Dental?",
    "Where are you located?",
    "How much is a cleaning?",
    "Are you open on Sunday?",
    "Do you do teeth whitening?",
    "Who are your dentists?",
    "What are your hours on Thursday?",
    "Do you accept cash?",
    "Do you offer financing?",
    "Is there parking?",
    "Do you see children?",
    "What is your cancellation policy?",
    "Do you do root canals?",
    "What time do you close on Friday?",
    "Do you take MetLife?",
    "What should new patients bring?",
    "Is the office wheelchair accessible?",
    "Do you do Invisalign?",
    "What is your email address?",
    "Do you take Cigna?",
    "What time do you open on Monday?",
];

/// Options of `dialtone latency`.
#[derive(Debug, clap::Args)]
pub struct LatencyArgs {
    /// Agent files.
    #[arg(long, default_value = "agents")]
    pub agents: PathBuf,
    /// The number dialled (picks the agent).
    #[arg(long, default_value = "+15035550142")]
    pub to: String,
    /// Ask this (synthesised with flite); repeat for several turns. Default: 22 questions for the demo
    /// dental practice.
    #[arg(long)]
    pub ask: Vec<String>,
    /// Recogniser: `embedded` or `openai`.
    #[arg(long, default_value = "embedded")]
    pub stt: String,
    /// Dialogue: `receptionist` or `openai`.
    #[arg(long, default_value = "receptionist")]
    pub llm: String,
    /// Synthesiser: `auto`, `piper`, `flite` or `openai`.
    #[arg(long, default_value = "auto")]
    pub tts: String,
    /// Voice activity detection: `auto`, `silero` or `webrtc`.
    #[arg(long, default_value = "auto")]
    pub vad: String,
}

/// Runs the call and prints the table.
pub async fn run(args: LatencyArgs) -> anyhow::Result<()> {
    let choice = ProviderChoice {
        stt: args.stt.clone(),
        llm: args.llm.clone(),
        tts: args.tts.clone(),
        voice: None,
        vad: args.vad.clone(),
    };
    let deps = Arc::new(build_deps(&args.agents, &choice)?);
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let sink: ReportSink = Arc::new(move |report: CallReport| {
        let _ = reports_tx.send(report);
    });
    let addr = serve(Router::new().merge(stream_routes(deps, None, Some(sink)))).await?;

    let questions: Vec<String> = if args.ask.is_empty() {
        QUESTIONS.iter().map(|q| (*q).to_owned()).collect()
    } else {
        args.ask.clone()
    };
    let mut utterances = Vec::with_capacity(questions.len());
    for q in &questions {
        let clip = super::call::synthesize(q)?;
        utterances.push(Utterance::after_agent(
            resample_clip(&clip, SampleRate::HZ_8000)?.into_samples(),
        ));
    }
    eprintln!("asking {} questions in one call...", questions.len());
    let recording = call(
        &format!("ws://{addr}/streams/twilio"),
        &args.to,
        "+15035550123",
        &utterances,
        Duration::from_secs(3),
        Duration::from_secs(60 + 20 * questions.len() as u64),
    )
    .await?;
    let report = tokio::time::timeout(Duration::from_secs(30), reports.recv())
        .await
        .context("the call did not end")?
        .context("the call did not report")?;
    let turns: Vec<TurnLatency> = report.turns.iter().map(|t| t.latency()).collect();
    let heard: Vec<f64> = recording
        .latencies
        .iter()
        .flatten()
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    print!("{}", table(&turns, &heard, questions.len()));
    Ok(())
}

async fn serve(app: Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(media_listener(listener), app).await });
    Ok(addr)
}

/// The `p`th percentile (0-100) of `values`, interpolated between neighbours; `None` when empty.
fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let k = (v.len() - 1) as f64 * p.clamp(0.0, 100.0) / 100.0;
    let (lo, hi) = (k.floor() as usize, k.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (k - lo as f64))
}

/// Reads one milestone of a turn.
type Milestone = fn(&TurnLatency) -> Option<f64>;

/// The report: one row per milestone, ms after the caller's end of speech.
fn table(turns: &[TurnLatency], heard: &[f64], asked: usize) -> String {
    use std::fmt::Write as _;
    let rows: [(&str, Milestone); 6] = [
        ("end of turn decided", |t| t.end_of_turn_ms),
        ("STT final", |t| t.stt_final_ms),
        ("first dialogue text", |t| t.first_text_ms),
        ("first TTS audio", |t| t.first_audio_ms),
        ("first frame sent", |t| t.first_frame_ms),
        ("runtime share (decision -> frame)", |t| {
            t.decision_to_frame_ms
        }),
    ];
    let answered = turns.iter().filter(|t| t.first_frame_ms.is_some()).count();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n{answered} of {asked} questions answered; ms after the caller's end of speech:"
    );
    let _ = writeln!(
        s,
        "{:36} {:>8} {:>8} {:>8}",
        "milestone", "p50", "p95", "max"
    );
    let mut row = |name: &str, values: &[f64]| {
        let cell = |p: f64| percentile(values, p).map_or("-".to_owned(), |v| format!("{v:.0}"));
        let _ = writeln!(
            s,
            "{name:36} {:>8} {:>8} {:>8}",
            cell(50.0),
            cell(95.0),
            cell(100.0)
        );
    };
    for (name, pick) in rows {
        let values: Vec<f64> = turns.iter().filter_map(pick).collect();
        row(name, &values);
    }
    row("caller: first agent audio heard", heard);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_the_usual_definition() {
        let v = [40.0, 10.0, 30.0, 20.0];
        assert_eq!(percentile(&v, 0.0), Some(10.0));
        assert_eq!(percentile(&v, 50.0), Some(25.0));
        assert_eq!(percentile(&v, 100.0), Some(40.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
    }

    #[test]
    fn the_table_has_a_row_per_milestone_and_dashes_for_missing_ones() {
        let turn = TurnLatency {
            end_of_turn_ms: Some(600.0),
            stt_final_ms: Some(700.0),
            first_text_ms: Some(701.0),
            first_audio_ms: Some(750.0),
            first_frame_ms: Some(760.0),
            decision_to_frame_ms: Some(60.0),
        };
        let text = table(&[turn, TurnLatency::default()], &[800.0], 2);
        assert!(text.contains("1 of 2 questions answered"), "{text}");
        let frame = text
            .lines()
            .find(|l| l.starts_with("first frame sent"))
            .unwrap();
        assert!(frame.ends_with("760      760      760"), "{frame}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("caller: first agent audio heard"))
        );
    }
}
