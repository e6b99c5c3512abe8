#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use super::*;
use crate::engines::ct2_model::{Cursor, byte_decoder};

const STATE: usize = 8;
const MELS: usize = 4;
const AUDIO_CTX: usize = 6;
const TEXT_CTX: usize = 5;

/// Builds a CTranslate2 `model.bin` (binary version 6) the way CTranslate2's Python converter
/// writes one, with every value distinct so splits can be checked.
struct Ct2Builder {
    vars: Vec<(String, Vec<u32>, u8, Vec<u8>)>,
    next: f32,
}

impl Ct2Builder {
    fn new() -> Self {
        Self {
            vars: Vec::new(),
            next: 0.0,
        }
    }

    fn f16(&mut self, name: &str, shape: &[usize]) {
        let n: usize = shape.iter().product();
        let mut data = Vec::with_capacity(n * 2);
        for _ in 0..n {
            self.next += 0.25;
            data.extend(f32_to_f16(self.next).to_le_bytes());
        }
        let dims = shape.iter().map(|&d| d as u32).collect();
        self.vars.push((name.to_owned(), dims, 4, data));
    }

    fn int16(&mut self, name: &str, v: i16) {
        self.vars
            .push((name.to_owned(), vec![], 2, v.to_le_bytes().to_vec()));
    }

    fn linear(&mut self, name: &str, out: usize, inp: usize) {
        self.f16(&format!("{name}/weight"), &[out, inp]);
        self.f16(&format!("{name}/bias"), &[out]);
    }

    fn norm(&mut self, name: &str) {
        self.f16(&format!("{name}/gamma"), &[STATE]);
        self.f16(&format!("{name}/beta"), &[STATE]);
    }

    fn whisper(n_vocab: usize) -> Self {
        let mut b = Self::new();
        b.int16("decoder/num_heads", 2);
        b.int16("encoder/num_heads", 2);
        b.f16("decoder/embeddings/weight", &[n_vocab, STATE]);
        b.norm("decoder/layer_norm");
        b.f16("decoder/position_encodings/encodings", &[TEXT_CTX, STATE]);
        b.f16("encoder/conv1/weight", &[STATE, MELS, 3]);
        b.f16("encoder/conv1/bias", &[STATE]);
        b.f16("encoder/conv2/weight", &[STATE, STATE, 3]);
        b.f16("encoder/conv2/bias", &[STATE]);
        b.norm("encoder/layer_norm");
        b.f16("encoder/position_encodings/encodings", &[AUDIO_CTX, STATE]);
        for stack in ["encoder", "decoder"] {
            let l = format!("{stack}/layer_0");
            b.norm(&format!("{l}/self_attention/layer_norm"));
            b.linear(&format!("{l}/self_attention/linear_0"), 3 * STATE, STATE);
            b.linear(&format!("{l}/self_attention/linear_1"), STATE, STATE);
            b.norm(&format!("{l}/ffn/layer_norm"));
            b.linear(&format!("{l}/ffn/linear_0"), 4 * STATE, STATE);
            b.linear(&format!("{l}/ffn/linear_1"), STATE, 4 * STATE);
        }
        b.norm("decoder/layer_0/attention/layer_norm");
        b.linear("decoder/layer_0/attention/linear_0", STATE, STATE);
        b.linear("decoder/layer_0/attention/linear_1", 2 * STATE, STATE);
        b.linear("decoder/layer_0/attention/linear_2", STATE, STATE);
        b
    }

    fn bytes(&self) -> Vec<u8> {
        let str = |out: &mut Vec<u8>, s: &str| {
            out.extend(((s.len() + 1) as u16).to_le_bytes());
            out.extend(s.as_bytes());
            out.push(0);
        };
        let mut out = 6u32.to_le_bytes().to_vec();
        str(&mut out, "WhisperSpec");
        out.extend(3u32.to_le_bytes());
        out.extend((self.vars.len() as u32).to_le_bytes());
        for (name, dims, dtype, data) in &self.vars {
            str(&mut out, name);
            out.push(dims.len() as u8);
            dims.iter().for_each(|d| out.extend(d.to_le_bytes()));
            out.push(*dtype);
            out.extend((data.len() as u32).to_le_bytes());
            out.extend(data);
        }
        out.extend(1u32.to_le_bytes());
        str(&mut out, "decoder/projection/weight");
        str(&mut out, "decoder/embeddings/weight");
        out
    }
}

