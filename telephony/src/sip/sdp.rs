//! SDP offer/answer (RFC 3264, RFC 4566) for one audio stream: parse what the peer offers or answers,
//! pick a codec by our preference, and write our offer or answer. Sans-IO and total: any bytes give an
//! [`Sdp`] or an [`SdpError`], never a panic.
//!
//! Only what a phone call needs is read: the session and media connection addresses, the first audio
//! `m=` line's formats (`rtpmap`, `fmtp`), its direction, `ptime` and `rtcp` port. Other media lines
//! are refused in the answer with port 0, as RFC 3264 asks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

use dialtone_media::SampleRate;
use dialtone_media::codec::Codec;

/// Longest SDP body read; real offers are a few hundred bytes.
pub const MAX_SDP_LEN: usize = 16 * 1024;
/// Most formats kept from one `m=` line.
const MAX_FORMATS: usize = 32;
/// Packet time we send and ask for.
pub const PTIME_MS: u32 = 20;

/// The codecs we can negotiate, named as in configuration (`"PCMU"`, `"PCMA"`, `"G722"`, `"opus"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CodecName {
    /// G.711 μ-law.
    #[serde(rename = "PCMU", alias = "pcmu")]
    Pcmu,
    /// G.711 A-law.
    #[serde(rename = "PCMA", alias = "pcma")]
    Pcma,
    /// G.722.
    #[serde(rename = "G722", alias = "g722")]
    G722,
    /// Opus.
    #[serde(rename = "opus", alias = "OPUS", alias = "Opus")]
    Opus,
}

impl CodecName {
    /// The default preference: G.711 first (every trunk speaks it and it costs nothing to code), then
    /// the wideband codecs.
    pub const DEFAULT_PREFERENCE: [CodecName; 4] = [Self::Pcmu, Self::Pcma, Self::G722, Self::Opus];

    /// The media engine's codec.
    pub fn codec(self) -> Codec {
        match self {
            Self::Pcmu => Codec::Pcmu,
            Self::Pcma => Codec::Pcma,
            Self::G722 => Codec::G722,
            // Opus always runs at 48 kHz on the wire; 16 kHz inside is what speech engines want.
            Self::Opus => Codec::Opus {
                rate: SampleRate::HZ_16000,
            },
        }
    }

    /// `rtpmap` encoding name.
    pub fn encoding(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
            Self::G722 => "G722",
            Self::Opus => "opus",
        }
    }

    /// RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        self.codec().clock_rate()
    }

    /// Static payload type, when RFC 3551 assigns one.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Self::Pcmu => Some(0),
            Self::Pcma => Some(8),
            Self::G722 => Some(9),
            Self::Opus => None,
        }
    }

    fn from_rtpmap(name: &str, clock: u32) -> Option<Self> {
        let known = [Self::Pcmu, Self::Pcma, Self::G722, Self::Opus];
        known
            .into_iter()
            .find(|c| c.encoding().eq_ignore_ascii_case(name) && c.clock_rate() == clock)
    }
}

impl FromStr for CodecName {
    type Err = SdpError;

    fn from_str(s: &str) -> Result<Self, SdpError> {
        match s.to_ascii_lowercase().as_str() {
            "pcmu" | "g711u" | "ulaw" => Ok(Self::Pcmu),
            "pcma" | "g711a" | "alaw" => Ok(Self::Pcma),
            "g722" => Ok(Self::G722),
            "opus" => Ok(Self::Opus),
            _ => Err(SdpError::UnknownCodec(s.chars().take(32).collect())),
        }
    }
}

/// Which way media flows, from the point of view of the side that wrote the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Both ways.
    #[default]
    SendRecv,
    /// The writer only sends (it put us on hold with music).
    SendOnly,
    /// The writer only receives.
    RecvOnly,
    /// Neither (held).
    Inactive,
}

impl Direction {
    /// The direction an answer takes to this offer.
    pub fn reversed(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            other => other,
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }
}

/// One format of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name from `rtpmap` (or the static assignment).
    pub encoding: String,
    /// Clock rate.
    pub clock_rate: u32,
    /// `fmtp` parameters, as written.
    pub fmtp: Option<String>,
}

/// The audio stream of a session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioMedia {
    /// Index of the `m=` line, counting every media line.
    pub index: usize,
    /// RTP port; 0 means the stream is refused.
    pub port: u16,
    /// Connection address (media level, else session level).
    pub address: Option<IpAddr>,
    /// Formats in the writer's order of preference.
    pub formats: Vec<Format>,
    /// Direction attribute (media level, else session level).
    pub direction: Direction,
    /// `a=ptime`, when given.
    pub ptime: Option<u32>,
    /// `a=rtcp` port, when given (else RTP port + 1).
    pub rtcp_port: Option<u16>,
}

