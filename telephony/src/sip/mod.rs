//! SIP trunking: answer and place phone calls over SIP with RTP media, through the same call loop and
//! `CallMedia` as WebSocket calls.
//!
//! Split by concern: [`sdp`] (offer/answer) and [`leg`] (the sans-IO RTP leg with [`rtcp`]) know nothing
//! of the SIP stack; the rest wraps `rsipstack` (transactions, dialogs, digest auth), whose types stay
//! inside this module: `server` (the endpoint and dispatch), `inbound` (a new INVITE), `outbound`
//! ([`SipServer::place_call`]), `dialog` (one call's dialog: BYE, re-INVITE, INFO, REFER), `trunk`
//! (registration), [`access`] (who may call in), `ports` and `transport` (the call's UDP sockets).

pub mod access;
pub mod config;
mod dialog;
mod inbound;
pub mod leg;
mod outbound;
mod ports;
pub mod rtcp;
pub mod sdp;
mod server;
mod transport;
mod trunk;

use std::hash::{BuildHasher, Hasher};

pub use config::{ConfigError, PortRange, SipConfig, TrunkConfig, UserConfig};
pub use leg::{Datagram, RtpIn, RtpLeg, RtpLegConfig, RtpLegStats};
pub use outbound::PlaceCall;
pub use sdp::{CodecName, Negotiated};
pub use server::{SipCounters, SipServer};

/// Why the SIP side could not start or a call could not be placed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SipError {
    /// The configuration is not usable.
    #[error("{0}")]
    Config(String),
    /// The SIP socket could not be bound.
    #[error("cannot listen for SIP on {0}")]
    Bind(String),
    /// The SIP stack failed.
    #[error("SIP stack: {0}")]
    Stack(String),
    /// No agent with this id.
    #[error("no agent `{0}`")]
    UnknownAgent(String),
    /// No trunk with this name.
    #[error("no trunk `{0}`")]
    UnknownTrunk(String),
    /// A number to call, but no trunk to call it through.
    #[error("no trunk to place the call through")]
    NoTrunk,
    /// The destination is neither a number nor a SIP URI.
    #[error("not a number or SIP URI")]
    BadTarget,
    /// Every call slot or RTP port is taken.
    #[error("at capacity")]
    AtCapacity,
    /// The far end refused (with this status) or did not answer.
    #[error("not answered{}", .0.map(|s| format!(" ({s})")).unwrap_or_default())]
    NotAnswered(Option<u16>),
    /// The answer's SDP is unusable.
    #[error("bad SDP answer: {0}")]
    Sdp(#[from] sdp::SdpError),
}

/// 64 random bits for SSRCs, tags and nonce keys: std's per-process random hasher keys, mixed with the
/// time, so no RNG crate is needed for values that only have to be unpredictable enough not to clash.
pub(crate) fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish()
}
