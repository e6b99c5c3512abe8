//! Playout scenarios: exact playback, disorder, loss, ptimes and clocks, adaptation.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;

#[test]
fn in_order_stream_plays_bit_exact_after_the_initial_delay() {
    let (packets, all) = stream(100, 20, SampleRate::HZ_8000, 8_000, 1, 1_000);
    let r = run(narrowband(), &packets, 2_100_000);
    // Two frames (40 ms) of silence, then the stream, aligned to its packets.
    assert_eq!(r.first_audio(), Some(2));
    assert!(
        r.frames[..2]
            .iter()
            .all(|(p, f)| *p == Playout::Silence && f.iter().all(|&s| s == 0))
    );
    assert_plays(&r.played_from_first_audio(), &all);
    let s = r.stats;
    assert_eq!((s.received, s.stored, s.played), (100, 100, 100));
    assert_eq!(
        (
            s.lost,
            s.late,
            s.duplicates,
            s.dropped_for_latency,
            s.reordered
        ),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(s.concealed, 4, "the end of the stream fades out");
    assert_eq!(r.delays[10], Duration::from_millis(40));
}

#[test]
fn reordering_within_the_target_plays_bit_exact() {
    let (mut packets, all) = stream(100, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    // Each even packet arrives 22 ms late, just after its odd successor.
    for (k, p) in packets.iter_mut().enumerate() {
        p.arrival_us += if k % 2 == 0 { 22_000 } else { 1_000 };
    }
    let r = run(narrowband(), &packets, 2_200_000);
    assert_plays(&r.played_from_first_audio(), &all);
    assert_eq!(r.stats.reordered, 50);
    assert_eq!(
        (r.stats.lost, r.stats.late, r.stats.dropped_for_latency),
        (0, 0, 0)
    );
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let (packets, all) = stream(50, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    let mut with_dups = packets.clone();
    for (k, p) in packets.iter().enumerate() {
        if k % 3 == 0 {
            let mut dup = p.clone();
            dup.arrival_us += if k % 2 == 0 { 5_000 } else { 300_000 };
            with_dups.push(dup);
        }
    }
    let r = run(narrowband(), &with_dups, 1_200_000);
    assert_plays(&r.played_from_first_audio(), &all);
    assert_eq!(r.stats.duplicates, 17);
    assert_eq!(r.stats.late, 0);
    assert_eq!(r.stats.received, 67);
}

#[test]
fn a_lost_packet_is_concealed_then_audio_continues() {
    let (mut packets, all) = stream(50, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    packets.remove(10);
    let r = run(narrowband(), &packets, 1_100_000);
    let first = r.first_audio().unwrap();
    let kinds: Vec<Playout> = r.frames[first + 8..first + 13]
        .iter()
        .map(|(p, _)| *p)
        .collect();
    use Playout::{Audio, Concealed};
    assert_eq!(kinds, [Audio, Audio, Concealed, Audio, Audio]);
    assert_eq!((r.stats.lost, r.stats.concealed - 4), (1, 1));
    // The concealment continues the audio, a little quieter.
    let concealed = &r.frames[first + 10].1;
    assert!(concealed.iter().any(|&s| s.abs() > 1_000));
    // Frame 11 fades in over 5 ms, then everything is exact again.
    let played = r.played_from_first_audio();
    assert_same(
        &played[11 * 160 + 40..40 * 160],
        &all[11 * 160 + 40..40 * 160],
    );
    assert_same(&played[..10 * 160], &all[..10 * 160]);
}

#[test]
fn a_late_packet_is_counted_and_dropped() {
    let (mut packets, all) = stream(50, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    packets[10].arrival_us += 100_000;
    let r = run(narrowband(), &packets, 1_100_000);
    assert_eq!(r.stats.late, 1);
    assert_eq!(r.stats.lost, 1);
    assert_eq!(
        r.outcomes
            .iter()
            .filter(|o| **o == PushOutcome::TooLate)
            .count(),
        1
    );
    let played = r.played_from_first_audio();
    assert_same(&played[12 * 160..40 * 160], &all[12 * 160..40 * 160]);
}

#[test]
fn sequence_and_timestamp_wrap_mid_stream() {
    let (mut packets, all) = stream(
        100,
        20,
        SampleRate::HZ_8000,
        8_000,
        65_500,
        u32::MAX - 8_000,
    );
    // Swap a pair right across both wraps.
    packets[35].arrival_us += 25_000;
    packets[50].arrival_us += 25_000;
    let r = run(narrowband(), &packets, 2_100_000);
    assert_plays(&r.played_from_first_audio(), &all);
    assert_eq!(
        (
            r.stats.lost,
            r.stats.late,
            r.stats.resyncs,
            r.stats.reordered
        ),
        (0, 0, 0, 2)
    );
}

#[test]
fn short_and_long_packets_fill_20_ms_frames() {
    for ptime in [10, 30, 40, 60] {
        let n = 240 / ptime as usize * 10;
        let (packets, all) = stream(n, ptime, SampleRate::HZ_8000, 8_000, 7, 9);
        let r = run(narrowband(), &packets, 2_600_000);
        assert_plays(&r.played_from_first_audio(), &all);
        assert_eq!(r.stats.played as usize, all.len() / 160, "{ptime} ms");
        assert_eq!((r.stats.lost, r.stats.late), (0, 0), "{ptime} ms");
    }
}

#[test]
fn wideband_clocks_convert_timestamps() {
    // G.722: 16 kHz PCM on an 8 kHz clock; Opus: 16 kHz PCM on a 48 kHz clock.
    for clock in [8_000, 48_000] {
        let (packets, all) = stream(50, 20, SampleRate::HZ_16000, clock, 0, 0);
        let config = JitterConfig::for_rate(SampleRate::HZ_16000, clock);
        let r = run(config, &packets, 1_100_000);
        assert_plays(&r.played_from_first_audio(), &all);
        assert_eq!(r.frames[5].1.len(), 320);
    }
}

/// A cheap deterministic uniform value in `0..span`.
fn uniform(k: u64, span: u64) -> u64 {
    audio(1, k).first().map_or(0, |&s| s.unsigned_abs() as u64) * 7_919 % span.max(1)
}

/// A stream of `seconds` whose packets arrive with uniform jitter of ±`jitter_ms`.
fn jittery(seconds: u64, jitter_ms: u64, seed: u64) -> Vec<Pkt> {
    let (mut packets, _) = stream(seconds as usize * 50, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    for (k, p) in packets.iter_mut().enumerate() {
        p.arrival_us +=
            100_000 + uniform(k as u64 + seed, 2 * jitter_ms * 1_000) - jitter_ms * 1_000;
    }
    packets
}

#[test]
fn jitter_raises_the_target_and_calm_lowers_it() {
    let high = run(narrowband(), &jittery(20, 40, 0), 20_000_000);
    let calm = run(narrowband(), &jittery(20, 2, 0), 20_000_000);
    let (high_target, calm_target) = (high.stats.target_delay, calm.stats.target_delay);
    assert!(high_target >= Duration::from_millis(75), "{high_target:?}");
    assert!(calm_target <= Duration::from_millis(20), "{calm_target:?}");
    // Both buffers hold what they target (within a frame), and few packets come too late.
    let calm_delay = calm.stats.current_delay;
    assert!(calm_delay <= calm_target + FRAME, "{calm_delay:?}");
    assert_eq!((calm.stats.late, calm.stats.lost), (0, 0));
    assert!(
        high.stats.jitter >= Duration::from_millis(65),
        "{:?}",
        high.stats.jitter
    );
    let delay = high.stats.current_delay;
    assert!(
        delay.abs_diff(high_target) <= Duration::from_millis(25),
        "{delay:?} {high_target:?}"
    );
    assert!(high.stats.late < 50, "{}", high.stats.late);
}

#[test]
fn target_rises_fast_and_falls_slowly() {
    // 10 s calm, 10 s of ±40 ms, 20 s calm again.
    let mut packets = jittery(40, 2, 1);
    for (k, p) in packets.iter_mut().enumerate().skip(500).take(500) {
        p.arrival_us =
            (k as u64 * 20_000 + 100_000 + uniform(k as u64, 80_000)).saturating_sub(40_000);
    }
    let r = run(narrowband(), &packets, 40_000_000);
    let at = |s: f64| r.targets[(s * 50.0) as usize];
    assert!(at(9.9) <= Duration::from_millis(20), "{:?}", at(9.9));
    assert!(
        at(11.0) >= Duration::from_millis(50),
        "rises within a second: {:?}",
        at(11.0)
    );
    assert!(
        at(21.0) >= Duration::from_millis(70),
        "still high after a second of calm: {:?}",
        at(21.0)
    );
    assert!(
        at(39.0) <= Duration::from_millis(20),
        "falls eventually: {:?}",
        at(39.0)
    );
    // The depth followed the target down by dropping frames.
    let delay = r.delays[(39.0 * 50.0) as usize];
    assert!(delay <= Duration::from_millis(45), "{delay:?}");
}
