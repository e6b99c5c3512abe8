//! G.722 at 64 kbit/s (mode 1) in pure Rust: ITU-T G.722 sub-band ADPCM.
//!
//! A 24-tap quadrature mirror filter splits 16 kHz PCM into two 8 kHz bands. The lower band is coded
//! with 6-bit ADPCM, the upper band with 2-bit ADPCM, and each pair of input samples becomes one
//! octet with the upper band in its two most significant bits (RFC 3551 section 4.5.2). The
//! arithmetic follows the fixed-point blocks of the Recommendation (named in the comments) and
//! matches an independent implementation bit for bit (see the tests), so it interworks with desk
//! phones and gateways. Encoder and decoder together delay the audio
//! by 22 samples (1.375 ms), all of it in the two QMFs.

use super::{CodecError, ensure_room};

const NAME: &str = "G722";

/// QMF coefficients (G.722 table 11), one half of the symmetric 24-tap filter.
const QMF: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

/// Lower-band quantiser decision levels for 6-bit codes, scaled by 2^12 against the step size.
const Q6: [i32; 30] = [
    0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940,
    1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
];
/// 6-bit lower-band codes for negative differences, by quantiser interval.
const ILN: [u8; 31] = [
    0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
    10, 9, 8, 7, 6, 5, 4,
];
/// 6-bit lower-band codes for positive differences, by quantiser interval.
const ILP: [u8; 31] = [
    0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39,
    38, 37, 36, 35, 34, 33, 32,
];
/// Inverse quantiser for the full 6-bit lower-band code: what the decoder outputs.
const QM6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
    -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776,
    -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280,
    11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776,
    2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/// Inverse quantiser for the 4 most significant lower-band bits, which drive the predictor so the
/// decoder can track the encoder even when the two low bits are dropped (the embedded 48/56k modes).
const QM4: [i32; 16] = [
    0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584,
    1200, 0,
];
/// Lower-band 4-bit code to its magnitude class, for the scale factor adaptation.
const RL42: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
/// Lower-band log scale factor multipliers, by magnitude class.
const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/// Inverse log base 2 table for the scale factor, over the fraction's top 5 bits.
const ILB: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/// Upper-band inverse quantiser for the 2-bit code.
const QM2: [i32; 4] = [-7408, -1616, 7408, 1616];
/// Upper-band code to its magnitude class, and the log scale factor multipliers by class.
const RH2: [usize; 4] = [2, 1, 2, 1];
const WH: [i32; 3] = [0, -214, 798];
/// Upper-band codes by quantiser interval (1 inner, 2 outer), for negative and positive differences.
const IHN: [u8; 3] = [0, 1, 0];
const IHP: [u8; 3] = [0, 3, 2];

/// Clamps to the 16-bit range, as the Recommendation's saturating arithmetic does.
fn sat(value: i32) -> i32 {
    value.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
}

/// Clamps a band signal to the 15-bit range of the ADPCM stages (blocks 6L/6H, LIMIT).
fn limit(value: i32) -> i32 {
    value.clamp(-16384, 16383)
}

/// Adaptive state of one sub-band: the pole-zero predictor and the quantiser scale factor.
#[derive(Clone, Debug)]
struct Band {
    /// Predicted signal and its zero-section part.
    s: i32,
    sz: i32,
    /// Reconstructed signal and partial reconstruction, current and two back.
    r: [i32; 3],
    p: [i32; 3],
    /// Pole coefficients (index 1 and 2 used).
    a: [i32; 3],
    /// Zero coefficients and quantised differences (index 1 to 6 used).
    b: [i32; 7],
    d: [i32; 7],
    /// Log scale factor and the scale factor (step size) derived from it.
    nb: i32,
    det: i32,
}

impl Band {
    const fn new(det: i32) -> Self {
        Self {
            s: 0,
            sz: 0,
            r: [0; 3],
            p: [0; 3],
            a: [0; 3],
            b: [0; 7],
            d: [0; 7],
            nb: 0,
            det,
        }
    }

