//! Named providers, built once per process and shared by every call that names them.
//!
//! An agent may name its own providers (`providers` in its file); a role it leaves out uses the process
//! default. Everything is built at start-up, for exactly the names in use: a heavy engine (whisper.cpp,
//! Piper) loads once however many agents name it, and a name that cannot be built stops start-up with
//! the agent file and field, rather than failing a caller later. Calls only look providers up.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;

use super::{DialogueProvider, SttProvider, TtsProvider};
use crate::agent::Providers;

/// A role a provider fills. Displays as the agent file's field, so errors point at the line to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderRole {
    /// Speech recognition.
    Stt,
    /// Dialogue.
    Llm,
    /// Speech synthesis.
    Tts,
}

impl fmt::Display for ProviderRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stt => "providers.stt",
            Self::Llm => "providers.llm",
            Self::Tts => "providers.tts",
        })
    }
}

/// Why a named provider could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// No provider has this name.
    #[error("{role} = {name:?} is not a provider (known: {known})")]
    Unknown {
        /// The role it was named for.
        role: ProviderRole,
        /// The name.
        name: String,
        /// The names that would work, comma-separated.
        known: String,
    },
    /// The provider exists but cannot start here (a model not installed, no API key).
    #[error("{role} = {name:?} cannot start: {reason}")]
    Unavailable {
        /// The role it was named for.
        role: ProviderRole,
        /// The name.
        name: String,
        /// What is missing, and how to fix it.
        reason: String,
    },
    /// A call's agent names a provider nobody prepared (an agent added after start-up).
    #[error("{role} = {name:?} was not prepared at start-up")]
    NotPrepared {
        /// The role it was named for.
        role: ProviderRole,
        /// The name.
        name: String,
    },
}

impl ProviderError {
    /// The role the provider was named for.
    pub fn role(&self) -> ProviderRole {
        match self {
            Self::Unknown { role, .. }
            | Self::Unavailable { role, .. }
            | Self::NotPrepared { role, .. } => *role,
        }
    }

    /// `name` is not one of `known`.
    pub fn unknown(role: ProviderRole, name: &str, known: &[&str]) -> Self {
        Self::Unknown {
            role,
            name: name.to_owned(),
            known: known.join(", "),
        }
    }

