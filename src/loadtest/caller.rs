//! One emulated carrier caller: Twilio's media-stream messages, paced every 20 ms, with marks echoed.
//!
//! The caller is a measuring tool that shares the cores with the server it measures, so it is kept
//! cheap: its own minimal WebSocket framing over the TCP stream (see [`super::wire`]), one timer, and
//! buffers reused for every frame.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dialtone_media::codec::g711::linear_to_ulaw;
use dialtone_media::synth::voiced;
use dialtone_media::{FRAME, SampleRate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, MissedTickBehavior};

use super::wire::{self, CLOSE, PING, PONG, TEXT};

/// Caller frames, prebuilt: base64 μ-law of one second of speech (50 frames) and of one second of the
/// quiet between utterances.
pub(super) struct CallerAudio {
    speech: Vec<String>,
    quiet: Vec<String>,
}

/// Peak of the line noise between utterances: about -63 dBFS, far below speech, but not the exact
/// digital zero a real line seldom carries (the server skips work on that, so zeros would flatter it).
const LINE_NOISE_PEAK: i32 = 24;

impl CallerAudio {
    pub(super) fn new() -> Self {
        let pcm = voiced(SampleRate::HZ_8000, 130.0, 8_000, 0);
        let encode =
            |f: &[i16]| STANDARD.encode(f.iter().map(|&s| linear_to_ulaw(s)).collect::<Vec<u8>>());
        Self {
            speech: pcm.chunks(160).map(encode).collect(),
            quiet: line_noise(8_000).chunks(160).map(encode).collect(),
        }
    }
}

/// `n` samples of low-level noise, the same on every run (a linear congruential generator).
fn line_noise(n: usize) -> Vec<i16> {
    let mut state: u32 = 0x2545_f491;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let unit = i32::try_from(state >> 16).unwrap_or(0) % (2 * LINE_NOISE_PEAK + 1);
            i16::try_from(unit - LINE_NOISE_PEAK).unwrap_or(0)
        })
        .collect()
}

#[derive(Default)]
pub(super) struct CallerStats {
    pub(super) frames: u64,
    pub(super) jitter_us: Vec<u32>,
}

/// Read buffer: several of the server's frames (a few hundred bytes each) and the largest it may send.
const READ_BUFFER: usize = wire::MAX_PAYLOAD + 16;

/// The caller's side of the socket: the stream, its read buffer and the frames waiting to go out.
struct Socket {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
    out: Vec<u8>,
    mask: [u8; 4],
}

impl Socket {
    async fn connect(addr: SocketAddr, path: &str, mask: [u8; 4]) -> anyhow::Result<Self> {
        let mut stream = TcpStream::connect(addr).await?;
        // Frames are small writes every 20 ms; Nagle would hold them for the server's delayed ACK.
        stream.set_nodelay(true)?;
        let request = wire::handshake_request(&addr.to_string(), path);
        stream.write_all(request.as_bytes()).await?;
        let mut socket = Self {
            stream,
            buf: vec![0; READ_BUFFER],
            filled: 0,
            out: Vec::with_capacity(1024),
            mask,
        };
        loop {
            if socket.read().await? == 0 {
                anyhow::bail!("the server closed the socket during the handshake");
            }
            if let Some(head) = wire::handshake_response(&socket.buf[..socket.filled])? {
                socket.consume(head);
                return Ok(socket);
            }
        }
    }