impl AudioMedia {
    /// Where the writer receives RTP.
    pub fn rtp_addr(&self) -> Option<SocketAddr> {
        self.address.map(|ip| SocketAddr::new(ip, self.port))
    }

    /// Where the writer receives RTCP.
    pub fn rtcp_addr(&self) -> Option<SocketAddr> {
        let port = self.rtcp_port.unwrap_or(self.port.wrapping_add(1));
        self.address.map(|ip| SocketAddr::new(ip, port))
    }

    /// The writer holds the call: nothing to send it, or the old hold address 0.0.0.0 (RFC 2543).
    pub fn is_hold(&self) -> bool {
        matches!(self.direction, Direction::SendOnly | Direction::Inactive)
            || self.address.is_some_and(|a| a.is_unspecified())
    }
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdp {
    /// `o=` session id and version, to bump in re-offers.
    pub origin: (u64, u64),
    /// The first audio stream, when there is one.
    pub audio: Option<AudioMedia>,
    /// Every `m=` line's media type and the protocol, so an answer can refuse the others.
    pub media_lines: Vec<(String, String, String)>,
}

/// What was wrong with an SDP body, or why no call could be set up from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// Longer than [`MAX_SDP_LEN`].
    #[error("SDP of {0} bytes is too long")]
    TooLong(usize),
    /// Not UTF-8 text.
    #[error("SDP is not text")]
    NotText,
    /// A line the grammar needs is malformed.
    #[error("malformed SDP `{0}` line")]
    Malformed(&'static str),
    /// No `m=audio` line with RTP/AVP.
    #[error("no audio stream offered")]
    NoAudio,
    /// The audio stream has no address to send to.
    #[error("the audio stream has no connection address")]
    NoAddress,
    /// None of the offered codecs is one we speak (SIP 488).
    #[error("no codec in common")]
    NoCommonCodec,
    /// A codec name in configuration we do not know.
    #[error("unknown codec `{0}`")]
    UnknownCodec(String),
}

/// Parses an SDP body. Unknown lines and attributes are skipped.
pub fn parse(body: &[u8]) -> Result<Sdp, SdpError> {
    if body.len() > MAX_SDP_LEN {
        return Err(SdpError::TooLong(body.len()));
    }
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
    let mut origin = (0, 0);
    let mut session_address = None;
    let mut session_direction = None;
    let mut media_lines = Vec::new();
    let mut audio: Option<AudioMedia> = None;
    // Whether the lines being read belong to the first audio stream (and so update `audio`).
    let mut in_audio = false;
    let mut in_media = false;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let Some((kind, value)) = line.split_once('=') else {
            continue;
        };
        match kind {
            "o" => {
                let mut f = value.split_whitespace();
                let id = f.nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
                let version = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                origin = (id, version);
            }
            "c" => {
                let address = parse_connection(value)?;
                if in_audio {
                    if let Some(a) = &mut audio {
                        a.address = Some(address);
                    }
                } else if !in_media {
                    session_address = Some(address);
                }
            }
            "m" => {
                in_media = true;
                let mut f = value.split_whitespace();
                let media = f.next().ok_or(SdpError::Malformed("m"))?;
                let port = f.next().ok_or(SdpError::Malformed("m"))?;
                let proto = f.next().ok_or(SdpError::Malformed("m"))?;
                let fmts: Vec<&str> = f.collect();
                media_lines.push((media.to_owned(), proto.to_owned(), fmts.join(" ")));
                in_audio = false;
                if media == "audio" && audio.is_none() && proto.starts_with("RTP/AVP") {
                    // `port/count` is allowed; we use the first port.
                    let port = port
                        .split('/')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .ok_or(SdpError::Malformed("m"))?;
                    let mut formats = Vec::new();
                    for pt in fmts.iter().take(MAX_FORMATS) {
                        let Ok(pt) = pt.parse::<u8>() else {
                            return Err(SdpError::Malformed("m"));
                        };
                        if pt > 127 {
                            return Err(SdpError::Malformed("m"));
                        }
                        formats.push(static_format(pt));
                    }
                    audio = Some(AudioMedia {
                        index: media_lines.len() - 1,
                        port,
                        address: None,
                        formats,
                        direction: Direction::SendRecv,
                        ptime: None,
                        rtcp_port: None,
                    });
                    in_audio = true;
                }
            }
            "a" => {
                let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                if let Some(direction) = parse_direction(name) {
                    if in_audio {
                        if let Some(a) = &mut audio {
                            a.direction = direction;
                        }
                    } else if !in_media {
                        session_direction = Some(direction);
                    }
                    continue;
                }
                let (true, Some(a)) = (in_audio, &mut audio) else {
                    continue;
                };
                match name {
                    "rtpmap" => apply_rtpmap(a, arg),
                    "fmtp" => {
                        if let Some((pt, params)) = arg.split_once(' ')
                            && let Ok(pt) = pt.parse::<u8>()
                            && let Some(f) = a.formats.iter_mut().find(|f| f.payload_type == pt)
                        {
                            f.fmtp = Some(params.trim().chars().take(256).collect());
                        }
                    }
                    "ptime" => a.ptime = arg.trim().parse().ok(),
                    "rtcp" => {
                        a.rtcp_port = arg.split_whitespace().next().and_then(|p| p.parse().ok());
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if let Some(a) = &mut audio {
        if a.address.is_none() {
            a.address = session_address;
        }
        if a.direction == Direction::SendRecv
            && let Some(d) = session_direction
        {
            a.direction = d;
        }
    }
    Ok(Sdp {
        origin,
        audio,
        media_lines,
    })
}

fn parse_connection(value: &str) -> Result<IpAddr, SdpError> {
    let mut f = value.split_whitespace();
    let (Some("IN"), Some(_kind), Some(address)) = (f.next(), f.next(), f.next()) else {
        return Err(SdpError::Malformed("c"));
    };
    // Multicast addresses carry `/ttl`; we only use the address.
    let address = address.split('/').next().unwrap_or(address);
    address.parse().map_err(|_| SdpError::Malformed("c"))
}

fn parse_direction(name: &str) -> Option<Direction> {
    match name {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    }
}

/// The RFC 3551 meaning of a static payload type, before any `rtpmap`.
fn static_format(pt: u8) -> Format {
    let (encoding, clock_rate) = match pt {
        0 => ("PCMU", 8_000),
        8 => ("PCMA", 8_000),
        9 => ("G722", 8_000),
        _ => ("", 0),
    };
    Format {
        payload_type: pt,
        encoding: encoding.to_owned(),
        clock_rate,
        fmtp: None,
    }
}

fn apply_rtpmap(audio: &mut AudioMedia, arg: &str) {
    let Some((pt, map)) = arg.split_once(' ') else {
        return;
    };
    let Ok(pt) = pt.parse::<u8>() else {
        return;
    };
    let Some(format) = audio.formats.iter_mut().find(|f| f.payload_type == pt) else {
        return;
    };
    let mut parts = map.trim().split('/');
    let name = parts.next().unwrap_or("");
    let clock = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    format.encoding = name.chars().take(32).collect();
    format.clock_rate = clock;
}

/// What offer/answer settled for the call's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The codec.
    pub codec: CodecName,
    /// Its payload type (the offerer's number for it).
    pub payload_type: u8,
    /// RFC 4733 telephone-event payload type, when both sides have it at the codec's clock rate.
    pub dtmf_payload_type: Option<u8>,
    /// Where the peer says it receives RTP (symmetric RTP may learn a better address).
    pub remote_rtp: SocketAddr,
    /// Where the peer receives RTCP.
    pub remote_rtcp: SocketAddr,
    /// The peer's direction.
    pub direction: Direction,
}

impl Negotiated {
    /// The peer holds the call.
    pub fn is_hold(&self) -> bool {
        matches!(self.direction, Direction::SendOnly | Direction::Inactive)
            || self.remote_rtp.ip().is_unspecified()
    }
}

/// Picks the codec for the peer's SDP (an offer or an answer): the first of `preference` that it lists,
/// so our preference wins; telephone-event at that codec's clock rate when it lists one.
pub fn negotiate(sdp: &Sdp, preference: &[CodecName]) -> Result<Negotiated, SdpError> {
    let audio = sdp.audio.as_ref().ok_or(SdpError::NoAudio)?;
    let (codec, payload_type) = preference
        .iter()
        .find_map(|&c| {
            audio
                .formats
                .iter()
                .find(|f| CodecName::from_rtpmap(&f.encoding, f.clock_rate) == Some(c))
                .map(|f| (c, f.payload_type))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let dtmf_payload_type = audio
        .formats
        .iter()
        .find(|f| {
            f.encoding.eq_ignore_ascii_case("telephone-event") && f.clock_rate == codec.clock_rate()
        })
        .map(|f| f.payload_type);
    let remote_rtp = audio.rtp_addr().ok_or(SdpError::NoAddress)?;
    let remote_rtcp = audio.rtcp_addr().ok_or(SdpError::NoAddress)?;
    Ok(Negotiated {
        codec,
        payload_type,
        dtmf_payload_type,
        remote_rtp,
        remote_rtcp,
        direction: audio.direction,
    })
}

#[path = "sdp_write.rs"]
mod write;
pub use write::{DTMF_PAYLOAD_TYPE, Local, OPUS_PAYLOAD_TYPE, answer, offer};

/// The address to put in SDP when we listen on `bind`: an unspecified bind address cannot be sent to,
/// so the configured public address, else loopback.
pub fn advertised(bind: IpAddr, public: Option<IpAddr>) -> IpAddr {
    match public {
        Some(ip) => ip,
        None if bind.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        None => bind,
    }
}

#[cfg(test)]
#[path = "sdp_tests.rs"]
mod tests;
