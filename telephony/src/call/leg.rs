//! What the call loop needs from a transport: a sans-IO [`CallLeg`] (the session state around the call's
//! `CallMedia`) and the async [`Transport`] that carries its wire traffic. WebSocket media streams and
//! SIP/RTP both implement the pair, so every call runs through the same loop.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use dialtone_media::call_media::{CallMediaStats, MediaError};
use dialtone_media::{CallMediaConfig, Input, MediaEvent, MediaTime, PcmSlice, TurnId};

use super::metrics::TransportKind;
use super::report::CallEnd;
use crate::stream::StreamError;

/// Who is calling whom, as the leg learnt it; the call loop picks the agent from it.
#[derive(Clone, PartialEq, Eq)]
pub struct CallStart {
    /// The transport's id of the call (Twilio `callSid`, SIP Call-ID).
    pub call_id: String,
    /// An agent named outright, which wins over the dialled number.
    pub agent_id: Option<String>,
    /// The dialled number.
    pub to: Option<String>,
    /// The caller's number.
    pub from: Option<String>,
    /// The task of an outbound mission call; `None` for every other call.
    pub mission: Option<crate::dialogue::Mission>,
}

/// Phone numbers stay out of logs.
impl fmt::Debug for CallStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallStart")
            .field("call_id", &self.call_id)
            .field("agent_id", &self.agent_id)
            .field("to", &self.to.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from.as_ref().map(|_| "<redacted>"))
            .field("mission", &self.mission.is_some())
            .finish()
    }
}

/// Something the call loop acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegEvent {
    /// The call is here: pick the agent, then [`CallLeg::accept`].
    Started(CallStart),
    /// An event of the call's media engine.
    Media(MediaEvent),
    /// The transport ended the call.
    Ended(CallEnd),
}

/// Bytes for the wire, borrowed from the leg until its next call.
#[derive(Debug, Clone, Copy)]
pub enum Wire<'a> {
    /// A WebSocket text frame.
    Text(&'a str),
    /// A UDP datagram (RTP or RTCP) for `to`.
    Datagram {
        /// The packet.
        bytes: &'a [u8],
        /// Where it goes (the peer's address, or where its media comes from).
        to: SocketAddr,
        /// RTCP rather than RTP: it goes out of the RTCP socket.
        rtcp: bool,
    },
    /// A whole RTP packet for a transport that addresses, frames and encrypts media itself (WebRTC:
    /// SRTP on the ICE-selected path).
    Rtp(&'a [u8]),
}

/// What the leg wants done. Borrowed data stays valid until the next call on the leg.
#[derive(Debug)]
pub enum LegOutput<'a> {
    /// Write this to the transport. `media` is true for agent audio (the loop times the first frame).
    Send {
        /// The bytes.
        wire: Wire<'a>,
        /// Carries agent audio.
        media: bool,
    },
    /// Give this 20 ms of caller audio to the speech recogniser.
    ToStt(PcmSlice<'a>),
    /// Something happened.
    Event(LegEvent),
    /// Nothing more until this instant: call [`CallLeg::handle_timeout`] then. `None`: only transport
    /// input can move the leg on.
    Timeout(Option<Instant>),
}

/// A call-level request to the transport's signalling, from the dialogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Blind transfer of the caller to this number (SIP REFER).
    Transfer {
        /// E.164 destination.
        to: String,
    },
}

/// Why the leg refused an input. It concerns that input only; the call goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LegError {
    /// The WebSocket stream refused it.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// The media engine refused it.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// Media input before [`CallLeg::accept`].
    #[error("the call has not been accepted")]
    NotAccepted,
    /// [`CallLeg::accept`] twice, or after the call ended.
    #[error("the call cannot be accepted now")]
    CannotAccept,
}

/// One call's transport session around its `CallMedia`, sans-IO: the leg reads no clock and owns no
/// socket. Feed it what the transport delivered and the passage of time, then drain
/// [`CallLeg::poll_output`] until it returns [`LegOutput::Timeout`].
pub trait CallLeg: Send {
    /// What the transport delivers.
    type In: Send;

    /// Handles one delivery received at `now`. Bad wire input is counted and logged, never fatal.
    fn handle_transport(&mut self, input: Self::In, now: Instant);

    /// Starts media at `now` with `config`, whose transport-specific settings (codec, payload types,
    /// silence, in-band DTMF) the leg overrides with what it negotiated.
    fn accept(&mut self, config: CallMediaConfig, now: Instant) -> Result<(), LegError>;

    /// Agent audio, turn ends, hints and stops, for the media engine.
    fn handle_input(&mut self, input: Input<'_>, now: Instant) -> Result<(), LegError>;

    /// Runs whatever is due at `now`.
    fn handle_timeout(&mut self, now: Instant);

    /// The next thing to do.
    fn poll_output(&mut self) -> LegOutput<'_>;

    /// How far into agent turn `turn` the caller has heard, when the transport can tell (mark echoes).
    fn heard(&self, turn: TurnId) -> Option<MediaTime>;

    /// The media engine's counters, once accepted.
    fn media_stats(&self) -> Option<CallMediaStats>;

    /// The carrier side, for the call metrics.
    fn transport(&self) -> TransportKind;
}

/// The wire under a leg: the only async piece apart from the backends.
pub trait Transport: Send {
    /// What it delivers to the leg.
    type In: Send;

    /// The next delivery; `None` once the transport has closed. Must be cancel-safe: the call loop
    /// polls it in `select!`.
    fn recv(&mut self) -> impl Future<Output = Option<Self::In>> + Send;

    /// Writes one output; an error means the transport is gone and the call is over.
    fn send(&mut self, wire: Wire<'_>) -> impl Future<Output = Result<(), TransportClosed>> + Send;

    /// Carries out a call-level request; transports that cannot do it ignore it.
    fn signal(&mut self, signal: Signal) -> impl Future<Output = ()> + Send {
        let _ = signal;
        std::future::ready(())
    }

    /// Closes the transport at the end of the call.
    fn close(&mut self, end: CallEnd) -> impl Future<Output = ()> + Send;
}

/// The transport has gone away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the transport is closed")]
pub struct TransportClosed;
