//! Voice codecs behind one encoder/decoder pair, so a call picks a codec from SDP once and then moves
//! 20 ms frames through caller-owned buffers without knowing which codec it negotiated.
//!
//! The codec modules are pure: G.711 is stateless table lookups, L16 is a byte-order swap, G.722 is a
//! pure-Rust sub-band ADPCM and Opus wraps libopus. Nothing here allocates per frame, and no payload
//! from the wire can make it panic.

pub mod g711;
pub mod g722;
pub mod l16;
#[cfg(feature = "opus")]
pub mod opus;

use crate::audio::SampleRate;

/// A codec as negotiated in SDP, with the parameters that change its PCM side.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// G.711 μ-law, 8 kHz: the codec every SIP trunk and Twilio speak.
    Pcmu,
    /// G.711 A-law, 8 kHz: the European trunk default.
    Pcma,
    /// 16-bit linear PCM in network byte order at any rate: lossless, for WebSocket and test peers.
    L16 {
        /// Rate of the samples (also the RTP clock).
        rate: SampleRate,
    },
    /// Opus, mono, VoIP tuning: wideband quality with loss concealment for WebRTC peers.
    Opus {
        /// Rate of the PCM fed to and taken from libopus (8, 12, 16, 24 or 48 kHz).
        rate: SampleRate,
    },
    /// G.722 at 64 kbit/s: wideband 16 kHz audio at the G.711 bit rate, common on desk phones.
    G722,
}

impl Codec {
    /// Rate of the PCM the codec consumes and produces, which is what the resampler must target.
    pub fn pcm_rate(self) -> SampleRate {
        match self {
            Self::Pcmu | Self::Pcma => SampleRate::HZ_8000,
            Self::L16 { rate } | Self::Opus { rate } => rate,
            Self::G722 => SampleRate::HZ_16000,
        }
    }

    /// RTP timestamp clock. It differs from [`Self::pcm_rate`] for G.722 (8000, a historical error kept
    /// by RFC 3551) and for Opus (always 48000 per RFC 7587), so RTP code must not use the PCM rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            Self::Pcmu | Self::Pcma | Self::G722 => 8_000,
            Self::L16 { rate } => rate.hz(),
            Self::Opus { .. } => 48_000,
        }
    }

    /// The RFC 3551 static payload type, when there is one; `None` means a dynamic type must be
    /// negotiated with `a=rtpmap`.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Self::Pcmu => Some(0),
            Self::Pcma => Some(8),
            Self::G722 => Some(9),
            Self::L16 { rate } if rate.hz() == 44_100 => Some(11),
            Self::L16 { .. } | Self::Opus { .. } => None,
        }
    }

    /// The encoding name used in SDP `a=rtpmap` lines.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
            Self::L16 { .. } => "L16",
            Self::Opus { .. } => "opus",
            Self::G722 => "G722",
        }
    }

    /// Largest payload the encoder can produce for one 20 ms frame, so send buffers are sized once.
    pub fn frame_bytes_hint(self) -> usize {
        match self {
            Self::Pcmu | Self::Pcma => SampleRate::HZ_8000.frame_samples(),
            // Two 16 kHz samples per byte.
            Self::G722 => SampleRate::HZ_16000.frame_samples() / 2,
            Self::L16 { rate } => rate.frame_samples() * 2,
            // RFC 6716: one Opus frame never exceeds 1275 bytes, and a 20 ms packet from our
            // encoder carries exactly one frame.
            Self::Opus { .. } => 1275,
        }
    }
}

