#![allow(clippy::unwrap_used)]

use super::*;
use crate::codec::Codec;
use crate::dtmf::Digit;
use crate::rtp::RtpHeader;
use crate::turn::EndReason;

/// Speech-like audio at 8 kHz.
fn voiced(n: usize, offset: usize) -> Vec<i16> {
    crate::synth::voiced(SampleRate::HZ_8000, 140.0, n, offset)
}

struct Call {
    media: CallMedia,
    start: Instant,
    now: Instant,
    encoder: Encoder,
    seq: u16,
    ts: u32,
    events: Vec<(usize, MediaEvent)>,
    sent: Vec<(usize, Vec<u8>, TxMeta)>,
    stt_frames: usize,
    tick: usize,
}

impl Call {
    fn new(config: CallMediaConfig) -> Self {
        let start = Instant::now();
        Self {
            media: CallMedia::new(config, start).unwrap(),
            start,
            now: start,
            encoder: Encoder::new(Codec::Pcmu).unwrap(),
            seq: 1000,
            ts: 0,
            events: Vec::new(),
            sent: Vec::new(),
            stt_frames: 0,
            tick: 0,
        }
    }

    /// One 20 ms step: the caller's packet (if any) arrives, then the tick runs and outputs are drained.
    fn step(&mut self, caller: Option<&[i16]>) {
        if let Some(pcm) = caller {
            let mut payload = [0u8; 160];
            self.encoder.encode(pcm, &mut payload).unwrap();
            let header = RtpHeader {
                marker: false,
                payload_type: 0,
                sequence: self.seq,
                timestamp: self.ts,
                ssrc: 77,
            };
            let mut packet = [0u8; 172];
            header.write_packet(&payload, &mut packet).unwrap();
            self.media
                .handle_input(Input::Rtp(&packet), self.now)
                .unwrap();
        }
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
        self.media.handle_timeout(self.now);
        self.drain();
        self.now += FRAME;
        self.tick += 1;
    }

    fn drain(&mut self) {
        loop {
            match self.media.poll_output() {
                Output::Event(e) => self.events.push((self.tick, e)),
                Output::ToStt(pcm) => {
                    assert_eq!(pcm.samples.len(), 320);
                    assert_eq!(pcm.rate, SampleRate::HZ_16000);
                    self.stt_frames += 1;
                }
                Output::ToCaller(frame) => {
                    let meta = TxMeta {
                        marker: frame.marker,
                        sequence: frame.sequence,
                        timestamp: frame.timestamp,
                        telephone_event: frame.telephone_event,
                    };
                    self.sent.push((self.tick, frame.rtp().to_vec(), meta));
                }
                Output::Timeout(at) => {
                    assert!(at > self.now);
                    break;
                }
            }
        }
    }

    fn first(&self, pred: impl Fn(&MediaEvent) -> bool) -> Option<(usize, MediaEvent)> {
        self.events.iter().copied().find(|(_, e)| pred(e))
    }

    fn agent(&mut self, turn: u64, pcm: &[i16], mark: Option<u64>) {
        let input = Input::AgentAudio {
            turn: TurnId(turn),
            pcm,
            mark,
        };
        self.media.handle_input(input, self.now).unwrap();
    }
}

fn tone_22k(samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|i| ((i as f32 * 0.06).sin() * 8000.0) as i16)
        .collect()
}

#[test]
fn agent_audio_is_paced_one_packet_per_tick() {
    let mut call = Call::new(CallMediaConfig::pcmu());
    call.agent(1, &tone_22k(22_050), Some(9));
    call.media
        .handle_input(Input::AgentTurnEnd(TurnId(1)), call.now)
        .unwrap();
    for _ in 0..60 {
        call.step(None);
    }
    assert_eq!(
        call.sent.len(),
        60,
        "one packet per tick, silence after the turn"
    );
    for (i, (tick, packet, meta)) in call.sent.iter().enumerate() {
        assert_eq!(*tick, i);
        assert_eq!(packet.len(), 172);
        assert_eq!(meta.sequence, i as u16);
        assert_eq!(meta.timestamp, 160 * i as u32);
        assert_eq!(meta.marker, i == 0);
    }
    let (done_tick, done) = call
        .first(|e| matches!(e, MediaEvent::AgentTurnDone { .. }))
        .unwrap();
    assert_eq!(done_tick, 49);
    assert_eq!(
        done,
        MediaEvent::AgentTurnDone {
            turn: TurnId(1),
            played: MediaTime::new(22_050, SampleRate::HZ_22050)
        }
    );
    assert!(
        call.first(|e| matches!(e, MediaEvent::Mark { mark: 9, .. }))
            .is_some()
    );
    assert_eq!(call.stt_frames, 60);
}

