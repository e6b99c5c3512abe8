//! What a call reports when it ends, and the socket messages the loop consumes.

use serde::Serialize;

use crate::backend::registry::ProviderRole;
use crate::dialogue::Action;

use super::timing::TurnTiming;

/// A message from the carrier's WebSocket, as the loop needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsMessage {
    /// A text frame.
    Text(String),
    /// The peer closed the socket.
    Close,
}

/// Who said something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person who called.
    Caller,
    /// The voice agent.
    Agent,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TranscriptEntry {
    /// Speaker.
    pub role: Role,
    /// What was said; for an interrupted agent turn, what the caller heard.
    pub text: String,
    /// The agent was cut off.
    pub interrupted: bool,
}

/// Why the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEnd {
    /// The carrier sent `stop`.
    CarrierStopped,
    /// The socket closed or failed.
    TransportClosed,
    /// The agent hung up (goodbye).
    AgentHungUp,
    /// No agent answers the dialled number.
    NoAgent,
    /// A backend could not start.
    BackendUnavailable,
    /// The caller hung up (SIP BYE).
    CallerHungUp,
    /// No media from the caller for longer than the media timeout.
    MediaTimeout,
    /// The caller was transferred elsewhere (SIP REFER accepted).
    Transferred,
    /// The process is shutting down.
    Shutdown,
}

/// What happened on a call.
#[derive(Debug, Clone)]
pub struct CallReport {
    /// The carrier's call id.
    pub call_id: Option<String>,
    /// The agent that answered.
    pub agent_id: Option<String>,
    /// The caller's number (E.164), when the transport reported it.
    pub from: Option<String>,
    /// The dialled number (E.164), when the transport reported it.
    pub to: Option<String>,
    /// When the call started, by [`CallDeps::clock`](super::CallDeps): what the call log records, since
    /// the report itself only arrives when the call ends.
    pub started_at: Option<std::time::SystemTime>,
    /// The agent placed the call (an outbound mission) rather than answering it.
    pub outbound: bool,
    /// Turn by turn.
    pub transcript: Vec<TranscriptEntry>,
    /// Latency milestones of each agent answer to a caller turn.
    pub turns: Vec<TurnTiming>,
    /// Messages, bookings, transfers requested.
    pub actions: Vec<Action>,
    /// How it ended.
    pub end: CallEnd,
    /// The media engine's counters at the end (jitter buffer, packets, skipped ticks), when media started.
    pub media: Option<dialtone_media::call_media::CallMediaStats>,
    /// Backend failures during the call, by role.
    pub backend_errors: BackendErrors,
}

/// Backend failures during one call: a provider that could not start, a failed recognition, dialogue
/// stream or synthesis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackendErrors {
    /// Speech recognition.
    pub stt: u32,
    /// Dialogue.
    pub llm: u32,
    /// Speech synthesis.
    pub tts: u32,
}

impl BackendErrors {
    /// Counts one failure of `role`.
    pub fn count(&mut self, role: ProviderRole) {
        let n = match role {
            ProviderRole::Stt => &mut self.stt,
            ProviderRole::Llm => &mut self.llm,
            ProviderRole::Tts => &mut self.tts,
        };
        *n = n.saturating_add(1);
    }
}
