//! RTP and DTMF hot paths, per packet or per 20 ms frame.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dialtone_media::SampleRate;
use dialtone_media::dtmf::{Digit, GoertzelDetector};
use dialtone_media::rtp::{RtpHeader, RtpPacket};

fn header() -> RtpHeader {
    RtpHeader {
        marker: false,
        payload_type: 0,
        sequence: 4242,
        timestamp: 160 * 4242,
        ssrc: 0x1234_5678,
    }
}

fn rtp_parse(c: &mut Criterion) {
    let payload = [0xffu8; 160];
    let mut packet = [0u8; 172];
    let len = header()
        .write_packet(&payload, &mut packet)
        .expect("172 bytes hold a PCMU packet");
    c.bench_function("rtp_parse", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(&packet[..len])).expect("valid packet");
            black_box((p.sequence(), p.timestamp(), p.payload().len()))
        })
    });
}

fn rtp_write(c: &mut Criterion) {
    let payload = [0xffu8; 160];
    let mut out = [0u8; 1500];
    c.bench_function("rtp_write", |b| {
        b.iter(|| {
            black_box(header())
                .write_packet(black_box(&payload), &mut out)
                .expect("MTU buffer holds a PCMU packet")
        })
    });
}

fn goertzel_20ms(c: &mut Criterion) {
    let rate = SampleRate::HZ_8000;
    let (row, col) = Digit::D5.frequencies();
    let frame: Vec<i16> = (0..rate.frame_samples())
        .map(|i| {
            let t = i as f32 / rate.hz() as f32;
            let tau = std::f32::consts::TAU;
            (5000.0 * ((tau * row as f32 * t).sin() + (tau * col as f32 * t).sin())) as i16
        })
        .collect();
    let mut det = GoertzelDetector::new(rate).expect("8 kHz is supported");
    c.bench_function("goertzel_20ms", |b| {
        b.iter(|| {
            det.process(black_box(&frame));
            black_box(det.poll_digit())
        })
    });
}

criterion_group!(benches, rtp_parse, rtp_write, goertzel_20ms);
criterion_main!(benches);
