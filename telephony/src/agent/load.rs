//! Agents from files: `agents/*.toml` or `agents/*.json`, one agent per file, id from the file name.

use std::path::{Path, PathBuf};

use super::AgentProfile;
use crate::backend::registry::{ProviderFactory, ProviderRegistry, ProviderRole};

/// Why an agent file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentLoadError {
    /// The file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or JSON for an agent.
    #[error("{path}: {message}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The agent is well-formed but unusable.
    #[error("{path}: {message}")]
    Invalid {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Loads one agent file (`.toml` or `.json`).
pub fn load_agent_file(path: &Path) -> Result<AgentProfile, AgentLoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| AgentLoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let parse_err = |message: String| AgentLoadError::Parse {
        path: path.to_owned(),
        message,
    };
    let mut agent: AgentProfile = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(&text).map_err(|e| parse_err(e.to_string()))?,
        _ => toml::from_str(&text).map_err(|e| parse_err(e.to_string()))?,
    };
    if agent.id.is_empty() {
        agent.id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("agent")
            .to_owned();
    }
    let invalid = |message: String| AgentLoadError::Invalid {
        path: path.to_owned(),
        message,
    };
    for number in agent
        .phone_numbers
        .iter()
        .chain(agent.transfer_number.iter())
        .chain(agent.facts.phones.iter())
    {
        if !is_e164(number) {
            return Err(invalid(format!(
                "{number:?} is not an E.164 number (+ and 8 to 15 digits)"
            )));
        }
    }
    if let Some(zone) = &agent.timezone {
        super::zone::time_zone(zone).map_err(|e| invalid(format!("timezone: {e}")))?;
    }
    Ok(agent)
}

/// Loads every `.toml` and `.json` agent in `dir`, sorted by file name. Two agents claiming one number is
/// an error: a call must reach exactly one agent.
pub fn load_agents_dir(dir: &Path) -> Result<Vec<AgentProfile>, AgentLoadError> {
    Ok(load_dir(dir)?.into_iter().map(|(_, a)| a).collect())
}

/// [`load_agents_dir`], then builds into `registry` every provider the agents name (and the defaults
/// the others fall back to), each name once. A provider that is unknown or cannot start is an error
/// naming the agent file and the field.
pub fn load_agents_dir_with_providers(
    dir: &Path,
    registry: &mut ProviderRegistry,
    factory: &mut dyn ProviderFactory,
) -> Result<Vec<AgentProfile>, AgentLoadError> {
    let agents = load_dir(dir)?;
    for (path, agent) in &agents {
        registry.prepare(&agent.providers, factory).map_err(|e| {
            let p = &agent.providers;
            let named = match e.role() {
                ProviderRole::Stt => p.stt.is_some(),
                ProviderRole::Llm => p.llm.is_some(),
                ProviderRole::Tts => p.tts.is_some() || p.voice.is_some(),
            };
            // A default that cannot start fails the first agent using it; say the fix is not in the file.
            let message = if named {
                e.to_string()
            } else {
                format!("{e} (the process default: the agent names none)")
            };
            AgentLoadError::Invalid {
                path: path.clone(),
                message,
            }
        })?;
    }
    Ok(agents.into_iter().map(|(_, a)| a).collect())
}

/// The agents in `dir` beside the files they came from.
fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, AgentProfile)>, AgentLoadError> {
    let io = |source| AgentLoadError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("toml" | "json")
            )
        })
        .collect();
    paths.sort();
    let agents = paths
        .into_iter()
        .map(|p| load_agent_file(&p).map(|a| (p, a)))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, (_, a)) in agents.iter().enumerate() {
        for (_, b) in &agents[i + 1..] {
            if let Some(n) = a.phone_numbers.iter().find(|n| b.phone_numbers.contains(n)) {
                return Err(AgentLoadError::Invalid {
                    path: dir.to_owned(),
                    message: format!("agents {:?} and {:?} both claim {n}", a.id, b.id),
                });
            }
            if a.id == b.id {
                return Err(AgentLoadError::Invalid {
                    path: dir.to_owned(),
                    message: format!("two agents have the id {:?}", a.id),
                });
            }
        }
    }
    Ok(agents)
}