fn vocabulary() -> Vec<String> {
    [
        "!",
        "Ġa",
        "ĊĠ",
        "é",
        "<|endoftext|>",
        "<|startoftranscript|>",
    ]
    .map(String::from)
    .to_vec()
}

/// A ggml file read back the way whisper.cpp's loader reads it.
struct Ggml {
    hparams: Vec<i32>,
    mel: (i32, i32, Vec<f32>),
    tokens: Vec<Vec<u8>>,
    /// name -> (ftype, ne innermost first, raw data)
    tensors: BTreeMap<String, (i32, Vec<i32>, Vec<u8>)>,
}

fn read_ggml(b: &[u8]) -> Ggml {
    let mut c = Cursor { buf: b, pos: 0 };
    let i32 = |c: &mut Cursor<'_>| c.u32().unwrap() as i32;
    assert_eq!(&b[..4], b"lmgg", "magic 0x67676d6c, little-endian");
    c.pos = 4;
    let hparams: Vec<i32> = (0..11).map(|_| i32(&mut c)).collect();
    let (n_mel, n_fft) = (i32(&mut c), i32(&mut c));
    let mel = (0..n_mel * n_fft)
        .map(|_| f32::from_le_bytes(c.take(4).unwrap().try_into().unwrap()))
        .collect();
    let n_tokens = i32(&mut c);
    let tokens = (0..n_tokens)
        .map(|_| {
            let len = c.u32().unwrap() as usize;
            c.take(len).unwrap().to_vec()
        })
        .collect();
    let mut tensors = BTreeMap::new();
    while c.pos < b.len() {
        let (n_dims, len, ftype) = (i32(&mut c), i32(&mut c), i32(&mut c));
        let ne: Vec<i32> = (0..n_dims).map(|_| i32(&mut c)).collect();
        let name = String::from_utf8(c.take(len as usize).unwrap().to_vec()).unwrap();
        let size = if ftype == 0 { 4 } else { 2 };
        let n: i32 = ne.iter().product();
        let data = c.take(n as usize * size).unwrap().to_vec();
        assert!(
            tensors.insert(name.clone(), (ftype, ne, data)).is_none(),
            "{name} twice"
        );
    }
    Ggml {
        hparams,
        mel: (n_mel, n_fft, mel),
        tokens,
        tensors,
    }
}

/// A complete ggml file converted from a synthetic one-layer model.
pub(crate) fn synthetic_ggml() -> Vec<u8> {
    let model = Ct2Builder::whisper(6).bytes();
    let mut out = Vec::new();
    convert(&model, &vocabulary(), &mut out).unwrap();
    out
}

fn convert_synthetic() -> Ggml {
    read_ggml(&synthetic_ggml())
}

/// The names whisper.cpp's loader asks for (`ASR_TENSOR_NAMES`), for one layer of each stack.
fn whisper_cpp_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "encoder.positional_embedding",
        "encoder.conv1.weight",
        "encoder.conv1.bias",
        "encoder.conv2.weight",
        "encoder.conv2.bias",
        "encoder.ln_post.weight",
        "encoder.ln_post.bias",
        "decoder.positional_embedding",
        "decoder.token_embedding.weight",
        "decoder.ln.weight",
        "decoder.ln.bias",
    ]
    .map(String::from)
    .to_vec();
    let block = [
        "mlp_ln.weight",
        "mlp_ln.bias",
        "mlp.0.weight",
        "mlp.0.bias",
        "mlp.2.weight",
        "mlp.2.bias",
        "attn_ln.weight",
        "attn_ln.bias",
        "attn.query.weight",
        "attn.query.bias",
        "attn.key.weight",
        "attn.value.weight",
        "attn.value.bias",
        "attn.out.weight",
        "attn.out.bias",
    ];
    for stack in ["encoder", "decoder"] {
        names.extend(block.iter().map(|n| format!("{stack}.blocks.0.{n}")));
    }
    let cross = block[6..].iter().map(|n| n.replace("attn", "cross_attn"));
    names.extend(cross.map(|n| format!("decoder.blocks.0.{n}")));
    names.sort();
    names
}

