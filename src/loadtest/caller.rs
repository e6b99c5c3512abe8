//! One emulated carrier caller: Twilio's media-stream messages, paced every 20 ms, with marks echoed.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dialtone_media::codec::g711::linear_to_ulaw;
use dialtone_media::synth::voiced;
use dialtone_media::{FRAME, SampleRate};
use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

/// Caller frames, prebuilt: base64 μ-law of one second of speech (50 frames) and of silence.
pub(super) struct CallerAudio {
    speech: Vec<String>,
    silence: String,
}

impl CallerAudio {
    pub(super) fn new() -> Self {
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
pub(super) struct CallerStats {
    pub(super) frames: u64,
    pub(super) jitter_us: Vec<u32>,
}

/// One emulated caller for `length`: speaks 1 s every `period`, echoes marks at once.
pub(super) async fn caller(
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