    /// Blocks 3L/3H (LOGSCL/LOGSCH, SCALEL/SCALEH): leaks the log scale factor, adds the code's
    /// multiplier and turns it back into a linear step size.
    fn adapt_scale(&mut self, multiplier: i32, nb_max: i32, shift: i32) {
        let nb = ((self.nb * 127) >> 7) + multiplier;
        self.nb = nb.clamp(0, nb_max);
        let mantissa = ILB[((self.nb >> 6) & 31) as usize];
        let exponent = shift - (self.nb >> 11);
        let det = if exponent < 0 {
            mantissa << -exponent
        } else {
            mantissa >> exponent
        };
        self.det = det << 2;
    }

    /// Block 4: reconstructs the signal from the quantised difference `dq`, adapts the pole and zero
    /// coefficients by sign correlation and predicts the next sample.
    fn adapt_predictor(&mut self, dq: i32) {
        let negative = |v: i32| v < 0;
        let r0 = sat(self.s + dq);
        let p0 = sat(self.sz + dq);

        // UPPOL2: second pole.
        let sign_kept_1 = negative(p0) == negative(self.p[1]);
        let sign_kept_2 = negative(p0) == negative(self.p[2]);
        let wd1 = sat(self.a[1] << 2);
        let wd2 = (if sign_kept_1 { -wd1 } else { wd1 }).min(32767);
        let wd3 = if sign_kept_2 { 128 } else { -128 };
        let a2 = ((wd2 >> 7) + wd3 + ((self.a[2] * 32512) >> 15)).clamp(-12288, 12288);

        // UPPOL1: first pole, kept inside the stability triangle set by the second.
        let wd1 = if sign_kept_1 { 192 } else { -192 };
        let mut a1 = sat(wd1 + ((self.a[1] * 32640) >> 15));
        let bound = sat(15360 - a2);
        if a1 > bound {
            a1 = bound;
        } else if a1 < -bound {
            a1 = -bound;
        }

        // UPZERO: six zeros, leaked and nudged toward the sign correlation of the differences.
        let nudge = if dq == 0 { 0 } else { 128 };
        for i in 1..7 {
            let sign_kept = negative(self.d[i]) == negative(dq);
            let wd2 = if sign_kept { nudge } else { -nudge };
            self.b[i] = sat(wd2 + ((self.b[i] * 32640) >> 15));
        }

        // DELAYA: shift the delay lines.
        self.d.copy_within(0..6, 1);
        self.d[1] = dq;
        self.r = [r0, r0, self.r[1]];
        self.p = [p0, p0, self.p[1]];
        self.a = [0, a1, a2];

        // FILTEP, FILTEZ, PREDIC.
        let sp = sat(((a1 * sat(self.r[1] * 2)) >> 15) + ((a2 * sat(self.r[2] * 2)) >> 15));
        let sz: i32 = (1..7).map(|i| (self.b[i] * sat(self.d[i] * 2)) >> 15).sum();
        self.sz = sat(sz);
        self.s = sat(sp + self.sz);
    }
}

/// Step sizes the Recommendation resets the lower and upper band to: their minimums.
const LOW_DET_RESET: i32 = 32;
const HIGH_DET_RESET: i32 = 8;

/// G.722 encoder for one stream: 16 kHz PCM in, one octet per two samples out.
#[derive(Clone, Debug)]
pub struct G722Encoder {
    /// Transmit QMF input history, oldest first.
    history: [i32; 24],
    low: Band,
    high: Band,
}

impl Default for G722Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl G722Encoder {
    /// An encoder in the Recommendation's reset state.
    pub const fn new() -> Self {
        Self {
            history: [0; 24],
            low: Band::new(LOW_DET_RESET),
            high: Band::new(HIGH_DET_RESET),
        }
    }

