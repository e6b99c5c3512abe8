//! Jitter buffer hot path: one 20 ms G.711-sized packet in, one 20 ms frame out, in steady state with
//! mild reordering (every fourth pair of packets arrives swapped).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use dialtone_media::SampleRate;
use dialtone_media::jitter::{JitterBuffer, JitterConfig, JitterPacket, Playout};

/// A steady 8 kHz stream feeding one buffer on a virtual clock.
struct Stream {
    buffer: JitterBuffer,
    payload: Vec<i16>,
    out: Vec<i16>,
    base: Instant,
    slot: u64,
}

impl Stream {
    fn new() -> Self {
        Self {
            buffer: JitterBuffer::new(JitterConfig::for_rate(SampleRate::HZ_8000, 8_000)),
            payload: (0..160)
                .map(|i| ((i * 997) % 4_000 - 2_000) as i16)
                .collect(),
            out: vec![0; 160],
            base: Instant::now(),
            slot: 0,
        }
    }

    /// One tick: the packet of this slot arrives (swapped with its neighbour in every fourth pair),
    /// then a frame plays.
    fn tick(&mut self) -> Playout {
        let n = self.slot;
        self.slot += 1;
        let k = match n % 8 {
            0 => n + 1,
            1 => n - 1,
            _ => n,
        };
        let packet = JitterPacket {
            ssrc: 0x5EED,
            sequence: k as u16,
            timestamp: (k * 160) as u32,
            marker: false,
            samples: &self.payload,
        };
        let now = self.base + Duration::from_millis(20 * n);
        self.buffer.push(packet, now);
        self.buffer.pop(now, &mut self.out)
    }
}

fn jitter_push_pop(c: &mut Criterion) {
    let mut stream = Stream::new();
    // Past the pre-roll and the prior on the target: the steady state.
    for _ in 0..1_000 {
        stream.tick();
    }
    assert_eq!(stream.tick(), Playout::Audio);
    c.bench_function("jitter_push_pop", |b| b.iter(|| black_box(stream.tick())));
    let stats = stream.buffer.stats();
    assert_eq!((stats.lost, stats.late), (0, 0), "{stats:?}");
}

criterion_group!(benches, jitter_push_pop);
criterion_main!(benches);
