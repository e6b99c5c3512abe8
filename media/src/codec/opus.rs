//! Opus (RFC 6716, RTP per RFC 7587) through libopus: mono, VoIP application.
//!
//! libopus keeps its state in one allocation made at construction; encoding and decoding a frame
//! allocate nothing. Packets are checked with libopus' own parser before decoding, so a hostile
//! payload ends as [`CodecError::Malformed`] and an over-long one as
//! [`CodecError::OutputTooSmall`] with the room it needs.

use audiopus::coder::{Decoder as RawDecoder, Encoder as RawEncoder};
use audiopus::{Application, Channels, Error as OpusError, ErrorCode, packet};

use super::{CodecError, ensure_room};
use crate::audio::SampleRate;

const NAME: &str = "opus";
/// Room handed to the libopus encoder at most: its recommended `max_data_bytes`, which even a 60 ms
/// packet never fills, and far inside the `i32` libopus counts in.
const MAX_ENCODE_ROOM: usize = 4000;

/// The libopus rate for `rate`, if libopus runs at it.
fn opus_rate(rate: SampleRate) -> Result<audiopus::SampleRate, CodecError> {
    Ok(match rate.hz() {
        8_000 => audiopus::SampleRate::Hz8000,
        12_000 => audiopus::SampleRate::Hz12000,
        16_000 => audiopus::SampleRate::Hz16000,
        24_000 => audiopus::SampleRate::Hz24000,
        48_000 => audiopus::SampleRate::Hz48000,
        _ => {
            return Err(CodecError::UnsupportedRate {
                encoding: NAME,
                rate,
            });
        }
    })
}

/// Maps audiopus errors without allocating: decoding garbage is a per-packet path.
fn map_error(err: OpusError) -> CodecError {
    let malformed = |reason| CodecError::Malformed {
        encoding: NAME,
        reason,
    };
    match err {
        OpusError::EmptyPacket => malformed("empty packet"),
        OpusError::PacketTooLarge => malformed("packet too large"),
        OpusError::Opus(ErrorCode::InvalidPacket) => malformed("invalid packet"),
        OpusError::Opus(ErrorCode::BadArgument) => CodecError::Opus("bad argument"),
        OpusError::Opus(ErrorCode::BufferTooSmall) => CodecError::Opus("buffer too small"),
        OpusError::Opus(ErrorCode::InternalError) => CodecError::Opus("internal error"),
        OpusError::Opus(ErrorCode::Unimplemented) => CodecError::Opus("unimplemented"),
        OpusError::Opus(ErrorCode::InvalidState) => CodecError::Opus("invalid state"),
        OpusError::Opus(ErrorCode::AllocFail) => CodecError::Opus("allocation failed"),
        OpusError::Opus(ErrorCode::Unknown) => CodecError::Opus("unknown error"),
        OpusError::SignalsTooLarge => CodecError::Opus("signal buffer too large"),
        _ => CodecError::Opus("invalid setting"),
    }
}

/// True when `len` samples at `rate` make a frame libopus encodes: 2.5, 5, 10, 20, 40 or 60 ms.
fn is_frame_length(rate: SampleRate, len: usize) -> bool {
    let per_2_5_ms = (rate.hz() / 400) as usize;
    [1, 2, 4, 8, 16, 24].iter().any(|&k| k * per_2_5_ms == len)
}

/// Opus encoder for one stream.
#[derive(Debug)]
pub struct OpusEncoder {
    raw: RawEncoder,
    rate: SampleRate,
}

impl OpusEncoder {
    /// A mono VoIP encoder taking PCM at `rate` (8, 12, 16, 24 or 48 kHz).
    pub fn new(rate: SampleRate) -> Result<Self, CodecError> {
        let raw = RawEncoder::new(opus_rate(rate)?, Channels::Mono, Application::Voip)
            .map_err(map_error)?;
        Ok(Self { raw, rate })
    }