    /// Encodes `pcm` (16 kHz, an even number of samples) into `pcm.len() / 2` octets of `out`;
    /// returns the octet count.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        let (pairs, rest) = pcm.as_chunks::<2>();
        if !rest.is_empty() {
            return Err(CodecError::FrameLength {
                encoding: NAME,
                len: pcm.len(),
            });
        }
        ensure_room(pairs.len(), out.len())?;
        for (octet, &[first, second]) in out.iter_mut().zip(pairs) {
            *octet = self.encode_pair(first, second);
        }
        Ok(pairs.len())
    }

    fn encode_pair(&mut self, first: i16, second: i16) -> u8 {
        let (xlow, xhigh) = self.split(first, second);
        let ilow = self.encode_low(xlow);
        let ihigh = self.encode_high(xhigh);
        (ihigh << 6) | ilow
    }

    /// Transmit QMF: two 16 kHz samples in, one sample of each 8 kHz band out.
    fn split(&mut self, first: i16, second: i16) -> (i32, i32) {
        self.history.copy_within(2.., 0);
        self.history[22] = i32::from(first);
        self.history[23] = i32::from(second);
        let (mut odd, mut even) = (0, 0);
        for (i, &c) in QMF.iter().enumerate() {
            odd += self.history[2 * i] * c;
            even += self.history[2 * i + 1] * QMF[11 - i];
        }
        (limit((even + odd) >> 14), limit((even - odd) >> 14))
    }

    /// Lower band: blocks 1L (SUBTRA, QUANTL), 2L, 3L and 4.
    fn encode_low(&mut self, xlow: i32) -> u8 {
        let band = &mut self.low;
        let el = sat(xlow - band.s);
        let magnitude = if el >= 0 { el } else { -(el + 1) };
        let mut interval = 1;
        while interval < 30 && magnitude >= (Q6[interval] * band.det) >> 12 {
            interval += 1;
        }
        let ilow = if el < 0 { ILN[interval] } else { ILP[interval] };
        let ril = usize::from(ilow >> 2);
        let dlow = (band.det * QM4[ril]) >> 15;
        band.adapt_scale(WL[RL42[ril]], 18432, 8);
        band.adapt_predictor(dlow);
        ilow
    }

    /// Upper band: blocks 1H (SUBTRA, QUANTH), 2H, 3H and 4.
    fn encode_high(&mut self, xhigh: i32) -> u8 {
        let band = &mut self.high;
        let eh = sat(xhigh - band.s);
        let magnitude = if eh >= 0 { eh } else { -(eh + 1) };
        let interval = if magnitude >= (564 * band.det) >> 12 {
            2
        } else {
            1
        };
        let ihigh = if eh < 0 { IHN[interval] } else { IHP[interval] };
        let dhigh = (band.det * QM2[usize::from(ihigh)]) >> 15;
        band.adapt_scale(WH[RH2[usize::from(ihigh)]], 22528, 10);
        band.adapt_predictor(dhigh);
        ihigh
    }
}

/// G.722 decoder for one stream: one octet in, two 16 kHz samples out. Every octet is a valid code,
/// so any payload decodes.
#[derive(Clone, Debug)]
pub struct G722Decoder {
    /// Receive QMF input history, oldest first.
    history: [i32; 24],
    low: Band,
    high: Band,
}

impl Default for G722Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl G722Decoder {
    /// A decoder in the Recommendation's reset state.
    pub const fn new() -> Self {
        Self {
            history: [0; 24],
            low: Band::new(LOW_DET_RESET),
            high: Band::new(HIGH_DET_RESET),
        }
    }

