//! Writing our SDP: the answer to a peer's offer, and our own offer for outbound calls and re-offers.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{CodecName, Direction, Negotiated, PTIME_MS, Sdp};

/// Our side of a session description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    /// Address the peer sends media to.
    pub address: IpAddr,
    /// Our RTP port (RTCP on the next one).
    pub port: u16,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` version, bumped on every new description in the session.
    pub version: u64,
}

/// Writes our answer to `offer` with the `negotiated` codec: the audio line carries the codec and
/// telephone-event; every other media line is refused with port 0.
pub fn answer(offer: &Sdp, negotiated: &Negotiated, local: &Local, direction: Direction) -> String {
    let mut out = header(local);
    for (index, (media, proto, fmts)) in offer.media_lines.iter().enumerate() {
        let is_audio = offer.audio.as_ref().is_some_and(|a| a.index == index);
        if !is_audio {
            // RFC 3264 §6: an answer has as many m= lines as the offer; port 0 refuses a stream.
            let first = fmts.split_whitespace().next().unwrap_or("0");
            let _ = write!(out, "m={media} 0 {proto} {first}\r\n");
            continue;
        }
        audio_lines(
            &mut out,
            local.port,
            negotiated.codec,
            negotiated.payload_type,
            negotiated.dtmf_payload_type,
            direction,
        );
    }
    out
}

/// Payload type we offer telephone-event at.
pub const DTMF_PAYLOAD_TYPE: u8 = 101;
/// Payload type we offer Opus at.
pub const OPUS_PAYLOAD_TYPE: u8 = 111;

/// Writes an offer of `preference` (each codec once, in order) plus telephone-event.
pub fn offer(preference: &[CodecName], local: &Local, direction: Direction) -> String {
    let mut out = header(local);
    let pts: Vec<(CodecName, u8)> = dedup(preference)
        .into_iter()
        .map(|c| (c, c.static_payload_type().unwrap_or(OPUS_PAYLOAD_TYPE)))
        .collect();
    let mut fmts: Vec<String> = pts.iter().map(|(_, pt)| pt.to_string()).collect();
    // telephone-event at 8 kHz (G.711, G.722); Opus would need its own at 48 kHz.
    fmts.push(DTMF_PAYLOAD_TYPE.to_string());
    let _ = write!(out, "m=audio {} RTP/AVP {}\r\n", local.port, fmts.join(" "));
    for (codec, pt) in &pts {
        rtpmap(&mut out, *codec, *pt);
    }
    let _ = write!(
        out,
        "a=rtpmap:{DTMF_PAYLOAD_TYPE} telephone-event/8000\r\na=fmtp:{DTMF_PAYLOAD_TYPE} 0-16\r\n"
    );
    let _ = write!(
        out,
        "a=ptime:{PTIME_MS}\r\na=rtcp:{}\r\na={}\r\n",
        local.port.wrapping_add(1),
        direction.attribute()
    );
    out
}

fn dedup(preference: &[CodecName]) -> Vec<CodecName> {
    let mut out: Vec<CodecName> = Vec::new();
    for &c in preference {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn header(local: &Local) -> String {
    let (kind, address) = match local.address {
        IpAddr::V4(a) => ("IP4", a.to_string()),
        IpAddr::V6(a) => ("IP6", a.to_string()),
    };
    format!(
        "v=0\r\no=dialtone {} {} IN {kind} {address}\r\ns=dialtone\r\nc=IN {kind} {address}\r\nt=0 0\r\n",
        local.session_id, local.version
    )
}

fn rtpmap(out: &mut String, codec: CodecName, pt: u8) {
    match codec {
        CodecName::Opus => {
            let _ = write!(
                out,
                "a=rtpmap:{pt} opus/48000/2\r\na=fmtp:{pt} useinbandfec=1;maxplaybackrate=16000\r\n"
            );
        }
        _ => {
            let _ = write!(
                out,
                "a=rtpmap:{pt} {}/{}\r\n",
                codec.encoding(),
                codec.clock_rate()
            );
        }
    }
}

fn audio_lines(
    out: &mut String,
    port: u16,
    codec: CodecName,
    pt: u8,
    dtmf: Option<u8>,
    direction: Direction,
) {
    match dtmf {
        Some(d) => {
            let _ = write!(out, "m=audio {port} RTP/AVP {pt} {d}\r\n");
        }
        None => {
            let _ = write!(out, "m=audio {port} RTP/AVP {pt}\r\n");
        }
    }
    rtpmap(out, codec, pt);
    if let Some(d) = dtmf {
        let _ = write!(
            out,
            "a=rtpmap:{d} telephone-event/{}\r\na=fmtp:{d} 0-16\r\n",
            codec.clock_rate()
        );
    }
    let _ = write!(
        out,
        "a=ptime:{PTIME_MS}\r\na=rtcp:{}\r\na={}\r\n",
        port.wrapping_add(1),
        direction.attribute()
    );
}
