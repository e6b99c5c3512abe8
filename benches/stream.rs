//! Per-frame cost of a carrier media stream. `cargo bench --bench stream`

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use dialtone_media::codec::{Codec, Encoder};
use dialtone_media::synth::voiced;
use dialtone_media::{CallMediaConfig, FRAME, Input, SampleRate, TurnId};
use dialtone_telephony::stream::{Carrier, StreamOutput, StreamSession};

const START: &str = r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","start":{"accountSid":"AC1","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","callSid":"CA1","tracks":["inbound"],"customParameters":{"to":"+15035550142"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;

/// One 20 ms frame of a Twilio call in steady state, the agent talking over a quiet caller: a caller
/// `media` message is parsed, base64-decoded and fed to the media engine, one tick runs (jitter buffer,
/// resampling to 16 kHz, VAD, turn-taking; 22.05 kHz agent audio resampled to 8 kHz and μ-law encoded)
/// and one outbound `media` message is written. The inbound message is formatted into a reused buffer
/// (its chunk and timestamp run on), which the measurement includes.
fn stream_frame(c: &mut Criterion) {
    let start = Instant::now();
    let mut session = StreamSession::new(Carrier::Twilio);
    session.handle_message(START, start).expect("valid start");
    session
        .accept(CallMediaConfig::pcmu(), start)
        .expect("pcmu config");
    // The caller is quiet (speech would barge in and stop the agent): 2 s of low-level noise, μ-law
    // encoded and base64-encoded up front, reused in a loop.
    let mut encoder = Encoder::new(Codec::Pcmu).expect("pcmu");
    let mut noise = 1u32;
    let caller: Vec<i16> = (0..16_000)
        .map(|_| {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((noise >> 16) as i16) >> 9
        })
        .collect();
    let payloads: Vec<String> = caller
        .chunks(160)
        .map(|frame| {
            let mut payload = [0u8; 160];
            encoder.encode(frame, &mut payload).expect("encode");
            base64(&payload)
        })
        .collect();
    let agent = voiced(SampleRate::HZ_22050, 110.0, 441, 0);
    let mut message = String::with_capacity(512);
    let mut now = start;
    let mut chunk = 1u64;
    let mut step = |session: &mut StreamSession| {
        message.clear();
        let _ = write!(
            message,
            r#"{{"event":"media","sequenceNumber":"{}","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{}","payload":"{}"}}}}"#,
            chunk + 1,
            (chunk - 1) * 20,
            payloads[chunk as usize % payloads.len()]
        );
        session
            .handle_message(&message, now)
            .expect("valid media message");
        session
            .handle_input(
                Input::AgentAudio {
                    turn: TurnId(1),
                    pcm: &agent,
                    mark: None,
                },
                now,
            )
            .expect("agent audio");
        session.handle_timeout(now);
        let mut sent = 0;
        loop {
            match session.poll_output() {
                StreamOutput::Send(text) => {
                    black_box(text);
                    sent += 1;
                }
                StreamOutput::Timeout(_) => break,
                _ => {}
            }
        }
        now += FRAME;
        chunk += 1;
        sent
    };
    // Warm up: fill the jitter buffer, settle the VAD, start the agent turn.
    for _ in 0..100 {
        step(&mut session);
    }
    assert_eq!(step(&mut session), 1, "one outbound message per frame");
    let mut group = c.benchmark_group("stream");
    group.bench_function("stream_frame", |b| b.iter(|| step(black_box(&mut session))));
    group.finish();
}

/// Standard base64 with padding (the root package does not depend on a base64 crate, and set-up speed
/// does not matter).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

criterion_group!(benches, stream_frame);
criterion_main!(benches);
