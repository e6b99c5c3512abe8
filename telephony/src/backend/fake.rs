//! Instant backends for tests and load tests: a recogniser that "hears" scripted text, a synthesiser
//! that returns speech-like audio at once, and a factory that builds them by name and records what it
//! built and what each synthesiser said. They measure the runtime, not the engines.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use dialtone_media::synth::voiced;
use dialtone_media::{Pcm, PcmSlice, SampleRate};

use super::receptionist::ReceptionistProvider;
use super::registry::{ProviderError, ProviderFactory, ProviderRole};
use super::{
    BackendError, DialogueProvider, SttEvent, SttProvider, SttSession, TtsProvider, TtsStream,
};

/// A recogniser that returns the next scripted transcript at each end of turn (or "hello" once the
/// script runs out), with no delay.
#[derive(Debug, Clone)]
pub struct ScriptedStt {
    rate: SampleRate,
    script: Arc<Mutex<VecDeque<String>>>,
}

impl ScriptedStt {
    /// Transcripts handed out in order, shared by every session it opens.
    pub fn new(rate: SampleRate, script: impl IntoIterator<Item = String>) -> Self {
        Self {
            rate,
            script: Arc::new(Mutex::new(script.into_iter().collect())),
        }
    }
}

impl SttProvider for ScriptedStt {
    fn rate(&self) -> SampleRate {
        self.rate
    }

    fn open(&self) -> Result<Box<dyn SttSession>, BackendError> {
        Ok(Box::new(ScriptedSession {
            script: Arc::clone(&self.script),
            heard_samples: 0,
            events: VecDeque::new(),
            waker: None,
        }))
    }
}

#[derive(Debug)]
struct ScriptedSession {
    script: Arc<Mutex<VecDeque<String>>>,
    heard_samples: usize,
    events: VecDeque<SttEvent>,
    waker: Option<Waker>,
}

impl SttSession for ScriptedSession {
    fn push_audio(&mut self, pcm: PcmSlice<'_>) {
        self.heard_samples += pcm.samples.len();
    }