    /// Encodes one frame (2.5 to 60 ms; 20 ms in practice) into `out`; returns the packet length.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        if !is_frame_length(self.rate, pcm.len()) {
            return Err(CodecError::FrameLength {
                encoding: NAME,
                len: pcm.len(),
            });
        }
        // libopus fits the packet to whatever room it gets, down to a single byte.
        ensure_room(1, out.len())?;
        let room = out.len().min(MAX_ENCODE_ROOM);
        self.raw.encode(pcm, &mut out[..room]).map_err(map_error)
    }

    /// Turns in-band FEC on for a lossy path (any loss above 0 %) and tells libopus how much loss
    /// to protect against; 0 turns it off again.
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        let percent = percent.min(100);
        self.raw.set_inband_fec(percent > 0).map_err(map_error)?;
        self.raw.set_packet_loss_perc(percent).map_err(map_error)
    }
}

/// Opus decoder for one stream, with packet-loss concealment and FEC recovery.
#[derive(Debug)]
pub struct OpusDecoder {
    raw: RawDecoder,
    rate: SampleRate,
    raw_rate: audiopus::SampleRate,
}

impl OpusDecoder {
    /// A mono decoder producing PCM at `rate` (8, 12, 16, 24 or 48 kHz), whatever rate the sender
    /// encoded at.
    pub fn new(rate: SampleRate) -> Result<Self, CodecError> {
        let raw_rate = opus_rate(rate)?;
        let raw = RawDecoder::new(raw_rate, Channels::Mono).map_err(map_error)?;
        Ok(Self {
            raw,
            rate,
            raw_rate,
        })
    }

