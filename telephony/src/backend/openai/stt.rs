//! Speech recognition through `audio/transcriptions`: each caller turn is posted as one WAV file.

use crate::backend::segment::SegmentBuffer;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use dialtone_media::vad::frame_dbfs;
use dialtone_media::wav::write_wav;
use dialtone_media::{Pcm, PcmSlice, SampleRate};
use reqwest::multipart::{Form, Part};
use serde::Deserialize;

use super::{Api, OpenAiConfig};
use crate::backend::{BackendError, SttEvent, SttProvider, SttSession};

const PROVIDER: &str = "openai-stt";
const RATE: SampleRate = SampleRate::HZ_16000;
/// Longest segment kept; older audio is dropped (Whisper's context is 30 s).
const MAX_SEGMENT: Duration = Duration::from_secs(25);
/// A segment with no frame this loud is silence: no request, an empty transcript.
const SPEECH_DBFS: f32 = -45.0;

/// `audio/transcriptions` as an [`SttProvider`].
#[derive(Debug, Clone)]
pub struct OpenAiStt {
    api: Api,
}

impl OpenAiStt {
    /// A recogniser for `config.stt_model` at `config.base_url`.
    pub fn new(config: OpenAiConfig) -> Result<Self, BackendError> {
        Ok(Self {
            api: Api::new(config, PROVIDER)?,
        })
    }
}

impl SttProvider for OpenAiStt {
    fn rate(&self) -> SampleRate {
        RATE
    }

    fn open(&self) -> Result<Box<dyn SttSession>, BackendError> {
        Ok(Box::new(Session {
            api: self.api.clone(),
            segment: SegmentBuffer::new(RATE, MAX_SEGMENT),
            pending: VecDeque::new(),
        }))
    }
}

type Transcription = Pin<Box<dyn Future<Output = Result<String, BackendError>> + Send>>;

enum Pending {
    Done(Result<String, BackendError>),
    Running(Transcription),
}

struct Session {
    api: Api,
    segment: SegmentBuffer,
    /// One entry per ended turn, in order; all run at once, and are reported in order.
    pending: VecDeque<Pending>,
}

#[derive(Deserialize)]
struct TranscriptionResponse {
    text: String,
}

async fn transcribe(api: Api, wav: Vec<u8>) -> Result<String, BackendError> {
    let file = Part::bytes(wav)
        .file_name("turn.wav")
        .mime_str("audio/wav")
        .map_err(|e| api.failed(e.to_string()))?;
    let form = Form::new()
        .part("file", file)
        .text("model", api.config.stt_model.clone())
        .text("response_format", "json");
    let request = api
        .post("audio/transcriptions")
        .multipart(form)
        .timeout(api.config.timeout);
    let response = api.send(request).await?;
    let body: TranscriptionResponse = response
        .json()
        .await
        .map_err(|e| api.failed(format!("unreadable transcription: {e}")))?;
    Ok(body.text.trim().to_owned())
}

impl SttSession for Session {
    fn push_audio(&mut self, pcm: PcmSlice<'_>) {
        self.segment.push(pcm.samples);
    }

    fn end_of_turn(&mut self) {
        let audio = self.segment.take();
        let speech = audio
            .chunks(RATE.frame_samples())
            .any(|frame| frame_dbfs(frame) >= SPEECH_DBFS);
        let pending = if speech {
            let wav = write_wav(&Pcm::new(RATE, audio));
            Pending::Running(Box::pin(transcribe(self.api.clone(), wav)))
        } else {
            Pending::Done(Ok(String::new()))
        };
        self.pending.push_back(pending);
    }

    fn discard_turn(&mut self) {
        self.segment.clear();
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SttEvent>> {
        for pending in &mut self.pending {
            if let Pending::Running(transcription) = pending
                && let Poll::Ready(result) = transcription.as_mut().poll(cx)
            {
                *pending = Pending::Done(result);
            }
        }
        match self.pending.front() {
            Some(Pending::Done(_)) => {}
            _ => return Poll::Pending,
        }
        match self.pending.pop_front() {
            Some(Pending::Done(Ok(text))) => Poll::Ready(Some(SttEvent::Final(text))),
            Some(Pending::Done(Err(e))) => Poll::Ready(Some(SttEvent::Error(e))),
            _ => Poll::Pending,
        }
    }
}
