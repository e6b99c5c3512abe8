//! Feeds arbitrary bytes to a Twilio stream session as a sequence of WebSocket text frames (split on
//! 0xFF, which never occurs in UTF-8; decoded lossily). A `start` is accepted with the phone-call media
//! settings and the agent talks with marks, so media, mark echoes and clears all run; the clock steps
//! 20 ms per frame. Nothing may panic, and every frame the session sends must be JSON.
//!
//! `fuzz/stream_message.dict` holds the protocol's tokens:
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run stream_message -- -dict=fuzz/stream_message.dict`.

#![no_main]

use std::time::{Duration, Instant};

use dialtone_media::{CallMediaConfig, Input, TurnId};
use dialtone_telephony::stream::{Carrier, StreamEvent, StreamOutput, StreamSession};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut now = start;
    let mut session = StreamSession::new(Carrier::Twilio);
    let agent = vec![1000i16; 441 * 4];
    for (i, frame) in data.split(|&b| b == 0xFF).enumerate() {
        let text = String::from_utf8_lossy(frame);
        let _ = session.handle_message(&text, now);
        session.handle_timeout(now);
        let mut started = false;
        loop {
            match session.poll_output() {
                StreamOutput::Send(text) => {
                    assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "{text}");
                }
                StreamOutput::Event(StreamEvent::Started(_)) => started = true,
                StreamOutput::Timeout(_) => break,
                _ => {}
            }
        }
        if started {
            let _ = session.accept(CallMediaConfig::pcmu(), now);
        }
        // Keep the agent talking at playout speed: an 80 ms chunk every fourth frame, marked 0, 1, 2, ...
        // on turn 1, so echoes of `t1-m<n>` find a mark.
        if i % 4 == 0 {
            let _ = session.handle_input(
                Input::AgentAudio {
                    turn: TurnId(1),
                    pcm: &agent,
                    mark: Some(i as u64 / 4),
                },
                now,
            );
        }
        now += Duration::from_millis(20);
    }
});