    /// Decodes one packet into `out`; returns the sample count (up to 120 ms of audio).
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let samples = packet::nb_samples(payload, self.raw_rate).map_err(map_error)?;
        ensure_room(samples, out.len())?;
        self.raw
            .decode(Some(payload), &mut out[..samples], false)
            .map_err(map_error)
    }

    /// Fills the first 20 ms of `out` with libopus' concealment of a lost packet.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        let frame = self.rate.frame_samples();
        ensure_room(frame, out.len())?;
        self.raw
            .decode(None::<&[u8]>, &mut out[..frame], false)
            .map_err(map_error)
    }

    /// Rebuilds the lost 20 ms before `next_payload` from its in-band FEC (libopus conceals when
    /// the packet has none). `next_payload` must still be decoded afterwards.
    pub fn recover(&mut self, next_payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        if next_payload.is_empty() {
            return self.conceal(out);
        }
        let frame = self.rate.frame_samples();
        ensure_room(frame, out.len())?;
        self.raw
            .decode(Some(next_payload), &mut out[..frame], true)
            .map_err(map_error)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    /// A vowel-like signal: a 150 Hz pitch with a few harmonics, so SILK treats it as speech.
    fn voice(rate: SampleRate, start: usize, len: usize) -> Vec<i16> {
        (start..start + len)
            .map(|i| {
                let t = i as f64 / f64::from(rate.hz());
                let v: f64 = [(150.0, 0.5), (300.0, 0.3), (450.0, 0.2), (1200.0, 0.1)]
                    .iter()
                    .map(|&(f, a)| a * (2.0 * std::f64::consts::PI * f * t).sin())
                    .sum();
                (v * 10_000.0) as i16
            })
            .collect()
    }

    fn energy(pcm: &[i16]) -> f64 {
        pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len() as f64
    }

    #[test]
    fn every_libopus_rate_builds_and_others_fail() {
        for hz in [8_000, 12_000, 16_000, 24_000, 48_000] {
            let rate = SampleRate::new(hz).unwrap();
            OpusEncoder::new(rate).unwrap();
            OpusDecoder::new(rate).unwrap();
        }
        assert!(matches!(
            OpusDecoder::new(SampleRate::HZ_22050),
            Err(CodecError::UnsupportedRate { .. })
        ));
    }

    #[test]
    fn speech_survives_encode_decode_at_each_rate() {
        for rate in [
            SampleRate::HZ_8000,
            SampleRate::HZ_16000,
            SampleRate::HZ_48000,
        ] {
            let frame = rate.frame_samples();
            let mut enc = OpusEncoder::new(rate).unwrap();
            let mut dec = OpusDecoder::new(rate).unwrap();
            let mut packet = [0u8; 1275];
            let mut out = vec![0i16; frame];
            let (mut sent, mut got) = (0.0, 0.0);
            for k in 0..25 {
                let pcm = voice(rate, k * frame, frame);
                let n = enc.encode(&pcm, &mut packet).unwrap();
                assert_eq!(dec.decode(&packet[..n], &mut out).unwrap(), frame);
                if k >= 5 {
                    sent += energy(&pcm);
                    got += energy(&out);
                }
            }
            let ratio = got / sent;
            assert!((0.5..2.0).contains(&ratio), "{rate}: energy ratio {ratio}");
        }
    }

    #[test]
    fn frame_lengths_are_checked() {
        let mut enc = OpusEncoder::new(SampleRate::HZ_16000).unwrap();
        let mut packet = [0u8; 1275];
        assert!(matches!(
            enc.encode(&[0; 100], &mut packet),
            Err(CodecError::FrameLength { len: 100, .. })
        ));
        assert!(enc.encode(&[0; 40], &mut packet).is_ok(), "2.5 ms");
        assert!(enc.encode(&[0; 960], &mut packet).is_ok(), "60 ms");
        assert!(matches!(
            enc.encode(&[0; 320], &mut []),
            Err(CodecError::OutputTooSmall { .. })
        ));
    }

    #[test]
    fn long_packets_report_the_room_they_need() {
        let rate = SampleRate::HZ_16000;
        let mut enc = OpusEncoder::new(rate).unwrap();
        let mut dec = OpusDecoder::new(rate).unwrap();
        let mut packet = [0u8; 1275];
        let n = enc.encode(&voice(rate, 0, 960), &mut packet).unwrap();
        let mut out = [0i16; 960];
        assert!(matches!(
            dec.decode(&packet[..n], &mut out[..320]),
            Err(CodecError::OutputTooSmall {
                needed: 960,
                available: 320
            })
        ));
        assert_eq!(dec.decode(&packet[..n], &mut out).unwrap(), 960);
        assert!(matches!(
            dec.decode(&[], &mut out),
            Err(CodecError::Malformed { .. })
        ));
    }

    #[test]
    fn loss_is_concealed_and_recovered_from_fec() {
        let rate = SampleRate::HZ_16000;
        let frame = rate.frame_samples();
        let mut enc = OpusEncoder::new(rate).unwrap();
        enc.set_expected_loss(20).unwrap();
        let mut dec = OpusDecoder::new(rate).unwrap();
        let packets: Vec<Vec<u8>> = (0..12)
            .map(|k| {
                let mut packet = [0u8; 1275];
                let n = enc
                    .encode(&voice(rate, k * frame, frame), &mut packet)
                    .unwrap();
                packet[..n].to_vec()
            })
            .collect();
        let mut out = vec![0i16; frame];
        for packet in &packets[..8] {
            dec.decode(packet, &mut out).unwrap();
        }
        // Packet 8 is lost: rebuild it from packet 9's FEC, then carry on.
        assert_eq!(dec.recover(&packets[9], &mut out).unwrap(), frame);
        let expected = voice(rate, 8 * frame, frame);
        let ratio = energy(&out) / energy(&expected);
        assert!(
            (0.25..4.0).contains(&ratio),
            "FEC frame energy ratio {ratio}"
        );
        dec.decode(&packets[9], &mut out).unwrap();
        // Packets 10 and 11 are lost with nothing after them: conceal.
        assert_eq!(dec.conceal(&mut out).unwrap(), frame);
        assert_eq!(dec.conceal(&mut out).unwrap(), frame);
        assert!(matches!(
            dec.conceal(&mut out[..100]),
            Err(CodecError::OutputTooSmall { .. })
        ));
        enc.set_expected_loss(0).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn random_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
            let rate = SampleRate::HZ_16000;
            let mut dec = OpusDecoder::new(rate).unwrap();
            let mut out = vec![0i16; 6 * rate.frame_samples()];
            if let Ok(n) = dec.decode(&bytes, &mut out) {
                prop_assert!(n <= out.len());
            }
            let _ = dec.recover(&bytes, &mut out);
            prop_assert_eq!(dec.conceal(&mut out).unwrap(), rate.frame_samples());
        }
    }
}
