//! The natural embedded voice: Piper `en_US-joe-medium` through ONNX Runtime, on one worker thread shared
//! by the calls of a process. Each request streams one chunk per clause, so the first clause plays while
//! the rest is synthesised; dropping the stream stops the work at the next clause.

use std::path::Path;
use std::sync::mpsc;

use dialtone_media::{Pcm, SampleRate};
use tokio::sync::mpsc as async_mpsc;
use tracing::debug;

use super::{BackendError, TtsProvider, TtsStream};
use crate::engines::onnx;
use crate::engines::piper::PiperVoice;

type Chunks = async_mpsc::UnboundedSender<Result<Pcm, BackendError>>;

struct Job {
    text: String,
    chunks: Chunks,
}

/// Piper behind a job queue.
#[derive(Debug)]
pub struct PiperTts {
    jobs: mpsc::Sender<Job>,
    rate: SampleRate,
}

fn unavailable(reason: String) -> BackendError {
    BackendError::Unavailable {
        provider: "piper".into(),
        reason,
    }
}

impl PiperTts {
    /// Loads ONNX Runtime from `onnxruntime` (once per process) and the voice, and starts the worker.
    pub fn start(onnxruntime: &Path, model: &Path, config: &Path) -> Result<Self, BackendError> {
        onnx::init(onnxruntime).map_err(|e| unavailable(e.to_string()))?;
        let mut voice = PiperVoice::load(model, config)
            .map_err(|e| unavailable(format!("{e}; run `dialtone models install`")))?;
        let rate = voice.rate();
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("piper".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    if job.chunks.is_closed() {
                        continue; // cancelled before its turn
                    }
                    let started = std::time::Instant::now();
                    let result = voice.synthesize_clauses(&job.text, |pcm| {
                        debug!(
                            audio_ms = pcm.duration().as_millis(),
                            at_ms = started.elapsed().as_millis() as u64,
                            "synthesised a clause"
                        );
                        job.chunks.send(Ok(pcm)).is_ok()
                    });
                    if let Err(e) = result {
                        let _ = job.chunks.send(Err(BackendError::Failed {
                            provider: "piper".into(),
                            reason: e.to_string(),
                        }));
                    }
                }
            })
            .map_err(|e| unavailable(format!("cannot start its thread: {e}")))?;
        Ok(Self { jobs, rate })
    }
}

impl TtsProvider for PiperTts {
    fn rate(&self) -> SampleRate {
        self.rate
    }

    fn synthesize(&self, text: &str) -> TtsStream {
        let (chunks, mut rx) = async_mpsc::unbounded_channel();
        let job = Job {
            text: text.to_owned(),
            chunks,
        };
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            let _ = job.chunks.send(Err(BackendError::Failed {
                provider: "piper".into(),
                reason: "the worker stopped".into(),
            }));
        }
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use futures_util::StreamExt;

    use super::*;
    use crate::engines::models::{default_cache_dir, locate};

    #[tokio::test]
    async fn engines_piper_provider_streams_clauses_and_cancels() {
        let found = default_cache_dir().and_then(|d| locate(&d));
        let (ort, piper) = match found.map(|p| (p.onnxruntime, p.piper)) {
            Ok((Some(ort), Some(piper))) => (ort, piper),
            _ if std::env::var("DIALTONE_REQUIRE_MODELS").as_deref() == Ok("1") => {
                panic!("DIALTONE_REQUIRE_MODELS=1 but Piper is not installed")
            }
            _ => {
                eprintln!("skipping a Piper test: run `dialtone models install`");
                return;
            }
        };
        let tts = PiperTts::start(&ort, &piper.model, &piper.config).unwrap();
        assert_eq!(tts.rate(), SampleRate::HZ_22050);
        let chunks: Vec<_> = tts.synthesize("Hello, how can I help?").collect().await;
        assert_eq!(chunks.len(), 2);
        assert!(
            chunks
                .iter()
                .all(|c| c.as_ref().is_ok_and(|p| p.len() > 4_000))
        );

        // A dropped stream is skipped or stopped; the worker goes on serving the next one.
        drop(tts.synthesize("This is never heard, not even a bit of it."));
        let after: Vec<_> = tts.synthesize("Goodbye.").collect().await;
        assert_eq!(after.len(), 1);
        assert!(after[0].is_ok());
    }
}
