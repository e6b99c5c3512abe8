//! Silero VAD through ONNX Runtime, at 8 kHz: a small recurrent network that tells speech from noise,
//! tones and music far better than the WebRTC VAD, at some 50 times its cost. [`CallMedia`] runs it
//! behind the WebRTC VAD (a [`dialtone_media::vad::GatedDetector`]) so it works only around speech.
//!
//! The graph takes 256 new samples (32 ms) with the 32 samples before them as context, a recurrent
//! state `[2, 1, 128]` and the rate; it returns the window's speech probability and the next state.
//! A call's 20 ms frames are buffered into those windows: every frame returns the latest window's
//! probability, so a window runs on three frames out of five. After a fresh start (the gate opening
//! after a silence) the first frame completes no window and reads 0, so behind the gate speech is
//! declared one frame (20 ms) later than by the WebRTC VAD alone, and placed one frame later.
//!
//! `ort` lets a session run on one thread at a time (`Session::run` takes `&mut self`: some ONNX
//! Runtime internals are not thread safe), and a session costs some 10 MB (the graph, its weights and
//! its arena) and 100 ms to build, too much to give each call its own. But a call needs a session only
//! for the run itself (its recurrent state and buffers are its own), so [`SileroModel`] keeps a pool
//! that a detector draws from for each window and returns to at once: the pool grows to the number of
//! threads that ever run Silero at the same moment (about the number of cores), not the number of
//! calls. A window that finds the pool empty is skipped (the WebRTC VAD decides that frame) while a
//! thread builds one more session.
//!
//! [`CallMedia`]: dialtone_media::CallMedia

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dialtone_media::SampleRate;
use dialtone_media::vad::{DetectorFactory, VoiceDetector};
use ort::session::{HasSelectedOutputs, OutputSelector, RunOptions, Session};
use ort::value::Tensor;
use tracing::debug;

use super::onnx::{self, OnnxError, run_err};

/// Rate the detector runs at: the phone codecs' rate.
pub const RATE: SampleRate = SampleRate::HZ_8000;
/// New samples per model run at 8 kHz.
const WINDOW: usize = 256;
/// Samples of the previous window the model sees again, at 8 kHz.
const CONTEXT: usize = 32;
const INPUT: usize = CONTEXT + WINDOW;
/// The recurrent state's shape and size.
const STATE_SHAPE: [usize; 3] = [2, 1, 128];
const STATE: usize = 2 * 128;
const INPUTS: [&str; 3] = ["input", "state", "sr"];
const OUTPUTS: [&str; 2] = ["output", "stateN"];

/// Why the model could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SileroError {
    /// ONNX Runtime failed.
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    /// The graph does not have Silero's inputs and outputs.
    #[error("{path} is not a Silero VAD model: {detail}")]
    NotSilero {
        /// The model file.
        path: PathBuf,
        /// What differs.
        detail: String,
    },
}

/// The session pool behind a [`SileroModel`] and its detectors.
#[derive(Debug)]
struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Session>>,
    /// A session is being built for the pool, or building one failed and the pool stays as it is.
    growing: AtomicBool,
    built: AtomicU64,
}

impl Pool {
    fn build(&self) -> Result<Session, SileroError> {
        let env = onnx::environment()?;
        let session = onnx::session(&env, &self.path)?;
        check_graph(&session, &self.path)?;
        self.built.fetch_add(1, Ordering::Relaxed);
        Ok(session)
    }

    /// An idle session, or `None` (and one more on the way) when every session is running.
    fn take(self: &Arc<Self>) -> Option<Session> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        if idle.is_none() {
            self.grow();
        }
        idle
    }

    fn give_back(&self, session: Session) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(session);
        }
    }

    /// Builds one more session on a thread of its own, unless one is already being built. After a
    /// failure the pool stops growing: the same build would fail again, once per skipped window, and
    /// the sessions it has keep serving (windows they cannot take fall to the WebRTC VAD).
    fn grow(self: &Arc<Self>) {
        if self.growing.swap(true, Ordering::AcqRel) {
            return;
        }
        let pool = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("silero-session".into())
            .spawn(move || match pool.build() {
                Ok(session) => {
                    pool.give_back(session);
                    pool.growing.store(false, Ordering::Release);
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "cannot build another Silero session; the pool stays at its size"
                ),
            });
        if let Err(e) = spawned {
            tracing::warn!(
                error = %e,
                "cannot start a thread to build a Silero session; the pool stays at its size"
            );
        }
    }
}

