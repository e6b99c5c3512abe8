//! The product's defaults: the embedded, offline providers every call uses unless its agent names others,
//! and the factory that builds any provider by name.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use dialtone_media::CallMediaConfig;
use dialtone_media::vad::SharedDetectorFactory;
use dialtone_telephony::agent::{AgentProfile, Providers, load_agents_dir_with_providers};
use dialtone_telephony::backend::flite::FliteTts;
use dialtone_telephony::backend::openai::{
    API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, OpenAiChat, OpenAiConfig, OpenAiStt, OpenAiTts,
};
use dialtone_telephony::backend::piper::PiperTts;
use dialtone_telephony::backend::receptionist::ReceptionistProvider;
use dialtone_telephony::backend::registry::{
    ProviderError, ProviderFactory, ProviderNames, ProviderRegistry, ProviderRole,
};
use dialtone_telephony::backend::whisper::WhisperStt;
use dialtone_telephony::backend::{DialogueProvider, SttProvider, TtsProvider};
use dialtone_telephony::call::{CallDeps, StaticDirectory, SystemClock};
use dialtone_telephony::engines::models;
use dialtone_telephony::engines::silero::SileroModel;

/// Which provider serves each role when an agent names none; the defaults are the embedded, offline ones.
#[derive(Debug, Clone)]
pub struct ProviderChoice {
    /// `embedded` (whisper.cpp) or `openai` (any OpenAI-compatible `/audio/transcriptions`).
    pub stt: String,
    /// `receptionist` (the built-in policy) or `openai` (any OpenAI-compatible `/chat/completions`).
    pub llm: String,
    /// `auto` or `embedded` (Piper when its models are installed, else flite), `piper`, `flite` or
    /// `openai` (any OpenAI-compatible `/audio/speech`).
    pub tts: String,
    /// Voice for the synthesiser; `None` is its own default (flite `slt`, OpenAI `alloy`).
    pub voice: Option<String>,
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
            voice: None,
            vad: "auto".into(),
        }
    }
}

impl ProviderChoice {
    /// The choice as the registry's fallback names.
    pub fn names(&self) -> ProviderNames {
        ProviderNames {
            stt: self.stt.clone(),
            llm: self.llm.clone(),
            tts: self.tts.clone(),
            voice: self.voice.clone(),
        }
    }
}

const STT_NAMES: &[&str] = &["embedded", "openai"];
const LLM_NAMES: &[&str] = &["receptionist", "openai"];
const TTS_NAMES: &[&str] = &["auto", "embedded", "piper", "flite", "openai"];
/// flite's voice when none is named.
const FLITE_VOICE: &str = "slt";

/// Builds the real providers by name. The registry asks once per name (and TTS voice); Piper, reachable
/// as `auto`, `embedded` and `piper`, is loaded once here whichever names lead to it.
#[derive(Debug)]
pub struct EngineFactory {
    openai: OpenAiConfig,
    piper: Option<Arc<PiperTts>>,
}

impl EngineFactory {
    /// OpenAI-compatible providers use `openai` (base URL, key, models).
    pub fn new(openai: OpenAiConfig) -> Self {
        Self {
            openai,
            piper: None,
        }
    }

    /// OpenAI-compatible providers read `OPENAI_BASE_URL` and `OPENAI_API_KEY`.
    pub fn from_env() -> Self {
        Self::new(OpenAiConfig::from_env())
    }

    /// OpenAI itself refuses every request without a key: say so at start-up. A local server (Ollama,
    /// vLLM, llama.cpp) is reached through `OPENAI_BASE_URL` and may need none.
    fn openai(&self, role: ProviderRole, name: &str) -> Result<OpenAiConfig, ProviderError> {
        if self.openai.api_key.is_none() && self.openai.base_url == DEFAULT_BASE_URL {
            return Err(ProviderError::unavailable(
                role,
                name,
                format!(
                    "{API_KEY_ENV} is not set (or set {BASE_URL_ENV} for a local server that needs no key)"
                ),
            ));
        }
        Ok(self.openai.clone())
    }

    /// Piper, when its runtime and voice are installed.
    fn piper(&mut self) -> anyhow::Result<Option<Arc<PiperTts>>> {
        if let Some(p) = &self.piper {
            return Ok(Some(Arc::clone(p)));
        }
        let paths = models::locate(&models::default_cache_dir()?)?;
        let (Some(runtime), Some(voice)) = (paths.onnxruntime, paths.piper) else {
            return Ok(None);
        };
        let piper = Arc::new(PiperTts::start(&runtime, &voice.model, &voice.config)?);
        self.piper = Some(Arc::clone(&piper));
        Ok(Some(piper))
    }
}

fn flite(name: &str, voice: Option<&str>) -> Result<Arc<dyn TtsProvider>, ProviderError> {
    let tts = FliteTts::new(voice.unwrap_or(FLITE_VOICE));
    tts.check()
        .map_err(|e| ProviderError::unavailable(ProviderRole::Tts, name, e))?;
    Ok(Arc::new(tts))
}

impl ProviderFactory for EngineFactory {
    fn stt(&mut self, name: &str) -> Result<Arc<dyn SttProvider>, ProviderError> {
        let role = ProviderRole::Stt;
        let unavailable = |e: &dyn std::fmt::Display| ProviderError::unavailable(role, name, e);
        match name {
            "embedded" => {
                let paths = models::default_cache_dir()
                    .and_then(|cache| models::locate(&cache))
                    .map_err(|e| {
                        unavailable(&format!(
                            "speech models are not installed ({e}): run `dialtone models install`"
                        ))
                    })?;
                Ok(Arc::new(
                    WhisperStt::start(&paths.whisper).map_err(|e| unavailable(&e))?,
                ))
            }
            "openai" => Ok(Arc::new(
                OpenAiStt::new(self.openai(role, name)?).map_err(|e| unavailable(&e))?,
            )),
            other => Err(ProviderError::unknown(role, other, STT_NAMES)),
        }
    }