/// `+` followed by 8 to 15 digits, the first not zero.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dialtone-agents-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_demo_agent_loads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents");
        let agents = load_agents_dir(&root).unwrap();
        let demo = agents
            .iter()
            .find(|a| a.id == "bright-smile-dental")
            .unwrap();
        assert!(demo.greeting_text().contains("Bright Smile Dental"));
        assert!(!demo.facts.hours.is_empty());
        assert!(!demo.documents.is_empty());
    }

    #[test]
    fn bad_files_give_errors_that_name_the_file() {
        let d = temp_dir("bad");
        let p = write(
            &d,
            "a.toml",
            "name = \"A\"\nphone_numbers = [\"555-1234\"]\n",
        );
        let e = load_agent_file(&p).unwrap_err();
        assert!(
            matches!(e, AgentLoadError::Invalid { .. }) && e.to_string().contains("a.toml"),
            "{e}"
        );
        let p = write(&d, "b.toml", "name = \nbroken");
        assert!(matches!(
            load_agent_file(&p),
            Err(AgentLoadError::Parse { .. })
        ));
        let p = write(&d, "c.json", r#"{"name": "C", "surprise": 1}"#);
        assert!(
            load_agent_file(&p)
                .unwrap_err()
                .to_string()
                .contains("surprise")
        );
    }

    #[test]
    fn two_agents_cannot_share_a_number() {
        let d = temp_dir("dup");
        write(
            &d,
            "a.toml",
            "name = \"A\"\nphone_numbers = [\"+15035550100\"]\n",
        );
        write(
            &d,
            "b.json",
            r#"{"name": "B", "phone_numbers": ["+15035550100"]}"#,
        );
        let e = load_agents_dir(&d).unwrap_err();
        assert!(e.to_string().contains("+15035550100"), "{e}");
    }

    #[test]
    fn an_unknown_time_zone_names_the_file_and_field() {
        let d = temp_dir("tz");
        let p = write(
            &d,
            "a.toml",
            "name = \"A\"\ntimezone = \"America/Portland\"\n",
        );
        let e = load_agent_file(&p).unwrap_err().to_string();
        assert!(
            e.contains("a.toml") && e.contains("timezone") && e.contains("America/Portland"),
            "{e}"
        );
        let p = write(
            &d,
            "b.toml",
            "name = \"B\"\ntimezone = \"America/Los_Angeles\"\n",
        );
        assert!(load_agent_file(&p).is_ok());
    }

    fn provider_defaults() -> ProviderRegistry {
        ProviderRegistry::new(crate::backend::registry::ProviderNames {
            stt: "scripted".into(),
            llm: "receptionist".into(),
            tts: "instant".into(),
            voice: None,
        })
    }

    #[test]
    fn providers_are_checked_when_the_agents_load() {
        use crate::backend::fake::FakeFactory;
        let d = temp_dir("providers");
        write(&d, "a.toml", "name = \"A\"\n");
        write(
            &d,
            "b.toml",
            "name = \"B\"\n[providers]\ntts = \"festival\"\n",
        );
        let mut factory = FakeFactory::new(["instant", "flite"]);
        let e = load_agents_dir_with_providers(&d, &mut provider_defaults(), &mut factory)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b.toml") && e.contains("providers.tts = \"festival\""),
            "{e}"
        );

        write(
            &d,
            "b.toml",
            "name = \"B\"\n[providers]\nllm = \"openai\"\n",
        );
        let e = load_agents_dir_with_providers(&d, &mut provider_defaults(), &mut factory)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b.toml") && e.contains("providers.llm = \"openai\""),
            "{e}"
        );

        write(&d, "b.toml", "name = \"B\"\n[providers]\ntts = \"flite\"\n");
        let mut registry = provider_defaults();
        let agents = load_agents_dir_with_providers(&d, &mut registry, &mut factory).unwrap();
        assert_eq!(agents.len(), 2);
        assert!(registry.for_agent(&agents[1].providers).is_ok());
    }

    #[test]
    fn e164() {
        assert!(is_e164("+15035550142"));
        assert!(!is_e164("15035550142"));
        assert!(!is_e164("+1503555"));
        assert!(!is_e164("+0123456789"));
        assert!(!is_e164("+1 503 555 0142"));
    }
}