fn check_graph(session: &Session, path: &Path) -> Result<(), SileroError> {
    let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
    let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    // Inputs are passed by position and outputs read by position, so the order matters too.
    if inputs != INPUTS || outputs != OUTPUTS {
        return Err(SileroError::NotSilero {
            path: path.to_owned(),
            detail: format!("inputs {inputs:?}, outputs {outputs:?}"),
        });
    }
    Ok(())
}

/// The loaded model: hands out one [`SileroVad`] per call, all drawing on one session pool. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct SileroModel {
    pool: Arc<Pool>,
}

impl SileroModel {
    /// Loads ONNX Runtime from `onnxruntime` (if this process has not yet) and the model, building the
    /// first session (which checks the model) so that the first call does not wait for it.
    pub fn load(onnxruntime: &Path, model: &Path) -> Result<Self, SileroError> {
        onnx::init(onnxruntime)?;
        let pool = Pool {
            path: model.to_owned(),
            idle: Mutex::new(Vec::new()),
            growing: AtomicBool::new(false),
            built: AtomicU64::new(0),
        };
        let first = pool.build()?;
        pool.give_back(first);
        Ok(Self {
            pool: Arc::new(pool),
        })
    }

    /// A detector for one call: a few kilobytes of buffers, no session of its own.
    pub fn detector(&self) -> Result<SileroVad, SileroError> {
        SileroVad::new(Arc::clone(&self.pool)).map_err(|e| run_err(e).into())
    }

    /// Sessions built so far.
    pub fn sessions(&self) -> u64 {
        self.pool.built.load(Ordering::Relaxed)
    }

    /// Sessions not running now.
    pub fn idle_sessions(&self) -> usize {
        self.pool.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}

impl DetectorFactory for SileroModel {
    fn rate(&self) -> SampleRate {
        RATE
    }

    fn detector(&self) -> Option<Box<dyn VoiceDetector>> {
        match SileroModel::detector(self) {
            Ok(vad) => Some(Box::new(vad)),
            Err(e) => {
                debug!(error = %e, "no Silero detector for this call; the WebRTC VAD decides alone");
                None
            }
        }
    }
}

/// One call's Silero detector. Every buffer, including the model's inputs and outputs, is allocated
/// when it is made; see [`SileroVad::infer`] for what a run still allocates.
pub struct SileroVad {
    pool: Arc<Pool>,
    /// `[1, 288]`: context then window, as floats in ±1.
    input: Tensor<f32>,
    state: Tensor<f32>,
    sr: Tensor<i64>,
    /// Holds the preallocated outputs, which every run overwrites.
    options: RunOptions<HasSelectedOutputs>,
    /// Window samples buffered so far.
    filled: usize,
    probability: f32,
    /// The latest window found no idle session: no verdict until the next one runs.
    skipped: bool,
    /// A run failed: no verdict for the rest of the call.
    failed: bool,
    windows: u64,
    skipped_windows: u64,
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad")
            .field("filled", &self.filled)
            .field("probability", &self.probability)
            .field("failed", &self.failed)
            .field("windows", &self.windows)
            .field("skipped_windows", &self.skipped_windows)
            .finish_non_exhaustive()
    }
}

