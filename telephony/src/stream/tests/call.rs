//! Whole calls: media both ways, marks and what was heard, barge-in, DTMF, and bad input mid-call.

use std::collections::VecDeque;
use std::time::Duration;

use dialtone_media::call_media::DtmfSource;
use dialtone_media::dtmf::Digit;
use dialtone_media::{MediaEvent, MediaTime, SampleRate};

use super::*;
use crate::stream::StreamError;

/// 20 ms of agent audio at 22.05 kHz.
const AGENT_FRAME: usize = 441;

fn at_22k(samples: u64) -> MediaTime {
    MediaTime::new(samples, SampleRate::HZ_22050)
}

/// The payload of a sent `media` message, or `None` for other messages.
fn media_payload(value: &serde_json::Value) -> Option<Vec<u8>> {
    (value["event"] == "media").then(|| {
        STANDARD
            .decode(value["media"]["payload"].as_str().unwrap())
            .unwrap()
    })
}

/// Plays the carrier's side of marks: echoes each mark `delay` ticks after it was sent (its audio has
/// played by then), and every queued mark at once when a `clear` arrives.
struct FakeCarrier {
    delay: usize,
    pending: VecDeque<(usize, String)>,
    seen: usize,
}

impl FakeCarrier {
    fn new(delay: usize) -> Self {
        Self {
            delay,
            pending: VecDeque::new(),
            seen: 0,
        }
    }

    /// Reads what the session sent since last time and echoes what is due.
    fn run(&mut self, call: &mut Call) {
        let mut echoes = Vec::new();
        for (tick, value) in call.sent_json().into_iter().skip(self.seen) {
            self.seen += 1;
            match value["event"].as_str().unwrap() {
                "mark" => self
                    .pending
                    .push_back((tick, value["mark"]["name"].as_str().unwrap().to_owned())),
                "clear" => echoes.extend(self.pending.drain(..).map(|(_, name)| name)),
                _ => {}
            }
        }
        while let Some((tick, _)) = self.pending.front() {
            if tick + self.delay > call.tick {
                break;
            }
            let (_, name) = self.pending.pop_front().unwrap();
            echoes.push(name);
        }
        for name in echoes {
            call.message(&twilio_mark(&name)).unwrap();
        }
        call.drain();
    }
}

#[test]
fn a_whole_call_from_connected_to_stop() {
    let mut call = Call::twilio();
    let silence = [0i16; 160];
    for _ in 0..100 {
        call.step(Some(&silence));
    }
    assert_eq!(call.session.stats().media_in, 100);
    assert_eq!(call.stt_frames, 100, "one STT frame per tick");
    assert!(
        call.sent.is_empty(),
        "nothing goes out while the agent is quiet"
    );

    // One second of agent audio in five 200 ms chunks, each with a mark.
    let answer_tick = call.tick;
    let audio = agent_tone(22_050);
    for (i, chunk) in audio.chunks(4_410).enumerate() {
        call.agent(1, chunk, Some(i as u64));
    }
    call.session
        .handle_input(Input::AgentTurnEnd(TurnId(1)), call.now)
        .unwrap();
    let mut carrier = FakeCarrier::new(3);
    for _ in 0..70 {
        call.step(Some(&silence));
        carrier.run(&mut call);
    }

    let sent = call.sent_json();
    let media: Vec<_> = sent
        .iter()
        .filter_map(|(tick, v)| media_payload(v).map(|p| (*tick, p)))
        .collect();
    assert_eq!(media.len(), 50, "one second in 20 ms frames");
    for (i, (tick, payload)) in media.iter().enumerate() {
        assert_eq!(*tick, answer_tick + i, "paced one per tick, never batched");
        assert_eq!(payload.len(), 160, "20 ms of PCMU");
    }
    for (_, value) in &sent {
        assert!(
            value["event"] == "mark" || value["event"] == "media",
            "{value}"
        );
        assert_eq!(value["streamSid"], TWILIO_SID);
    }
    // Each mark follows the frame that ends its chunk, in the same tick.
    let marks: Vec<_> = sent
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| v["event"] == "mark")
        .collect();
    assert_eq!(marks.len(), 5);
    for (n, (index, (tick, value))) in marks.iter().enumerate() {
        assert_eq!(value["mark"]["name"], format!("t1-m{n}"));
        let frames_before = sent[..*index]
            .iter()
            .filter(|(_, v)| v["event"] == "media")
            .count();
        assert_eq!(frames_before, 10 * (n + 1));
        assert_eq!(sent[index - 1].0, *tick);
    }
    // Echoes report what was heard, chunk by chunk.
    let heard: Vec<_> = call
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            StreamEvent::Heard { turn, upto } => Some((*turn, *upto)),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = (1..=5).map(|n| (TurnId(1), at_22k(4_410 * n))).collect();
    assert_eq!(heard, expected);
    assert_eq!(call.session.heard(TurnId(1)), Some(at_22k(22_050)));
    assert_eq!(call.session.heard(TurnId(2)), None);
    assert!(
        call.first_event(|e| matches!(
            e,
            StreamEvent::Media(MediaEvent::AgentTurnDone {
                turn: TurnId(1),
                ..
            })
        ))
        .is_some()
    );

    call.message(TWILIO_STOP).unwrap();
    call.drain();
    assert_eq!(call.events.last().unwrap().1, StreamEvent::Stopped);
    assert!(call.session.is_stopped());
    // Media after the stop is dropped, not an error.
    call.step(Some(&silence));
    let stats = call.session.stats();
    assert_eq!(stats.media_dropped, 1);
    assert_eq!((stats.marks_sent, stats.marks_heard), (5, 5));
    assert_eq!(stats.media_out, 50);
}

