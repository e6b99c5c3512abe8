//! The product's defaults: the embedded, offline providers every call uses unless an agent names others.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use dialtone_media::CallMediaConfig;
use dialtone_telephony::agent::load_agents_dir;
use dialtone_telephony::backend::TtsProvider;
use dialtone_telephony::backend::flite::FliteTts;
use dialtone_telephony::backend::receptionist::ReceptionistProvider;
use dialtone_telephony::backend::whisper::WhisperStt;
use dialtone_telephony::call::{CallDeps, StaticDirectory};
use dialtone_telephony::engines::models;

/// The embedded providers, loaded once for the whole process.
pub fn embedded_deps(agents: &Path, voice: &str) -> anyhow::Result<CallDeps> {
    let agents = load_agents_dir(agents)
        .with_context(|| format!("cannot load agents from {}", agents.display()))?;
    if agents.is_empty() {
        bail!("no agent files found; add one (see agents/bright-smile-dental.toml)");
    }
    let cache = models::default_cache_dir()?;
    let paths = models::locate(&cache)
        .context("speech models are not installed: run `dialtone models install`")?;
    let stt = WhisperStt::start(&paths.whisper)?;
    let tts = FliteTts::new(voice);
    tts.check()?;
    Ok(CallDeps {
        directory: Arc::new(StaticDirectory::new(agents)),
        stt: Arc::new(stt),
        tts: Arc::new(tts) as Arc<dyn TtsProvider>,
        dialogue: Arc::new(ReceptionistProvider),
        media: CallMediaConfig::pcmu(),
    })
}
