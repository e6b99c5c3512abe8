//! 16-bit PCM WAV files, as bytes: enough for recordings, test clips and command-line TTS output.

use crate::audio::{Pcm, SampleRate};

/// Why a WAV could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// Not a RIFF/WAVE file, or truncated.
    #[error("not a WAV file: {0}")]
    Malformed(&'static str),
    /// A format other than 16-bit PCM.
    #[error("unsupported WAV format: {0}")]
    Unsupported(String),
}

/// Reads a 16-bit PCM WAV. Stereo is mixed down to mono.
pub fn read_wav(bytes: &[u8]) -> Result<Pcm, WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::Malformed("no RIFF/WAVE header"));
    }
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let declared = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body_start = pos + 8;
        // Streamed WAVs (a pipe) may declare a data size larger than what follows: take what is there.
        let body_end = body_start.saturating_add(declared).min(bytes.len());
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err(WavError::Malformed("short fmt chunk"));
                }
                let tag = u16::from_le_bytes([body[0], body[1]]);
                let channels = u16::from_le_bytes([body[2], body[3]]);
                let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                let bits = u16::from_le_bytes([body[14], body[15]]);
                format = Some((tag, channels, rate, bits));
            }
            b"data" => {
                let (tag, channels, rate, bits) =
                    format.ok_or(WavError::Malformed("data before fmt"))?;
                // 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which tools use for plain PCM too.
                if !(tag == 1 || tag == 0xFFFE) || bits != 16 || channels == 0 {
                    return Err(WavError::Unsupported(format!(
                        "format tag {tag}, {bits} bits, {channels} channels"
                    )));
                }
                let rate = SampleRate::new(rate).ok_or(WavError::Malformed("zero sample rate"))?;
                let frame = 2 * usize::from(channels);
                let samples = body
                    .chunks_exact(frame)
                    .map(|f| {
                        let sum: i32 = f
                            .chunks_exact(2)
                            .map(|s| i32::from(i16::from_le_bytes([s[0], s[1]])))
                            .sum();
                        (sum / i32::from(channels)) as i16
                    })
                    .collect();
                return Ok(Pcm::new(rate, samples));
            }
            _ => {}
        }
        pos = body_start.saturating_add(declared + (declared & 1));
    }
    Err(WavError::Malformed("no data chunk"))
}

/// Writes mono 16-bit PCM as a WAV file.
pub fn write_wav(pcm: &Pcm) -> Vec<u8> {
    let data_len = pcm.len() * 2;
    let mut out = Vec::with_capacity(44 + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((36 + data_len) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&pcm.rate().hz().to_le_bytes());
    out.extend_from_slice(&(pcm.rate().hz() * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    for s in pcm.samples() {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips() {
        let pcm = Pcm::new(SampleRate::HZ_16000, vec![0, 1, -1, 32767, -32768, 1234]);
        assert_eq!(read_wav(&write_wav(&pcm)).unwrap(), pcm);
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(read_wav(b"hello").is_err());
        let mut w = write_wav(&Pcm::new(SampleRate::HZ_8000, vec![1, 2]));
        w[34] = 8; // 8-bit
        assert!(matches!(read_wav(&w), Err(WavError::Unsupported(_))));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read_wav(&bytes);
            let mut riff = b"RIFF\0\0\0\0WAVE".to_vec();
            riff.extend(bytes);
            let _ = read_wav(&riff);
        }
    }
}
