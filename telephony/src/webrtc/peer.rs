//! The answering side of the offer/answer exchange: a sans-IO peer connection (the `rtc` crate, the core
//! of `webrtc` 0.21) that takes Opus only, offers one host candidate (the call's own UDP socket) and no
//! STUN or TURN server, and sends our audio on one track.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MediaEngine};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};

use super::WebRtcError;

/// The largest offer we read: a browser's audio-only offer is 2-6 kB.
pub const MAX_OFFER_BYTES: usize = 64 * 1024;

/// ICE gives up on a path this long after losing it (the browser closed the tab, the network went).
const ICE_DISCONNECTED: Duration = Duration::from_secs(4);
const ICE_FAILED: Duration = Duration::from_secs(10);
const ICE_KEEPALIVE: Duration = Duration::from_secs(2);

/// A peer connection that has answered an offer.
pub struct Answered {
    /// The connection, for the transport to drive.
    pub pc: RTCPeerConnection,
    /// Our audio track's sender.
    pub sender: RTCRtpSenderId,
    /// The payload type the offer gave Opus.
    pub payload_type: u8,
    /// Our track's SSRC.
    pub ssrc: u32,
    /// The answer's SDP, with our host candidate in it.
    pub answer: String,
}

impl std::fmt::Debug for Answered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answered")
            .field("payload_type", &self.payload_type)
            .field("ssrc", &self.ssrc)
            .finish_non_exhaustive()
    }
}

fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// Answers `offer` for a call whose media uses the UDP socket at `local`. Errors name what the offer
/// lacks; nothing here panics on what the browser sent.
pub fn answer(
    offer: &str,
    local: SocketAddr,
    ssrc: u32,
    now: Instant,
) -> Result<Answered, WebRtcError> {
    if offer.len() > MAX_OFFER_BYTES {
        return Err(WebRtcError::BadOffer("the offer is too large".into()));
    }
    if !offer.starts_with("v=0") {
        return Err(WebRtcError::BadOffer("the offer is not SDP".into()));
    }
    let offer = RTCSessionDescription::offer(offer.to_owned())
        .map_err(|e| WebRtcError::BadOffer(e.to_string()))?;
    let mut media_engine = MediaEngine::default();
    media_engine
        .register_codec(
            RTCRtpCodecParameters {
                rtp_codec: opus(),
                payload_type: 111,
            },
            RtpCodecKind::Audio,
        )
        .map_err(|e| WebRtcError::Internal(e.to_string()))?;
    let settings = SettingEngineBuilder::new()
        // Loopback is where the tests and a developer's browser on the same machine live.
        .with_include_loopback_candidate(true)
        .with_ice_timeouts(
            Some(ICE_DISCONNECTED),
            Some(ICE_FAILED),
            Some(ICE_KEEPALIVE),
        )
        .build();
    // No ICE servers: only host candidates, and nothing on the internet is contacted.
    let configuration = RTCConfigurationBuilder::new().build();
    let mut pc = RTCPeerConnectionBuilder::new()
        .with_configuration(configuration)
        .with_setting_engine(settings)
        .with_media_engine(media_engine)
        .build(now)
        .map_err(|e| WebRtcError::Internal(e.to_string()))?;
    let track = MediaStreamTrack::new(
        "dialtone".to_owned(),
        "dialtone-agent-audio".to_owned(),
        "agent".to_owned(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: opus(),
            ..Default::default()
        }],
    );
    let sender = pc
        .add_track(track)
        .map_err(|e| WebRtcError::Internal(e.to_string()))?;
    pc.set_remote_description(now, offer)
        .map_err(|e| WebRtcError::BadOffer(e.to_string()))?;
    let candidate = CandidateHostConfig {
        base_config: CandidateConfig {
            network: "udp".to_owned(),
            address: local.ip().to_string(),
            port: local.port(),
            component: 1,
            ..Default::default()
        },
        ..Default::default()
    }
    .new_candidate_host()
    .and_then(|c| RTCIceCandidate::from(&c).to_json())
    .map_err(|e| WebRtcError::Internal(e.to_string()))?;
    pc.add_local_candidate(candidate)
        .map_err(|e| WebRtcError::Internal(e.to_string()))?;
    let answer = pc
        .create_answer(None)
        .map_err(|e| WebRtcError::BadOffer(e.to_string()))?;
    pc.set_local_description(now, answer)
        .map_err(|e| WebRtcError::BadOffer(e.to_string()))?;
    let payload_type = pc
        .rtp_sender(sender)
        .and_then(|mut s| {
            s.get_parameters()
                .rtp_parameters
                .codecs
                .iter()
                .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_OPUS))
                .map(|c| c.payload_type)
        })
        .ok_or(WebRtcError::NoOpus)?;
    let answer = pc
        .local_description()
        .map(|d| d.sdp)
        .ok_or_else(|| WebRtcError::Internal("no local description".into()))?;
    if !answer.contains("m=audio") || answer.contains("m=audio 0 ") {
        return Err(WebRtcError::NoOpus);
    }
    Ok(Answered {
        pc,
        sender,
        payload_type,
        ssrc,
        answer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An audio-only offer as a browser makes it, with Opus at `pt` (Chrome 111, Firefox 109).
    fn offer(pt: u8, kind: &str, codec: &str) -> String {
        format!(
            "v=0\r\n\
             o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
             s=-\r\n\
             t=0 0\r\n\
             a=group:BUNDLE 0\r\n\
             m={kind} 9 UDP/TLS/RTP/SAVPF {pt}\r\n\
             c=IN IP4 0.0.0.0\r\n\
             a=ice-ufrag:abcd\r\n\
             a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
             a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
             a=setup:actpass\r\n\
             a=mid:0\r\n\
             a=sendrecv\r\n\
             a=rtcp-mux\r\n\
             a=rtpmap:{pt} {codec}\r\n"
        )
    }

    fn local() -> SocketAddr {
        "127.0.0.1:40000".parse().expect("address")
    }

    #[test]
    fn the_answer_follows_the_offers_opus_payload_type_and_names_our_candidate() {
        for pt in [111, 109] {
            let answered = answer(
                &offer(pt, "audio", "opus/48000/2"),
                local(),
                7,
                Instant::now(),
            )
            .expect("answered");
            assert_eq!(answered.payload_type, pt);
            assert_eq!(answered.ssrc, 7);
            assert!(
                answered
                    .answer
                    .contains(&format!("a=rtpmap:{pt} opus/48000/2")),
                "{}",
                answered.answer
            );
            assert!(
                answered.answer.contains("127.0.0.1 40000 typ host"),
                "{}",
                answered.answer
            );
        }
    }

    #[test]
    fn offers_without_opus_audio_or_not_sdp_are_refused() {
        let now = Instant::now();
        assert!(matches!(
            answer(&offer(96, "video", "VP8/90000"), local(), 7, now),
            Err(WebRtcError::NoOpus | WebRtcError::BadOffer(_))
        ));
        assert!(matches!(
            answer(&offer(0, "audio", "PCMU/8000"), local(), 7, now),
            Err(WebRtcError::NoOpus | WebRtcError::BadOffer(_))
        ));
        for junk in [
            "",
            "hello",
            "v=0",
            "v=0\r\nm=audio x",
            &"v=0\r\n".repeat(20_000),
        ] {
            assert!(
                matches!(answer(junk, local(), 7, now), Err(WebRtcError::BadOffer(_))),
                "{junk:.20}"
            );
        }
    }
}