    /// `name` cannot start, because of `reason`.
    pub fn unavailable(role: ProviderRole, name: &str, reason: impl fmt::Display) -> Self {
        Self::Unavailable {
            role,
            name: name.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Builds providers by name. The binary implements it over the real engines, tests over fakes. Called
/// once per distinct name (and, for TTS, voice), at start-up.
pub trait ProviderFactory {
    /// The recogniser called `name`.
    fn stt(&mut self, name: &str) -> Result<Arc<dyn SttProvider>, ProviderError>;
    /// The dialogue called `name`.
    fn dialogue(&mut self, name: &str) -> Result<Arc<dyn DialogueProvider>, ProviderError>;
    /// The synthesiser called `name`, speaking with `voice` (`None`: the provider's own default).
    fn tts(
        &mut self,
        name: &str,
        voice: Option<&str>,
    ) -> Result<Arc<dyn TtsProvider>, ProviderError>;
}

/// Provider names for each role: the process defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderNames {
    /// Speech recognition.
    pub stt: String,
    /// Dialogue.
    pub llm: String,
    /// Speech synthesis.
    pub tts: String,
    /// Voice for the synthesiser; `None` leaves it to the provider.
    pub voice: Option<String>,
}

/// The backends one call uses.
#[derive(Debug, Clone)]
pub struct CallProviders {
    /// Speech recognition.
    pub stt: Arc<dyn SttProvider>,
    /// The dialogue.
    pub dialogue: Arc<dyn DialogueProvider>,
    /// Speech synthesis.
    pub tts: Arc<dyn TtsProvider>,
}

type TtsKey = (String, Option<String>);

/// Every provider the process's agents use, by name, beside the process defaults.
#[derive(Debug, Clone)]
pub struct ProviderRegistry {
    defaults: ProviderNames,
    stt: HashMap<String, Arc<dyn SttProvider>>,
    dialogue: HashMap<String, Arc<dyn DialogueProvider>>,
    tts: HashMap<TtsKey, Arc<dyn TtsProvider>>,
}

/// The name of the one set of providers in a [`ProviderRegistry::fixed`] registry.
const FIXED: &str = "default";

impl ProviderRegistry {
    /// An empty registry falling back to `defaults`. Nothing is built until [`Self::prepare`].
    pub fn new(defaults: ProviderNames) -> Self {
        Self {
            defaults,
            stt: HashMap::new(),
            dialogue: HashMap::new(),
            tts: HashMap::new(),
        }
    }

    /// One set of providers for every agent that names none (tests, load tests).
    pub fn fixed(providers: CallProviders) -> Self {
        let mut registry = Self::new(ProviderNames {
            stt: FIXED.to_owned(),
            llm: FIXED.to_owned(),
            tts: FIXED.to_owned(),
            voice: None,
        });
        registry.stt.insert(FIXED.to_owned(), providers.stt);
        registry
            .dialogue
            .insert(FIXED.to_owned(), providers.dialogue);
        registry.tts.insert((FIXED.to_owned(), None), providers.tts);
        registry
    }

    /// The process defaults.
    pub fn defaults(&self) -> &ProviderNames {
        &self.defaults
    }

    /// Builds whatever an agent naming `wanted` will use and is not built yet, defaults included.
    pub fn prepare(
        &mut self,
        wanted: &Providers,
        factory: &mut dyn ProviderFactory,
    ) -> Result<(), ProviderError> {
        let names = self.resolve(wanted);
        if let Entry::Vacant(slot) = self.stt.entry(names.stt) {
            let stt = factory.stt(slot.key())?;
            slot.insert(stt);
        }
        if let Entry::Vacant(slot) = self.dialogue.entry(names.llm) {
            let dialogue = factory.dialogue(slot.key())?;
            slot.insert(dialogue);
        }
        if let Entry::Vacant(slot) = self.tts.entry((names.tts, names.voice)) {
            let (name, voice) = slot.key();
            let tts = factory.tts(name, voice.as_deref())?;
            slot.insert(tts);
        }
        Ok(())
    }

    /// The providers for a call to an agent naming `wanted`: its own where it names them, else the
    /// defaults. Never builds: a call must not wait for an engine to load.
    pub fn for_agent(&self, wanted: &Providers) -> Result<CallProviders, ProviderError> {
        let names = self.resolve(wanted);
        let missing = |role, name: &str| ProviderError::NotPrepared {
            role,
            name: name.to_owned(),
        };
        let stt = self
            .stt
            .get(&names.stt)
            .ok_or_else(|| missing(ProviderRole::Stt, &names.stt))?;
        let dialogue = self
            .dialogue
            .get(&names.llm)
            .ok_or_else(|| missing(ProviderRole::Llm, &names.llm))?;
        let tts = self
            .tts
            .get(&(names.tts.clone(), names.voice))
            .ok_or_else(|| missing(ProviderRole::Tts, &names.tts))?;
        Ok(CallProviders {
            stt: Arc::clone(stt),
            dialogue: Arc::clone(dialogue),
            tts: Arc::clone(tts),
        })
    }

    /// `wanted` with the defaults filled in. A voice goes with the synthesiser it was chosen for: an
    /// agent that names its own TTS but no voice gets that provider's default voice, not the process's
    /// (a flite voice means nothing to another synthesiser).
    fn resolve(&self, wanted: &Providers) -> ProviderNames {
        let d = &self.defaults;
        let voice = match (&wanted.tts, &wanted.voice) {
            (_, Some(v)) => Some(v.clone()),
            (Some(tts), None) if *tts != d.tts => None,
            _ => d.voice.clone(),
        };
        ProviderNames {
            stt: wanted.stt.clone().unwrap_or_else(|| d.stt.clone()),
            llm: wanted.llm.clone().unwrap_or_else(|| d.llm.clone()),
            tts: wanted.tts.clone().unwrap_or_else(|| d.tts.clone()),
            voice,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::backend::fake::FakeFactory;

    fn defaults() -> ProviderNames {
        ProviderNames {
            stt: "scripted".into(),
            llm: "receptionist".into(),
            tts: "instant".into(),
            voice: Some("slt".into()),
        }
    }

    fn wants(tts: Option<&str>, voice: Option<&str>) -> Providers {
        Providers {
            tts: tts.map(str::to_owned),
            voice: voice.map(str::to_owned),
            ..Providers::default()
        }
    }

    #[test]
    fn each_name_is_built_once_and_shared() {
        let mut factory = FakeFactory::new(["instant", "flite"]);
        let mut registry = ProviderRegistry::new(defaults());
        for wanted in [
            Providers::default(),
            wants(Some("flite"), None),
            wants(Some("flite"), None),
            Providers::default(),
        ] {
            registry.prepare(&wanted, &mut factory).unwrap();
        }
        assert_eq!(
            factory.built(),
            [
                "stt scripted",
                "llm receptionist",
                "tts instant/slt",
                "tts flite"
            ]
        );
        let a = registry.for_agent(&Providers::default()).unwrap();
        let b = registry.for_agent(&wants(Some("flite"), None)).unwrap();
        assert!(
            !Arc::ptr_eq(&a.tts, &b.tts),
            "the agent's TTS, not the default"
        );
        assert!(Arc::ptr_eq(&a.stt, &b.stt), "one recogniser for both");
    }

    #[test]
    fn only_names_in_use_are_built() {
        let mut factory = FakeFactory::new(["instant", "flite"]);
        let mut registry = ProviderRegistry::new(defaults());
        registry
            .prepare(&wants(Some("flite"), Some("kal16")), &mut factory)
            .unwrap();
        // The default synthesiser is never built when no agent uses it.
        assert_eq!(
            factory.built(),
            ["stt scripted", "llm receptionist", "tts flite/kal16"]
        );
        let e = registry.for_agent(&Providers::default()).unwrap_err();
        assert!(matches!(e, ProviderError::NotPrepared { .. }), "{e}");
    }

    #[test]
    fn a_voice_alone_changes_the_default_synthesisers_voice() {
        let mut factory = FakeFactory::new(["instant"]);
        let mut registry = ProviderRegistry::new(defaults());
        registry
            .prepare(&wants(None, Some("awb")), &mut factory)
            .unwrap();
        assert!(factory.built().contains(&"tts instant/awb".to_owned()));
    }

    #[test]
    fn unknown_and_unavailable_names_say_which_field() {
        let mut factory =
            FakeFactory::new(["instant"]).unavailable("openai", "OPENAI_API_KEY is not set");
        let mut registry = ProviderRegistry::new(defaults());
        let e = registry
            .prepare(&wants(Some("festival"), None), &mut factory)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "providers.tts = \"festival\" is not a provider (known: instant, openai)"
        );
        let e = registry
            .prepare(&wants(Some("openai"), None), &mut factory)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "providers.tts = \"openai\" cannot start: OPENAI_API_KEY is not set"
        );
    }
}