    fn dialogue(&mut self, name: &str) -> Result<Arc<dyn DialogueProvider>, ProviderError> {
        let role = ProviderRole::Llm;
        match name {
            "receptionist" => Ok(Arc::new(ReceptionistProvider)),
            "openai" => Ok(Arc::new(
                OpenAiChat::new(self.openai(role, name)?)
                    .map_err(|e| ProviderError::unavailable(role, name, e))?,
            )),
            other => Err(ProviderError::unknown(role, other, LLM_NAMES)),
        }
    }

    fn tts(
        &mut self,
        name: &str,
        voice: Option<&str>,
    ) -> Result<Arc<dyn TtsProvider>, ProviderError> {
        let role = ProviderRole::Tts;
        match name {
            "piper" => {
                if let Some(v) = voice {
                    tracing::warn!(voice = v, "Piper speaks with its installed voice only");
                }
                match self.piper() {
                    Ok(Some(p)) => Ok(p),
                    Ok(None) => Err(ProviderError::unavailable(
                        role,
                        name,
                        "the Piper voice is not installed: run `dialtone models install`",
                    )),
                    Err(e) => Err(ProviderError::unavailable(role, name, format!("{e:#}"))),
                }
            }
            // A voice here picks flite's, should Piper be missing: Piper has one installed voice.
            "auto" | "embedded" => match self.piper() {
                Ok(Some(p)) => Ok(p),
                other => {
                    if let Err(e) = other {
                        tracing::warn!(error = %e, "Piper voice unavailable; using flite");
                    } else {
                        tracing::warn!(
                            "Piper voice not installed; using flite (run `dialtone models install`)"
                        );
                    }
                    flite(name, voice)
                }
            },
            "flite" => flite(name, voice),
            "openai" => {
                let mut config = self.openai(role, name)?;
                if let Some(v) = voice {
                    config.tts_voice = v.to_owned();
                }
                Ok(Arc::new(
                    OpenAiTts::new(config)
                        .map_err(|e| ProviderError::unavailable(role, name, e))?,
                ))
            }
            other => Err(ProviderError::unknown(role, other, TTS_NAMES)),
        }
    }
}

/// The agents in `agents` and the providers they use, each built once for the whole process: an agent's
/// `providers` override `choice` for its calls.
pub fn build_deps(agents: &Path, choice: &ProviderChoice) -> anyhow::Result<CallDeps> {
    let mut registry = ProviderRegistry::new(choice.names());
    let mut factory = EngineFactory::from_env();
    let agents = load_agents_dir_with_providers(agents, &mut registry, &mut factory)
        .with_context(|| format!("cannot load agents from {}", agents.display()))?;
    if agents.is_empty() {
        bail!("no agent files found; add one (see agents/bright-smile-dental.toml)");
    }
    call_deps(agents, registry, choice)
}

/// The call side of `dialtone serve`, where agents come from the store as well as from files: the file
/// agents (none, or no directory at all, is fine) and the process's default providers, built up front
/// because store agents name none and a call never waits for an engine to load.
pub fn build_serve_deps(agents: &Path, choice: &ProviderChoice) -> anyhow::Result<CallDeps> {
    let mut registry = ProviderRegistry::new(choice.names());
    let mut factory = EngineFactory::from_env();
    let files = if agents.is_dir() {
        load_agents_dir_with_providers(agents, &mut registry, &mut factory)
            .with_context(|| format!("cannot load agents from {}", agents.display()))?
    } else {
        tracing::info!(dir = %agents.display(), "no agent directory; serving store agents only");
        Vec::new()
    };
    registry
        .prepare(&Providers::default(), &mut factory)
        .context("the default providers cannot start")?;
    call_deps(files, registry, choice)
}

fn call_deps(
    agents: Vec<AgentProfile>,
    providers: ProviderRegistry,
    choice: &ProviderChoice,
) -> anyhow::Result<CallDeps> {
    Ok(CallDeps {
        directory: Arc::new(StaticDirectory::new(agents)),
        providers,
        clock: Arc::new(SystemClock),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T>(r: Result<T, ProviderError>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn openai_without_a_key_fails_at_start_up() {
        let mut f = EngineFactory::new(OpenAiConfig::default());
        let e = err(f.tts("openai", None));
        assert!(
            e.starts_with("providers.tts = \"openai\"") && e.contains(API_KEY_ENV),
            "{e}"
        );
        assert!(err(f.stt("openai")).contains(API_KEY_ENV));
        assert!(err(f.dialogue("openai")).contains(API_KEY_ENV));
        // A local server needs no key.
        let mut f = EngineFactory::new(OpenAiConfig {
            base_url: "http://127.0.0.1:11434/v1".into(),
            ..OpenAiConfig::default()
        });
        assert!(f.dialogue("openai").is_ok());
        assert!(f.tts("openai", Some("nova")).is_ok());
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let mut f = EngineFactory::new(OpenAiConfig::default());
        assert_eq!(
            err(f.tts("festival", None)),
            "providers.tts = \"festival\" is not a provider (known: auto, embedded, piper, flite, openai)"
        );
        assert!(err(f.stt("vosk")).contains("known: embedded, openai"));
        assert!(err(f.dialogue("gpt")).contains("known: receptionist, openai"));
    }
}