    /// Reads what has arrived; 0 at the end of the stream.
    async fn read(&mut self) -> anyhow::Result<usize> {
        if self.filled == self.buf.len() {
            anyhow::bail!("the server sent more than the read buffer holds in one frame");
        }
        let n = self.stream.read(&mut self.buf[self.filled..]).await?;
        self.filled += n;
        Ok(n)
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Queues a frame; [`Self::flush`] sends what is queued.
    fn queue(&mut self, opcode: u8, payload: &[u8]) {
        wire::write_frame(&mut self.out, opcode, self.mask, payload);
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }
}

/// One emulated caller for `length`: speaks 1 s every `period`, echoes marks at once.
pub(super) async fn caller(
    addr: SocketAddr,
    index: usize,
    length: Duration,
    audio: Arc<CallerAudio>,
) -> anyhow::Result<CallerStats> {
    // Any key will do against our own server; a different one per caller keeps the unmasking honest.
    let mask = (index as u32)
        .wrapping_mul(0x9E37_79B1)
        .wrapping_add(1)
        .to_be_bytes();
    let mut socket = Socket::connect(addr, "/streams/twilio", mask).await?;
    let stream_sid = format!("MZload{index:026}");
    let start = serde_json::json!({
        "event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
        "start": {"accountSid": "ACload", "streamSid": stream_sid, "callSid": format!("CAload{index}"),
                  "tracks": ["inbound"], "customParameters": {"to": "+15035550142", "from": "+15035550123"},
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}
    });
    socket.queue(
        TEXT,
        br#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
    );
    socket.queue(TEXT, start.to_string().as_bytes());
    socket.flush().await?;
    let mut stats = CallerStats::default();
    let mut ticker = tokio::time::interval(FRAME);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let began = Instant::now();
    let period = 200 + (index % 50); // frames between utterances, staggered so calls do not talk in step
    let offset = index % 200;
    let mut chunk = 0u64;
    let mut last_media: Option<Instant> = None;
    let mut body: Vec<u8> = Vec::with_capacity(512);
    // The fixed middle of every media message, between its sequence number and its chunk number.
    let sid_to_chunk =
        format!(r#"","streamSid":"{stream_sid}","media":{{"track":"inbound","chunk":""#);
    let mut closed = false;
    while !closed {
        tokio::select! {
            _ = ticker.tick() => {
                if began.elapsed() >= length {
                    break;
                }
                chunk += 1;
                let phase = (chunk as usize + offset) % period;
                let payload = if (100..150).contains(&phase) { &audio.speech[phase - 100] } else { &audio.quiet[phase % 50] };
                body.clear();
                body.extend_from_slice(br#"{"event":"media","sequenceNumber":""#);
                push_decimal(&mut body, chunk + 2);
                body.extend_from_slice(sid_to_chunk.as_bytes());
                push_decimal(&mut body, chunk);
                body.extend_from_slice(br#"","timestamp":""#);
                push_decimal(&mut body, chunk * 20);
                body.extend_from_slice(br#"","payload":""#);
                body.extend_from_slice(payload.as_bytes());
                body.extend_from_slice(br#""}}"#);
                socket.queue(TEXT, &body);
                socket.flush().await?;
            }
            n = socket.read() => {
                if n? == 0 {
                    break;
                }
                // Every frame in this read arrived now.
                let now = Instant::now();
                let mut at = 0;
                while let Some((frame, used)) = wire::read_frame(&socket.buf[at..socket.filled])? {
                    match frame.opcode {
                        TEXT if contains(frame.payload, br#""event":"media""#) => {
                            if let Some(prev) = last_media {
                                let gap = now - prev;
                                if gap < Duration::from_millis(100) {
                                    let dev = gap.abs_diff(FRAME);
                                    stats.jitter_us.push(dev.as_micros().min(u128::from(u32::MAX)) as u32);
                                }
                            }
                            last_media = Some(now);
                            stats.frames += 1;
                        }
                        // Twilio echoes a mark once the audio before it has played; at once is close enough here.
                        TEXT if contains(frame.payload, br#""event":"mark""#) => {
                            body.clear();
                            body.extend_from_slice(frame.payload);
                            wire::write_frame(&mut socket.out, TEXT, mask, &body);
                        }
                        PING => {
                            body.clear();
                            body.extend_from_slice(frame.payload);
                            wire::write_frame(&mut socket.out, PONG, mask, &body);
                        }
                        CLOSE => {
                            wire::write_frame(&mut socket.out, CLOSE, mask, &[]);
                            closed = true;
                        }
                        _ => {}
                    }
                    at += used;
                }
                socket.consume(at);
                socket.flush().await?;
            }
        }
    }
    if !closed {
        let stop = serde_json::json!({"event": "stop", "sequenceNumber": "0", "streamSid": stream_sid,
                                      "stop": {"accountSid": "ACload", "callSid": format!("CAload{index}")}});
        socket.queue(TEXT, stop.to_string().as_bytes());
        if socket.flush().await.is_ok() {
            // Drain until the server closes, so its report is in before the step is tallied.
            drain(&mut socket).await;
        }
    }
    Ok(stats)
}

/// Reads until the server closes the stream, answering its close frame.
async fn drain(socket: &mut Socket) {
    loop {
        match socket.read().await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut at = 0;
        let mut close = false;
        while let Ok(Some((frame, used))) = wire::read_frame(&socket.buf[at..socket.filled]) {
            close |= frame.opcode == CLOSE;
            at += used;
        }
        socket.consume(at);
        if close {
            socket.queue(CLOSE, &[]);
            let _ = socket.flush().await;
        }
    }
}

/// Appends `n` in decimal: `write!` through the formatting machinery cost more than the rest of the
/// message.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_quiet_between_utterances_is_faint_noise_not_digital_zero() {
        let noise = line_noise(8_000);
        let peak = noise.iter().map(|s| i32::from(*s).abs()).max();
        assert_eq!(peak, Some(LINE_NOISE_PEAK));
        let zeros = noise.iter().filter(|&&s| s == 0).count();
        assert!(zeros < noise.len() / 10, "{zeros} zeros");
        assert!(noise.chunks(160).all(|f| f.iter().any(|&s| s != 0)));
    }

    proptest! {
        #[test]
        fn decimals_read_as_display_writes_them(n in prop_oneof![0u64..1000, any::<u64>()]) {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, n);
            prop_assert_eq!(out, format!("x{n}").into_bytes());
        }
    }
}