#[test]
fn barge_in_clears_the_carrier_and_unplayed_marks_are_not_heard() {
    let mut call = Call::twilio();
    // Five seconds of agent audio in 80 ms chunks, each marked.
    let audio = agent_tone(22_050 * 5);
    for (i, chunk) in audio.chunks(4 * AGENT_FRAME).enumerate() {
        call.agent(1, chunk, Some(i as u64));
    }
    // The carrier plays 240 ms behind what we send, so several marks are always queued there.
    let mut carrier = FakeCarrier::new(12);
    for _ in 0..40 {
        call.step(Some(&[0; 160]));
        carrier.run(&mut call);
    }
    for i in 0..40 {
        call.step(Some(&voiced(160, i * 160)));
        carrier.run(&mut call);
    }

    let (pause_tick, pause) = call
        .first_event(|e| matches!(e, StreamEvent::Media(MediaEvent::AgentPaused { .. })))
        .unwrap();
    let StreamEvent::Media(MediaEvent::AgentPaused { played, .. }) = pause else {
        unreachable!()
    };
    let (barge_tick, _) = call
        .first_event(|e| matches!(e, StreamEvent::Media(MediaEvent::BargeIn { .. })))
        .unwrap();
    assert!(barge_tick > pause_tick);
    let clears: Vec<_> = call
        .sent_json()
        .into_iter()
        .filter(|(_, v)| v["event"] == "clear")
        .collect();
    assert_eq!(
        clears.len(),
        1,
        "one clear per pause, none for its barge-in"
    );
    assert_eq!(
        clears[0].0, pause_tick,
        "clear goes out in the pausing tick"
    );
    assert_eq!(
        clears[0].1,
        serde_json::json!({"event":"clear","streamSid":TWILIO_SID})
    );
    // No agent audio after the clear.
    let last_media = call
        .sent_json()
        .into_iter()
        .filter(|(_, v)| v["event"] == "media")
        .map(|(tick, _)| tick)
        .max()
        .unwrap();
    assert!(last_media < pause_tick);

    // Marks queued at the carrier when it cleared came back, but were not heard.
    let stats = call.session.stats();
    assert!(stats.marks_cleared >= 2, "{stats:?}");
    assert_eq!(stats.marks_heard + stats.marks_cleared, stats.marks_sent);
    assert_eq!(stats.marks_unknown, 0);
    let heard_events: Vec<_> = call
        .events
        .iter()
        .filter_map(|(tick, e)| match e {
            StreamEvent::Heard { upto, .. } => Some((*tick, *upto)),
            _ => None,
        })
        .collect();
    let (last_tick, last_heard) = *heard_events.last().unwrap();
    assert!(last_tick < pause_tick, "nothing heard after the clear");
    assert!(last_heard.samples() < played.samples());
    assert_eq!(call.session.heard(TurnId(1)), Some(last_heard));
    // What was heard trails what was sent by the carrier's buffer (12 ticks), within a chunk.
    let sent_frames = played.samples() / AGENT_FRAME as u64;
    let heard_frames = last_heard.samples() / AGENT_FRAME as u64;
    assert!(
        (8..=16).contains(&(sent_frames - heard_frames)),
        "sent {sent_frames} frames, heard {heard_frames}"
    );
}

