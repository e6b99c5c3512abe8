//! G.711 μ-law and A-law, bit-exact with ITU-T G.711 as implemented by the G.191 reference `g711.c`.
//!
//! Every direction is one table lookup: decoding reads a 256-entry table, encoding reads a table
//! indexed by the sample with the bits G.711 ignores shifted away (14 bits for μ-law, 13 for A-law).
//! The tables are built by `const fn` at compile time, so there is no runtime initialisation.
//! Negative samples use the one's complement magnitude, as the ITU reference does.

use super::{CodecError, ensure_room};

/// μ-law bias in 14-bit units (0x84 in 16-bit units): shifts the segments so they start at zero.
const ULAW_BIAS: i32 = 33;
/// Largest biased μ-law magnitude in 14-bit units; larger samples clip to the top code.
const ULAW_CLIP: i32 = 0x1FFF;
/// A-law inverts the even bits of each code so idle channels carry transitions.
const ALAW_TOGGLE: u8 = 0x55;

static ULAW_DECODE: [i16; 256] = build_ulaw_decode();
static ALAW_DECODE: [i16; 256] = build_alaw_decode();
static ULAW_ENCODE: [u8; 1 << 14] = build_ulaw_encode();
static ALAW_ENCODE: [u8; 1 << 13] = build_alaw_encode();

/// Decodes one μ-law code to 16-bit linear PCM.
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_DECODE[code as usize]
}

/// Decodes one A-law code to 16-bit linear PCM.
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_DECODE[code as usize]
}

/// Encodes one 16-bit sample to μ-law. Only the top 14 bits matter, so they index the table.
#[inline]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    ULAW_ENCODE[((sample >> 2) as u16 & 0x3FFF) as usize]
}

/// Encodes one 16-bit sample to A-law. Only the top 13 bits matter, so they index the table.
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    ALAW_ENCODE[((sample >> 3) as u16 & 0x1FFF) as usize]
}

/// Encodes `pcm` (8 kHz) into the first `pcm.len()` bytes of `out` as μ-law; returns the byte count.
pub fn ulaw_encode(pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
    ensure_room(pcm.len(), out.len())?;
    for (code, &sample) in out.iter_mut().zip(pcm) {
        *code = linear_to_ulaw(sample);
    }
    Ok(pcm.len())
}

/// Decodes μ-law `codes` into the first `codes.len()` samples of `out`; returns the sample count.
pub fn ulaw_decode(codes: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
    ensure_room(codes.len(), out.len())?;
    for (sample, &code) in out.iter_mut().zip(codes) {
        *sample = ulaw_to_linear(code);
    }
    Ok(codes.len())
}

/// Encodes `pcm` (8 kHz) into the first `pcm.len()` bytes of `out` as A-law; returns the byte count.
pub fn alaw_encode(pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
    ensure_room(pcm.len(), out.len())?;
    for (code, &sample) in out.iter_mut().zip(pcm) {
        *code = linear_to_alaw(sample);
    }
    Ok(pcm.len())
}

/// Decodes A-law `codes` into the first `codes.len()` samples of `out`; returns the sample count.
pub fn alaw_decode(codes: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
    ensure_room(codes.len(), out.len())?;
    for (sample, &code) in out.iter_mut().zip(codes) {
        *sample = alaw_to_linear(code);
    }
    Ok(codes.len())
}

/// Number of significant bits in a positive value.
const fn bit_length(value: i32) -> i32 {
    32 - value.leading_zeros() as i32
}

