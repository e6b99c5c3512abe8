//! Speech through `audio/speech` as raw PCM (24 kHz, 16-bit little-endian), streamed as it arrives.

use dialtone_media::{Pcm, SampleRate};
use futures_util::StreamExt;
use serde_json::json;

use super::{Api, OpenAiConfig};
use crate::backend::{BackendError, TtsProvider, TtsStream};

const PROVIDER: &str = "openai-tts";
/// What `response_format: "pcm"` produces.
const RATE: SampleRate = SampleRate::HZ_24000;

/// `audio/speech` as a [`TtsProvider`].
#[derive(Debug, Clone)]
pub struct OpenAiTts {
    api: Api,
}

impl OpenAiTts {
    /// A synthesiser for `config.tts_model` and `config.tts_voice` at `config.base_url`.
    pub fn new(config: OpenAiConfig) -> Result<Self, BackendError> {
        Ok(Self {
            api: Api::new(config, PROVIDER)?,
        })
    }
}

/// Turns byte chunks into samples; a chunk's odd last byte waits for the next chunk.
#[derive(Debug, Default)]
pub(super) struct PcmDecoder {
    carry: Option<u8>,
}

impl PcmDecoder {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<i16> {
        let mut bytes = bytes;
        let mut samples = Vec::with_capacity(bytes.len() / 2 + 1);
        if let Some(low) = self.carry.take() {
            match bytes.split_first() {
                Some((&high, rest)) => {
                    samples.push(i16::from_le_bytes([low, high]));
                    bytes = rest;
                }
                None => {
                    self.carry = Some(low);
                    return samples;
                }
            }
        }
        let mut pairs = bytes.chunks_exact(2);
        samples.extend(pairs.by_ref().map(|p| i16::from_le_bytes([p[0], p[1]])));
        self.carry = pairs.remainder().first().copied();
        samples
    }
}

struct Synthesis {
    api: Api,
    body: Option<serde_json::Value>,
    audio: Option<super::BodyStream>,
    decoder: PcmDecoder,
}

impl Synthesis {
    async fn next_chunk(&mut self) -> Option<Result<Pcm, BackendError>> {
        if let Some(body) = self.body.take() {
            match self
                .api
                .send(self.api.post("audio/speech").json(&body))
                .await
            {
                Ok(response) => self.audio = Some(Box::pin(response.bytes_stream())),
                Err(e) => return Some(Err(e)),
            }
        }
        loop {
            let audio = self.audio.as_mut()?;
            match audio.next().await {
                Some(Ok(bytes)) => {
                    let samples = self.decoder.push(&bytes);
                    if !samples.is_empty() {
                        return Some(Ok(Pcm::new(RATE, samples)));
                    }
                }
                Some(Err(e)) => {
                    self.audio = None;
                    return Some(Err(self.api.transport(&e)));
                }
                None => {
                    self.audio = None;
                    return None;
                }
            }
        }
    }
}

impl TtsProvider for OpenAiTts {
    fn rate(&self) -> SampleRate {
        RATE
    }

    fn synthesize(&self, text: &str) -> TtsStream {
        let synthesis = Synthesis {
            api: self.api.clone(),
            body: Some(json!({
                "model": self.api.config.tts_model,
                "voice": self.api.config.tts_voice,
                "input": text,
                "response_format": "pcm",
            })),
            audio: None,
            decoder: PcmDecoder::default(),
        };
        Box::pin(futures_util::stream::unfold(
            synthesis,
            |mut synthesis| async move {
                let chunk = synthesis.next_chunk().await?;
                Some((chunk, synthesis))
            },
        ))
    }
}