#[test]
fn engines_ct2_header_mel_and_vocabulary() {
    let g = convert_synthetic();
    assert_eq!(
        g.hparams,
        [
            6,
            AUDIO_CTX as i32,
            8,
            2,
            1,
            TEXT_CTX as i32,
            8,
            2,
            1,
            MELS as i32,
            1
        ]
    );
    assert_eq!((g.mel.0, g.mel.1), (MELS as i32, 201));
    assert_eq!(g.mel.2, crate::engines::mel::mel_filters(16_000, 400, MELS));
    // Specials are left to whisper.cpp; byte-level spellings become raw bytes.
    let want: Vec<Vec<u8>> = vec![b"!".to_vec(), b" a".to_vec(), b"\n ".to_vec(), vec![0xE9]];
    assert_eq!(g.tokens, want);
}

#[test]
fn engines_ct2_tensors_are_the_ones_whisper_cpp_loads() {
    let g = convert_synthetic();
    let got: Vec<String> = g.tensors.keys().cloned().collect();
    assert_eq!(got, whisper_cpp_names());
    let shape = |n: &str| (g.tensors[n].0, g.tensors[n].1.clone());
    // Matrices f16, vectors and positional embeddings f32, dims innermost first.
    assert_eq!(shape("encoder.conv1.weight"), (1, vec![3, MELS as i32, 8]));
    assert_eq!(shape("encoder.conv1.bias"), (0, vec![1, 8]));
    assert_eq!(
        shape("encoder.positional_embedding"),
        (0, vec![8, AUDIO_CTX as i32])
    );
    assert_eq!(shape("decoder.token_embedding.weight"), (1, vec![8, 6]));
    assert_eq!(shape("encoder.blocks.0.attn.key.weight"), (1, vec![8, 8]));
    assert_eq!(shape("encoder.blocks.0.mlp.0.weight"), (1, vec![8, 32]));
    assert_eq!(shape("decoder.blocks.0.mlp.2.weight"), (1, vec![32, 8]));
    assert_eq!(
        shape("decoder.blocks.0.cross_attn.value.bias"),
        (0, vec![8])
    );
    assert_eq!(shape("decoder.blocks.0.attn_ln.weight"), (0, vec![8]));
}

#[test]
fn engines_ct2_fused_projections_split_in_order() {
    let model_bytes = Ct2Builder::whisper(6).bytes();
    let model = Ct2Model::parse(&model_bytes).unwrap();
    let g = convert_synthetic();
    let f16_rows = |var: &str, from: usize, to: usize| {
        let v = &model.vars[var];
        v.data[from * STATE * 2..to * STATE * 2].to_vec()
    };
    let qkv = "encoder/layer_0/self_attention/linear_0/weight";
    assert_eq!(
        g.tensors["encoder.blocks.0.attn.query.weight"].2,
        f16_rows(qkv, 0, 8)
    );
    assert_eq!(
        g.tensors["encoder.blocks.0.attn.key.weight"].2,
        f16_rows(qkv, 8, 16)
    );
    assert_eq!(
        g.tensors["encoder.blocks.0.attn.value.weight"].2,
        f16_rows(qkv, 16, 24)
    );
    let kv = "decoder/layer_0/attention/linear_1/weight";
    assert_eq!(
        g.tensors["decoder.blocks.0.cross_attn.key.weight"].2,
        f16_rows(kv, 0, 8)
    );
    assert_eq!(
        g.tensors["decoder.blocks.0.cross_attn.value.weight"].2,
        f16_rows(kv, 8, 16)
    );
    // Biases widen to f32: the value bias is the third block of the fused bias.
    let bias = &model.vars["encoder/layer_0/self_attention/linear_0/bias"];
    let want: Vec<u8> = bias.data[16 * 2..24 * 2]
        .chunks(2)
        .flat_map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])).to_le_bytes())
        .collect();
    assert_eq!(g.tensors["encoder.blocks.0.attn.value.bias"].2, want);
}