/// μ-law expansion (G.711 table 2): the code is stored inverted; the result is the middle of the
/// quantisation interval, minus the bias.
const fn ulaw_expand(code: u8) -> i16 {
    let inverted = !code;
    let exponent = ((inverted >> 4) & 0x07) as i32;
    let mantissa = (inverted & 0x0F) as i32;
    let step = 8 << exponent;
    let magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * ULAW_BIAS;
    if code & 0x80 == 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// A-law expansion (G.711 table 1): segments 0 and 1 share a step; each later one doubles it.
const fn alaw_expand(code: u8) -> i16 {
    let plain = (code ^ ALAW_TOGGLE) & 0x7F;
    let exponent = (plain >> 4) as i32;
    let mut mantissa = (plain & 0x0F) as i32;
    if exponent > 0 {
        mantissa += 16;
    }
    let mut magnitude = (mantissa << 4) + 8;
    if exponent > 1 {
        magnitude <<= exponent - 1;
    }
    if code & 0x80 == 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// μ-law compression of a 14-bit sample (the 16-bit sample shifted right by 2).
const fn ulaw_compress(sample14: i32) -> u8 {
    let magnitude = if sample14 < 0 { !sample14 } else { sample14 };
    let mut biased = magnitude + ULAW_BIAS;
    if biased > ULAW_CLIP {
        biased = ULAW_CLIP;
    }
    // The biased value is at least 33, so its top bit is bit 5 or higher: segments 0..=7.
    let exponent = bit_length(biased) - 6;
    let mantissa = (biased >> (exponent + 1)) & 0x0F;
    let code = !(((exponent << 4) | mantissa) as u8) & 0x7F;
    if sample14 >= 0 { code | 0x80 } else { code }
}

/// A-law compression of a 13-bit sample (the 16-bit sample shifted right by 3).
const fn alaw_compress(sample13: i32) -> u8 {
    let magnitude = (if sample13 < 0 { !sample13 } else { sample13 }) >> 1;
    let code = if magnitude > 15 {
        // Magnitudes 16..=2047 have their top bit at 4..=10: segments 1..=7.
        let exponent = bit_length(magnitude) - 4;
        let mantissa = (magnitude >> (exponent - 1)) & 0x0F;
        ((exponent << 4) | mantissa) as u8
    } else {
        magnitude as u8
    };
    let code = if sample13 >= 0 { code | 0x80 } else { code };
    code ^ ALAW_TOGGLE
}

const fn build_ulaw_decode() -> [i16; 256] {
    let mut table = [0; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = ulaw_expand(code as u8);
        code += 1;
    }
    table
}

const fn build_alaw_decode() -> [i16; 256] {
    let mut table = [0; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = alaw_expand(code as u8);
        code += 1;
    }
    table
}

const fn build_ulaw_encode() -> [u8; 1 << 14] {
    let mut table = [0; 1 << 14];
    let mut index = 0;
    while index < 1 << 14 {
        // The index is the sample's 14-bit two's complement pattern.
        let sample14 = if index >= 1 << 13 {
            index as i32 - (1 << 14)
        } else {
            index as i32
        };
        table[index] = ulaw_compress(sample14);
        index += 1;
    }
    table
}

const fn build_alaw_encode() -> [u8; 1 << 13] {
    let mut table = [0; 1 << 13];
    let mut index = 0;
    while index < 1 << 13 {
        let sample13 = if index >= 1 << 12 {
            index as i32 - (1 << 13)
        } else {
            index as i32
        };
        table[index] = alaw_compress(sample13);
        index += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    /// μ-law compression written the way the G.191 reference writes it: 16-bit in, segment found
    /// by shifting, nibbles assembled by hand.
    fn reference_ulaw_compress(sample: i16) -> u8 {
        let mut absno = if sample < 0 {
            (!sample >> 2) + 33
        } else {
            (sample >> 2) + 33
        };
        if absno > 0x1FFF {
            absno = 0x1FFF;
        }
        let mut i = absno >> 6;
        let mut segno = 1;
        while i != 0 {
            segno += 1;
            i >>= 1;
        }
        let high_nibble = 0x0008 - segno;
        let low_nibble = 0x000F - ((absno >> segno) & 0x000F);
        let mut code = (high_nibble << 4) | low_nibble;
        if sample >= 0 {
            code |= 0x0080;
        }
        code as u8
    }

    fn reference_ulaw_expand(code: u8) -> i16 {
        let sign: i16 = if code < 0x80 { -1 } else { 1 };
        let mantissa = !i16::from(code);
        let exponent = (mantissa >> 4) & 0x0007;
        let segment = exponent + 1;
        let mantissa = mantissa & 0x000F;
        let step = 4 << segment;
        sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33)
    }

    fn reference_alaw_compress(sample: i16) -> u8 {
        let mut ix = if sample < 0 {
            !sample >> 4
        } else {
            sample >> 4
        };
        if ix > 15 {
            let mut iexp = 1;
            while ix > 16 + 15 {
                ix >>= 1;
                iexp += 1;
            }
            ix -= 16;
            ix += iexp << 4;
        }
        if sample >= 0 {
            ix |= 0x0080;
        }
        (ix ^ 0x0055) as u8
    }

    fn reference_alaw_expand(code: u8) -> i16 {
        let ix = (i16::from(code) ^ 0x0055) & 0x007F;
        let iexp = ix >> 4;
        let mut mant = ix & 0x000F;
        if iexp > 0 {
            mant += 16;
        }
        mant = (mant << 4) + 0x0008;
        if iexp > 1 {
            mant <<= iexp - 1;
        }
        if code > 127 { mant } else { -mant }
    }

    /// Quantisation step (16-bit units) of the segment a μ-law code lies in.
    fn ulaw_step(code: u8) -> i32 {
        8 << ((!code >> 4) & 0x07)
    }

    /// Quantisation step (16-bit units) of the segment an A-law code lies in.
    fn alaw_step(code: u8) -> i32 {
        let exponent = ((code ^ ALAW_TOGGLE) >> 4) & 0x07;
        16 << exponent.saturating_sub(1)
    }

    #[test]
    fn tables_match_reference_for_every_input() {
        for sample in i16::MIN..=i16::MAX {
            assert_eq!(
                linear_to_ulaw(sample),
                reference_ulaw_compress(sample),
                "μ-law {sample}"
            );
            assert_eq!(
                linear_to_alaw(sample),
                reference_alaw_compress(sample),
                "A-law {sample}"
            );
        }
        for code in 0..=u8::MAX {
            assert_eq!(
                ulaw_to_linear(code),
                reference_ulaw_expand(code),
                "μ-law {code:#04x}"
            );
            assert_eq!(
                alaw_to_linear(code),
                reference_alaw_expand(code),
                "A-law {code:#04x}"
            );
        }
    }

    #[test]
    fn anchor_values() {
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn slices_round_trip_and_check_room() {
        let pcm = [0, 1000, -1000, 32767, -32768];
        let mut codes = [0u8; 5];
        let mut back = [0i16; 5];
        assert_eq!(ulaw_encode(&pcm, &mut codes).unwrap(), 5);
        assert_eq!(ulaw_decode(&codes, &mut back).unwrap(), 5);
        assert_eq!(back, [0, 988, -988, 32124, -32124]);
        assert_eq!(alaw_encode(&pcm, &mut codes).unwrap(), 5);
        assert_eq!(alaw_decode(&codes, &mut back).unwrap(), 5);
        assert_eq!(back, [8, 1008, -1008, 32256, -32256]);
        assert!(matches!(
            ulaw_encode(&pcm, &mut codes[..4]),
            Err(CodecError::OutputTooSmall {
                needed: 5,
                available: 4
            })
        ));
        assert!(alaw_decode(&codes, &mut back[..2]).is_err());
        assert_eq!(ulaw_decode(&[], &mut []).unwrap(), 0);
    }

    proptest! {
        #[test]
        fn ulaw_codes_survive_decode_encode(code in any::<u8>()) {
            let expected = if code == 0x7F { 0xFF } else { code };
            prop_assert_eq!(linear_to_ulaw(ulaw_to_linear(code)), expected);
        }

        #[test]
        fn alaw_codes_survive_decode_encode(code in any::<u8>()) {
            prop_assert_eq!(linear_to_alaw(alaw_to_linear(code)), code);
        }

        #[test]
        fn ulaw_error_is_within_one_step(sample in any::<i16>()) {
            let code = linear_to_ulaw(sample);
            let error = (i32::from(ulaw_to_linear(code)) - i32::from(sample)).abs();
            prop_assert!(error <= ulaw_step(code), "{} -> {:#04x}: error {}", sample, code, error);
        }

        #[test]
        fn alaw_error_is_within_one_step(sample in any::<i16>()) {
            let code = linear_to_alaw(sample);
            let error = (i32::from(alaw_to_linear(code)) - i32::from(sample)).abs();
            prop_assert!(error <= alaw_step(code), "{} -> {:#04x}: error {}", sample, code, error);
        }
    }
}
