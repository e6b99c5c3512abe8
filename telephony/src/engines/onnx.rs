//! ONNX Runtime, loaded at run time from the shared library [`super::models::install`] keeps in the
//! model cache. One environment per process; every session runs on one intra-op thread, so an engine
//! never takes more than the core its worker thread is on.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

/// Why ONNX Runtime or a model could not be loaded or run.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// The shared library could not be loaded.
    #[error("cannot load ONNX Runtime from {path}: {detail}; run `dialtone models install`")]
    Runtime {
        /// The library.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A different library was loaded first in this process.
    #[error("ONNX Runtime was already loaded from {loaded}, not {requested}")]
    OtherRuntime {
        /// The one in use.
        loaded: PathBuf,
        /// The one asked for.
        requested: PathBuf,
    },
    /// [`init`] has not run in this process.
    #[error(
        "ONNX Runtime is not loaded: call engines::onnx::init with the installed library first"
    )]
    NotLoaded,
    /// The model could not be loaded.
    #[error("cannot load the ONNX model {path}: {detail}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Inference failed.
    #[error("ONNX inference failed: {0}")]
    Run(String),
}

static ENVIRONMENT: OnceLock<(PathBuf, Result<Environment, OnnxError>)> = OnceLock::new();

/// Loads ONNX Runtime from `library` once per process; later calls with the same path are free.
pub fn init(library: &Path) -> Result<Environment, OnnxError> {
    let (loaded, env) = ENVIRONMENT.get_or_init(|| {
        let runtime_err = |detail: String| OnnxError::Runtime {
            path: library.to_owned(),
            detail,
        };
        let env = ort::init_from(library)
            .map_err(|e| runtime_err(e.to_string()))
            .and_then(|builder| {
                builder
                    .with_name("dialtone")
                    .build()
                    .map_err(|e| runtime_err(e.to_string()))
            });
        if env.is_ok() {
            tracing::info!(library = %library.display(), "ONNX Runtime loaded");
        }
        (library.to_owned(), env)
    });
    if loaded != library {
        return Err(OnnxError::OtherRuntime {
            loaded: loaded.clone(),
            requested: library.to_owned(),
        });
    }
    env.clone()
}

/// The environment [`init`] loaded, for engines that take only their model paths.
pub fn environment() -> Result<Environment, OnnxError> {
    match ENVIRONMENT.get() {
        Some((_, env)) => env.clone(),
        None => Err(OnnxError::NotLoaded),
    }
}

/// A session for `model` on one intra-op thread, fully optimised.
pub fn session(env: &Environment, model: &Path) -> Result<Session, OnnxError> {
    let model_err = |detail: String| OnnxError::Model {
        path: model.to_owned(),
        detail,
    };
    let builder = Session::builder(env).map_err(|e| model_err(e.to_string()))?;
    let builder = builder
        .with_intra_threads(1)
        .map_err(|e| model_err(e.to_string()))?;
    let builder = builder
        .with_inter_threads(1)
        .map_err(|e| model_err(e.to_string()))?;
    let mut builder = builder
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| model_err(e.to_string()))?;
    builder
        .commit_from_file(model)
        .map_err(|e| model_err(e.to_string()))
}

pub(crate) fn run_err(e: impl std::fmt::Display) -> OnnxError {
    OnnxError::Run(e.to_string())
}
