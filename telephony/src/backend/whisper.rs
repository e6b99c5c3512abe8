//! The embedded recogniser: whisper.cpp (tiny.en) on one worker thread, shared by the calls of a process.
//! Sessions collect each caller segment, trim its silent edges, and queue it; transcripts come back in
//! order. One engine thread suits a 2-core machine: the other core runs the calls.

use std::collections::VecDeque;
use std::path::Path;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use dialtone_media::vad::frame_dbfs;
use dialtone_media::{PcmSlice, SampleRate};
use tokio::sync::oneshot;
use tracing::debug;

use super::segment::SegmentBuffer;
use super::{BackendError, SttEvent, SttProvider, SttSession};
use crate::engines::whisper::WhisperEngine;

const RATE: SampleRate = SampleRate::HZ_16000;
/// Frames quieter than this at a segment's edges are trimmed before recognition.
const EDGE_DBFS: f32 = -45.0;
/// Kept around the speech so word onsets and tails are not clipped.
const MARGIN: Duration = Duration::from_millis(150);
/// Segments shorter than this (after trimming) are not speech worth a model run.
const MIN_SPEECH: Duration = Duration::from_millis(250);
/// Longest segment kept: the model's context is 30 s; older audio is dropped.
const MAX_SEGMENT: Duration = Duration::from_secs(25);

struct Job {
    audio: Vec<i16>,
    reply: oneshot::Sender<Result<String, String>>,
}

/// whisper.cpp tiny.en behind a job queue.
#[derive(Debug)]
pub struct WhisperStt {
    jobs: mpsc::Sender<Job>,
}

impl WhisperStt {
    /// Loads the model and starts the worker thread.
    pub fn start(model: &Path) -> Result<Self, BackendError> {
        let mut engine = WhisperEngine::load(model).map_err(|e| BackendError::Unavailable {
            provider: "whisper".into(),
            reason: format!("{e}; run `dialtone models install`"),
        })?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("whisper".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    let started = std::time::Instant::now();
                    let result = engine.transcribe(&job.audio).map_err(|e| e.to_string());
                    debug!(
                        audio_ms = job.audio.len() / 16,
                        took_ms = started.elapsed().as_millis() as u64,
                        "transcribed a segment"
                    );
                    let _ = job.reply.send(result);
                }
            })
            .map_err(|e| BackendError::Unavailable {
                provider: "whisper".into(),
                reason: format!("cannot start its thread: {e}"),
            })?;
        Ok(Self { jobs })
    }
}

impl SttProvider for WhisperStt {
    fn rate(&self) -> SampleRate {
        RATE
    }

    fn open(&self) -> Result<Box<dyn SttSession>, BackendError> {
        Ok(Box::new(WhisperSession {
            jobs: self.jobs.clone(),
            segment: SegmentBuffer::new(RATE, MAX_SEGMENT),
            pending: VecDeque::new(),
        }))
    }
}

enum Pending {
    Ready(String),
    Waiting(oneshot::Receiver<Result<String, String>>),
}

struct WhisperSession {
    jobs: mpsc::Sender<Job>,
    segment: SegmentBuffer,
    pending: VecDeque<Pending>,
}

/// The segment without its silent edges (keeping a margin), or `None` when too little speech remains.
fn trim(audio: &[i16]) -> Option<&[i16]> {
    let frame = RATE.frame_samples();
    let loud = |chunk: &[i16]| frame_dbfs(chunk) >= EDGE_DBFS;
    let chunks: Vec<&[i16]> = audio.chunks(frame).collect();
    let first = chunks.iter().position(|c| loud(c))?;
    let last = chunks.iter().rposition(|c| loud(c))?;
    let margin = RATE.samples_in(MARGIN) as usize;
    let start = (first * frame).saturating_sub(margin);
    let end = ((last + 1) * frame + margin).min(audio.len());
    let speech = &audio[start..end];
    (speech.len() >= RATE.samples_in(MIN_SPEECH) as usize).then_some(speech)
}

impl SttSession for WhisperSession {
    fn push_audio(&mut self, pcm: PcmSlice<'_>) {
        self.segment.push(pcm.samples);
    }

    fn end_of_turn(&mut self) {
        let pending = match trim(self.segment.as_slice()) {
            None => Pending::Ready(String::new()),
            Some(speech) => {
                let (reply, rx) = oneshot::channel();
                match self.jobs.send(Job {
                    audio: speech.to_vec(),
                    reply,
                }) {
                    Ok(()) => Pending::Waiting(rx),
                    Err(_) => Pending::Ready(String::new()),
                }
            }
        };
        self.pending.push_back(pending);
        self.segment.clear();
    }

    fn discard_turn(&mut self) {
        self.segment.clear();
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SttEvent>> {
        let event = match self.pending.front_mut() {
            None => return Poll::Pending,
            Some(Pending::Ready(text)) => SttEvent::Final(std::mem::take(text)),
            Some(Pending::Waiting(rx)) => match Pin::new(rx).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(Ok(text))) => SttEvent::Final(text),
                Poll::Ready(Ok(Err(reason))) => SttEvent::Error(BackendError::Failed {
                    provider: "whisper".into(),
                    reason,
                }),
                Poll::Ready(Err(_)) => SttEvent::Error(BackendError::Failed {
                    provider: "whisper".into(),
                    reason: "the worker stopped".into(),
                }),
            },
        };
        self.pending.pop_front();
        Poll::Ready(Some(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_keeps_speech_with_a_margin_and_drops_near_silence() {
        let mut audio = vec![0i16; 16_000];
        let speech = dialtone_media::synth::voiced(RATE, 120.0, 8_000, 0);
        audio[4_000..12_000].copy_from_slice(&speech);
        let t = trim(&audio).expect("speech found");
        assert!(
            t.len() >= 8_000 && t.len() <= 8_000 + 2 * 2_400 + 640,
            "{}",
            t.len()
        );
        assert!(trim(&vec![3i16; 16_000]).is_none());
        assert!(trim(&audio[4_000..5_000]).is_none(), "too short");
    }
}
