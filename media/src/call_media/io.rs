//! What goes into and comes out of [`super::CallMedia`].

use std::time::{Duration, Instant};

use crate::audio::PcmSlice;
use crate::codec::CodecError;
use crate::dtmf::{Digit, DtmfError};
use crate::resample::ResampleError;
use crate::rtp::RtpError;
use crate::turn::TurnHint;
use crate::vad::VadError;

use super::agent_audio::TurnId;
use super::events::MediaEvent;

/// RTP header size we write (no CSRCs, no extension).
pub(super) const RTP_HEADER: usize = 12;

/// Something for the engine to handle.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// An RTP packet from the caller, as received (SIP, WebRTC).
    Rtp(&'a [u8]),
    /// A caller payload without RTP framing (WebSocket media streams); the transport numbers it.
    Payload {
        /// Packet counter (wraps at 2^16).
        sequence: u16,
        /// Media timestamp in RTP clock units.
        timestamp: u32,
        /// Encoded audio.
        payload: &'a [u8],
    },
    /// A key press the transport reported out of band.
    Dtmf(Digit),
    /// Agent speech for `turn`, at the configured agent rate. `mark` is reported back in
    /// [`MediaEvent::Mark`] once the whole chunk has been sent.
    AgentAudio {
        /// The agent turn this audio belongs to.
        turn: TurnId,
        /// Mono PCM at [`CallMediaConfig::agent_rate`].
        pcm: &'a [i16],
        /// Reported when the chunk has been sent.
        mark: Option<u64>,
    },
    /// No more audio will come for this agent turn.
    AgentTurnEnd(TurnId),
    /// Stop the agent now (the dialogue cancelled its answer).
    StopAgent,
    /// What the transcript suggests about the caller's turn.
    TurnHint(TurnHint),
    /// Send a key press to the caller as RFC 4733 events (navigating an IVR).
    SendDtmf {
        /// The key.
        digit: Digit,
        /// How long to hold it.
        duration: Duration,
    },
}

/// One packet for the caller: a complete RTP packet, whose payload WebSocket transports send alone.
#[derive(Debug, Clone, Copy)]
pub struct OutboundFrame<'a> {
    pub(super) packet: &'a [u8],
    /// RTP marker bit (start of a talkspurt or of a DTMF event).
    pub marker: bool,
    /// RTP sequence number.
    pub sequence: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// An RFC 4733 telephone-event rather than audio.
    pub telephone_event: bool,
}

impl<'a> OutboundFrame<'a> {
    /// The RTP packet, header included.
    pub fn rtp(&self) -> &'a [u8] {
        self.packet
    }

    /// The encoded payload alone.
    pub fn payload(&self) -> &'a [u8] {
        &self.packet[RTP_HEADER..]
    }
}

/// What the engine wants done. Borrowed data stays valid until the next call on the engine.
#[derive(Debug)]
pub enum Output<'a> {
    /// Send this to the caller.
    ToCaller(OutboundFrame<'a>),
    /// Give this 20 ms of caller audio to the speech recogniser.
    ToStt(PcmSlice<'a>),
    /// Something happened.
    Event(MediaEvent),
    /// Nothing more to do until this instant; call [`CallMedia::handle_timeout`] then.
    Timeout(Instant),
}

/// Failures from input or set-up. Input errors are counted and leave the call running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// A malformed RTP packet.
    #[error("bad RTP packet: {0}")]
    Rtp(#[from] RtpError),
    /// The codec could not decode or encode.
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    /// A malformed telephone-event.
    #[error("telephone-event: {0}")]
    Dtmf(#[from] DtmfError),
    /// A payload type that was not negotiated.
    #[error("payload type {0} was not negotiated")]
    UnknownPayloadType(u8),
    /// No resampler for the configured rates.
    #[error("resampler: {0}")]
    Resample(#[from] ResampleError),
    /// No voice detector for the configured rates.
    #[error("voice detector: {0}")]
    Vad(#[from] VadError),
}