/// Why a codec call failed. Wire input never panics; it ends up here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The caller's output buffer cannot hold the result.
    #[error("output buffer too small: {needed} needed, {available} available")]
    OutputTooSmall {
        /// Elements (bytes or samples) the call would write.
        needed: usize,
        /// Elements the buffer holds.
        available: usize,
    },
    /// The codec does not run at the requested PCM rate.
    #[error("{encoding} does not support {rate}")]
    UnsupportedRate {
        /// SDP name of the codec.
        encoding: &'static str,
        /// The rejected rate.
        rate: SampleRate,
    },
    /// The PCM slice is not a length the codec can encode as one packet.
    #[error("{encoding} cannot encode a frame of {len} samples")]
    FrameLength {
        /// SDP name of the codec.
        encoding: &'static str,
        /// Length of the PCM slice given.
        len: usize,
    },
    /// The payload from the wire cannot be decoded.
    #[error("malformed {encoding} payload: {reason}")]
    Malformed {
        /// SDP name of the codec.
        encoding: &'static str,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// The codec exists but this build leaves it out (the `opus` feature is off).
    #[error("{0} support is not compiled into this build")]
    NotBuilt(&'static str),
    /// libopus reported an error not covered above.
    #[error("opus: {0}")]
    Opus(&'static str),
}

/// Fails with [`CodecError::OutputTooSmall`] unless `available >= needed`.
pub(crate) fn ensure_room(needed: usize, available: usize) -> Result<(), CodecError> {
    if available < needed {
        return Err(CodecError::OutputTooSmall { needed, available });
    }
    Ok(())
}

/// Encodes PCM frames for one outgoing stream. Owns the codec state (G.722, Opus), so use one per
/// stream and feed it consecutive frames.
#[derive(Debug)]
pub struct Encoder {
    codec: Codec,
    inner: EncoderInner,
}

#[derive(Debug)]
enum EncoderInner {
    Pcmu,
    Pcma,
    L16,
    // Boxed: 300-odd bytes of ADPCM state would bloat every other variant.
    G722(Box<g722::G722Encoder>),
    #[cfg(feature = "opus")]
    Opus(opus::OpusEncoder),
}

impl Encoder {
    /// An encoder for `codec`; fails for rates the codec cannot run at and for codecs left out of
    /// the build.
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        let inner = match codec {
            Codec::Pcmu => EncoderInner::Pcmu,
            Codec::Pcma => EncoderInner::Pcma,
            Codec::L16 { .. } => EncoderInner::L16,
            Codec::G722 => EncoderInner::G722(Box::default()),
            #[cfg(feature = "opus")]
            Codec::Opus { rate } => EncoderInner::Opus(opus::OpusEncoder::new(rate)?),
            #[cfg(not(feature = "opus"))]
            Codec::Opus { .. } => return Err(CodecError::NotBuilt("opus")),
        };
        Ok(Self { codec, inner })
    }

    /// The codec this encoder produces.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Encodes `pcm` (at [`Codec::pcm_rate`], normally one 20 ms frame) into `out` and returns the
    /// payload length. Size `out` with [`Codec::frame_bytes_hint`].
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        match &mut self.inner {
            EncoderInner::Pcmu => g711::ulaw_encode(pcm, out),
            EncoderInner::Pcma => g711::alaw_encode(pcm, out),
            EncoderInner::L16 => l16::encode(pcm, out),
            EncoderInner::G722(enc) => enc.encode(pcm, out),
            #[cfg(feature = "opus")]
            EncoderInner::Opus(enc) => enc.encode(pcm, out),
        }
    }

    /// Tells the encoder how much loss the path shows, in percent. Opus then adds in-band FEC
    /// (from 1 %) so the receiver can rebuild a lost frame from the next packet; other codecs have
    /// no redundancy and ignore it.
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        match &mut self.inner {
            #[cfg(feature = "opus")]
            EncoderInner::Opus(enc) => enc.set_expected_loss(percent),
            _ => {
                let _ = percent;
                Ok(())
            }
        }
    }
}

/// Decodes payloads of one incoming stream. Owns the codec state (G.722, Opus), so use one per stream
/// and feed it packets in order.
#[derive(Debug)]
pub struct Decoder {
    codec: Codec,
    inner: DecoderInner,
}

#[derive(Debug)]
enum DecoderInner {
    Pcmu,
    Pcma,
    L16,
    G722(Box<g722::G722Decoder>),
    #[cfg(feature = "opus")]
    Opus(opus::OpusDecoder),
}

