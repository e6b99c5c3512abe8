//! Per-frame costs of the media path: resampling, VAD, and one full `CallMedia` frame each way.
//! `cargo bench --bench media`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use dialtone::sim::signals::voiced;
use dialtone_media::codec::{Codec, Encoder};
use dialtone_media::resample::Resampler;
use dialtone_media::rtp::RtpSender;
use dialtone_media::vad::{Aggressiveness, VoiceDetector, WebRtcVad};
use dialtone_media::{CallMedia, CallMediaConfig, FRAME, Input, Output, SampleRate, TurnId};

fn resample(c: &mut Criterion) {
    let mut group = c.benchmark_group("resample");
    for (name, from, to) in [
        (
            "resample_8k_16k_20ms",
            SampleRate::HZ_8000,
            SampleRate::HZ_16000,
        ),
        (
            "resample_22k_8k_20ms",
            SampleRate::HZ_22050,
            SampleRate::HZ_8000,
        ),
        (
            "resample_24k_8k_20ms",
            SampleRate::HZ_24000,
            SampleRate::HZ_8000,
        ),
        (
            "resample_48k_16k_20ms",
            SampleRate::HZ_48000,
            SampleRate::HZ_16000,
        ),
    ] {
        let mut r = Resampler::new(from, to).expect("supported pair");
        let input = voiced(from, 120.0, from.frame_samples(), 0);
        let mut out = vec![0i16; to.frame_samples()];
        group.bench_function(name, |b| {
            b.iter(|| {
                r.process(black_box(&input), &mut out)
                    .expect("frame sizes match");
                black_box(&out);
            })
        });
    }
    group.finish();
}

fn vad(c: &mut Criterion) {
    let mut vad = WebRtcVad::new(SampleRate::HZ_8000, Aggressiveness::Aggressive).expect("8 kHz");
    let frame = voiced(SampleRate::HZ_8000, 120.0, 160, 0);
    c.bench_function("vad_20ms", |b| {
        b.iter(|| black_box(vad.speech_probability(black_box(&frame))))
    });
}

/// One 20 ms frame each way through a whole call's media, in steady state: a caller RTP packet is
/// decoded into the jitter buffer, a frame plays out through resampling to 16 kHz, VAD and turn-taking,
/// and a frame of 22.05 kHz agent audio is resampled to 8 kHz, encoded and packetised.
fn call_media_frame(c: &mut Criterion) {
    let start = Instant::now();
    let mut media = CallMedia::new(CallMediaConfig::pcmu(), start).expect("pcmu config");
    let mut encoder = Encoder::new(Codec::Pcmu).expect("pcmu");
    let mut rtp = RtpSender::new(7, 0, 0);
    // 2 s of caller payloads, encoded up front and reused in a loop (the RTP timestamps run on), so the
    // caller's own encoding is not counted.
    let caller = voiced(SampleRate::HZ_8000, 130.0, 16_000, 0);
    let payloads: Vec<[u8; 160]> = caller
        .chunks(160)
        .map(|frame| {
            let mut payload = [0u8; 160];
            encoder.encode(frame, &mut payload).expect("encode");
            payload
        })
        .collect();
    let agent = voiced(SampleRate::HZ_22050, 110.0, 441, 0);
    let mut packet = [0u8; 172];
    let mut now = start;
    let mut i = 0usize;
    let mut step = |media: &mut CallMedia| {
        let header = rtp.next_header(0, false, 160);
        let n = header
            .write_packet(&payloads[i % payloads.len()], &mut packet)
            .expect("fits");
        media
            .handle_input(Input::Rtp(&packet[..n]), now)
            .expect("valid packet");
        media
            .handle_input(
                Input::AgentAudio {
                    turn: TurnId(1),
                    pcm: &agent,
                    mark: None,
                },
                now,
            )
            .expect("agent audio");
        media.handle_timeout(now);
        while !matches!(media.poll_output(), Output::Timeout(_)) {}
        now += FRAME;
        i += 1;
    };
    // Warm up: fill the jitter buffer, settle the VAD, start the agent turn.
    for _ in 0..100 {
        step(&mut media);
    }
    let mut group = c.benchmark_group("call_media");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("call_media_frame", |b| {
        b.iter(|| step(black_box(&mut media)))
    });
    group.finish();
}

criterion_group!(benches, resample, vad, call_media_frame);
criterion_main!(benches);
