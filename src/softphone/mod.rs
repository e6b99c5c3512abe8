//! A softphone over the carrier WebSocket protocol: it plays a caller (utterances as 8 kHz audio) into
//! `/streams/twilio` in real time, records what the agent says as the caller hears it, and measures the
//! wait from the end of each utterance to the agent's first sound. `dialtone call`, the end-to-end tests
//! and the load tool use it.

mod peer;

pub use peer::CarrierPeer;

use std::time::Duration;

use anyhow::Context as _;
use dialtone_media::{FRAME, Pcm, SampleRate};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

/// Client socket buffers sized for carrier messages. tungstenite grows its read buffer by this many
/// zeroed bytes per read, so its 128 KiB default turned each 300-byte message into a 128 KiB memset.
pub fn small_socket_buffers() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
}

/// One thing the caller says.
#[derive(Debug, Clone)]
pub struct Utterance {
    /// 8 kHz mono speech.
    pub audio: Vec<i16>,
    /// Start talking after the agent has been audible this long, over it (a barge-in), instead of
    /// waiting for the agent to finish.
    pub barge_in_after: Option<Duration>,
}

impl Utterance {
    /// Speech said after the agent finishes.
    pub fn after_agent(audio: Vec<i16>) -> Self {
        Self {
            audio,
            barge_in_after: None,
        }
    }
}

/// What the call sounded like from the caller's side.
#[derive(Debug, Clone)]
pub struct CallRecording {
    /// Everything the caller heard, 8 kHz, one sample per sample of call time.
    pub heard: Pcm,
    /// Per utterance: end of the caller's speech -> first agent audio heard.
    pub latencies: Vec<Option<Duration>>,
    /// Per utterance: start of the caller's speech -> the server's `clear` (barge-ins only).
    pub clear_after: Vec<Option<Duration>>,
    /// Agent speech spans heard, as sample ranges in `heard`.
    pub agent_spans: Vec<(usize, usize)>,
    /// Messages from the server that broke the protocol.
    pub protocol_errors: Vec<String>,
    /// Marks the server sent.
    pub marks: u64,
}

enum Phase {
    /// Waiting for the agent to speak and then fall quiet (or, for a barge-in, to have spoken long
    /// enough).
    Listening {
        heard: Duration,
        quiet: Duration,
    },
    Speaking {
        started: Instant,
        pos: usize,
    },
    AwaitingAnswer {
        since: Instant,
    },
}

/// Calls `url` (a `/streams/twilio` WebSocket) as the carrier would for a call from `from` to `to`; see
/// [`converse`].
pub async fn call(
    url: &str,
    to: &str,
    from: &str,
    utterances: &[Utterance],
    linger: Duration,
    limit: Duration,
) -> anyhow::Result<CallRecording> {
    let (socket, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(small_socket_buffers()), true)
            .await
            .with_context(|| format!("cannot connect to {url}"))?;
    let (tx, rx) = socket.split();
    let tx = tx.with(|text: String| async move {
        Ok::<_, tokio_tungstenite::tungstenite::Error>(Message::Text(text.into()))
    });
    let rx = rx.filter_map(|m| async move {
        match m {
            Ok(Message::Text(text)) => Some(text.to_string()),
            _ => None,
        }
    });
    converse(
        Box::pin(tx),
        Box::pin(rx),
        to,
        from,
        utterances,
        linger,
        limit,
    )
    .await
}