#[test]
fn a_backchannel_clears_once_and_resumes() {
    let mut call = Call::twilio();
    call.agent(1, &agent_tone(22_050 * 5), None);
    for _ in 0..20 {
        call.step(Some(&[0; 160]));
    }
    // 200 ms "uh-huh" pauses the agent; it resumes, then a real interruption pauses it again.
    for i in 0..10 {
        call.step(Some(&voiced(160, i * 160)));
    }
    for _ in 0..40 {
        call.step(Some(&[0; 160]));
    }
    assert!(
        call.first_event(|e| matches!(e, StreamEvent::Media(MediaEvent::AgentResumed { .. })))
            .is_some()
    );
    for i in 0..40 {
        call.step(Some(&voiced(160, i * 160)));
    }
    let pauses = call
        .events
        .iter()
        .filter(|(_, e)| matches!(e, StreamEvent::Media(MediaEvent::AgentPaused { .. })))
        .count();
    assert_eq!(pauses, 2);
    assert_eq!(call.session.stats().clears_sent, 2, "one per pause");
}

#[test]
fn dtmf_arrives_as_a_transport_key_press() {
    let mut call = Call::twilio_started();
    // While the agent is being chosen, and after.
    let dtmf = |digit: &str| {
        format!(
            r#"{{"event":"dtmf","sequenceNumber":"5","streamSid":"{TWILIO_SID}","dtmf":{{"track":"inbound_track","digit":"{digit}"}}}}"#
        )
    };
    call.message(&dtmf("1")).unwrap();
    call.drain();
    call.session
        .accept(CallMediaConfig::pcmu(), call.now)
        .unwrap();
    call.message(&dtmf("#")).unwrap();
    call.step(None);
    let presses: Vec<_> = call
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            StreamEvent::Media(MediaEvent::Dtmf { digit, source }) => Some((*digit, *source)),
            _ => None,
        })
        .collect();
    assert_eq!(
        presses,
        [
            (Digit::D1, DtmfSource::Transport),
            (Digit::Pound, DtmfSource::Transport)
        ]
    );
    for bad in ["12", "", "x", "١"] {
        assert!(
            matches!(call.message(&dtmf(bad)), Err(StreamError::BadDigit(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        call.message(r#"{"event":"dtmf","dtmf":{}}"#),
        Err(StreamError::MissingField("dtmf.digit"))
    ));
    let mut fresh = StreamSession::new(Carrier::Twilio);
    assert!(matches!(
        fresh.handle_message(&dtmf("1"), call.now),
        Err(StreamError::NotStarted)
    ));
}

#[test]
fn bad_messages_are_errors_and_the_call_goes_on() {
    let mut fresh = StreamSession::new(Carrier::Twilio);
    let now = Instant::now();
    let media = twilio_media(1, 0, &[0xFF; 160]);
    assert!(matches!(
        fresh.handle_message(&media, now),
        Err(StreamError::NotStarted)
    ));
    assert!(matches!(
        fresh.accept(CallMediaConfig::pcmu(), now),
        Err(StreamError::NotStarted)
    ));
    assert!(matches!(
        fresh.handle_input(Input::StopAgent, now),
        Err(StreamError::NotAccepted)
    ));

    let mut call = Call::twilio();
    for (text, check) in [
        ("not json", "json"),
        ("", "json"),
        ("[1,2]", "json"),
        ("\"media\"", "json"),
        (r#"{"event":7}"#, "json"),
        (r#"{"streamSid":"MZ1"}"#, "missing"),
        (r#"{"event":"media"}"#, "missing"),
        (r#"{"event":"media","media":{"chunk":"1"}}"#, "missing"),
        (r#"{"event":"media","media":{"payload":"!!!"}}"#, "payload"),
        (
            r#"{"event":"media","media":{"payload":"/w=","chunk":"x"}}"#,
            "json",
        ),
        (TWILIO_START, "started"),
    ] {
        let result = call.message(text);
        let ok = matches!(
            (check, &result),
            ("json", Err(StreamError::Json(_)))
                | ("missing", Err(StreamError::MissingField(_)))
                | ("payload", Err(StreamError::BadPayload(_)))
                | ("started", Err(StreamError::AlreadyStarted))
        );
        assert!(ok, "{text:?} gave {result:?}");
    }
    let huge = format!(
        r#"{{"event":"media","media":{{"payload":"{}"}}}}"#,
        "A".repeat(100_000)
    );
    assert!(matches!(
        call.message(&huge),
        Err(StreamError::PayloadTooLong(100_000))
    ));
    // The media engine's own refusal: an odd-length L16 payload is not a PCMU problem, but an oversized
    // PCMU packet (beyond 120 ms) is.
    let long_packet = twilio_media(1, 0, &[0xFF; 2_000]);
    assert!(matches!(
        call.message(&long_packet),
        Err(StreamError::Media(_))
    ));
    assert!(matches!(
        call.session.accept(CallMediaConfig::pcmu(), call.now),
        Err(StreamError::AlreadyAccepted)
    ));

    // Ignored, counted: unknown events, other tracks, garbled or unknown mark names.
    call.message(r#"{"event":"something-new","x":{"y":[1]}}"#)
        .unwrap();
    call.message(r#"{"event":"error","payload":{"code":100002,"title":"x"}}"#)
        .unwrap();
    call.message(&media.replace("\"inbound\"", "\"outbound\""))
        .unwrap();
    for name in ["t1-m1", "garbage", "t-m", ""] {
        call.message(&twilio_mark(name)).unwrap();
    }
    call.message(r#"{"event":"mark"}"#).unwrap();
    let stats = call.session.stats();
    assert_eq!(stats.unknown_events, 1);
    assert_eq!(stats.carrier_errors, 1);
    assert_eq!(stats.other_track, 1);
    assert_eq!(stats.marks_unknown, 5);
    assert_eq!(stats.media_in, 0);

    // And the call still works.
    for _ in 0..3 {
        call.step(Some(&[0; 160]));
    }
    assert_eq!(call.session.stats().media_in, 3);
}

#[test]
fn media_before_accept_is_dropped_and_rejected_streams_ignore_media() {
    let mut call = Call::twilio_started();
    call.step(Some(&[0; 160]));
    assert_eq!(call.session.stats().media_dropped, 1);
    call.session.reject();
    call.step(Some(&[0; 160]));
    assert_eq!(call.session.stats().media_dropped, 2);
    assert!(matches!(
        call.session.accept(CallMediaConfig::pcmu(), call.now),
        Err(StreamError::Closed)
    ));
    assert!(matches!(
        call.session.poll_output(),
        StreamOutput::Timeout(None)
    ));
}

#[test]
fn telnyx_calls_speak_telnyx_in_each_codec() {
    let l16 = |hz| Codec::L16 {
        rate: SampleRate::new(hz).unwrap(),
    };
    for (encoding, rate, codec, frame_bytes) in [
        ("PCMU", 8_000, Codec::Pcmu, 160),
        ("PCMA", 8_000, Codec::Pcma, 160),
        ("L16", 8_000, l16(8_000), 320),
        ("L16", 16_000, l16(16_000), 640),
        ("G722", 16_000, Codec::G722, 160),
    ] {
        let start = Instant::now();
        let mut session = StreamSession::new(Carrier::Telnyx);
        let text = TELNYX_START
            .replace(
                r#""encoding":"PCMU""#,
                &format!(r#""encoding":"{encoding}""#),
            )
            .replace(r#""sample_rate":8000"#, &format!(r#""sample_rate":{rate}"#));
        session.handle_message(&text, start).unwrap();
        assert_eq!(session.start().unwrap().codec, codec);
        session.accept(CallMediaConfig::pcmu(), start).unwrap();
        assert_eq!(session.media().unwrap().config().codec, codec);
        session
            .handle_input(
                Input::AgentAudio {
                    turn: TurnId(1),
                    pcm: &agent_tone(AGENT_FRAME * 3),
                    mark: Some(1),
                },
                start,
            )
            .unwrap();
        let mut sent = Vec::new();
        let mut now = start;
        for tick in 0..5u64 {
            // The caller's silent chunk, in the stream's codec.
            let mut silence = vec![0u8; frame_bytes];
            let n = Encoder::new(codec)
                .unwrap()
                .encode(&vec![0; codec.pcm_rate().frame_samples()], &mut silence)
                .unwrap();
            assert_eq!(n, frame_bytes);
            let caller = STANDARD.encode(&silence);
            let media = format!(
                r#"{{"event":"media","sequence_number":"{}","media":{{"track":"inbound","chunk":"{}","timestamp":"{}","payload":"{caller}"}},"stream_id":"s1"}}"#,
                tick + 2,
                tick + 1,
                tick * 20
            );
            session.handle_message(&media, now).unwrap();
            session.handle_timeout(now);
            loop {
                match session.poll_output() {
                    StreamOutput::Send(text) => sent.push(text.to_owned()),
                    StreamOutput::Timeout(_) => break,
                    _ => {}
                }
            }
            now += FRAME;
        }
        assert_eq!(session.stats().media_in, 5, "{encoding}");
        assert_eq!(
            sent.len(),
            4,
            "{encoding}: three frames and a mark: {sent:#?}"
        );
        for text in &sent[..3] {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(value.as_object().unwrap().len(), 2, "no stream id: {text}");
            assert_eq!(
                media_payload(&value).unwrap().len(),
                frame_bytes,
                "{encoding}"
            );
        }
        assert_eq!(sent[3], r#"{"event":"mark","mark":{"name":"t1-m1"}}"#);
    }
}

#[test]
fn a_late_loop_steps_tick_by_tick_and_a_stalled_one_catches_up() {
    let mut call = Call::twilio();
    call.agent(1, &agent_tone(22_050), None);
    // 50 ms late: three ticks are due; each call runs one and says the next is already due.
    let late = call.now + Duration::from_millis(50);
    let mut media = 0;
    for round in 0..3 {
        call.session.handle_timeout(late);
        let deadline = loop {
            match call.session.poll_output() {
                StreamOutput::Send(_) => media += 1,
                StreamOutput::Timeout(at) => break at,
                _ => {}
            }
        };
        assert_eq!(media, round + 1);
        assert_eq!(deadline.unwrap() <= late, round < 2);
    }
    // Two seconds stalled: the engine skips what its backlog cannot hold instead of bursting.
    let stalled = late + Duration::from_secs(2);
    call.session.handle_timeout(stalled);
    let mut burst = 0;
    let next = loop {
        match call.session.poll_output() {
            StreamOutput::Send(_) => burst += 1,
            StreamOutput::Timeout(at) => break at.unwrap(),
            _ => {}
        }
    };
    assert!(burst <= 6, "{burst} frames at once");
    assert!(next > stalled && next <= stalled + FRAME);
    assert!(call.session.media().unwrap().stats().skipped_ticks > 90);
}

#[test]
fn a_start_after_stop_or_reject_is_refused() {
    let now = Instant::now();
    let mut stopped = StreamSession::new(Carrier::Twilio);
    stopped.handle_message(TWILIO_STOP, now).unwrap();
    assert!(matches!(
        stopped.handle_message(TWILIO_START, now),
        Err(StreamError::Closed)
    ));
    let mut rejected = StreamSession::new(Carrier::Twilio);
    rejected.reject();
    assert!(matches!(
        rejected.handle_message(TWILIO_START, now),
        Err(StreamError::Closed)
    ));
    assert!(matches!(
        rejected.poll_output(),
        StreamOutput::Timeout(None)
    ));
}
