//! What `CallMedia` reports to the call loop.

use crate::audio::MediaTime;
use crate::dtmf::Digit;
use crate::jitter::JitterStats;
use crate::turn::EndReason;

use super::agent_audio::TurnId;

/// Where a DTMF digit was heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfSource {
    /// RFC 4733 telephone-event packets.
    Rfc4733,
    /// Tones in the audio itself (Goertzel detection).
    InBand,
    /// Reported by the transport out of band (a Twilio `dtmf` message).
    Transport,
}

/// An event from the media engine. Caller positions are counted at the STT rate from the start of the
/// call; agent positions at the TTS rate from the start of that agent turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// The caller started speaking (position of the first speech frame).
    SpeechStarted {
        /// Caller position.
        at: MediaTime,
    },
    /// The caller stopped speaking (position just after the last speech frame).
    SpeechStopped {
        /// Caller position.
        at: MediaTime,
    },
    /// A caller turn began.
    UserTurnStarted {
        /// Caller position.
        at: MediaTime,
    },
    /// The caller's turn is over: time for the dialogue to answer.
    EndOfTurn {
        /// Why.
        reason: EndReason,
        /// Caller position.
        at: MediaTime,
    },
    /// Caller speech over the agent: agent audio is held from this frame on. Transports that buffer audio
    /// at the far end (Twilio) should `clear` it now.
    AgentPaused {
        /// The agent turn.
        turn: TurnId,
        /// Agent audio sent before the pause.
        played: MediaTime,
    },
    /// The overlap was a backchannel; agent audio continues from where it paused.
    AgentResumed {
        /// The agent turn.
        turn: TurnId,
        /// Where it resumes.
        from: MediaTime,
    },
    /// A short caller burst over the agent that did not interrupt.
    Backchannel {
        /// The caller turn the burst opened was withdrawn: its transcript is not a request.
        turn_withdrawn: bool,
    },
    /// The caller interrupted: the rest of the agent turn is dropped. `played` is what the caller was
    /// sent; with marks, the transport can refine it to what the caller heard.
    BargeIn {
        /// The interrupted agent turn.
        turn: TurnId,
        /// Agent audio sent before the interruption.
        played: MediaTime,
    },
    /// The agent's audio was stopped on request ([`super::Input::StopAgent`]).
    AgentStopped {
        /// The stopped agent turn.
        turn: TurnId,
        /// Agent audio sent before the stop.
        played: MediaTime,
    },
    /// All agent audio before a mark has been sent to the caller.
    Mark {
        /// The agent turn.
        turn: TurnId,
        /// The mark given with the audio chunk.
        mark: u64,
        /// Agent audio sent so far in the turn.
        played: MediaTime,
    },
    /// An agent turn played out to its end.
    AgentTurnDone {
        /// The agent turn.
        turn: TurnId,
        /// Its length.
        played: MediaTime,
    },
    /// A key press.
    Dtmf {
        /// The key.
        digit: Digit,
        /// How it arrived.
        source: DtmfSource,
    },
}

/// Counters for one call.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallMediaStats {
    /// Audio packets accepted from the caller.
    pub rx_packets: u64,
    /// Caller packets that could not be parsed or decoded.
    pub rx_errors: u64,
    /// Caller packets with a payload type that was not negotiated.
    pub unknown_payload_types: u64,
    /// Telephone-event packets received.
    pub dtmf_packets: u64,
    /// Packets sent to the caller.
    pub tx_packets: u64,
    /// Agent audio chunks dropped as stale (an older or interrupted turn).
    pub stale_agent_chunks: u64,
    /// 20 ms ticks skipped because the call loop fell more than the backlog behind, counted per direction
    /// (caller side and agent side).
    pub skipped_ticks: u64,
    /// The jitter buffer's counters.
    pub jitter: JitterStats,
    /// Agent send slots by how late the call loop produced their frame: the runtime's own pacing.
    pub tx_lateness: super::LatenessHistogram,
    /// Caller frames the VAD judged.
    pub vad_frames: u64,
    /// Of those, frames the confirming detector (Silero) ran on: its cost for the call is this times its
    /// per-frame cost.
    pub vad_heavy_frames: u64,
    /// A confirming detector is in use and ready (loaded, not failed).
    pub vad_confirming: bool,
}