#[test]
fn send_slots_are_counted_by_how_late_the_loop_ran_them() {
    let mut call = Call::new(CallMediaConfig::pcmu());
    call.agent(1, &tone_22k(22_050), None);
    for _ in 0..10 {
        call.step(None);
    }
    // On time: every slot in the first bucket.
    assert_eq!(call.media.stats().tx_lateness.counts[0], 10);
    assert_eq!(call.media.stats().tx_lateness.total(), 10);
    // A loop that wakes 7 ms late runs the slot then: one slot in the 10 ms bucket, and the next slots
    // keep their own times.
    call.now += Duration::from_millis(7);
    call.step(None);
    let late = call.media.stats().tx_lateness;
    assert_eq!(late.counts[3], 1, "{late:?}");
    assert_eq!(late.quantile_bound_ms(1.0), Some(10));
    assert_eq!(late.quantile_bound_ms(0.9), Some(1));
}

#[test]
fn websocket_mode_sends_nothing_when_quiet() {
    let mut call = Call::new(CallMediaConfig {
        send_silence: false,
        ..CallMediaConfig::pcmu()
    });
    for _ in 0..5 {
        call.step(None);
    }
    assert!(call.sent.is_empty());
    call.agent(1, &tone_22k(441 * 3), None);
    for _ in 0..5 {
        call.step(None);
    }
    assert_eq!(call.sent.len(), 3);
    // The timestamp kept running through the quiet ticks, and the talkspurt starts with a marker.
    assert_eq!(call.sent[0].2.timestamp, 5 * 160);
    assert!(call.sent[0].2.marker);
}

#[test]
fn caller_speech_makes_a_turn() {
    let mut call = Call::new(CallMediaConfig::pcmu());
    for i in 0..10 {
        call.step(Some(&[0; 160]));
        let _ = i;
    }
    for i in 0..50 {
        call.step(Some(&voiced(160, i * 160)));
    }
    for _ in 0..60 {
        call.step(Some(&[0; 160]));
    }
    let (started, _) = call
        .first(|e| matches!(e, MediaEvent::SpeechStarted { .. }))
        .unwrap();
    let (ended, end) = call
        .first(|e| matches!(e, MediaEvent::EndOfTurn { .. }))
        .unwrap();
    // Speech arrives at tick 10, plays out after the 40 ms initial jitter delay, and is declared after
    // three frames.
    assert!(
        (12..=16).contains(&started),
        "speech started at tick {started}"
    );
    assert!(matches!(
        end,
        MediaEvent::EndOfTurn {
            reason: EndReason::Silence,
            ..
        }
    ));
    assert!(
        (ended - started) >= 50 + 35 - 5,
        "turn ended at tick {ended}"
    );
    assert!(
        call.first(|e| matches!(e, MediaEvent::UserTurnStarted { .. }))
            .is_some()
    );
}

#[test]
fn barge_in_pauses_then_drops_agent_audio_and_reports_what_was_played() {
    let mut call = Call::new(CallMediaConfig::pcmu());
    call.agent(1, &tone_22k(22_050 * 5), None);
    for _ in 0..20 {
        call.step(Some(&[0; 160]));
    }
    for i in 0..40 {
        call.step(Some(&voiced(160, i * 160)));
    }
    let (speech_tick, _) = call
        .first(|e| matches!(e, MediaEvent::SpeechStarted { .. }))
        .unwrap();
    let (pause_tick, pause) = call
        .first(|e| matches!(e, MediaEvent::AgentPaused { .. }))
        .unwrap();
    assert_eq!(
        pause_tick, speech_tick,
        "agent audio stops in the frame speech is declared"
    );
    let (barge_tick, barge) = call
        .first(|e| matches!(e, MediaEvent::BargeIn { .. }))
        .unwrap();
    assert!(barge_tick > pause_tick);
    let MediaEvent::AgentPaused { played, .. } = pause else {
        unreachable!()
    };
    let MediaEvent::BargeIn {
        turn,
        played: barge_played,
    } = barge
    else {
        unreachable!()
    };
    assert_eq!(turn, TurnId(1));
    assert_eq!(played, barge_played, "nothing was sent while paused");
    // Frames with agent audio: every tick before the pause.
    assert_eq!(played.samples(), 441 * pause_tick as u64);
    // After the pause, only silence goes out (μ-law silence is 0xFF).
    for (_, packet, _) in call.sent.iter().filter(|(t, _, _)| *t > pause_tick) {
        assert!(packet[12..].iter().all(|&b| b == 0xFF || b == 0x7F));
    }
    // Late audio of the interrupted turn is stale.
    call.agent(1, &tone_22k(441), None);
    assert_eq!(call.media.stats().stale_agent_chunks, 1);
}

