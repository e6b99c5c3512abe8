//! Browser calls over WebRTC, through the same call loop as phone calls.
//!
//! A page posts its SDP offer to `POST /webrtc/offer` ([`webrtc_routes`]) and gets the answer back in the
//! same response; the answer carries one host candidate (the call's own UDP socket) and the browser's
//! own address is learnt from its ICE checks, so no trickling, STUN or TURN is needed on loopback or a
//! LAN. The call then runs as [`WebRtcLeg`] (the sans-IO media session around `CallMedia`, Opus at
//! 48 kHz both ways) over [`WebRtcTransport`] (the UDP socket and the `rtc` peer connection that does
//! ICE, DTLS and SRTP).

mod leg;
mod peer;
mod signal;
mod transport;

pub use leg::{WebRtcIn, WebRtcLeg, WebRtcLegConfig, WebRtcLegStats};
pub use peer::{Answered, MAX_OFFER_BYTES, answer};
pub use signal::{
    CallDenied, OfferRequest, OfferResponse, TokenCheck, WebRtcConfig, webrtc_routes,
};
pub use transport::WebRtcTransport;

/// The address this machine sends from towards the rest of the network (its route's source address),
/// found without sending anything: connecting a UDP socket only picks the route. `None` with no route.
pub fn outward_ip() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    // TEST-NET-1 (RFC 5737): never a real peer; any default route covers it.
    socket
        .connect((std::net::Ipv4Addr::new(192, 0, 2, 1), 9))
        .ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// Why an offer was not answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebRtcError {
    /// The offer is not SDP we can answer.
    #[error("bad offer: {0}")]
    BadOffer(String),
    /// The offer has no audio we can take (Opus).
    #[error("the offer has no Opus audio")]
    NoOpus,
    /// Setting up the connection failed on our side.
    #[error("internal: {0}")]
    Internal(String),
}