#[test]
fn engines_ct2_rejects_what_it_cannot_convert() {
    let vocab = vocabulary();
    let mut sink = Vec::new();
    let full = Ct2Builder::whisper(6).bytes();
    let truncated = convert(&full[..full.len() / 2], &vocab, &mut sink);
    assert!(
        matches!(truncated, Err(ConvertError::Format(_))),
        "{truncated:?}"
    );

    let mut quantized = Ct2Builder::whisper(6);
    let qkv = quantized
        .vars
        .iter_mut()
        .find(|v| v.0.ends_with("self_attention/linear_0/weight"));
    let qkv = qkv.unwrap();
    qkv.2 = 1; // int8
    qkv.3.truncate(qkv.3.len() / 2);
    let err = convert(&quantized.bytes(), &vocab, &mut sink).unwrap_err();
    assert!(err.to_string().contains("quantized"), "{err}");

    let mut missing = Ct2Builder::whisper(6);
    missing
        .vars
        .retain(|v| !v.0.starts_with("decoder/layer_0/attention/linear_2"));
    let err = convert(&missing.bytes(), &vocab, &mut sink).unwrap_err();
    assert!(err.to_string().contains("attention/linear_2"), "{err}");

    let mut other = full.clone();
    other[6..17].copy_from_slice(b"BartSpec\0\0\0");
    assert!(matches!(
        convert(&other, &vocab, &mut sink),
        Err(ConvertError::Format(_))
    ));

    let bad_vocab = vec!["\u{3042}".to_owned()];
    assert!(matches!(
        convert(&full, &bad_vocab, &mut sink),
        Err(ConvertError::Vocabulary(_))
    ));
}

#[test]
fn engines_ct2_half_floats_round_trip() {
    for h in 0..=u16::MAX {
        let x = f16_to_f32(h);
        if x.is_nan() {
            assert!(f16_to_f32(f32_to_f16(x)).is_nan());
        } else {
            assert_eq!(f32_to_f16(x), h, "{h:#06x} -> {x}");
        }
    }
    assert_eq!(f16_to_f32(0x3c00), 1.0);
    assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
    assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3c00, "ties to even");
    assert_eq!(f32_to_f16(1e6), 0x7c00, "overflow to infinity");
}

#[test]
fn engines_ct2_byte_decoder_covers_all_bytes() {
    let decode = byte_decoder();
    let mut seen = [false; 256];
    for code in 0..(256 + 68) {
        let c = char::from_u32(code).unwrap();
        if let Some(b) = decode(c) {
            assert!(!seen[usize::from(b)], "byte {b} twice");
            seen[usize::from(b)] = true;
        }
    }
    assert!(seen.iter().all(|&s| s));
    assert_eq!(decode('Ġ'), Some(b' '));
    assert_eq!(decode('Ċ'), Some(b'\n'));
}

#[test]
fn engines_ct2_converts_a_model_directory() {
    let dir = std::env::temp_dir().join(format!("dialtone-ct2-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.bin"), Ct2Builder::whisper(6).bytes()).unwrap();
    std::fs::write(
        dir.join("vocabulary.json"),
        serde_json::to_vec(&vocabulary()).unwrap(),
    )
    .unwrap();
    let out = dir.join("ggml.bin");
    convert_dir(&dir, &out).unwrap();
    let mut want = Vec::new();
    convert(&Ct2Builder::whisper(6).bytes(), &vocabulary(), &mut want).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), want);
    std::fs::remove_dir_all(&dir).unwrap();
}