impl Decoder {
    /// A decoder for `codec`; fails for rates the codec cannot run at and for codecs left out of
    /// the build.
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        let inner = match codec {
            Codec::Pcmu => DecoderInner::Pcmu,
            Codec::Pcma => DecoderInner::Pcma,
            Codec::L16 { .. } => DecoderInner::L16,
            Codec::G722 => DecoderInner::G722(Box::default()),
            #[cfg(feature = "opus")]
            Codec::Opus { rate } => DecoderInner::Opus(opus::OpusDecoder::new(rate)?),
            #[cfg(not(feature = "opus"))]
            Codec::Opus { .. } => return Err(CodecError::NotBuilt("opus")),
        };
        Ok(Self { codec, inner })
    }

    /// The codec this decoder reads.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Decodes one payload into `out` at [`Codec::pcm_rate`] and returns the sample count. `out`
    /// must hold a 20 ms frame at that rate; Opus packets may carry up to 120 ms, so give Opus six
    /// frames of room if the peer may send long packets.
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        match &mut self.inner {
            DecoderInner::Pcmu => g711::ulaw_decode(payload, out),
            DecoderInner::Pcma => g711::alaw_decode(payload, out),
            DecoderInner::L16 => l16::decode(payload, out),
            DecoderInner::G722(dec) => dec.decode(payload, out),
            #[cfg(feature = "opus")]
            DecoderInner::Opus(dec) => dec.decode(payload, out),
        }
    }

    /// Fills `out` with a 20 ms concealment frame after a loss (Opus PLC). Codecs without built-in
    /// concealment return `Ok(0)` so the caller conceals (repeat or fade) itself.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        match &mut self.inner {
            #[cfg(feature = "opus")]
            DecoderInner::Opus(dec) => dec.conceal(out),
            _ => {
                let _ = out;
                Ok(0)
            }
        }
    }

    /// Rebuilds a lost 20 ms frame from the in-band FEC in `next_payload`, the packet that followed
    /// the loss; decode `next_payload` normally afterwards. Opus falls back to PLC when the packet
    /// carries no FEC; other codecs return `Ok(0)` like [`Self::conceal`].
    pub fn recover(&mut self, next_payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        match &mut self.inner {
            #[cfg(feature = "opus")]
            DecoderInner::Opus(dec) => dec.recover(next_payload, out),
            _ => {
                let _ = (next_payload, out);
                Ok(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ALL: [Codec; 7] = [
        Codec::Pcmu,
        Codec::Pcma,
        Codec::G722,
        Codec::L16 {
            rate: SampleRate::HZ_8000,
        },
        Codec::L16 {
            rate: SampleRate::HZ_16000,
        },
        Codec::Opus {
            rate: SampleRate::HZ_16000,
        },
        Codec::Opus {
            rate: SampleRate::HZ_48000,
        },
    ];

    fn assert_send<T: Send>() {}

    #[test]
    fn encoder_and_decoder_are_send() {
        assert_send::<Encoder>();
        assert_send::<Decoder>();
    }

    #[test]
    fn sdp_facts_match_rfc_3551_and_7587() {
        let l16_441 = Codec::L16 {
            rate: SampleRate::new(44_100).unwrap(),
        };
        assert_eq!(Codec::Pcmu.static_payload_type(), Some(0));
        assert_eq!(Codec::Pcma.static_payload_type(), Some(8));
        assert_eq!(Codec::G722.static_payload_type(), Some(9));
        assert_eq!(l16_441.static_payload_type(), Some(11));
        assert_eq!(ALL[3].static_payload_type(), None);
        assert_eq!(ALL[5].static_payload_type(), None);
        assert_eq!(Codec::G722.clock_rate(), 8_000);
        assert_eq!(Codec::G722.pcm_rate(), SampleRate::HZ_16000);
        assert_eq!(ALL[5].clock_rate(), 48_000);
        assert_eq!(ALL[5].pcm_rate(), SampleRate::HZ_16000);
        assert_eq!(ALL[4].clock_rate(), 16_000);
        let names: Vec<_> = ALL.iter().map(|c| c.encoding_name()).collect();
        assert_eq!(
            names,
            ["PCMU", "PCMA", "G722", "L16", "L16", "opus", "opus"]
        );
    }

    #[test]
    fn every_codec_round_trips_a_frame_through_its_hint_sized_buffer() {
        for codec in ALL {
            if matches!(codec, Codec::Opus { .. }) && cfg!(not(feature = "opus")) {
                assert!(matches!(Encoder::new(codec), Err(CodecError::NotBuilt(_))));
                continue;
            }
            let rate = codec.pcm_rate();
            let frame = rate.frame_samples();
            let pcm: Vec<i16> = (0..frame)
                .map(|i| {
                    let t = i as f64 / f64::from(rate.hz());
                    (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
                })
                .collect();
            let mut enc = Encoder::new(codec).unwrap();
            let mut dec = Decoder::new(codec).unwrap();
            assert_eq!(enc.codec(), codec);
            assert_eq!(dec.codec(), codec);
            let mut payload = vec![0u8; codec.frame_bytes_hint()];
            let mut out = vec![0i16; frame];
            for _ in 0..3 {
                let n = enc.encode(&pcm, &mut payload).unwrap();
                assert!(
                    n > 0 && n <= codec.frame_bytes_hint(),
                    "{codec:?}: {n} bytes"
                );
                assert_eq!(
                    dec.decode(&payload[..n], &mut out).unwrap(),
                    frame,
                    "{codec:?}"
                );
            }
            let concealed = dec.conceal(&mut out).unwrap();
            assert!(concealed == 0 || concealed == frame, "{codec:?}");
        }
    }

    #[test]
    fn small_buffers_are_errors_not_panics() {
        for codec in ALL {
            let (Ok(mut enc), Ok(mut dec)) = (Encoder::new(codec), Decoder::new(codec)) else {
                continue;
            };
            let frame = codec.pcm_rate().frame_samples();
            let pcm = vec![1000i16; frame];
            let mut payload = vec![0u8; codec.frame_bytes_hint()];
            let n = enc.encode(&pcm, &mut payload).unwrap();
            assert!(enc.encode(&pcm, &mut []).is_err(), "{codec:?}");
            let mut short = vec![0i16; frame - 1];
            assert!(dec.decode(&payload[..n], &mut short).is_err(), "{codec:?}");
        }
    }

    #[test]
    fn unsupported_opus_rate_is_rejected() {
        let codec = Codec::Opus {
            rate: SampleRate::HZ_22050,
        };
        let err = Encoder::new(codec).unwrap_err();
        if cfg!(feature = "opus") {
            assert!(matches!(err, CodecError::UnsupportedRate { .. }), "{err}");
            assert!(Decoder::new(codec).is_err());
        }
    }
}
