//! The speech and dialogue backends a call talks to, as object-safe streaming traits.
//!
//! Each agent names its providers ([`registry`] holds them by name); the call loop holds one session of
//! each per call. Dropping a session or a stream cancels it: an interrupted answer's TTS stops being
//! synthesised the moment the call loop lets go of it.

pub mod fake;
pub mod flite;
pub mod mission;
pub mod openai;
pub mod piper;
pub mod receptionist;
pub mod registry;
mod segment;
pub mod whisper;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use dialtone_media::{Pcm, PcmSlice, SampleRate};
use futures_util::Stream;

use crate::agent::AgentProfile;
use crate::dialogue::{Action, LocalTime, Mission};

/// Why a backend failed. Carried to the call loop, which decides whether the call can go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The provider is not installed or not configured (a model file missing, no API key).
    #[error("{provider} is not available: {reason}")]
    Unavailable {
        /// Provider name.
        provider: String,
        /// What is missing, and how to fix it.
        reason: String,
    },
    /// The provider failed on this request.
    #[error("{provider} failed: {reason}")]
    Failed {
        /// Provider name.
        provider: String,
        /// What happened.
        reason: String,
    },
}

/// What a recogniser reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SttEvent {
    /// A hypothesis that may still change.
    Partial(String),
    /// The settled transcript of one caller turn.
    Final(String),
    /// The session failed.
    Error(BackendError),
}

/// Speech recognition for one call.
pub trait SttSession: Send {
    /// Caller audio at the provider's rate, 20 ms at a time. Must not block.
    fn push_audio(&mut self, pcm: PcmSlice<'_>);
    /// The caller's turn ended: produce the final transcript of what was pushed since the last one.
    fn end_of_turn(&mut self);
    /// The caller's turn was a backchannel or noise: drop the audio since the last final, no transcript.
    fn discard_turn(&mut self);
    /// Next event; `Ready(None)` when the session has ended.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SttEvent>>;
}

/// A speech recogniser.
pub trait SttProvider: Send + Sync + fmt::Debug {
    /// The rate it wants audio at.
    fn rate(&self) -> SampleRate;
    /// A session for one call.
    fn open(&self) -> Result<Box<dyn SttSession>, BackendError>;
}

/// Synthesised speech for one piece of text, chunk by chunk at the provider's rate.
pub type TtsStream = Pin<Box<dyn Stream<Item = Result<Pcm, BackendError>> + Send>>;

/// A speech synthesiser.
pub trait TtsProvider: Send + Sync + fmt::Debug {
    /// The rate of the audio it produces.
    fn rate(&self) -> SampleRate;
    /// Speech for `text` (a sentence or clause). Dropping the stream cancels synthesis.
    fn synthesize(&self, text: &str) -> TtsStream;
}

/// One piece of an agent reply, in order: text to speak (whole sentences), or an action to take.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyPart {
    /// Text to speak: one or more whole sentences.
    Say(String),
    /// Something to do (take a message, transfer, hang up) once what precedes it has been said.
    Do(Action),
}

/// A reply as it is produced (an LLM streams it; the built-in policy has it at once).
pub type ReplyStream = Pin<Box<dyn Stream<Item = Result<ReplyPart, BackendError>> + Send>>;

/// The dialogue of one call.
pub trait Dialogue: Send {
    /// The opening line.
    fn greeting(&mut self) -> ReplyStream;
    /// The answer to one caller turn.
    fn respond(&mut self, transcript: &str, now: Option<LocalTime>) -> ReplyStream;
    /// A key press.
    fn dtmf(&mut self, digit: char, now: Option<LocalTime>) -> Option<ReplyStream>;
    /// The caller cut the agent off: of the last reply, only `heard` reached them. History keeps that.
    fn interrupted(&mut self, heard: &str);

    /// An answering machine's beep was heard (only listened for on mission calls). The default ignores it.
    fn beep(&mut self) -> Option<ReplyStream> {
        None
    }
}

/// Something that runs dialogues.
pub trait DialogueProvider: Send + Sync + fmt::Debug {
    /// A dialogue for one call to `agent` from `caller` (E.164, when known).
    fn start(&self, agent: Arc<AgentProfile>, caller: Option<String>) -> Box<dyn Dialogue>;

    /// A dialogue for an outbound mission call that `agent` makes. The default runs the built-in
    /// mission policy ([`crate::dialogue::MissionPolicy`]), whatever the provider.
    fn start_mission(&self, agent: Arc<AgentProfile>, mission: Mission) -> Box<dyn Dialogue> {
        mission::start(agent, mission)
    }
}

/// A reply that is already complete, as a stream.
pub fn ready_reply(parts: Vec<ReplyPart>) -> ReplyStream {
    Box::pin(futures_util::stream::iter(parts.into_iter().map(Ok)))
}

/// Splits text into sentences for TTS, so the first sentence can play while the rest synthesises.
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text.trim();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        let mut end = rest.len();
        for (i, &b) in bytes.iter().enumerate() {
            let at_boundary = matches!(b, b'.' | b'?' | b'!')
                && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
            // "Dr." and "St." do not end a sentence.
            let abbreviation = b == b'.'
                && ["Dr", "St", "Mr", "Ms", "Mrs", "Ste", "No"]
                    .iter()
                    .any(|a| rest[..i].ends_with(a));
            if at_boundary && !abbreviation {
                end = i + 1;
                break;
            }
        }
        let (sentence, tail) = rest.split_at(end);
        rest = tail.trim_start();
        Some(sentence.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_on_terminal_punctuation_only() {
        let s: Vec<&str> =
            sentences("Hello there. Dr. Lopez is in at 9.30 today! Is that ok? Great").collect();
        assert_eq!(
            s,
            vec![
                "Hello there.",
                "Dr. Lopez is in at 9.30 today!",
                "Is that ok?",
                "Great"
            ]
        );
        assert_eq!(sentences("   ").count(), 0);
    }
}
