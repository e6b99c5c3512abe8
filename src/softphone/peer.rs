//! The carrier's side of a Twilio media stream, without I/O: the messages Twilio sends, and what Twilio does
//! with ours (plays `media` in order, echoes a `mark` once the audio before it has played, empties its
//! buffer on `clear` and echoes the pending marks at once).

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dialtone_media::codec::g711::{linear_to_ulaw, ulaw_to_linear};
use serde_json::{Value, json};

enum Queued {
    Audio(Vec<i16>),
    Mark(String),
}

/// One emulated Twilio call leg.
pub struct CarrierPeer {
    stream_sid: String,
    call_sid: String,
    sequence: u64,
    chunk: u64,
    timestamp_ms: u64,
    queue: VecDeque<Queued>,
    partial: VecDeque<i16>,
    /// Messages from the server that were not valid Twilio messages.
    pub protocol_errors: Vec<String>,
    /// `clear` messages received.
    pub clears: u64,
    /// Marks received.
    pub marks: u64,
}

impl std::fmt::Debug for CarrierPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CarrierPeer")
            .field("call_sid", &self.call_sid)
            .finish()
    }
}

impl CarrierPeer {
    /// A call leg with these ids.
    pub fn new(call_sid: &str, stream_sid: &str) -> Self {
        Self {
            stream_sid: stream_sid.to_owned(),
            call_sid: call_sid.to_owned(),
            sequence: 0,
            chunk: 0,
            timestamp_ms: 0,
            queue: VecDeque::new(),
            partial: VecDeque::new(),
            protocol_errors: Vec::new(),
            clears: 0,
            marks: 0,
        }
    }

    fn next_sequence(&mut self) -> String {
        self.sequence += 1;
        self.sequence.to_string()
    }

    /// `connected` and `start`, with the dialled and calling numbers as custom parameters.
    pub fn opening(&mut self, to: &str, from: &str) -> Vec<String> {
        let start = json!({
            "event": "start",
            "sequenceNumber": self.next_sequence(),
            "streamSid": self.stream_sid,
            "start": {
                "accountSid": "AC00000000000000000000000000000000",
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "customParameters": {"to": to, "from": from},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
            }
        });
        vec![
            json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}).to_string(),
            start.to_string(),
        ]
    }

    /// One 20 ms `media` message of caller audio (160 samples at 8 kHz).
    pub fn media(&mut self, pcm: &[i16]) -> String {
        let mulaw: Vec<u8> = pcm.iter().map(|&s| linear_to_ulaw(s)).collect();
        self.chunk += 1;
        let msg = json!({
            "event": "media",
            "sequenceNumber": self.next_sequence(),
            "streamSid": self.stream_sid,
            "media": {
                "track": "inbound",
                "chunk": self.chunk.to_string(),
                "timestamp": self.timestamp_ms.to_string(),
                "payload": STANDARD.encode(mulaw)
            }
        });
        self.timestamp_ms += 20;
        msg.to_string()
    }

    /// A keypad press.
    pub fn dtmf(&mut self, digit: char) -> String {
        json!({
            "event": "dtmf",
            "sequenceNumber": self.next_sequence(),
            "streamSid": self.stream_sid,
            "dtmf": {"track": "inbound_track", "digit": digit.to_string()}
        })
        .to_string()
    }

    /// The caller hung up.
    pub fn stop(&mut self) -> String {
        json!({
            "event": "stop",
            "sequenceNumber": self.next_sequence(),
            "streamSid": self.stream_sid,
            "stop": {"accountSid": "AC00000000000000000000000000000000", "callSid": self.call_sid}
        })
        .to_string()
    }

    fn mark_echo(&mut self, name: &str) -> String {
        json!({
            "event": "mark",
            "sequenceNumber": self.next_sequence(),
            "streamSid": self.stream_sid,
            "mark": {"name": name}
        })
        .to_string()
    }

    /// Takes a message from the server; returns messages to send back at once (mark echoes after
    /// `clear`).
    pub fn on_server_message(&mut self, text: &str) -> Vec<String> {
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.protocol_errors.push(format!("not JSON: {e}"));
                return Vec::new();
            }
        };
        if v["streamSid"].as_str() != Some(self.stream_sid.as_str()) {
            self.protocol_errors
                .push(format!("wrong or missing streamSid in {text}"));
        }
        match v["event"].as_str() {
            Some("media") => match v["media"]["payload"].as_str().map(|p| STANDARD.decode(p)) {
                Some(Ok(bytes)) => {
                    self.queue.push_back(Queued::Audio(
                        bytes.iter().map(|&b| ulaw_to_linear(b)).collect(),
                    ));
                }
                _ => self
                    .protocol_errors
                    .push("media without a base64 payload".into()),
            },
            Some("mark") => match v["mark"]["name"].as_str() {
                Some(name) => {
                    self.marks += 1;
                    self.queue.push_back(Queued::Mark(name.to_owned()));
                }
                None => self.protocol_errors.push("mark without a name".into()),
            },
            Some("clear") => {
                self.clears += 1;
                self.partial.clear();
                let pending: Vec<String> = self
                    .queue
                    .drain(..)
                    .filter_map(|q| match q {
                        Queued::Mark(name) => Some(name),
                        Queued::Audio(_) => None,
                    })
                    .collect();
                return pending.iter().map(|n| self.mark_echo(n)).collect();
            }
            other => self
                .protocol_errors
                .push(format!("unexpected event {other:?}")),
        }
        Vec::new()
    }

    /// Plays 20 ms: the agent audio the caller hears now (silence when none), and the mark echoes due.
    pub fn play_tick(&mut self) -> (Vec<i16>, Vec<String>, bool) {
        let mut out = Vec::with_capacity(160);
        let mut echoes = Vec::new();
        let mut had_audio = false;
        while out.len() < 160 {
            if let Some(s) = self.partial.pop_front() {
                out.push(s);
                had_audio = true;
                continue;
            }
            match self.queue.pop_front() {
                Some(Queued::Audio(a)) => self.partial.extend(a),
                Some(Queued::Mark(name)) => {
                    let echo = self.mark_echo(&name);
                    echoes.push(echo);
                }
                None => break,
            }
        }
        // Marks right after the audio just played are reached too.
        while let Some(Queued::Mark(_)) = self.queue.front() {
            if let Some(Queued::Mark(name)) = self.queue.pop_front() {
                let echo = self.mark_echo(&name);
                echoes.push(echo);
            }
        }
        out.resize(160, 0);
        (out, echoes, had_audio)
    }
}
