//! Per-frame codec costs: one 20 ms frame through each codec, via the `Encoder`/`Decoder` a call uses.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dialtone_media::SampleRate;
use dialtone_media::codec::{Codec, Decoder, Encoder};

/// One second of a vowel-like signal cut into 20 ms frames, so stateful codecs see varying input.
fn speech_frames(rate: SampleRate) -> Vec<Vec<i16>> {
    let frame = rate.frame_samples();
    let pcm: Vec<i16> = (0..frame * 50)
        .map(|i| {
            let t = i as f64 / f64::from(rate.hz());
            let envelope = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
            let voice: f64 = [(140.0, 0.5), (280.0, 0.3), (700.0, 0.15), (2400.0, 0.05)]
                .iter()
                .map(|&(hz, amplitude)| amplitude * (2.0 * std::f64::consts::PI * hz * t).sin())
                .sum();
            (12_000.0 * envelope * voice) as i16
        })
        .collect();
    pcm.chunks(frame).map(<[i16]>::to_vec).collect()
}

/// The frames encoded with `codec`, to feed the decoder benches.
fn packets(codec: Codec, frames: &[Vec<i16>]) -> Vec<Vec<u8>> {
    let mut encoder = Encoder::new(codec).expect("codec is built in");
    let mut buf = vec![0u8; codec.frame_bytes_hint()];
    frames
        .iter()
        .map(|frame| {
            let n = encoder
                .encode(frame, &mut buf)
                .expect("hint-sized buffer fits a frame");
            buf[..n].to_vec()
        })
        .collect()
}

fn bench_encode(c: &mut Criterion, name: &str, codec: Codec) {
    let frames = speech_frames(codec.pcm_rate());
    let mut encoder = Encoder::new(codec).expect("codec is built in");
    let mut out = vec![0u8; codec.frame_bytes_hint()];
    let mut next = frames.iter().cycle();
    c.bench_function(name, |b| {
        b.iter(|| {
            let frame = next.next().expect("cycle never ends");
            encoder.encode(black_box(frame), black_box(&mut out))
        })
    });
}

fn bench_decode(c: &mut Criterion, name: &str, codec: Codec) {
    let packets = packets(codec, &speech_frames(codec.pcm_rate()));
    let mut decoder = Decoder::new(codec).expect("codec is built in");
    let mut out = vec![0i16; codec.pcm_rate().frame_samples()];
    let mut next = packets.iter().cycle();
    c.bench_function(name, |b| {
        b.iter(|| {
            let packet = next.next().expect("cycle never ends");
            decoder.decode(black_box(packet), black_box(&mut out))
        })
    });
}

fn codecs(c: &mut Criterion) {
    let opus_16k = Codec::Opus {
        rate: SampleRate::HZ_16000,
    };
    bench_decode(c, "g711_decode_20ms", Codec::Pcmu);
    bench_encode(c, "g711_encode_20ms", Codec::Pcmu);
    bench_decode(c, "alaw_decode_20ms", Codec::Pcma);
    bench_encode(c, "alaw_encode_20ms", Codec::Pcma);
    bench_encode(c, "g722_encode_20ms", Codec::G722);
    bench_decode(c, "g722_decode_20ms", Codec::G722);
    bench_encode(c, "opus_encode_20ms_16k", opus_16k);
    bench_decode(c, "opus_decode_20ms_16k", opus_16k);
}

criterion_group!(benches, codecs);
criterion_main!(benches);
