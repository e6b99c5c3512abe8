//! Per-turn latency: where the time between the caller's last word and the agent's first sound went.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Milestones of one agent answer, from the caller's end of speech to the first frame sent.
#[derive(Debug, Clone, Default)]
pub struct TurnTiming {
    /// The VAD saw the caller stop speaking (its stop frames already elapsed; corrected back to the
    /// last speech frame).
    pub speech_end: Option<Instant>,
    /// Turn-taking decided the caller's turn is over.
    pub end_of_turn: Option<Instant>,
    /// The recogniser's final transcript for the turn arrived.
    pub stt_final: Option<Instant>,
    /// The dialogue produced its first text.
    pub first_text: Option<Instant>,
    /// The synthesiser produced its first audio.
    pub first_audio: Option<Instant>,
    /// The first frame of the answer went to the caller.
    pub first_frame: Option<Instant>,
}

/// The milestones as durations after the caller's end of speech, for reports.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct TurnLatency {
    /// End of speech -> end-of-turn decision, ms.
    pub end_of_turn_ms: Option<f64>,
    /// End of speech -> STT final, ms.
    pub stt_final_ms: Option<f64>,
    /// End of speech -> first dialogue text, ms.
    pub first_text_ms: Option<f64>,
    /// End of speech -> first TTS audio, ms.
    pub first_audio_ms: Option<f64>,
    /// End of speech -> first frame sent, ms: what the caller experiences.
    pub first_frame_ms: Option<f64>,
    /// From "we know what to answer" (the later of the end-of-turn decision and the STT final) to the first
    /// frame on the wire, ms. With instant backends this is all the runtime's own doing: dialogue call,
    /// sentence split, TTS hand-off, queueing and frame pacing.
    pub decision_to_frame_ms: Option<f64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl TurnTiming {
    /// Durations after end of speech. `None` where a milestone was not reached.
    pub fn latency(&self) -> TurnLatency {
        let Some(t0) = self.speech_end else {
            return TurnLatency::default();
        };
        let after = |t: Option<Instant>| t.map(|t| ms(t.saturating_duration_since(t0)));
        let decision_to_frame = match (self.end_of_turn, self.stt_final, self.first_frame) {
            (Some(eot), Some(fin), Some(frame)) => {
                Some(ms(frame.saturating_duration_since(eot.max(fin))))
            }
            _ => None,
        };
        TurnLatency {
            end_of_turn_ms: after(self.end_of_turn),
            stt_final_ms: after(self.stt_final),
            first_text_ms: after(self.first_text),
            first_audio_ms: after(self.first_audio),
            first_frame_ms: after(self.first_frame),
            decision_to_frame_ms: decision_to_frame,
        }
    }
}
