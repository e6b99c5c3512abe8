//! A stream in steady state allocates nothing per frame: caller `media` in, a tick, agent `media` and
//! `mark`s out, mark echoes in. Counted with a global allocator that counts this thread's allocations
//! while a flag is set.

#![allow(unsafe_code)]
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::VecDeque;
use std::time::Instant;

use dialtone_media::{CallMediaConfig, FRAME, Input, TurnId};
use dialtone_telephony::stream::{Carrier, StreamEvent, StreamOutput, StreamSession};

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds `GlobalAlloc`'s
// contract; the counting beside it touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's obligations for `layout` pass straight through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc`/`realloc` above, with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as for `dealloc`; the obligations for `new_size` are the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count() {
    // `try_with`: while a thread is torn down its thread-locals may be gone; those allocations do not
    // matter here.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SID: &str = "MZ18ad3ab5a668481ce02b83e7395059f0";
/// Frames before counting starts: buffers reach their working size.
const WARM_UP: usize = 200;

/// Twilio `media` message number `chunk`: 160 bytes of μ-law silence.
fn media(chunk: u64) -> String {
    let payload = format!("{}/w==", "/".repeat(212));
    format!(
        r#"{{"event":"media","sequenceNumber":"{}","streamSid":"{SID}","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{}","payload":"{payload}"}}}}"#,
        chunk + 1,
        (chunk - 1) * 20
    )
}

#[test]
fn steady_state_frames_do_not_allocate() {
    let start = Instant::now();
    let mut session = StreamSession::new(Carrier::Twilio);
    let start_message = format!(
        r#"{{"event":"start","streamSid":"{SID}","start":{{"streamSid":"{SID}","callSid":"CA1","mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
    );
    session.handle_message(&start_message, start).unwrap();
    session.accept(CallMediaConfig::pcmu(), start).unwrap();
    let frames = 600u64;
    let messages: Vec<String> = (1..=frames).map(media).collect();
    let echoes: Vec<String> = (0..frames)
        .map(|m| format!(r#"{{"event":"mark","streamSid":"{SID}","mark":{{"name":"t1-m{m}"}}}}"#))
        .collect();
    let agent = vec![500i16; 441];
    let mut now = start;
    let mut counted = Vec::with_capacity(messages.len());
    // Marks sent, by number, echoed two frames later as a carrier would once their audio played.
    let mut in_flight: VecDeque<(usize, usize)> = VecDeque::with_capacity(64);
    let (mut sent, mut heard) = (0u64, 0u64);
    for (i, message) in messages.iter().enumerate() {
        ALLOCATIONS.with(|n| n.set(0));
        COUNTING.with(|on| on.set(i >= WARM_UP));
        session.handle_message(message, now).unwrap();
        // A marked chunk every tenth frame.
        let mark = (i % 10 == 9).then_some(i as u64 / 10);
        let input = Input::AgentAudio {
            turn: TurnId(1),
            pcm: &agent,
            mark,
        };
        session.handle_input(input, now).unwrap();
        while let Some(&(at, mark)) = in_flight.front() {
            if at + 2 > i {
                break;
            }
            in_flight.pop_front();
            session.handle_message(&echoes[mark], now).unwrap();
        }
        session.handle_timeout(now);
        loop {
            match session.poll_output() {
                StreamOutput::Send(text) => {
                    sent += 1;
                    if let Some(rest) = text.split("\"name\":\"t1-m").nth(1) {
                        let mark = rest.trim_end_matches("\"}}").parse().unwrap();
                        in_flight.push_back((i, mark));
                    }
                }
                StreamOutput::Event(StreamEvent::Heard { .. }) => heard += 1,
                StreamOutput::Timeout(_) => break,
                _ => {}
            }
        }
        COUNTING.with(|on| on.set(false));
        counted.push(ALLOCATIONS.with(Cell::get));
        now += FRAME;
    }
    assert!(sent > 550 && heard > 50, "sent {sent}, heard {heard}");
    // The counter counts.
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let probe = std::hint::black_box(vec![0u8; 16]);
    COUNTING.with(|on| on.set(false));
    drop(probe);
    assert_eq!(ALLOCATIONS.with(Cell::get), 1);
    let steady: u64 = counted[WARM_UP..].iter().sum();
    assert_eq!(
        steady,
        0,
        "allocations per frame: {:?}",
        &counted[WARM_UP..]
    );
}
