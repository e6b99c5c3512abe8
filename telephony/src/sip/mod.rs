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

/// Entry points for the fuzz targets (`fuzz/`): the wire-facing functions of this module that are not
/// public otherwise. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    use std::time::SystemTime;

    /// Runs a received SIP message through everything the inbound path reads from it: the dialled and
    /// calling numbers, the source address, access control (digest included), an SDP body, INFO keys
    /// and REFER progress. Must never panic.
    pub fn inbound_message(bytes: &[u8]) {
        let Ok(message) = rsipstack::sip::SipMessage::try_from(bytes) else {
            return;
        };
        let rsipstack::sip::SipMessage::Request(request) = message else {
            return;
        };
        let _ = super::inbound::dialled_number(&request);
        let _ = super::inbound::caller_number(&request);
        let source = super::inbound::source_ip(&request);
        let config = super::SipConfig {
            users: vec![super::UserConfig {
                username: "alice".into(),
                password: "secret".into(),
            }],
            ..super::SipConfig::default()
        };
        let access = super::access::Access::new(&config, &[], [1; 32]);
        let _ = access.check(&request, source, SystemTime::now());
        if let Ok(sdp) = super::sdp::parse(&request.body) {
            let _ = super::sdp::negotiate(&sdp, &super::CodecName::DEFAULT_PREFERENCE);
        }
        let _ = super::dialog::info_digit(&request.body);
        let _ = super::dialog::refer_progress(&request);
    }
}
