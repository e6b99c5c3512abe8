//! Stream session tests on a virtual clock: a base instant plus 20 ms steps, never a sleep.

#![allow(clippy::unwrap_used)]

mod call;
mod parse;
mod props;

use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dialtone_media::codec::{Codec, Encoder};
use dialtone_media::{CallMediaConfig, FRAME, Input, TurnId};

use super::{Carrier, StreamEvent, StreamOutput, StreamSession};

pub(super) const TWILIO_CONNECTED: &str =
    r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
pub(super) const TWILIO_START: &str = r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","start":{"accountSid":"AC123","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","callSid":"CA123","tracks":["inbound"],"customParameters":{"to":"+15035550142","from":"+15035550100"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;
pub(super) const TWILIO_SID: &str = "MZ18ad3ab5a668481ce02b83e7395059f0";
pub(super) const TWILIO_STOP: &str = r#"{"event":"stop","sequenceNumber":"5","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","stop":{"accountSid":"AC123","callSid":"CA123"}}"#;
pub(super) const TELNYX_START: &str = r#"{"event":"start","sequence_number":"1","stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC","start":{"user_id":"3E6F995F","call_control_id":"v2:T02llQxIya","call_session_id":"ff55a038","from":"+13122010094","to":"+13122123456","tags":["TAG1"],"client_state":"aGF2ZQ==","custom_parameters":{"agent_id":"dental-1"},"media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}}}"#;

/// A Twilio `media` message from the caller.
pub(super) fn twilio_media(chunk: u64, timestamp_ms: u64, payload: &[u8]) -> String {
    format!(
        r#"{{"event":"media","sequenceNumber":"{}","streamSid":"{TWILIO_SID}","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{timestamp_ms}","payload":"{}"}}}}"#,
        chunk + 2,
        STANDARD.encode(payload)
    )
}

/// A Twilio `mark` echo.
pub(super) fn twilio_mark(name: &str) -> String {
    format!(
        r#"{{"event":"mark","sequenceNumber":"9","streamSid":"{TWILIO_SID}","mark":{{"name":"{name}"}}}}"#
    )
}

/// Speech-like caller audio at 8 kHz.
pub(super) fn voiced(n: usize, offset: usize) -> Vec<i16> {
    dialtone_media::synth::voiced(dialtone_media::SampleRate::HZ_8000, 140.0, n, offset)
}

/// Agent audio at 22.05 kHz.
pub(super) fn agent_tone(samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|i| ((i as f32 * 0.06).sin() * 8000.0) as i16)
        .collect()
}

/// One call: the session, a virtual clock, and everything it output, stamped with the tick.
pub(super) struct Call {
    pub session: StreamSession,
    pub now: Instant,
    pub tick: usize,
    pub sent: Vec<(usize, String)>,
    pub events: Vec<(usize, StreamEvent)>,
    pub stt_frames: usize,
    encoder: Encoder,
    chunk: u64,
}

impl Call {
    /// A Twilio stream through `connected` and `start`, not yet accepted.
    pub fn twilio_started() -> Self {
        let start = Instant::now();
        let mut call = Self {
            session: StreamSession::new(Carrier::Twilio),
            now: start,
            tick: 0,
            sent: Vec::new(),
            events: Vec::new(),
            stt_frames: 0,
            encoder: Encoder::new(Codec::Pcmu).unwrap(),
            chunk: 1,
        };
        call.message(TWILIO_CONNECTED).unwrap();
        call.message(TWILIO_START).unwrap();
        call.drain();
        call
    }

    /// A Twilio stream, accepted with the default phone-call media settings.
    pub fn twilio() -> Self {
        let mut call = Self::twilio_started();
        call.session
            .accept(CallMediaConfig::pcmu(), call.now)
            .unwrap();
        call
    }

    pub fn message(&mut self, text: &str) -> Result<(), super::StreamError> {
        self.session.handle_message(text, self.now)
    }

    /// The caller's next 20 ms, μ-law encoded, as Twilio sends it.
    pub fn caller(&mut self, pcm: &[i16]) {
        let mut payload = [0u8; 160];
        let n = self.encoder.encode(pcm, &mut payload).unwrap();
        let ts = (self.chunk - 1) * 20;
        let text = twilio_media(self.chunk, ts, &payload[..n]);
        self.chunk += 1;
        self.message(&text).unwrap();
    }

    /// One 20 ms step: the caller's chunk (if any) arrives, the tick runs, outputs are drained.
    pub fn step(&mut self, caller: Option<&[i16]>) {
        if let Some(pcm) = caller {
            self.caller(pcm);
        }
        self.session.handle_timeout(self.now);
        if let Some(at) = self.drain() {
            assert!(at > self.now, "a tick left undone");
        }
        self.now += FRAME;
        self.tick += 1;
    }

    /// Takes every output, and returns the deadline that ended them.
    pub fn drain(&mut self) -> Option<Instant> {
        loop {
            match self.session.poll_output() {
                StreamOutput::Send(text) => self.sent.push((self.tick, text.to_owned())),
                StreamOutput::ToStt(pcm) => {
                    assert_eq!(pcm.samples.len(), 320);
                    self.stt_frames += 1;
                }
                StreamOutput::Event(event) => self.events.push((self.tick, event)),
                StreamOutput::Timeout(at) => return at,
            }
        }
    }

    pub fn agent(&mut self, turn: u64, pcm: &[i16], mark: Option<u64>) {
        let input = Input::AgentAudio {
            turn: TurnId(turn),
            pcm,
            mark,
        };
        self.session.handle_input(input, self.now).unwrap();
    }

    /// Sent messages with their tick, parsed.
    pub fn sent_json(&self) -> Vec<(usize, serde_json::Value)> {
        self.sent
            .iter()
            .map(|(tick, text)| (*tick, serde_json::from_str(text).unwrap()))
            .collect()
    }

    pub fn first_event(&self, pred: impl Fn(&StreamEvent) -> bool) -> Option<(usize, StreamEvent)> {
        self.events.iter().find(|(_, e)| pred(e)).cloned()
    }
}
