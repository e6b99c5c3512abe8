//! A deterministic network emulator: loss, jitter, reordering and duplication of packets on a virtual
//! clock. Packets come out in arrival order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// Impairments of one direction of a network path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetemConfig {
    /// One-way delay every packet has.
    pub base_delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per packet (this is what reorders packets).
    pub jitter: Duration,
    /// Probability that a packet is lost.
    pub loss: f64,
    /// Probability that a lost packet's successor is lost too (bursty loss, Gilbert-style).
    pub burst: f64,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Seed for the generator.
    pub seed: u64,
}

impl NetemConfig {
    /// A clean path: 20 ms, no jitter, no loss.
    pub fn clean() -> Self {
        Self {
            base_delay: Duration::from_millis(20),
            jitter: Duration::ZERO,
            loss: 0.0,
            burst: 0.0,
            duplicate: 0.0,
            seed: 1,
        }
    }

    /// A bad mobile-like path: 5% bursty loss, 0-60 ms jitter, 1% duplicates.
    pub fn lossy(seed: u64) -> Self {
        Self {
            base_delay: Duration::from_millis(40),
            jitter: Duration::from_millis(60),
            loss: 0.05,
            burst: 0.3,
            duplicate: 0.01,
            seed,
        }
    }
}

/// xorshift64*: tiny, deterministic, good enough for impairments.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (zero is remapped).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Next value in `0.0..1.0`.
    pub fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Instant,
    order: u64,
    packet: Vec<u8>,
}

/// One direction of a path.
#[derive(Debug)]
pub struct Netem {
    config: NetemConfig,
    rng: Rng,
    queue: BinaryHeap<Reverse<InFlight>>,
    order: u64,
    last_lost: bool,
    /// Packets sent in.
    pub sent: u64,
    /// Packets dropped.
    pub lost: u64,
}

impl Netem {
    /// An empty path.
    pub fn new(config: NetemConfig) -> Self {
        Self {
            rng: Rng::new(config.seed),
            config,
            queue: BinaryHeap::new(),
            order: 0,
            last_lost: false,
            sent: 0,
            lost: 0,
        }
    }

    /// Sends a packet at `now`.
    pub fn send(&mut self, packet: &[u8], now: Instant) {
        self.sent += 1;
        let p_loss = if self.last_lost {
            self.config.burst.max(self.config.loss)
        } else {
            self.config.loss
        };
        self.last_lost = self.rng.next_f64() < p_loss;
        if self.last_lost {
            self.lost += 1;
            return;
        }
        let copies = if self.rng.next_f64() < self.config.duplicate {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter = self.config.jitter.mul_f64(self.rng.next_f64());
            self.order += 1;
            self.queue.push(Reverse(InFlight {
                at: now + self.config.base_delay + jitter,
                order: self.order,
                packet: packet.to_vec(),
            }));
        }
    }

    /// The next packet that has arrived by `now`, with its arrival time.
    pub fn recv(&mut self, now: Instant) -> Option<(Instant, Vec<u8>)> {
        if self.queue.peek().is_some_and(|Reverse(p)| p.at <= now) {
            self.queue.pop().map(|Reverse(p)| (p.at, p.packet))
        } else {
            None
        }
    }

    /// When the next packet arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse(p)| p.at)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn clean_path_delays_in_order() {
        let t0 = Instant::now();
        let mut n = Netem::new(NetemConfig::clean());
        for i in 0..10u8 {
            n.send(&[i], t0 + Duration::from_millis(20 * u64::from(i)));
        }
        let got: Vec<u8> = std::iter::from_fn(|| n.recv(t0 + Duration::from_secs(1)))
            .map(|(_, p)| p[0])
            .collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn lossy_path_loses_about_the_configured_share_and_reorders() {
        let t0 = Instant::now();
        let mut n = Netem::new(NetemConfig::lossy(7));
        for i in 0..5_000u32 {
            n.send(
                &i.to_be_bytes(),
                t0 + Duration::from_millis(20 * u64::from(i)),
            );
        }
        let got: Vec<u32> = std::iter::from_fn(|| n.recv(t0 + Duration::from_secs(1_000)))
            .map(|(_, p)| u32::from_be_bytes(p.try_into().unwrap()))
            .collect();
        let loss = n.lost as f64 / n.sent as f64;
        assert!((0.04..0.10).contains(&loss), "loss {loss}");
        assert!(got.windows(2).any(|w| w[1] < w[0]), "some reordering");
    }
}