/// Plays the caller over an established stream: says each utterance in turn (after the agent finishes,
/// or over it for a barge-in), records what the caller hears, and hangs up `linger` after the last
/// answer (or at `limit`). Runs on tokio's clock, so tests can drive it on paused time.
pub async fn converse<Tx, Rx>(
    mut tx: Tx,
    mut rx: Rx,
    to: &str,
    from: &str,
    utterances: &[Utterance],
    linger: Duration,
    limit: Duration,
) -> anyhow::Result<CallRecording>
where
    Tx: Sink<String> + Unpin,
    Tx::Error: std::error::Error + Send + Sync + 'static,
    Rx: Stream<Item = String> + Unpin,
{
    let mut peer = CarrierPeer::new(
        "CA0123456789abcdef0123456789abcdef",
        "MZ0123456789abcdef0123456789abcdef",
    );
    for m in peer.opening(to, from) {
        tx.send(m).await?;
    }
    let mut rec = CallRecording {
        heard: Pcm::with_capacity(SampleRate::HZ_8000, 8_000 * 30),
        latencies: vec![None; utterances.len()],
        clear_after: vec![None; utterances.len()],
        agent_spans: Vec::new(),
        protocol_errors: Vec::new(),
        marks: 0,
    };
    let started = Instant::now();
    let mut ticker = tokio::time::interval(FRAME);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut phase = Phase::Listening {
        heard: Duration::ZERO,
        quiet: Duration::ZERO,
    };
    let mut index = 0usize;
    let mut span_start: Option<usize> = None;
    let mut hang_up_at: Option<Instant> = None;
    let silence = [0i16; 160];
    loop {
        tokio::select! {
            message = rx.next() => match message {
                Some(text) => {
                    let clears = peer.clears;
                    for echo in peer.on_server_message(&text) {
                        tx.send(echo).await?;
                    }
                    if peer.clears > clears
                        && let Phase::Speaking { started, .. } = phase
                        && index < utterances.len()
                        && rec.clear_after[index].is_none()
                    {
                        rec.clear_after[index] = Some(started.elapsed());
                    }
                }
                None => break,
            },
            _ = ticker.tick() => {
                let now = Instant::now();
                if now - started > limit || hang_up_at.is_some_and(|t| now >= t) {
                    tx.send(peer.stop()).await?;
                    break;
                }
                // The caller's 20 ms.
                let frame: &[i16] = match &mut phase {
                    Phase::Speaking { pos, .. } => {
                        let audio = &utterances[index].audio;
                        let end = (*pos + 160).min(audio.len());
                        let f = &audio[*pos..end];
                        *pos = end;
                        f
                    }
                    _ => &silence,
                };
                let mut padded = [0i16; 160];
                padded[..frame.len()].copy_from_slice(frame);
                tx.send(peer.media(&padded)).await?;
                // What the caller hears in the same 20 ms.
                let (audio, echoes, had_audio) = peer.play_tick();
                for echo in echoes {
                    tx.send(echo).await?;
                }
                let at = rec.heard.len();
                rec.heard.samples_mut().extend_from_slice(&audio);
                match (had_audio, span_start) {
                    (true, None) => span_start = Some(at),
                    (false, Some(s)) => {
                        rec.agent_spans.push((s, at));
                        span_start = None;
                    }
                    _ => {}
                }
                phase = match phase {
                    Phase::Speaking { started, pos } if pos >= utterances[index].audio.len() => {
                        Phase::AwaitingAnswer { since: now.max(started) }
                    }
                    Phase::AwaitingAnswer { since } if had_audio => {
                        rec.latencies[index] = Some(now - since);
                        index += 1;
                        Phase::Listening { heard: FRAME, quiet: Duration::ZERO }
                    }
                    Phase::Listening { heard, quiet } if index >= utterances.len() => {
                        // All said and answered: hang up once the agent has been quiet for `linger`.
                        let quiet = if had_audio { Duration::ZERO } else { quiet + FRAME };
                        if quiet >= linger && hang_up_at.is_none() {
                            hang_up_at = Some(now);
                        }
                        Phase::Listening { heard, quiet }
                    }
                    Phase::Listening { heard, quiet } if index < utterances.len() => {
                        let (heard, quiet) = if had_audio { (heard + FRAME, Duration::ZERO) } else { (heard, quiet + FRAME) };
                        let u = &utterances[index];
                        let go = match u.barge_in_after {
                            Some(after) => heard >= after,
                            None => heard > Duration::ZERO && quiet >= Duration::from_millis(600),
                        };
                        if go { Phase::Speaking { started: now, pos: 0 } } else { Phase::Listening { heard, quiet } }
                    }
                    other => other,
                };
            }
        }
    }
    if let Some(s) = span_start {
        rec.agent_spans.push((s, rec.heard.len()));
    }
    rec.agent_spans = merge_spans(&rec.agent_spans, 8 * 400);
    rec.protocol_errors = std::mem::take(&mut peer.protocol_errors);
    rec.marks = peer.marks;
    Ok(rec)
}

/// Joins spans separated by less than `gap` samples: real-time pacing on both sides can leave the
/// caller's playout empty for a frame mid-sentence, which is not the agent falling silent.
fn merge_spans(spans: &[(usize, usize)], gap: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(s, e) in spans {
        match out.last_mut() {
            Some(last) if s - last.1 < gap => last.1 = e,
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_spans_merge() {
        assert_eq!(
            merge_spans(&[(0, 100), (150, 300), (5_000, 6_000)], 1_000),
            vec![(0, 300), (5_000, 6_000)]
        );
    }
}
