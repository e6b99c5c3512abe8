//! Instant backends for tests and load tests: a recogniser that "hears" scripted text, a synthesiser
//! that returns speech-like audio at once. They measure the runtime, not the engines.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use dialtone_media::synth::voiced;
use dialtone_media::{Pcm, PcmSlice, SampleRate};

use super::{BackendError, SttEvent, SttProvider, SttSession, TtsProvider, TtsStream};

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