impl SileroVad {
    fn new(pool: Arc<Pool>) -> ort::Result<Self> {
        let options = RunOptions::new()?.with_outputs(
            OutputSelector::default()
                .preallocate(OUTPUTS[0], Tensor::from_array(([1usize, 1], vec![0f32]))?)
                .preallocate(
                    OUTPUTS[1],
                    Tensor::from_array((STATE_SHAPE, vec![0f32; STATE]))?,
                ),
        );
        Ok(Self {
            pool,
            input: Tensor::from_array(([1usize, INPUT], vec![0f32; INPUT]))?,
            state: Tensor::from_array((STATE_SHAPE, vec![0f32; STATE]))?,
            // A scalar, as Silero's own runner passes it.
            sr: Tensor::from_array((Vec::<i64>::new(), vec![i64::from(RATE.hz())]))?,
            options,
            filled: 0,
            probability: 0.0,
            skipped: false,
            failed: false,
            windows: 0,
            skipped_windows: 0,
        })
    }

    /// Model runs so far.
    pub fn windows(&self) -> u64 {
        self.windows
    }

    /// Windows skipped for want of an idle session.
    pub fn skipped_windows(&self) -> u64 {
        self.skipped_windows
    }

    /// One model run on the window in `input` with `session`; the next state goes into `state`.
    ///
    /// On the Rust side this allocates nothing: inputs are passed by position as views of our tensors
    /// (`ort::inputs!` with positions builds an array, names would build a `Vec`), names are copied to
    /// the stack, and outputs land in the tensors preallocated in `options`. Inside ONNX Runtime the
    /// intermediate tensors come from the session's arena, which reuses its blocks once warm.
    fn infer(&mut self, session: &mut Session) -> ort::Result<f32> {
        let outputs = session.run_with_options(
            ort::inputs![&self.input, &self.state, &self.sr],
            &self.options,
        )?;
        let (_, probability) = outputs[0].try_extract_tensor::<f32>()?;
        let (_, next) = outputs[1].try_extract_tensor::<f32>()?;
        self.state.extract_tensor_mut().1.copy_from_slice(next);
        probability
            .first()
            .copied()
            .ok_or_else(|| ort::Error::new("the model returned no probability"))
    }

    fn run_window(&mut self) {
        match self.pool.take() {
            None => {
                self.skipped = true;
                self.skipped_windows += 1;
            }
            Some(mut session) => {
                self.skipped = false;
                match self.infer(&mut session) {
                    Ok(p) => {
                        self.probability = p;
                        self.windows += 1;
                        self.pool.give_back(session);
                    }
                    Err(e) => {
                        // Logged once per call: from now on the detector answers at once, not ready.
                        // The session is dropped, not pooled: it is not trusted with another run.
                        debug!(error = %e, "Silero VAD failed; the WebRTC VAD decides alone for this call");
                        self.failed = true;
                        self.probability = 0.0;
                    }
                }
            }
        }
        let data = self.input.extract_tensor_mut().1;
        data.copy_within(INPUT - CONTEXT.., 0);
        self.filled = 0;
    }
}

impl VoiceDetector for SileroVad {
    fn rate(&self) -> SampleRate {
        RATE
    }

    /// Buffers the frame and runs the model on each window it completes (none or one for a 20 ms
    /// frame); returns the latest window's probability.
    fn speech_probability(&mut self, frame: &[i16]) -> f32 {
        let mut rest = frame;
        while !rest.is_empty() && !self.failed {
            let take = (WINDOW - self.filled).min(rest.len());
            let data = self.input.extract_tensor_mut().1;
            let to = &mut data[CONTEXT + self.filled..][..take];
            for (d, &s) in to.iter_mut().zip(&rest[..take]) {
                *d = f32::from(s) / 32_768.0;
            }
            self.filled += take;
            rest = &rest[take..];
            if self.filled == WINDOW {
                self.run_window();
            }
        }
        self.probability
    }

    fn reset(&mut self) {
        self.input.extract_tensor_mut().1.fill(0.0);
        self.state.extract_tensor_mut().1.fill(0.0);
        self.filled = 0;
        self.probability = 0.0;
        self.skipped = false;
    }

    fn ready(&self) -> bool {
        !self.failed && !self.skipped
    }
}

#[cfg(test)]
#[path = "silero_tests.rs"]
mod tests;
