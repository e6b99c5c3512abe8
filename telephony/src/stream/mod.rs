//! Carrier WebSocket media streams (Twilio Media Streams and Telnyx's variant) as a sans-IO session.
//!
//! A carrier opens a WebSocket to us and sends JSON text frames: `connected`, `start` (who is calling and
//! in which codec), then one `media` frame per 20 ms of caller audio, `dtmf`, `mark` echoes and `stop`.
//! [`StreamSession`] turns those frames into [`dialtone_media::Input`]s for the call's
//! [`CallMedia`](dialtone_media::CallMedia) engine, and the engine's outputs into frames to send back:
//! paced agent audio (`media`), `mark`s that the carrier echoes once the audio before them has played,
//! and `clear` when the caller barges in. The call loop owns the socket and the clock; this module reads
//! neither.
//!
//! Driving it: feed each text frame to [`StreamSession::handle_message`]; when
//! [`StreamEvent::Started`] comes out, pick the agent and [`StreamSession::accept`]; push agent audio
//! with [`StreamSession::handle_input`]; call [`StreamSession::handle_timeout`] at each deadline; after
//! any of these, drain [`StreamSession::poll_output`] until it returns [`StreamOutput::Timeout`].

mod leg;
mod marks;
mod media_fast;
mod messages;
mod session;
pub mod twiml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use dialtone_media::call_media::MediaError;
use dialtone_media::codec::Codec;
use dialtone_media::{MediaEvent, MediaTime, PcmSlice, TurnId};

pub use leg::{StreamLeg, WsTransport};
#[doc(hidden)]
pub use media_fast::check_against_serde as check_media_fast_path;
pub use session::StreamSession;

/// Which carrier's dialect a stream speaks: the events are the same, the field names differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// Twilio Media Streams: camelCase fields, `streamSid` on every message we send.
    Twilio,
    /// Telnyx media streaming: snake_case fields, no stream id on messages we send.
    Telnyx,
}

/// What the carrier's `start` message tells us about the call, enough to pick an agent and set up media.
#[derive(Clone, PartialEq, Eq)]
pub struct StreamStart {
    /// The dialect the stream speaks.
    pub carrier: Carrier,
    /// The carrier's id of this stream (`streamSid`, `stream_id`).
    pub stream_id: String,
    /// The carrier's id of the call (Twilio `callSid`, Telnyx `call_control_id`), for its REST API.
    pub call_id: String,
    /// The carrier account (Twilio `accountSid`, Telnyx `user_id`), when sent.
    pub account_id: Option<String>,
    /// Tracks the carrier streams (`inbound`, `outbound`); empty when not sent.
    pub tracks: Vec<String>,
    /// Parameters set where the stream was requested (TwiML `<Parameter>`, Telnyx `custom_parameters`).
    /// Non-string values arrive as their JSON text.
    pub custom_parameters: BTreeMap<String, String>,
    /// The codec of the audio both ways.
    pub codec: Codec,
    /// Telnyx `client_state`, echoed from the call-control command that started the stream.
    pub client_state: Option<String>,
    /// The dialled number as the carrier reports it outside custom parameters (Telnyx `start.to`).
    pub to: Option<String>,
    /// The caller's number as the carrier reports it outside custom parameters (Telnyx `start.from`).
    pub from: Option<String>,
}

impl StreamStart {
    /// The number the caller dialled, which picks the agent: custom parameter `to`, else the carrier's own
    /// `to` field.
    pub fn dialled_number(&self) -> Option<&str> {
        self.custom_parameters
            .get("to")
            .map(String::as_str)
            .or(self.to.as_deref())
    }

    /// The caller's number: custom parameter `from`, else the carrier's own `from` field.
    pub fn caller_number(&self) -> Option<&str> {
        self.custom_parameters
            .get("from")
            .map(String::as_str)
            .or(self.from.as_deref())
    }

    /// An agent named outright by whoever set up the stream (custom parameter `agent_id`), which wins over
    /// the dialled number.
    pub fn agent_id(&self) -> Option<&str> {
        self.custom_parameters.get("agent_id").map(String::as_str)
    }
}