#[test]
fn backchannel_resumes_agent_where_it_paused() {
    let mut call = Call::new(CallMediaConfig::pcmu());
    call.agent(1, &tone_22k(22_050 * 5), None);
    for _ in 0..20 {
        call.step(Some(&[0; 160]));
    }
    // 200 ms "uh-huh": shorter than the 400 ms backchannel limit.
    for i in 0..10 {
        call.step(Some(&voiced(160, i * 160)));
    }
    for _ in 0..40 {
        call.step(Some(&[0; 160]));
    }
    assert!(
        call.first(|e| matches!(e, MediaEvent::AgentPaused { .. }))
            .is_some()
    );
    assert!(
        call.first(|e| matches!(e, MediaEvent::BargeIn { .. }))
            .is_none()
    );
    let (_, back) = call
        .first(|e| matches!(e, MediaEvent::Backchannel { .. }))
        .unwrap();
    assert_eq!(
        back,
        MediaEvent::Backchannel {
            turn_withdrawn: true
        }
    );
    assert!(
        call.first(|e| matches!(e, MediaEvent::AgentResumed { .. }))
            .is_some()
    );
    assert!(
        call.first(|e| matches!(e, MediaEvent::EndOfTurn { .. }))
            .is_none()
    );
}

#[test]
fn rfc4733_in_and_out() {
    let mut call = Call::new(CallMediaConfig::pcmu());
    // In: one press, with its three end packets.
    for (i, (dur, end)) in [
        (160u16, false),
        (320, false),
        (480, true),
        (480, true),
        (480, true),
    ]
    .into_iter()
    .enumerate()
    {
        let payload = [
            5u8,
            if end { 0x8a } else { 0x0a },
            (dur >> 8) as u8,
            dur as u8,
        ];
        let header = RtpHeader {
            marker: i == 0,
            payload_type: 101,
            sequence: 500 + i as u16,
            timestamp: 4_000,
            ssrc: 77,
        };
        let mut packet = [0u8; 16];
        header.write_packet(&payload, &mut packet).unwrap();
        call.media
            .handle_input(Input::Rtp(&packet), call.now)
            .unwrap();
    }
    call.step(None);
    let presses: Vec<_> = call
        .events
        .iter()
        .filter(|(_, e)| matches!(e, MediaEvent::Dtmf { .. }))
        .collect();
    assert_eq!(presses.len(), 1);
    assert_eq!(
        presses[0].1,
        MediaEvent::Dtmf {
            digit: Digit::D5,
            source: DtmfSource::Rfc4733
        }
    );

    // Out: a 100 ms press replaces audio for its ticks, all stamped with the event's start.
    call.media
        .handle_input(
            Input::SendDtmf {
                digit: Digit::Pound,
                duration: Duration::from_millis(100),
            },
            call.now,
        )
        .unwrap();
    let before = call.sent.len();
    for _ in 0..10 {
        call.step(None);
    }
    let events: Vec<_> = call.sent[before..]
        .iter()
        .filter(|(_, _, m)| m.telephone_event)
        .collect();
    assert_eq!(events.len(), 7, "5 growing packets + 2 more end packets");
    assert!(events[0].2.marker);
    assert!(
        events
            .iter()
            .all(|(_, p, m)| m.timestamp == events[0].2.timestamp && p[1] & 0x7f == 101)
    );
}

#[test]
fn bad_input_is_an_error_and_the_call_goes_on() {
    let mut call = Call::new(CallMediaConfig::pcmu());
    assert!(
        call.media
            .handle_input(Input::Rtp(&[0x80, 0]), call.now)
            .is_err()
    );
    assert!(call.media.handle_input(Input::Rtp(&[]), call.now).is_err());
    let mut packet = [0u8; 20];
    RtpHeader {
        marker: false,
        payload_type: 96,
        sequence: 1,
        timestamp: 1,
        ssrc: 1,
    }
    .write_packet(&[1; 8], &mut packet)
    .unwrap();
    assert!(matches!(
        call.media.handle_input(Input::Rtp(&packet), call.now),
        Err(MediaError::UnknownPayloadType(96))
    ));
    let stats = call.media.stats();
    assert_eq!((stats.rx_errors, stats.unknown_payload_types), (2, 1));
    call.step(Some(&[0; 160]));
    assert_eq!(call.sent.len(), 1);
}

