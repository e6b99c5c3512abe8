//! Restarts and rough input: DTX, SSRC changes, timestamp jumps, stalls, bursts, odd input.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use super::*;

#[test]
fn a_dtx_gap_re_anchors_without_counting_loss() {
    let (mut packets, all) = stream(100, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    // Talkspurt 2 starts 2 s after talkspurt 1 ends; sequence numbers continue.
    for p in &mut packets[50..] {
        p.ts += 16_000;
        p.arrival_us += 2_000_000;
    }
    packets[50].marker = true;
    let r = run(narrowband(), &packets, 4_200_000);
    assert_eq!(r.stats.lost, 0);
    assert_eq!(r.stats.talkspurts, 1);
    assert_eq!(
        r.stats.concealed, 8,
        "each talkspurt's end fades out over four frames"
    );
    let spurts: Vec<usize> = (1..r.frames.len())
        .filter(|&i| r.frames[i].0 == Playout::Audio && r.frames[i - 1].0 != Playout::Audio)
        .collect();
    // Talkspurt 2 arrives at 3 s and plays 40 ms later: no delay carried over from the gap.
    assert_eq!(spurts, [2, 152]);
    let second: Vec<i16> = r.frames[152..202]
        .iter()
        .flat_map(|(_, f)| f.clone())
        .collect();
    assert_same(&second, &all[50 * 160..]);
}

#[test]
fn a_short_gap_without_marker_is_silence_not_loss() {
    let (mut packets, all) = stream(100, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    for p in &mut packets[50..] {
        p.ts += 800; // 100 ms of DTX, shorter than nothing: the buffer is still playing
        p.arrival_us += 100_000;
    }
    let r = run(narrowband(), &packets, 2_400_000);
    assert_eq!((r.stats.lost, r.stats.talkspurts), (0, 1));
    let first = r.first_audio().unwrap();
    let second: Vec<i16> = r.frames[first + 55..first + 105]
        .iter()
        .flat_map(|(_, f)| f.clone())
        .collect();
    assert_same(&second, &all[50 * 160..]);
}

#[test]
fn an_ssrc_change_continues_seamlessly_after_the_old_stream() {
    let (a, a_audio) = stream(30, 20, SampleRate::HZ_8000, 8_000, 100, 5_000);
    let (mut b, b_audio) = stream(50, 20, SampleRate::HZ_8000, 8_000, 40_000, 3_000_000_000);
    for p in &mut b {
        p.ssrc = 0xBEEF;
        p.arrival_us += 600_000;
    }
    let mut stale = a[29].clone();
    stale.seq = stale.seq.wrapping_add(1);
    stale.ts += 160;
    stale.arrival_us = 700_000;
    let mut packets = [a, b].concat();
    packets.push(stale);
    let r = run(narrowband(), &packets, 2_000_000);
    assert_eq!(r.stats.ssrc_changes, 1);
    assert_eq!(r.outcomes[30], PushOutcome::Resynced);
    assert_eq!(r.stats.late, 1, "a straggler of the old stream");
    // B arrives at 600 ms as A's buffered tail plays; B follows A without a gap, 40 ms after arrival.
    assert_eq!(r.first_audio(), Some(2));
    assert_eq!(r.frames[32].0, Playout::Audio);
    assert_same(
        &r.played_from_first_audio()[..80 * 160],
        &[a_audio, b_audio].concat(),
    );
}

#[test]
fn an_ssrc_change_after_silence_waits_the_target_delay() {
    let (a, _) = stream(30, 20, SampleRate::HZ_8000, 8_000, 100, 5_000);
    let (mut b, b_audio) = stream(50, 20, SampleRate::HZ_8000, 8_000, 40_000, 3_000_000_000);
    for p in &mut b {
        p.ssrc = 0xBEEF;
        p.arrival_us += 1_000_000;
    }
    let r = run(narrowband(), &[a, b].concat(), 2_400_000);
    assert_eq!(r.stats.lost, 0);
    assert_eq!(r.frames[51].0, Playout::Silence);
    let played: Vec<i16> = r.frames[52..102]
        .iter()
        .flat_map(|(_, f)| f.clone())
        .collect();
    assert_same(&played, &b_audio);
}

#[test]
fn a_timestamp_jump_resyncs() {
    let (mut packets, all) = stream(100, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    for p in &mut packets[50..] {
        p.ts = p.ts.wrapping_add(80_000_000);
    }
    // A straggler from before the jump must not jump back.
    let mut straggler = packets[49].clone();
    straggler.arrival_us += 30_000;
    packets.push(straggler);
    let r = run(narrowband(), &packets, 2_200_000);
    assert_eq!(r.stats.resyncs, 1);
    assert_eq!(r.outcomes[50], PushOutcome::Resynced);
    assert_same(&r.played_from_first_audio()[..all.len()], &all);
    assert_eq!((r.stats.lost, r.stats.late), (0, 1));
}

#[test]
fn a_network_stall_conceals_then_plays_everything() {
    let (mut packets, all) = stream(100, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    // Packets 40..50 are held 120 ms and then arrive in a burst with packet 50.
    for p in &mut packets[40..50] {
        p.arrival_us = 50 * 20_000;
    }
    let r = run(narrowband(), &packets, 2_400_000);
    assert_eq!((r.stats.lost, r.stats.late), (0, 0));
    let audio: Vec<i16> = r
        .frames
        .iter()
        .filter(|(p, _)| *p == Playout::Audio)
        .flat_map(|(_, f)| f.clone())
        .collect();
    // Nothing lost before the stall; after it the buffer catches up by dropping frames.
    assert_same(&audio[..40 * 160], &all[..40 * 160]);
    assert!(r.stats.concealed >= 4);
    assert!(r.stats.dropped_for_latency >= 3);
    // The stall raised the target; by the end of the stream both came back down.
    assert!(r.targets[55] >= Duration::from_millis(100));
    assert!(
        r.delays[100] <= r.targets[100] + Duration::from_millis(25),
        "{:?}",
        r.delays[100]
    );
}

#[test]
fn consecutive_lost_packets_count_each_frame() {
    let (mut packets, _) = stream(60, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    packets.drain(20..23);
    let r = run(narrowband(), &packets, 1_400_000);
    assert_eq!(r.stats.lost, 3);
    assert_eq!(r.stats.played, 57);
}

#[test]
fn a_burst_beyond_the_storage_keeps_the_freshest_audio() {
    let (mut packets, all) = stream(100, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    for p in &mut packets {
        p.arrival_us = 0;
    }
    let r = run(narrowband(), &packets, 1_000_000);
    assert!(r.stats.overflows > 50);
    assert!(r.stats.dropped_for_latency > 50);
    let played = r.played_from_first_audio();
    let tail = &all[all.len() - 160..];
    assert!(
        played.windows(tail.len()).any(|w| w == tail),
        "the last packet plays"
    );
}

#[test]
fn a_renumbered_sequence_is_followed() {
    let (mut packets, all) = stream(100, 20, SampleRate::HZ_8000, 8_000, 10, 0);
    for p in &mut packets[50..] {
        p.seq = p.seq.wrapping_add(30_000);
    }
    let r = run(narrowband(), &packets, 2_200_000);
    assert_plays(&r.played_from_first_audio(), &all);
    assert_eq!(
        (
            r.stats.lost,
            r.stats.reordered,
            r.stats.resyncs,
            r.stats.talkspurts
        ),
        (0, 0, 0, 0)
    );
}

#[test]
fn a_sub_frame_timestamp_slip_is_not_a_talkspurt() {
    // Each packet's timestamp runs 2 samples ahead of its 158 samples of audio.
    let (mut packets, _) = stream(50, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    for p in &mut packets {
        p.samples.truncate(158);
    }
    let r = run(narrowband(), &packets, 1_200_000);
    assert_eq!(
        (r.stats.lost, r.stats.talkspurts, r.stats.played),
        (0, 0, 50)
    );
}

#[test]
fn persistent_lateness_resyncs() {
    // From packet 30 on, the sender's clock has slipped 400 ms behind its timestamps.
    let (mut packets, _) = stream(100, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    for p in &mut packets[30..] {
        p.ts = p.ts.wrapping_sub(3_200);
    }
    let r = run(narrowband(), &packets, 2_200_000);
    assert_eq!(r.stats.late, u64::from(LATE_RESYNC) - 1);
    assert_eq!(r.stats.resyncs, 1);
    assert!(r.stats.played >= 80, "{}", r.stats.played);
}

#[test]
fn reset_forgets_everything() {
    let (packets, all) = stream(60, 20, SampleRate::HZ_8000, 8_000, 0, 0);
    let mut jb = JitterBuffer::new(narrowband());
    let base = Instant::now();
    let mut out = [0i16; 160];
    for p in &packets[..30] {
        jb.push(p.as_packet(), base + Duration::from_micros(p.arrival_us));
        jb.pop(base + Duration::from_micros(p.arrival_us), &mut out);
    }
    jb.reset();
    assert_eq!(jb.stats().received, 0);
    assert_eq!(jb.pop(base, &mut out), Playout::Silence);
    // A fresh stream, even one going back in time, plays from scratch.
    let mut played = vec![];
    for (k, p) in packets.iter().enumerate() {
        let at = base + Duration::from_micros(p.arrival_us);
        assert_eq!(jb.push(p.as_packet(), at), PushOutcome::Stored, "{k}");
        if jb.pop(at, &mut out) == Playout::Audio {
            played.extend_from_slice(&out);
        }
    }
    assert_same(&played, &all[..58 * 160]);
}

#[test]
fn odd_input_never_panics() {
    let mut jb = JitterBuffer::new(JitterConfig {
        clock_rate: 0,
        ..narrowband()
    });
    let now = Instant::now();
    let mut out = [1i16; 160];
    assert_eq!(jb.pop(now, &mut out), Playout::Silence);
    assert_eq!(out, [0; 160]);
    let empty = JitterPacket {
        ssrc: 1,
        sequence: 0,
        timestamp: 0,
        marker: false,
        samples: &[],
    };
    assert_eq!(jb.push(empty, now), PushOutcome::Stored);
    let huge = vec![1i16; 100_000];
    let long = JitterPacket {
        samples: &huge,
        ..empty
    };
    assert_eq!(jb.push(long, now), PushOutcome::Overflow);
    let mut short = [1i16; 100];
    assert_eq!(jb.pop(now, &mut short), Playout::Silence);
    assert_eq!(short, [0; 100]);
    assert_eq!(jb.stats().received, 2);
    jb.reset();
    assert_eq!(
        *jb.stats(),
        JitterStats {
            target_delay: Duration::from_micros(39_678),
            jitter: Duration::from_micros(29_678),
            ..JitterStats::default()
        }
    );
}

#[test]
fn buffer_is_send_and_debug() {
    fn is_send<T: Send + std::fmt::Debug>() {}
    is_send::<JitterBuffer>();
    let text = format!("{:?}", JitterBuffer::new(narrowband()));
    assert!(text.len() < 2_000, "Debug stays short");
}
