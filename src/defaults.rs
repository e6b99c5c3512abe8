//! The product's defaults: the embedded, offline providers every call uses unless an agent names others.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use dialtone_media::CallMediaConfig;
use dialtone_media::vad::SharedDetectorFactory;
use dialtone_telephony::agent::load_agents_dir;
use dialtone_telephony::backend::flite::FliteTts;
use dialtone_telephony::backend::openai::{OpenAiChat, OpenAiConfig, OpenAiStt, OpenAiTts};
use dialtone_telephony::backend::piper::PiperTts;
use dialtone_telephony::backend::receptionist::ReceptionistProvider;
use dialtone_telephony::backend::whisper::WhisperStt;
use dialtone_telephony::backend::{DialogueProvider, SttProvider, TtsProvider};
use dialtone_telephony::call::{CallDeps, StaticDirectory};
use dialtone_telephony::engines::models;
use dialtone_telephony::engines::silero::SileroModel;

/// Which provider serves each role; the defaults are the embedded, offline ones.
#[derive(Debug, Clone)]
pub struct ProviderChoice {
    /// `embedded` (whisper.cpp) or `openai` (any OpenAI-compatible `/audio/transcriptions`).
    pub stt: String,
    /// `receptionist` (the built-in policy) or `openai` (any OpenAI-compatible `/chat/completions`).
    pub llm: String,
    /// `auto` (Piper when its models are installed, else flite), `piper`, `flite` or `openai` (any
    /// OpenAI-compatible `/audio/speech`).
    pub tts: String,
    /// flite voice.
    pub voice: String,
    /// `auto` (Silero gated by the WebRTC VAD when Silero is installed, else WebRTC alone), `silero` or
    /// `webrtc`.
    pub vad: String,
}

impl Default for ProviderChoice {
    fn default() -> Self {
        Self {
            stt: "embedded".into(),
            llm: "receptionist".into(),
            tts: "auto".into(),
            voice: "slt".into(),
            vad: "auto".into(),
        }
    }
}

/// The providers named in `choice`, loaded once for the whole process. OpenAI-compatible ones read
/// `OPENAI_BASE_URL` and `OPENAI_API_KEY`.
pub fn build_deps(agents: &Path, choice: &ProviderChoice) -> anyhow::Result<CallDeps> {
    let agents = load_agents_dir(agents)
        .with_context(|| format!("cannot load agents from {}", agents.display()))?;
    if agents.is_empty() {
        bail!("no agent files found; add one (see agents/bright-smile-dental.toml)");
    }
    let openai = OpenAiConfig::from_env();
    let stt: Arc<dyn SttProvider> = match choice.stt.as_str() {
        "embedded" => {
            let cache = models::default_cache_dir()?;
            let paths = models::locate(&cache)
                .context("speech models are not installed: run `dialtone models install`")?;
            Arc::new(WhisperStt::start(&paths.whisper)?)
        }
        "openai" => Arc::new(OpenAiStt::new(openai.clone())?),
        other => bail!("unknown STT provider {other:?} (embedded, openai)"),
    };
    let piper = || -> anyhow::Result<Option<PiperTts>> {
        let paths = models::locate(&models::default_cache_dir()?)?;
        match (paths.onnxruntime, paths.piper) {
            (Some(runtime), Some(voice)) => Ok(Some(PiperTts::start(
                &runtime,
                &voice.model,
                &voice.config,
            )?)),
            _ => Ok(None),
        }
    };
    let tts: Arc<dyn TtsProvider> = match choice.tts.as_str() {
        "piper" => Arc::new(
            piper()?.context("the Piper voice is not installed: run `dialtone models install`")?,
        ),
        "auto" => match piper() {
            Ok(Some(p)) => Arc::new(p),
            other => {
                if let Err(e) = other {
                    tracing::warn!(error = %e, "Piper voice unavailable; using flite");
                } else {
                    tracing::warn!(
                        "Piper voice not installed; using flite (run `dialtone models install`)"
                    );
                }
                let tts = FliteTts::new(&choice.voice);
                tts.check()?;
                Arc::new(tts)
            }
        },
        "flite" => {
            let tts = FliteTts::new(&choice.voice);
            tts.check()?;
            Arc::new(tts)
        }
        "openai" => Arc::new(OpenAiTts::new(openai.clone())?),
        other => bail!("unknown TTS provider {other:?} (auto, piper, flite, openai)"),
    };
    let dialogue: Arc<dyn DialogueProvider> = match choice.llm.as_str() {
        "receptionist" => Arc::new(ReceptionistProvider),
        "openai" => Arc::new(OpenAiChat::new(openai)?),
        other => bail!("unknown dialogue provider {other:?} (receptionist, openai)"),
    };
    Ok(CallDeps {
        directory: Arc::new(StaticDirectory::new(agents)),
        stt,
        tts,
        dialogue,
        media: CallMediaConfig {
            confirm_vad: confirming_vad(&choice.vad)?,
            ..CallMediaConfig::pcmu()
        },
    })
}

/// The detector that confirms the WebRTC VAD's speech, per `choice`; logs which VAD calls get.
fn confirming_vad(choice: &str) -> anyhow::Result<Option<SharedDetectorFactory>> {
    let silero = || -> anyhow::Result<Option<SileroModel>> {
        let paths = match models::locate(&models::default_cache_dir()?) {
            Err(models::ModelError::NotInstalled { .. }) => return Ok(None),
            found => found?,
        };
        match (paths.onnxruntime, paths.silero) {
            (Some(runtime), Some(model)) => Ok(Some(SileroModel::load(&runtime, &model)?)),
            _ => Ok(None),
        }
    };
    let (model, why_not) = match choice {
        "webrtc" => (None, "chosen"),
        "silero" => (
            Some(silero()?.context("Silero VAD is not installed: run `dialtone models install`")?),
            "",
        ),
        "auto" => match silero() {
            Ok(Some(model)) => (Some(model), ""),
            Ok(None) => (
                None,
                "Silero is not installed: run `dialtone models install`",
            ),
            Err(e) => {
                tracing::warn!(error = %e, "Silero VAD unavailable");
                (None, "Silero could not load")
            }
        },
        other => bail!("unknown VAD {other:?} (auto, silero, webrtc)"),
    };
    Ok(match model {
        Some(model) => {
            tracing::info!("VAD: Silero, run only where the WebRTC VAD hears speech");
            Some(Arc::new(model))
        }
        None => {
            tracing::info!(why = why_not, "VAD: WebRTC alone");
            None
        }
    })
}
