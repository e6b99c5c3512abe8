//! Reading a CTranslate2 Whisper model: `model.bin` and the vocabulary.
//!
//! `model.bin` (binary versions 4-6): `u32 version`, `str spec`, `u32 revision`, `u32 count`, then per
//! variable `str name`, `u8 rank`, `u32 dims[rank]`, `u8 dtype`, `u32 byte_len`, data; then `u32 count`
//! aliases of `str alias`, `str target`. A `str` is a `u16` length that counts a trailing NUL. The
//! vocabulary is GPT-2's byte-level BPE, one token per entry in id order.

use std::collections::BTreeMap;

use super::ct2_to_ggml::ConvertError;

/// Element types of `model.bin`, by their id in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl DType {
    pub(crate) fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            _ => return None,
        })
    }

    pub(crate) fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Variable<'a> {
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: DType,
    pub(crate) data: &'a [u8],
}

/// The variables of a parsed `model.bin`, borrowing its bytes.
#[derive(Debug)]
pub(crate) struct Ct2Model<'a> {
    pub(crate) vars: BTreeMap<String, Variable<'a>>,
}

pub(crate) struct Cursor<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ConvertError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end =
            end.ok_or_else(|| ConvertError::Format(format!("truncated at byte {}", self.pos)))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, ConvertError> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, ConvertError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, ConvertError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn str(&mut self) -> Result<String, ConvertError> {
        let len = usize::from(self.u16()?);
        let bytes = self.take(len)?;
        let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
        String::from_utf8(bytes.to_vec())
            .map_err(|_| ConvertError::Format(format!("non-UTF-8 name before byte {}", self.pos)))
    }
}

impl<'a> Ct2Model<'a> {
    pub(crate) fn parse(buf: &'a [u8]) -> Result<Self, ConvertError> {
        let mut c = Cursor { buf, pos: 0 };
        let version = c.u32()?;
        if !(4..=6).contains(&version) {
            return Err(ConvertError::Format(format!(
                "binary version {version} (4 to 6 supported)"
            )));
        }
        let spec = c.str()?;
        if spec != "WhisperSpec" {
            return Err(ConvertError::Format(format!(
                "spec {spec:?} is not WhisperSpec"
            )));
        }
        let _revision = c.u32()?;
        let mut vars = BTreeMap::new();
        for _ in 0..c.u32()? {
            let name = c.str()?;
            let rank = usize::from(c.u8()?);
            let shape = (0..rank)
                .map(|_| c.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let id = c.u8()?;
            let dtype = DType::from_id(id)
                .ok_or_else(|| ConvertError::Format(format!("{name}: unknown dtype {id}")))?;
            let len = c.u32()? as usize;
            let data = c.take(len)?;
            if shape.iter().product::<usize>() * dtype.size() != len {
                return Err(ConvertError::Format(format!(
                    "{name}: {len} bytes for shape {shape:?}"
                )));
            }
            vars.insert(name, Variable { shape, dtype, data });
        }
        // Aliases (the output projection is the token embedding) name nothing whisper.cpp needs.
        Ok(Self { vars })
    }

    pub(crate) fn get(&self, name: &str) -> Result<&Variable<'a>, ConvertError> {
        self.vars.get(name).ok_or_else(|| ConvertError::Variable {
            name: name.to_owned(),
            problem: "missing".to_owned(),
        })
    }

    /// A small integer setting stored as a scalar (`encoder/num_heads`), if the converter wrote it.
    pub(crate) fn scalar(&self, name: &str) -> Option<i64> {
        let v = self.vars.get(name)?;
        let d = v.data;
        match (v.dtype, d.len()) {
            (DType::I8, 1) => Some(i64::from(d[0] as i8)),
            (DType::I16, 2) => Some(i64::from(i16::from_le_bytes([d[0], d[1]]))),
            (DType::I32, 4) => Some(i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]]))),
            _ => None,
        }
    }

    pub(crate) fn count_layers(&self, stack: &str) -> usize {
        (0..)
            .take_while(|i| {
                self.vars
                    .contains_key(&format!("{stack}/layer_{i}/ffn/linear_0/weight"))
            })
            .count()
    }
}

/// `vocabulary.txt`: one token per line, in id order.
pub fn parse_vocabulary_txt(bytes: &[u8]) -> Result<Vec<String>, ConvertError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ConvertError::Vocabulary(e.to_string()))?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// The ordinary tokens (those before the first `<|...|>` special token) as raw bytes. whisper.cpp
/// names the special and timestamp tokens itself.
pub(crate) fn byte_level_tokens(vocabulary: &[String]) -> Result<Vec<Vec<u8>>, ConvertError> {
    let decode = byte_decoder();
    let ordinary = vocabulary
        .iter()
        .take_while(|t| !(t.starts_with("<|") && t.ends_with("|>")));
    let tokens = ordinary
        .map(|t| {
            t.chars()
                .map(|c| {
                    decode(c).ok_or_else(|| {
                        ConvertError::Vocabulary(format!("token {t:?} is not byte-level"))
                    })
                })
                .collect::<Result<Vec<u8>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    if tokens.is_empty() {
        return Err(ConvertError::Vocabulary("no ordinary tokens".to_owned()));
    }
    Ok(tokens)
}

/// GPT-2's byte-level BPE spells each byte as a printable character: printable Latin-1 bytes as
/// themselves, the other 68 bytes as U+0100 onwards in byte order. This inverts that.
pub(crate) fn byte_decoder() -> impl Fn(char) -> Option<u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut table = [0u8; 68];
    let mut n = 0;
    for b in 0..=255u8 {
        if !printable(b) {
            table[n] = b;
            n += 1;
        }
    }
    move |c| {
        let code = u32::from(c);
        match u8::try_from(code) {
            Ok(b) if printable(b) => Some(b),
            Ok(_) => None,
            Err(_) => code
                .checked_sub(256)
                .and_then(|i| table.get(i as usize).copied()),
        }
    }
}
