//! L16 (RFC 3551 section 4.5.11): 16-bit linear PCM in network byte order, at any rate.

use super::{CodecError, ensure_room};

const NAME: &str = "L16";

/// Writes `pcm` big-endian into the first `2 * pcm.len()` bytes of `out`; returns the byte count.
pub fn encode(pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
    let needed = pcm.len() * 2;
    ensure_room(needed, out.len())?;
    let (pairs, _) = out.as_chunks_mut::<2>();
    for (pair, &sample) in pairs.iter_mut().zip(pcm) {
        *pair = sample.to_be_bytes();
    }
    Ok(needed)
}

/// Reads big-endian samples from `payload` into `out`; returns the sample count. A payload with an
/// odd number of bytes is malformed rather than silently truncated.
pub fn decode(payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
    let (pairs, rest) = payload.as_chunks::<2>();
    if !rest.is_empty() {
        return Err(CodecError::Malformed {
            encoding: NAME,
            reason: "odd number of bytes",
        });
    }
    ensure_room(pairs.len(), out.len())?;
    for (sample, &pair) in out.iter_mut().zip(pairs) {
        *sample = i16::from_be_bytes(pair);
    }
    Ok(pairs.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bytes_are_big_endian() {
        let mut out = [0u8; 4];
        assert_eq!(encode(&[0x0102, -2], &mut out).unwrap(), 4);
        assert_eq!(out, [0x01, 0x02, 0xFF, 0xFE]);
        let mut pcm = [0i16; 2];
        assert_eq!(decode(&out, &mut pcm).unwrap(), 2);
        assert_eq!(pcm, [0x0102, -2]);
    }

    #[test]
    fn odd_payloads_and_short_buffers_are_errors() {
        let mut pcm = [0i16; 4];
        assert!(matches!(
            decode(&[1, 2, 3], &mut pcm),
            Err(CodecError::Malformed { .. })
        ));
        assert!(matches!(
            decode(&[0; 10], &mut pcm),
            Err(CodecError::OutputTooSmall {
                needed: 5,
                available: 4
            })
        ));
        assert!(encode(&[1, 2, 3], &mut [0u8; 5]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip_is_exact(pcm in proptest::collection::vec(any::<i16>(), 0..1000)) {
            let mut bytes = vec![0u8; pcm.len() * 2];
            prop_assert_eq!(encode(&pcm, &mut bytes).unwrap(), bytes.len());
            let mut back = vec![0i16; pcm.len()];
            prop_assert_eq!(decode(&bytes, &mut back).unwrap(), pcm.len());
            prop_assert_eq!(back, pcm);
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut out = [0i16; 40];
            let _ = decode(&bytes, &mut out);
        }
    }
}
