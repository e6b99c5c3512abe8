//! Offline speech recognition with whisper.cpp (tiny.en), one utterance at a time.
//!
//! Synchronous on purpose: a transcription is 100-300 ms of CPU on one thread, so the call loop hands
//! each finished utterance to a blocking worker and awaits the text. The settings are the ones
//! measured to be fast and stable on phone audio (see the field notes): greedy decoding, no
//! timestamps, one segment, no carried-over context, a reduced audio context and a token budget
//! proportional to the audio (an uncapped decoder can loop for tens of seconds).

use std::ffi::{CStr, c_char, c_uint, c_void};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use tracing::{debug, warn};
use whisper_rs::{
    FullParams, GGMLLogLevel, SamplingStrategy, WhisperContext, WhisperContextParameters,
    WhisperState,
};

/// whisper.cpp's input rate.
pub const SAMPLE_RATE: u32 = 16_000;
const RATE: usize = SAMPLE_RATE as usize;
/// Shorter audio is a click or a breath, not words; whisper would only invent some.
const MIN_SAMPLES: usize = RATE * 3 / 10;
/// The encoder's cost follows its context (1500 positions = 30 s). A phone turn is usually a few
/// seconds, so it runs on a fixed tier with a margin: 384 positions (7.68 s) up to 7 s of audio, 768 up
/// to 14 s, all of it beyond. 384 halves the cost of 768 with the same words on our test clips; fitting
/// the context to the audio exactly made the model hallucinate.
const CONTEXT_TIERS: [(usize, i32); 2] = [(RATE * 7, 384), (RATE * 14, 768)];
/// Mean square of an utterance below -50 dBFS RMS: silence or line hiss, in which Whisper hears "you".
/// Quiet phone speech is around -35 dBFS, even with pauses.
const SILENCE_MEAN_SQUARE: f64 = 32_768.0 * 32_768.0 * 1e-5;

/// Why the recogniser could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The model file is missing or whisper.cpp rejected it.
    #[error("cannot load the speech model {path}: {detail}")]
    Load {
        /// The model file.
        path: PathBuf,
        /// What went wrong (whisper.cpp's own messages are logged at debug level).
        detail: String,
    },
    /// whisper.cpp failed on this audio.
    #[error("speech recognition failed: {0}")]
    Transcribe(String),
}

/// A loaded Whisper model plus the per-utterance working memory. `Send`, not shared: one engine
/// serves one transcription at a time; [`WhisperEngine::fork`] makes another over the same weights.
pub struct WhisperEngine {
    model: PathBuf,
    ctx: Arc<WhisperContext>,
    state: WhisperState,
    /// The utterance as f32, reused between calls.
    audio: Vec<f32>,
}

impl fmt::Debug for WhisperEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhisperEngine")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl WhisperEngine {
    /// Loads a ggml model file (see [`super::models::install`]). Takes ~100 ms for tiny.en; do it once
    /// at start-up and [`fork`](Self::fork) per concurrent call.
    pub fn load(model: &Path) -> Result<Self, EngineError> {
        route_logs_to_tracing();
        let load_err = |detail: String| EngineError::Load {
            path: model.to_owned(),
            detail,
        };
        if !model.is_file() {
            return Err(load_err(
                "no such file: run `dialtone models install`".to_owned(),
            ));
        }
        // whisper.cpp aborts the process on a truncated file; refuse it here instead.
        super::ggml_file::check(model).map_err(load_err)?;
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        let ctx =
            WhisperContext::new_with_params(model, params).map_err(|e| load_err(e.to_string()))?;
        let state = ctx.create_state().map_err(|e| load_err(e.to_string()))?;
        debug!(path = %model.display(), "whisper model loaded");
        Ok(Self {
            model: model.to_owned(),
            ctx: Arc::new(ctx),
            state,
            audio: Vec::new(),
        })
    }

    /// Another engine over the same weights (shared, read-only), with its own working memory, for
    /// transcribing on several calls at once without loading the model again.
    pub fn fork(&self) -> Result<Self, EngineError> {
        let state = self.ctx.create_state().map_err(|e| EngineError::Load {
            path: self.model.clone(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            model: self.model.clone(),
            ctx: Arc::clone(&self.ctx),
            state,
            audio: Vec::new(),
        })
    }

    /// Transcribes one utterance of 16 kHz mono PCM. Returns the trimmed text, or "" without running
    /// the model for audio under 0.3 s or quieter than -50 dBFS.
    pub fn transcribe(&mut self, pcm_16k: &[i16]) -> Result<String, EngineError> {
        if pcm_16k.len() < MIN_SAMPLES || is_silent(pcm_16k) {
            return Ok(String::new());
        }
        self.audio.clear();
        self.audio
            .extend(pcm_16k.iter().map(|&s| f32::from(s) / 32_768.0));
        let params = decode_params(pcm_16k.len());
        self.state
            .full(params, &self.audio)
            .map_err(|e| EngineError::Transcribe(e.to_string()))?;
        let mut text = String::new();
        for segment in self.state.as_iter() {
            let part = segment
                .to_str_lossy()
                .map_err(|e| EngineError::Transcribe(e.to_string()))?;
            text.push_str(&part);
        }
        Ok(text.trim().to_owned())
    }
}

