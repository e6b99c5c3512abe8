//! SIP trunking: answer and place phone calls over SIP with RTP media, through the same call loop and
//! `CallMedia` as WebSocket calls.
//!
//! Split by concern: [`sdp`] (offer/answer) and [`leg`] (the sans-IO RTP leg with [`rtcp`]) know nothing
//! of the SIP stack; the rest wraps `rsipstack` (transactions, dialogs, digest auth), whose types stay
//! inside this module.

pub mod leg;
pub mod rtcp;
pub mod sdp;

pub use leg::{Datagram, RtpIn, RtpLeg, RtpLegConfig, RtpLegStats};
pub use sdp::{CodecName, Negotiated};