#[test]
fn a_stalled_loop_skips_ticks_instead_of_bursting() {
    let mut call = Call::new(CallMediaConfig::pcmu());
    call.now += Duration::from_secs(1);
    call.media.handle_timeout(call.now);
    call.drain();
    assert_eq!(call.sent.len(), BACKLOG);
    // Both directions skip what did not fit: 45 caller ticks and 45 agent ticks.
    assert_eq!(call.media.stats().skipped_ticks, 2 * (51 - BACKLOG as u64));
    assert!(call.now >= call.start);
}

#[test]
fn a_quiet_stream_starts_the_next_talkspurt_at_once() {
    let mut call = Call::new(CallMediaConfig {
        send_silence: false,
        ..CallMediaConfig::pcmu()
    });
    call.step(None);
    // Agent audio arrives 7 ms after a tick: the first frame goes out now, not at the next tick.
    let arrival = call.now + Duration::from_millis(7);
    call.media
        .handle_input(
            Input::AgentAudio {
                turn: TurnId(1),
                pcm: &tone_22k(441 * 3),
                mark: None,
            },
            arrival,
        )
        .unwrap();
    assert!(matches!(call.media.poll_output(), Output::Timeout(t) if t <= arrival));
    call.media.handle_timeout(arrival);
    let (marker, timestamp) = loop {
        match call.media.poll_output() {
            Output::ToCaller(frame) => break (frame.marker, frame.timestamp),
            Output::Timeout(t) => panic!("no frame at {arrival:?}; next deadline {t:?}"),
            _ => {}
        }
    };
    assert!(marker);
    // The RTP clock ran on through the quiet 27 ms.
    assert_eq!(timestamp, 216);
}

/// A confirming detector that hears nothing, whatever the WebRTC VAD says.
#[derive(Debug)]
struct Deaf;

impl crate::vad::VoiceDetector for Deaf {
    fn rate(&self) -> SampleRate {
        SampleRate::HZ_8000
    }
    fn speech_probability(&mut self, _: &[i16]) -> f32 {
        0.0
    }
    fn reset(&mut self) {}
}

#[derive(Debug)]
struct DeafFactory(SampleRate);

impl crate::vad::DetectorFactory for DeafFactory {
    fn rate(&self) -> SampleRate {
        self.0
    }
    fn detector(&self) -> Option<Box<dyn crate::vad::VoiceDetector>> {
        Some(Box::new(Deaf))
    }
}

fn with_confirming(rate: SampleRate) -> CallMediaConfig {
    CallMediaConfig {
        confirm_vad: Some(std::sync::Arc::new(DeafFactory(rate))),
        ..CallMediaConfig::pcmu()
    }
}

#[test]
fn a_confirming_detector_decides_and_runs_only_around_speech() {
    let mut call = Call::new(with_confirming(SampleRate::HZ_8000));
    for _ in 0..50 {
        call.step(Some(&[0; 160]));
    }
    for i in 0..50 {
        call.step(Some(&voiced(160, i * 160)));
    }
    for _ in 0..50 {
        call.step(Some(&[0; 160]));
    }
    // WebRTC hears the vowel; the confirming detector does not, and it has the last word.
    assert!(
        call.first(|e| matches!(e, MediaEvent::SpeechStarted { .. }))
            .is_none(),
        "{:?}",
        call.events
    );
    let stats = call.media.stats();
    assert!(stats.vad_confirming);
    assert_eq!(stats.vad_frames, 150);
    // About the 50 voiced frames and the 10-frame hangover; nothing in the silences.
    assert!(
        (50..=62).contains(&stats.vad_heavy_frames),
        "{}",
        stats.vad_heavy_frames
    );
}

#[test]
fn a_confirming_detector_at_another_rate_is_left_out() {
    let mut call = Call::new(with_confirming(SampleRate::HZ_16000));
    for i in 0..20 {
        call.step(Some(&voiced(160, i * 160)));
    }
    let stats = call.media.stats();
    assert!(!stats.vad_confirming);
    assert_eq!(stats.vad_heavy_frames, 0);
    assert!(
        call.first(|e| matches!(e, MediaEvent::SpeechStarted { .. }))
            .is_some()
    );
}