    /// Decodes `payload` into `2 * payload.len()` samples of `out`; returns the sample count.
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let needed = payload.len() * 2;
        ensure_room(needed, out.len())?;
        let (pairs, _) = out.as_chunks_mut::<2>();
        for (pair, &octet) in pairs.iter_mut().zip(payload) {
            *pair = self.decode_octet(octet);
        }
        Ok(needed)
    }

    fn decode_octet(&mut self, octet: u8) -> [i16; 2] {
        let ilow = usize::from(octet & 0x3F);
        let ihigh = usize::from(octet >> 6);

        // Lower band: blocks 5L (INVQBL, RECONS), 6L, then 2L, 3L and 4 as in the encoder.
        let low = &mut self.low;
        let rlow = limit(low.s + ((low.det * QM6[ilow]) >> 15));
        let ril = ilow >> 2;
        let dlow = (low.det * QM4[ril]) >> 15;
        low.adapt_scale(WL[RL42[ril]], 18432, 8);
        low.adapt_predictor(dlow);

        // Upper band: blocks 2H, 5H, 6H, 3H and 4.
        let high = &mut self.high;
        let dhigh = (high.det * QM2[ihigh]) >> 15;
        let rhigh = limit(high.s + dhigh);
        high.adapt_scale(WH[RH2[ihigh]], 22528, 10);
        high.adapt_predictor(dhigh);

        self.join(rlow, rhigh)
    }

    /// Receive QMF: one sample of each band in, two 16 kHz samples out.
    fn join(&mut self, rlow: i32, rhigh: i32) -> [i16; 2] {
        self.history.copy_within(2.., 0);
        self.history[22] = rlow + rhigh;
        self.history[23] = rlow - rhigh;
        let (mut first, mut second) = (0, 0);
        for (i, &c) in QMF.iter().enumerate() {
            second += self.history[2 * i] * c;
            first += self.history[2 * i + 1] * QMF[11 - i];
        }
        [sat(first >> 11) as i16, sat(second >> 11) as i16]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    /// Encoder plus decoder delay, in 16 kHz samples.
    const CODEC_DELAY: usize = 22;

    /// A sum of sine waves at 16 kHz, each given as (frequency, amplitude).
    fn tones(parts: &[(f64, f64)], len: usize) -> Vec<i16> {
        (0..len)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                let v: f64 = parts
                    .iter()
                    .map(|&(hz, amplitude)| amplitude * (2.0 * std::f64::consts::PI * hz * t).sin())
                    .sum();
                v as i16
            })
            .collect()
    }

    /// Encodes and decodes `pcm` in 20 ms frames through fresh codec state.
    fn round_trip(pcm: &[i16]) -> Vec<i16> {
        let (mut enc, mut dec) = (G722Encoder::new(), G722Decoder::new());
        let mut out = vec![0i16; pcm.len()];
        let mut octets = [0u8; 160];
        for (frame, decoded) in pcm.chunks(320).zip(out.chunks_mut(320)) {
            let n = enc.encode(frame, &mut octets).unwrap();
            assert_eq!(n, frame.len() / 2);
            assert_eq!(dec.decode(&octets[..n], decoded).unwrap(), frame.len());
        }
        out
    }

    /// SNR in dB of `output` against `input` delayed by `delay`, skipping the adaptation start.
    fn snr_db(input: &[i16], output: &[i16], delay: usize) -> f64 {
        let skip = 1600;
        let (mut signal, mut noise) = (0.0, 0.0);
        for (i, &x) in input.iter().enumerate().skip(skip) {
            let Some(&y) = output.get(i + delay) else {
                break;
            };
            signal += f64::from(x).powi(2);
            noise += (f64::from(y) - f64::from(x)).powi(2);
        }
        10.0 * (signal / noise.max(1.0)).log10()
    }

    #[test]
    fn codec_delay_is_the_qmf_delay() {
        // Incommensurate tones, so no shift other than the true delay lines them up.
        let input = tones(
            &[(440.0, 4000.0), (1330.0, 4000.0), (3170.0, 4000.0)],
            16_000,
        );
        let output = round_trip(&input);
        let best_delay = (0..64)
            .max_by(|&a, &b| snr_db(&input, &output, a).total_cmp(&snr_db(&input, &output, b)))
            .unwrap();
        assert_eq!(best_delay, CODEC_DELAY);
    }

    #[test]
    fn tones_come_back_with_20_db_snr_after_the_codec_delay() {
        for hz in [1000.0, 5000.0] {
            let input = tones(&[(hz, 10_000.0)], 16_000);
            let snr = snr_db(&input, &round_trip(&input), CODEC_DELAY);
            assert!(snr >= 20.0, "{hz} Hz: SNR {snr:.1} dB");
        }
    }

    #[test]
    fn silence_stays_near_silent() {
        let output = round_trip(&[0; 16_000]);
        let peak = output.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak <= 16, "peak {peak}");
    }

    #[test]
    fn full_scale_square_waves_saturate_cleanly() {
        let input: Vec<i16> = (0..16_000)
            .map(|i| if (i / 8) % 2 == 0 { i16::MAX } else { i16::MIN })
            .collect();
        let output = round_trip(&input);
        assert!(snr_db(&input, &output, CODEC_DELAY) > 10.0);
    }

    #[test]
    fn frames_carry_state_like_one_long_call() {
        let input = tones(&[(440.0, 8000.0)], 3200);
        let mut whole = vec![0u8; 1600];
        G722Encoder::new().encode(&input, &mut whole).unwrap();
        let mut enc = G722Encoder::new();
        let mut framed = vec![0u8; 1600];
        for (frame, octets) in input.chunks(320).zip(framed.chunks_mut(160)) {
            enc.encode(frame, octets).unwrap();
        }
        assert_eq!(whole, framed);
    }

    #[test]
    fn bad_lengths_are_errors() {
        let mut enc = G722Encoder::new();
        assert!(matches!(
            enc.encode(&[0; 3], &mut [0; 4]),
            Err(CodecError::FrameLength { len: 3, .. })
        ));
        assert!(matches!(
            enc.encode(&[0; 320], &mut [0; 159]),
            Err(CodecError::OutputTooSmall {
                needed: 160,
                available: 159
            })
        ));
        assert!(matches!(
            G722Decoder::new().decode(&[0; 160], &mut [0; 319]),
            Err(CodecError::OutputTooSmall {
                needed: 320,
                available: 319
            })
        ));
    }

    /// Integer-only test signal (a leaky random walk plus a sawtooth), identical on every platform.
    fn pinned_input() -> Vec<i16> {
        let (mut state, mut walk) = (12_345u32, 0i32);
        (0..4000)
            .map(|n| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = i32::from((state >> 16) as u16 as i16) / 8;
                walk += noise / 2 - walk / 16;
                let saw = (n % 37) * 12_000 / 37 - 6000;
                (walk + saw).clamp(-32768, 32767) as i16
            })
            .collect()
    }

    /// FNV-1a, to pin long outputs in one number.
    fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
        bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// The expected hashes are of what libg722 1.2.8 (the Bellcore/CMU/spandsp lineage, which passes
    /// the ITU test sequences) produced for the same input: both directions agree bit for bit. With
    /// inputs loud enough to push a QMF band past 15 bits the encoders part ways, because this one
    /// clamps there as the ITU reference does.
    #[test]
    fn bit_exact_with_an_independent_implementation() {
        let pcm = pinned_input();
        let mut codes = vec![0u8; pcm.len() / 2];
        G722Encoder::new().encode(&pcm, &mut codes).unwrap();
        assert_eq!(fnv1a(codes.iter().copied()), 0x8956_662b_c40e_e0aa);
        let mut out = vec![0i16; pcm.len()];
        G722Decoder::new().decode(&codes, &mut out).unwrap();
        assert_eq!(
            fnv1a(out.iter().flat_map(|s| s.to_le_bytes())),
            0x56ad_38b8_cecf_e97e
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
            let mut dec = G722Decoder::new();
            let mut out = vec![0i16; 1600];
            prop_assert_eq!(dec.decode(&bytes, &mut out).unwrap(), 2 * bytes.len());
        }

        #[test]
        fn any_pcm_encodes(pcm in proptest::collection::vec(any::<i16>(), 0..400)) {
            let mut enc = G722Encoder::new();
            let even = &pcm[..pcm.len() / 2 * 2];
            let mut out = vec![0u8; 200];
            prop_assert_eq!(enc.encode(even, &mut out).unwrap(), even.len() / 2);
        }
    }
}
