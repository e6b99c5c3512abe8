//! Property tests: bounded disorder plays back exactly; arbitrary input never panics.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

/// Every push has exactly one outcome.
fn outcomes_add_up(s: &JitterStats) -> bool {
    s.received == s.stored + s.duplicates + s.late + s.overflows + s.resyncs + s.ssrc_changes
}

fn rates() -> impl Strategy<Value = (SampleRate, u32)> {
    prop_oneof![
        Just((SampleRate::HZ_8000, 8_000)),
        Just((SampleRate::HZ_16000, 8_000)),
        Just((SampleRate::HZ_16000, 48_000)),
        Just((SampleRate::HZ_48000, 48_000)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Packets of any ptime, delayed by up to 60 ms (so reordered) and duplicated at any later time,
    /// play back exactly in order with a 100 ms target.
    #[test]
    fn bounded_disorder_plays_in_order(
        ptime in prop_oneof![Just(10u64), Just(20), Just(30), Just(40), Just(60)],
        blocks in 1usize..12,
        (rate, clock) in rates(),
        seq0 in any::<u16>(),
        ts0 in any::<u32>(),
        delays in proptest::collection::vec(0u64..=60_000, 144),
        dups in proptest::collection::vec(proptest::option::weighted(0.2, 0u64..500_000), 144),
    ) {
        let n = blocks * 120 / ptime as usize;
        let (mut packets, all) = stream(n, ptime, rate, clock, seq0, ts0);
        for (k, p) in packets.iter_mut().enumerate().skip(1) {
            p.arrival_us += delays[k];
        }
        let mut pushed = packets.clone();
        for (p, dup) in packets.iter().zip(&dups) {
            if let Some(extra) = dup {
                pushed.push(Pkt { arrival_us: p.arrival_us + extra, ..p.clone() });
            }
        }
        let config = JitterConfig {
            min_delay: Duration::from_millis(100),
            initial_delay: Duration::from_millis(100),
            ..JitterConfig::for_rate(rate, clock)
        };
        let total_ms = blocks as u64 * 120;
        let r = run(config, &pushed, (total_ms + 600) * 1_000);
        assert_plays(&r.played_from_first_audio(), &all);
        let s = r.stats;
        prop_assert!(outcomes_add_up(&s));
        let duplicates = dups.iter().take(n).filter(|d| d.is_some()).count() as u64;
        prop_assert_eq!((s.received, s.stored, s.duplicates), (pushed.len() as u64, n as u64, duplicates));
        prop_assert_eq!((s.late, s.lost, s.dropped_for_latency, s.resyncs), (0, 0, 0, 0));
        prop_assert_eq!(s.played, total_ms / 20);
        prop_assert_eq!(r.count(Playout::Audio), s.played);
        prop_assert_eq!(r.count(Playout::Concealed), s.concealed);
        prop_assert_eq!(s.concealed, 4, "only the fade-out after the end");
    }

    /// On-time 20 ms packets with arbitrary losses: every lost packet is one lost frame, whether
    /// the buffer saw a hole or ran dry waiting.
    #[test]
    fn each_lost_packet_is_one_lost_frame(lost in proptest::collection::vec(any::<bool>(), 150)) {
        let (packets, _) = stream(150, 20, SampleRate::HZ_8000, 8_000, 0, 0);
        // Keep the first and last packets so the stream's extent is known.
        let kept: Vec<Pkt> = packets
            .into_iter()
            .enumerate()
            .filter(|(k, _)| *k == 0 || *k == 149 || !lost[*k])
            .map(|(_, p)| p)
            .collect();
        let missing = 150 - kept.len() as u64;
        let r = run(JitterConfig::for_rate(SampleRate::HZ_8000, 8_000), &kept, 3_500_000);
        let s = r.stats;
        prop_assert_eq!(s.lost, missing);
        prop_assert_eq!(s.played, 150 - missing);
        prop_assert_eq!((s.late, s.talkspurts, s.dropped_for_latency), (0, 0, 0));
    }

    /// Arbitrary pushes and pops with arbitrary settings: no panic, every pop fills the frame.
    #[test]
    fn arbitrary_input_never_panics(
        (rate, clock) in (
            prop_oneof![Just(SampleRate::HZ_8000), Just(SampleRate::HZ_16000), Just(SampleRate::HZ_22050)],
            prop_oneof![Just(0u32), Just(1), Just(8_000), Just(48_000), any::<u32>()],
        ),
        delays in (0u64..6_000, 0u64..6_000, 0u64..6_000),
        ops in proptest::collection::vec(
            (any::<bool>(), 0u32..3, any::<u16>(), any::<u32>(), any::<bool>(), 0usize..3_000, -2_000_000i64..20_000_000),
            1..200,
        ),
    ) {
        let config = JitterConfig {
            min_delay: Duration::from_millis(delays.0),
            max_delay: Duration::from_millis(delays.1),
            initial_delay: Duration::from_millis(delays.2),
            ..JitterConfig::for_rate(rate, clock)
        };
        let mut jb = JitterBuffer::new(config);
        let base = Instant::now() + Duration::from_secs(10);
        let samples: Vec<i16> = (0..3_000).map(|i| (i * 37 % 20_000 - 10_000) as i16).collect();
        let mut out = vec![0; rate.frame_samples()];
        let mut pops = 0u64;
        for (is_push, ssrc, sequence, timestamp, marker, len, at) in ops {
            let at = if at >= 0 {
                base + Duration::from_micros(at as u64)
            } else {
                base - Duration::from_micros(at.unsigned_abs())
            };
            if is_push {
                let packet = JitterPacket { ssrc, sequence, timestamp, marker, samples: &samples[..len] };
                jb.push(packet, at);
            } else {
                out.fill(i16::MIN);
                jb.pop(at, &mut out);
                pops += 1;
                prop_assert!(out.iter().all(|&s| s != i16::MIN));
            }
        }
        let s = *jb.stats();
        prop_assert!(outcomes_add_up(&s));
        prop_assert!(s.played + s.concealed <= pops);
        prop_assert!(s.target_delay <= jb.config().max_delay);
        prop_assert!(s.target_delay >= jb.config().min_delay);
    }

    /// A realistic but rough stream (jitter, loss, DTX gaps, SSRC changes, ptime changes) keeps
    /// its books: outcomes add up and every pop is one of the three kinds.
    #[test]
    fn rough_streams_keep_their_books(
        events in proptest::collection::vec((0u64..80_000, 0u8..100, 0usize..4), 50..300),
    ) {
        let mut jb = JitterBuffer::new(JitterConfig::for_rate(SampleRate::HZ_8000, 8_000));
        let base = Instant::now();
        let samples = vec![1_000i16; 480];
        let (mut seq, mut ts, mut ssrc, mut t_send) = (0u16, 0u32, 7u32, 0u64);
        let mut arrivals = vec![];
        for (jitter, what, ptime) in events {
            let len = [80, 160, 240, 480][ptime];
            let mut marker = false;
            match what {
                0..=4 => {} // lost
                5..=7 => { ts = ts.wrapping_add(8_000); t_send += 1_000_000; marker = true; } // DTX
                8 => { ssrc += 1; seq = seq.wrapping_add(1_000); ts = ts.wrapping_mul(7); } // new stream
                _ => {}
            }
            if what > 4 {
                arrivals.push((t_send + jitter, ssrc, seq, ts, marker, len));
            }
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(len as u32);
            t_send += len as u64 * 125;
        }
        arrivals.sort_by_key(|a| a.0);
        let mut out = [0i16; 160];
        let (mut next, mut tick, mut pops) = (0, 0u64, 0u64);
        while next < arrivals.len() {
            while next < arrivals.len() && arrivals[next].0 <= tick {
                let (at, ssrc, sequence, timestamp, marker, len) = arrivals[next];
                let packet = JitterPacket { ssrc, sequence, timestamp, marker, samples: &samples[..len] };
                jb.push(packet, base + Duration::from_micros(at));
                next += 1;
            }
            jb.pop(base + Duration::from_micros(tick), &mut out);
            pops += 1;
            tick += 20_000;
        }
        let s = *jb.stats();
        prop_assert!(outcomes_add_up(&s));
        prop_assert!(s.played + s.concealed <= pops);
        prop_assert!(s.current_delay <= Duration::from_millis(2_000), "{:?}", s);
    }
}