fn is_silent(pcm: &[i16]) -> bool {
    let energy: f64 = pcm.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    energy / (pcm.len() as f64) < SILENCE_MEAN_SQUARE
}

/// Token budget: speech runs at ~3 tokens a second, so 6 a second plus 8 never cuts words and stops a
/// looping decoder early.
fn max_tokens(samples: usize) -> i32 {
    let budget = (6 * samples).div_ceil(RATE) + 8;
    i32::try_from(budget).unwrap_or(i32::MAX)
}

fn decode_params(samples: usize) -> FullParams<'static, 'static> {
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    // One thread: calls run side by side, each on its own core share.
    p.set_n_threads(1);
    p.set_language(Some("en"));
    p.set_translate(false);
    p.set_detect_language(false);
    // Each utterance stands alone: carrying text over lets one mistake seed the next.
    p.set_no_context(true);
    p.set_no_timestamps(true);
    p.set_single_segment(true);
    p.set_print_special(false);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    // No blank first token and no "(music)"/"[BLANK_AUDIO]" style tokens: the caller wants words.
    p.set_suppress_blank(true);
    p.set_suppress_nst(true);
    // Greedy only: the temperature fallback re-decodes and multiplies the latency.
    p.set_temperature(0.0);
    p.set_temperature_inc(0.0);
    p.set_max_tokens(max_tokens(samples));
    let ctx = CONTEXT_TIERS
        .iter()
        .find(|(max, _)| samples <= *max)
        .map_or(0, |&(_, ctx)| ctx);
    p.set_audio_ctx(ctx);
    p
}

static LOG_HOOK: Once = Once::new();

/// whisper.cpp and ggml print to stderr by default; send their lines to `tracing` instead, at debug
/// level (errors at warn), under the target `whisper_cpp`.
fn route_logs_to_tracing() {
    LOG_HOOK.call_once(|| {
        // SAFETY: `log_to_tracing` has ggml's log callback signature, needs no user data (null), and
        // cannot unwind into C: it does not panic, and a panic in an `extern "C"` fn aborts instead.
        #[allow(unsafe_code)]
        unsafe {
            whisper_rs::set_log_callback(Some(log_to_tracing), std::ptr::null_mut());
        }
    });
}

#[allow(unsafe_code)]
unsafe extern "C" fn log_to_tracing(level: c_uint, text: *const c_char, _user_data: *mut c_void) {
    if text.is_null() {
        return;
    }
    // SAFETY: whisper.cpp and ggml pass a NUL-terminated string that outlives this call.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let text = text.trim_end();
    if text.is_empty() {
        return;
    }
    match GGMLLogLevel::from(level) {
        GGMLLogLevel::Error => warn!(target: "whisper_cpp", "{text}"),
        _ => debug!(target: "whisper_cpp", "{text}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn engines_whisper_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<WhisperEngine>();
    }

    #[test]
    fn engines_whisper_token_budget_grows_with_audio() {
        assert_eq!(max_tokens(RATE), 14);
        assert_eq!(max_tokens(RATE * 3), 26);
        assert_eq!(max_tokens(RATE / 2), 11);
    }

    #[test]
    fn engines_whisper_silence_gate_is_minus_50_dbfs() {
        let tone = |amplitude: f64| -> Vec<i16> {
            (0..RATE)
                .map(|i| (amplitude * (i as f64 * 0.1).sin()) as i16)
                .collect()
        };
        // A sine's RMS is its amplitude / sqrt(2); -50 dBFS RMS is an amplitude of ~146.
        assert!(is_silent(&tone(120.0)));
        assert!(!is_silent(&tone(180.0)));
        assert!(!is_silent(&tone(1_000.0)));
    }

    #[test]
    fn engines_whisper_missing_model_is_a_load_error() {
        let err = WhisperEngine::load(Path::new("/nonexistent/ggml.bin")).unwrap_err();
        assert!(matches!(err, EngineError::Load { .. }), "{err}");
        assert!(err.to_string().contains("dialtone models install"));
    }

    #[test]
    fn engines_whisper_rejects_a_file_that_is_not_a_model() {
        let path =
            std::env::temp_dir().join(format!("dialtone-not-a-model-{}.bin", std::process::id()));
        std::fs::write(&path, b"lmgg but nothing else").unwrap();
        let err = WhisperEngine::load(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(err, EngineError::Load { .. }), "{err}");
    }
}