/// Phone numbers and custom parameter values stay out of logs: only parameter names are shown.
impl fmt::Debug for StreamStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamStart")
            .field("carrier", &self.carrier)
            .field("stream_id", &self.stream_id)
            .field("call_id", &self.call_id)
            .field("account_id", &self.account_id)
            .field("tracks", &self.tracks)
            .field(
                "custom_parameters",
                &self.custom_parameters.keys().collect::<Vec<_>>(),
            )
            .field("codec", &self.codec)
            .field("client_state", &self.client_state.as_ref().map(|_| ".."))
            .field("to", &self.to.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Something the call loop should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The carrier said hello (`connected`); nothing to do yet.
    Connected,
    /// The call is here. Pick the agent from it, then [`StreamSession::accept`] (or
    /// [`StreamSession::reject`] and close the socket).
    Started(StreamStart),
    /// An event of the call's media engine, passed through unchanged.
    Media(MediaEvent),
    /// The caller has now heard agent audio of `turn` up to `upto` (at the agent rate, from the start of
    /// the turn): the carrier echoed a mark placed after that audio.
    Heard {
        /// The agent turn.
        turn: TurnId,
        /// Agent audio played to the caller so far in that turn.
        upto: MediaTime,
    },
    /// The carrier ended the stream (`stop`): the call is over.
    Stopped,
}

/// What the session wants done. Borrowed data stays valid until the next call on the session.
#[derive(Debug)]
pub enum StreamOutput<'a> {
    /// Write this text frame to the WebSocket.
    Send(&'a str),
    /// Give this 20 ms of caller audio to the speech recogniser.
    ToStt(PcmSlice<'a>),
    /// Something happened.
    Event(StreamEvent),
    /// Nothing more to do until this instant: call [`StreamSession::handle_timeout`] then (at once if it
    /// has passed). `None` until the stream is accepted: only messages can move it on.
    Timeout(Option<Instant>),
}

/// Why a message or a call could not be handled. Message errors concern that message only; the stream
/// goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// Not JSON, or a field of the wrong type.
    #[error("malformed message: {0}")]
    Json(#[from] serde_json::Error),
    /// A field the message cannot do without.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A `start` with a media format we cannot decode (shown cut to 64 characters).
    #[error("unsupported media format: {0}")]
    UnsupportedEncoding(String),
    /// Media or DTMF before the stream's `start`.
    #[error("message before the stream's start")]
    NotStarted,
    /// A second `start` on one stream.
    #[error("the stream has already started")]
    AlreadyStarted,
    /// [`StreamSession::accept`] called twice.
    #[error("the stream has already been accepted")]
    AlreadyAccepted,
    /// Agent input before [`StreamSession::accept`].
    #[error("the stream has not been accepted")]
    NotAccepted,
    /// [`StreamSession::accept`] (or a `start`) after `stop` or [`StreamSession::reject`].
    #[error("the stream is closed")]
    Closed,
    /// A `media` payload that is not base64.
    #[error("bad base64 payload: {0}")]
    BadPayload(#[from] base64::DecodeError),
    /// A `media` payload longer than any carrier sends (encoded length in characters).
    #[error("media payload of {0} characters is too long")]
    PayloadTooLong(usize),
    /// A `dtmf` digit that is not a key (shown cut to 16 characters).
    #[error("not a DTMF key: {0:?}")]
    BadDigit(String),
    /// The media engine refused the input or the configuration.
    #[error("media: {0}")]
    Media(#[from] MediaError),
}

/// Counters for one stream, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Text frames handled, well-formed or not.
    pub messages: u64,
    /// Caller `media` messages fed to the media engine.
    pub media_in: u64,
    /// `media` messages produced for the carrier.
    pub media_out: u64,
    /// Caller `media` between `start` and `accept`, or after `stop`/`reject`: dropped.
    pub media_dropped: u64,
    /// `media` of a track other than the caller's (`both_tracks` streams): ignored.
    pub other_track: u64,
    /// Messages with an event name we do not know: ignored.
    pub unknown_events: u64,
    /// Telnyx `error` frames.
    pub carrier_errors: u64,
    /// `mark`s sent.
    pub marks_sent: u64,
    /// Mark echoes that advanced what the caller heard.
    pub marks_heard: u64,
    /// Mark echoes of marks a `clear` had flushed: not heard.
    pub marks_cleared: u64,
    /// Mark echoes with a name we did not send (or garbled): ignored.
    pub marks_unknown: u64,
    /// `clear`s sent.
    pub clears_sent: u64,
}

/// Cuts wire text to `max` characters for an error message.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