    fn end_of_turn(&mut self) {
        let text = self
            .script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
            .unwrap_or_else(|| "hello".to_owned());
        self.events.push_back(SttEvent::Final(text));
        self.heard_samples = 0;
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    fn discard_turn(&mut self) {
        self.heard_samples = 0;
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SttEvent>> {
        match self.events.pop_front() {
            Some(e) => Poll::Ready(Some(e)),
            None => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A synthesiser that answers at once with 60 ms of speech-like audio per word, in 100 ms chunks. The
/// audio is generated once, so a request costs a copy, not a synthesis: load tests measure the runtime.
#[derive(Debug, Clone)]
pub struct InstantTts {
    rate: SampleRate,
    voice: Arc<Vec<i16>>,
}

impl InstantTts {
    /// Audio at `rate`.
    pub fn new(rate: SampleRate) -> Self {
        let ten_seconds = rate.hz() as usize * 10;
        Self {
            rate,
            voice: Arc::new(voiced(rate, 115.0, ten_seconds, 0)),
        }
    }
}

impl TtsProvider for InstantTts {
    fn rate(&self) -> SampleRate {
        self.rate
    }

    fn synthesize(&self, text: &str) -> TtsStream {
        let words = text.split_whitespace().count().max(1);
        let total = self.rate.samples_in(std::time::Duration::from_millis(60)) as usize * words;
        let audio = &self.voice[..total.min(self.voice.len())];
        let chunk = self.rate.samples_in(std::time::Duration::from_millis(100)) as usize;
        let rate = self.rate;
        let chunks: Vec<Result<Pcm, BackendError>> = audio
            .chunks(chunk.max(1))
            .map(|c| Ok(Pcm::new(rate, c.to_vec())))
            .collect();
        Box::pin(futures_util::stream::iter(chunks))
    }
}

/// Builds the fakes by name, for tests of per-agent provider choice. Any STT name is a [`ScriptedStt`]
/// over one shared script; the dialogue `receptionist` is the real policy; each TTS name it knows is an
/// [`InstantTts`] that logs what it speaks under its name and voice. Clones share the logs.
#[derive(Debug, Clone, Default)]
pub struct FakeFactory {
    tts_names: Vec<String>,
    unavailable: Vec<(String, String)>,
    script: Vec<String>,
    built: Arc<Mutex<Vec<String>>>,
    spoken: Arc<Mutex<Vec<(String, String)>>>,
}

impl FakeFactory {
    /// A factory whose synthesisers go by `tts_names`.
    pub fn new<S: Into<String>>(tts_names: impl IntoIterator<Item = S>) -> Self {
        Self {
            tts_names: tts_names.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// A TTS name that exists but cannot start, for `reason` (an API key missing).
    pub fn unavailable(mut self, name: &str, reason: &str) -> Self {
        self.unavailable.push((name.to_owned(), reason.to_owned()));
        self
    }

    /// What the recognisers hear, in order, across every call.
    pub fn script<S: Into<String>>(mut self, script: impl IntoIterator<Item = S>) -> Self {
        self.script = script.into_iter().map(Into::into).collect();
        self
    }

    /// What was built, in order: `stt NAME`, `llm NAME`, `tts NAME` or `tts NAME/VOICE`.
    pub fn built(&self) -> Vec<String> {
        self.built.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Every text synthesised, with the label (`NAME` or `NAME/VOICE`) of the synthesiser that said it.
    pub fn spoken(&self) -> Vec<(String, String)> {
        self.spoken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn record(&self, what: String) {
        self.built
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }
}

impl ProviderFactory for FakeFactory {
    fn stt(&mut self, name: &str) -> Result<Arc<dyn SttProvider>, ProviderError> {
        self.record(format!("stt {name}"));
        Ok(Arc::new(ScriptedStt::new(
            SampleRate::HZ_16000,
            self.script.clone(),
        )))
    }

    fn dialogue(&mut self, name: &str) -> Result<Arc<dyn DialogueProvider>, ProviderError> {
        if name != "receptionist" {
            return Err(ProviderError::unknown(
                ProviderRole::Llm,
                name,
                &["receptionist"],
            ));
        }
        self.record(format!("llm {name}"));
        Ok(Arc::new(ReceptionistProvider))
    }

    fn tts(
        &mut self,
        name: &str,
        voice: Option<&str>,
    ) -> Result<Arc<dyn TtsProvider>, ProviderError> {
        if let Some((_, reason)) = self.unavailable.iter().find(|(n, _)| n == name) {
            return Err(ProviderError::unavailable(ProviderRole::Tts, name, reason));
        }
        if !self.tts_names.iter().any(|n| n == name) {
            let known: Vec<&str> = self
                .tts_names
                .iter()
                .chain(self.unavailable.iter().map(|(n, _)| n))
                .map(String::as_str)
                .collect();
            return Err(ProviderError::unknown(ProviderRole::Tts, name, &known));
        }
        let label = match voice {
            Some(v) => format!("{name}/{v}"),
            None => name.to_owned(),
        };
        self.record(format!("tts {label}"));
        Ok(Arc::new(LoggingTts {
            label,
            inner: InstantTts::new(SampleRate::HZ_22050),
            spoken: Arc::clone(&self.spoken),
        }))
    }
}

/// An [`InstantTts`] that notes each text under its label.
#[derive(Debug)]
struct LoggingTts {
    label: String,
    inner: InstantTts,
    spoken: Arc<Mutex<Vec<(String, String)>>>,
}

impl TtsProvider for LoggingTts {
    fn rate(&self) -> SampleRate {
        self.inner.rate()
    }

    fn synthesize(&self, text: &str) -> TtsStream {
        self.spoken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((self.label.clone(), text.to_owned()));
        self.inner.synthesize(text)
    }
}
