//! Per-frame work allocates nothing in steady state: a counting global allocator watches a full-duplex
//! call (caller RTP in through reordering, agent audio out, VAD, turn-taking, barge-in) for 1,000 frames.

mod common;

use std::sync::atomic::Ordering;
use std::time::Instant;

use common::{ALLOCATIONS, COUNTING, LIVE};
use dialtone::sim::signals::voiced;
use dialtone_media::codec::{Codec, Encoder};
use dialtone_media::rtp::RtpSender;
use dialtone_media::{CallMedia, CallMediaConfig, FRAME, Input, Output, SampleRate, TurnId};

#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

/// Heap one call's media holds once running: a budget for many thousands of calls per node. The
/// resampler's filter tables are shared between calls, so a second call costs less than the first.
/// Called from the one test below: the byte counter is process-wide, so nothing may run beside it.
fn a_call_holds_little_memory() {
    let start = Instant::now();
    // The first call builds the shared filter tables; measure the second.
    let first = CallMedia::new(CallMediaConfig::pcmu(), start).expect("config");
    let before = LIVE.load(Ordering::SeqCst);
    let second = CallMedia::new(CallMediaConfig::pcmu(), start).expect("config");
    let per_call = LIVE.load(Ordering::SeqCst) - before + std::mem::size_of::<CallMedia>() as i64;
    println!("one call's media: {} KiB", per_call / 1024);
    assert!(per_call < 128 * 1024, "{per_call} bytes per call");
    drop((first, second));
}

#[test]
fn steady_state_frames_allocate_nothing_and_calls_are_small() {
    a_call_holds_little_memory();
    let start = Instant::now();
    let mut media = CallMedia::new(CallMediaConfig::pcmu(), start).expect("config");
    let mut encoder = Encoder::new(Codec::Pcmu).expect("pcmu");
    let mut rtp = RtpSender::new(9, 0, 0);
    // Caller: 1 s speech, 1 s silence, repeating; packets swapped in pairs every 7th frame.
    let speech = voiced(SampleRate::HZ_8000, 130.0, 8_000, 0);
    let payloads: Vec<[u8; 160]> = (0..100)
        .map(|i| {
            let mut p = [0u8; 160];
            let frame = if i < 50 {
                &speech[i * 160..][..160]
            } else {
                &[0i16; 160][..]
            };
            encoder.encode(frame, &mut p).expect("encode");
            p
        })
        .collect();
    let agent = voiced(SampleRate::HZ_22050, 110.0, 441 * 10, 0);
    let mut packets = [[0u8; 172]; 2];
    let mut now = start;
    let mut turn = 1;
    let mut frames_out = 0u64;
    let mut events = 0u64;
    let mut step = |media: &mut CallMedia, i: usize, frames_out: &mut u64, events: &mut u64| {
        let slot = i % 2;
        let header = rtp.next_header(0, false, 160);
        header
            .write_packet(&payloads[i % 100], &mut packets[slot])
            .expect("fits");
        // Deliver in pairs, the second first, every 7th frame: the jitter buffer reorders.
        if i.is_multiple_of(7) {
            // Held back: delivered after its successor on the next frame.
        } else if i % 7 == 1 {
            media
                .handle_input(Input::Rtp(&packets[slot]), now)
                .expect("rtp");
            media
                .handle_input(Input::Rtp(&packets[1 - slot]), now)
                .expect("rtp");
        } else {
            media
                .handle_input(Input::Rtp(&packets[slot]), now)
                .expect("rtp");
        }
        if i.is_multiple_of(10) {
            media
                .handle_input(
                    Input::AgentAudio {
                        turn: TurnId(turn),
                        pcm: &agent,
                        mark: Some(i as u64),
                    },
                    now,
                )
                .expect("agent");
        }
        if i.is_multiple_of(250) {
            turn += 1;
        }
        media.handle_timeout(now);
        loop {
            match media.poll_output() {
                Output::Timeout(_) => break,
                Output::ToCaller(f) => *frames_out += f.rtp().len() as u64 / 172,
                Output::Event(_) => *events += 1,
                Output::ToStt(_) => {}
            }
        }
        now += FRAME;
    };
    for i in 0..500 {
        step(&mut media, i, &mut frames_out, &mut events);
    }
    COUNTING.store(true, Ordering::SeqCst);
    for i in 500..1_500 {
        step(&mut media, i, &mut frames_out, &mut events);
    }
    COUNTING.store(false, Ordering::SeqCst);
    let allocations = ALLOCATIONS.load(Ordering::SeqCst);
    assert!(events > 20, "the call did things: {events} events");
    assert!(frames_out >= 1_400, "{frames_out} frames out");
    assert!(
        media.stats().jitter.reordered > 0,
        "{:?}",
        media.stats().jitter
    );
    assert_eq!(allocations, 0, "allocations in 1,000 steady-state frames");
}
