//! A structural check of a whisper.cpp ggml model file, done before whisper.cpp sees it.
//!
//! whisper.cpp trusts the sizes in the file: a truncated or foreign file makes it allocate from
//! garbage and throw a C++ exception, which Rust cannot catch, so the whole process aborts. Walking
//! the headers first (magic, hyper-parameters, mel filters, vocabulary, every tensor's header and
//! length, nothing left over) turns that into an ordinary error. It reads headers only and skips
//! the weights, so it costs next to nothing.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

const MAGIC: u32 = 0x6767_6d6c;
/// Plausibility bound for every count in the header: far above any Whisper model, far below what
/// would exhaust memory.
const MAX_COUNT: u32 = 1 << 20;

/// Bytes of `elements` values of ggml type `ttype`, for the types whisper.cpp model files use.
fn data_len(ttype: u32, elements: u64) -> Option<u64> {
    let (block, bytes) = match ttype {
        0 => (1, 4),   // f32
        1 => (1, 2),   // f16
        2 => (32, 18), // q4_0
        3 => (32, 20), // q4_1
        6 => (32, 22), // q5_0
        7 => (32, 24), // q5_1
        8 => (32, 34), // q8_0
        _ => return None,
    };
    elements
        .is_multiple_of(block)
        .then(|| elements / block * bytes)
}

struct Reader {
    inner: BufReader<File>,
    pos: u64,
    len: u64,
}

impl Reader {
    fn u32(&mut self) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.inner.read_exact(&mut b)?;
        self.pos += 4;
        Ok(u32::from_le_bytes(b))
    }

    /// A count in `1..=max` (or `0..=max` when `zero_ok`).
    fn count(&mut self, what: &str, max: u32, zero_ok: bool) -> Result<u32, String> {
        let v = self.u32().map_err(|_| format!("file ends in {what}"))?;
        if v > max || (v == 0 && !zero_ok) {
            return Err(format!("implausible {what}: {v}"));
        }
        Ok(v)
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), String> {
        if self.len - self.pos < n {
            return Err(format!("file ends inside {what}"));
        }
        let offset = i64::try_from(n).map_err(|_| format!("{what} is too large"))?;
        self.inner
            .seek_relative(offset)
            .map_err(|e| e.to_string())?;
        self.pos += n;
        Ok(())
    }
}

/// Checks that `path` is a complete ggml Whisper model file.
pub(crate) fn check(path: &Path) -> Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut r = Reader {
        inner: BufReader::new(file),
        pos: 0,
        len,
    };
    if r.u32().ok() != Some(MAGIC) {
        return Err("not a ggml model file (bad magic)".to_owned());
    }
    let mut hp = [0u32; 11];
    for (i, v) in hp.iter_mut().enumerate() {
        *v = r.count("the hyper-parameters", MAX_COUNT, i == 10)?;
    }
    let (n_audio_layer, n_text_layer, n_mels) = (hp[4], hp[8], hp[9]);

    let mel_rows = r.count("the mel filter count", MAX_COUNT, false)?;
    let mel_cols = r.count("the mel filter width", MAX_COUNT, false)?;
    if mel_rows != n_mels {
        return Err(format!("{mel_rows} mel filters for {n_mels} mels"));
    }
    r.skip(
        u64::from(mel_rows) * u64::from(mel_cols) * 4,
        "the mel filters",
    )?;

    let n_tokens = r.count("the vocabulary size", hp[0], true)?;
    for _ in 0..n_tokens {
        let len = r.count("a token length", 1 << 10, true)?;
        r.skip(u64::from(len), "the vocabulary")?;
    }

    let mut tensors = 0u32;
    while r.pos < r.len {
        let n_dims = r.count("a tensor's rank", 4, false)?;
        let name_len = r.count("a tensor name length", 1 << 10, false)?;
        let ttype = r.count("a tensor type", 64, true)?;
        let mut elements = 1u64;
        for _ in 0..n_dims {
            let dim = u64::from(r.count("a tensor dimension", MAX_COUNT, false)?);
            elements = elements.checked_mul(dim).ok_or("implausible tensor size")?;
        }
        r.skip(u64::from(name_len), "a tensor name")?;
        let bytes =
            data_len(ttype, elements).ok_or_else(|| format!("unknown tensor type {ttype}"))?;
        r.skip(bytes, "a tensor's data")?;
        tensors += 1;
    }
    // 11 outside the blocks, 15 per encoder block, 24 per decoder block (see whisper.cpp's loader).
    let expected = 11 + 15 * n_audio_layer + 24 * n_text_layer;
    if tensors != expected {
        return Err(format!("{tensors} tensors, expected {expected}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn engines_ggml_check_accepts_whole_files_only() {
        let whole = crate::engines::ct2_to_ggml::tests::synthetic_ggml();
        let path =
            std::env::temp_dir().join(format!("dialtone-ggml-check-{}.bin", std::process::id()));
        std::fs::write(&path, &whole).unwrap();
        assert_eq!(check(&path), Ok(()));
        for cut in [3, 20, 50, 500, whole.len() / 2, whole.len() - 1] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            assert!(check(&path).is_err(), "cut at {cut} passed");
        }
        let mut longer = whole.clone();
        longer.extend([0u8; 12]);
        std::fs::write(&path, &longer).unwrap();
        assert!(check(&path).is_err(), "trailing bytes passed");
        std::fs::write(&path, b"lmgg but nothing else").unwrap();
        assert!(check(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
