//! Tests of the jitter buffer on a virtual clock: a base `Instant` plus offsets, never a sleep.
//! This module holds the harness; scenarios and properties live in the submodules.
#![allow(clippy::unwrap_used)]

mod playout;
mod properties;
mod restarts;

use std::time::{Duration, Instant};

use super::*;

/// One packet with its arrival time, owning its samples.
#[derive(Debug, Clone)]
pub(super) struct Pkt {
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub marker: bool,
    pub samples: Vec<i16>,
    pub arrival_us: u64,
}

impl Pkt {
    pub fn as_packet(&self) -> JitterPacket<'_> {
        JitterPacket {
            ssrc: self.ssrc,
            sequence: self.seq,
            timestamp: self.ts,
            marker: self.marker,
            samples: &self.samples,
        }
    }
}

/// Loud, distinct, deterministic audio (never "quiet", so latency drops would show).
pub(super) fn audio(len: usize, seed: u64) -> Vec<i16> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = 2_000 + (x % 18_000) as i16;
            if x & 1 == 0 { v } else { -v }
        })
        .collect()
}

/// A stream of `n` packets of `ptime_ms` at `rate` on a `clock` timestamp clock, arriving on time
/// (packet k at k * ptime). Returns the packets and the audio they carry, in order.
pub(super) fn stream(
    n: usize,
    ptime_ms: u64,
    rate: SampleRate,
    clock: u32,
    seq0: u16,
    ts0: u32,
) -> (Vec<Pkt>, Vec<i16>) {
    let per_packet = rate.samples_in(Duration::from_millis(ptime_ms)) as usize;
    let ts_step = (u64::from(clock) * ptime_ms / 1_000) as u32;
    let all = audio(n * per_packet, u64::from(ts0) + u64::from(seq0));
    let packets = (0..n)
        .map(|k| Pkt {
            ssrc: 0x1234,
            seq: seq0.wrapping_add(k as u16),
            ts: ts0.wrapping_add(ts_step.wrapping_mul(k as u32)),
            marker: k == 0,
            samples: all[k * per_packet..(k + 1) * per_packet].to_vec(),
            arrival_us: k as u64 * ptime_ms * 1_000,
        })
        .collect();
    (packets, all)
}

/// Drives a buffer: pushes each packet at its arrival time and pops every 20 ms (pushes first at
/// equal times), from time 0 until `until_us`.
pub(super) struct Run {
    pub frames: Vec<(Playout, Vec<i16>)>,
    pub outcomes: Vec<PushOutcome>,
    pub stats: JitterStats,
    pub targets: Vec<Duration>,
    pub delays: Vec<Duration>,
}

pub(super) fn run(config: JitterConfig, packets: &[Pkt], until_us: u64) -> Run {
    let mut jb = JitterBuffer::new(config);
    let base = Instant::now();
    let at = |us: u64| base + Duration::from_micros(us);
    let mut order: Vec<&Pkt> = packets.iter().collect();
    order.sort_by_key(|p| p.arrival_us);
    let mut next = 0;
    let mut out = vec![0; config.pcm_rate.frame_samples()];
    let mut result = Run {
        frames: vec![],
        outcomes: vec![],
        stats: JitterStats::default(),
        targets: vec![],
        delays: vec![],
    };
    let mut tick = 0;
    while tick <= until_us {
        while next < order.len() && order[next].arrival_us <= tick {
            let p = order[next];
            result
                .outcomes
                .push(jb.push(p.as_packet(), at(p.arrival_us)));
            next += 1;
        }
        out.fill(i16::MIN);
        let playout = jb.pop(at(tick), &mut out);
        result.frames.push((playout, out.clone()));
        result.targets.push(jb.stats().target_delay);
        result.delays.push(jb.stats().current_delay);
        tick += 20_000;
    }
    result.stats = *jb.stats();
    result
}

impl Run {
    /// The samples of all frames from the first `Audio` frame on.
    pub fn played_from_first_audio(&self) -> Vec<i16> {
        self.frames
            .iter()
            .skip_while(|(p, _)| *p != Playout::Audio)
            .flat_map(|(_, f)| f.iter().copied())
            .collect()
    }

    pub fn first_audio(&self) -> Option<usize> {
        self.frames.iter().position(|(p, _)| *p == Playout::Audio)
    }

    pub fn count(&self, playout: Playout) -> u64 {
        self.frames.iter().filter(|(p, _)| *p == playout).count() as u64
    }
}

pub(super) fn narrowband() -> JitterConfig {
    JitterConfig::for_rate(SampleRate::HZ_8000, 8_000)
}

/// Asserts that `played` starts with `expected`, reporting the first difference (not 10 000 samples).
#[track_caller]
pub(super) fn assert_plays(played: &[i16], expected: &[i16]) {
    assert!(
        played.len() >= expected.len(),
        "played {} < {}",
        played.len(),
        expected.len()
    );
    if let Some(i) = (0..expected.len()).find(|&i| played[i] != expected[i]) {
        panic!("first difference at sample {i} (frame {})", i / 160);
    }
}

/// Asserts equal slices, reporting the first difference.
#[track_caller]
fn assert_same(a: &[i16], b: &[i16]) {
    assert_eq!(a.len(), b.len(), "lengths");
    assert_plays(a, b);
}
