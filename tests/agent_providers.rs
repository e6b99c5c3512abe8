//! Per-agent providers in one process: agents loaded from files, one naming `providers.tts = "flite"`
//! and one keeping the process default, answer calls through different synthesisers, each built once
//! however many agents name it. Fake providers stand in for the engines (named as the real ones are),
//! and calls run in process on tokio's paused clock.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::speech;
use dialtone::softphone::Utterance;
use dialtone_media::CallMediaConfig;
use dialtone_telephony::agent::load_agents_dir_with_providers;
use dialtone_telephony::backend::fake::FakeFactory;
use dialtone_telephony::backend::registry::{ProviderNames, ProviderRegistry};
use dialtone_telephony::call::{CallDeps, StaticDirectory, SystemClock};

fn agents_dir(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "dialtone-agent-providers-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, body) in files {
        std::fs::write(dir.join(name), body).expect("agent file");
    }
    dir
}

fn process_defaults() -> ProviderRegistry {
    ProviderRegistry::new(ProviderNames {
        stt: "scripted".into(),
        llm: "receptionist".into(),
        tts: "instant".into(),
        voice: None,
    })
}

fn agent(business: &str, number: &str, providers: &str) -> String {
    format!(
        "name = \"{business} receptionist\"\nphone_numbers = [\"{number}\"]\n\
         [facts]\nbusiness_name = \"{business}\"\n{providers}"
    )
}

fn load(dir: &Path, factory: &mut FakeFactory) -> CallDeps {
    let mut registry = process_defaults();
    let agents = load_agents_dir_with_providers(dir, &mut registry, factory).expect("agents load");
    CallDeps {
        directory: Arc::new(StaticDirectory::new(agents)),
        providers: registry,
        media: CallMediaConfig::pcmu(),
        clock: Arc::new(SystemClock),
    }
}

#[tokio::test(start_paused = true)]
async fn each_agent_speaks_through_its_own_synthesiser() {
    let dir = agents_dir(
        "two",
        &[
            (
                "alpha.toml",
                &agent(
                    "Alpha Dental",
                    "+15035550100",
                    "[providers]\ntts = \"flite\"\n",
                ),
            ),
            ("beta.toml", &agent("Beta Dental", "+15035550101", "")),
            (
                "gamma.toml",
                &agent(
                    "Gamma Dental",
                    "+15035550102",
                    "[providers]\ntts = \"flite\"\n",
                ),
            ),
        ],
    );
    let mut factory = FakeFactory::new(["instant", "flite"]).script(["Bye!", "Bye!"]);
    let deps = Arc::new(load(&dir, &mut factory));
    // Two agents name flite, two use the recogniser and dialogue defaults: each is built once.
    assert_eq!(
        factory.built(),
        [
            "stt scripted",
            "llm receptionist",
            "tts flite",
            "tts instant"
        ]
    );

    let bye = [Utterance::after_agent(speech(0.8))];
    let (_, alpha) = common::run_call(Arc::clone(&deps), "+15035550100", &bye).await;
    let (_, beta) = common::run_call(Arc::clone(&deps), "+15035550101", &bye).await;
    assert_eq!(alpha.agent_id.as_deref(), Some("alpha"));
    assert_eq!(beta.agent_id.as_deref(), Some("beta"));

    let spoken = factory.spoken();
    let said_by = |label: &str| -> String {
        spoken
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, text)| text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let flite = said_by("flite");
    let instant = said_by("instant");
    assert!(
        flite.contains("Alpha Dental") && !flite.contains("Beta Dental"),
        "{spoken:?}"
    );
    assert!(
        instant.contains("Beta Dental") && !instant.contains("Alpha Dental"),
        "{spoken:?}"
    );
}

#[test]
fn a_provider_that_does_not_exist_stops_loading_with_the_file_and_field() {
    let dir = agents_dir(
        "unknown",
        &[
            ("alpha.toml", &agent("Alpha Dental", "+15035550100", "")),
            (
                "beta.toml",
                &agent(
                    "Beta Dental",
                    "+15035550101",
                    "[providers]\ntts = \"festival\"\n",
                ),
            ),
        ],
    );
    let mut factory = FakeFactory::new(["instant", "flite"]);
    let e = load_agents_dir_with_providers(&dir, &mut process_defaults(), &mut factory)
        .expect_err("festival is not a provider")
        .to_string();
    assert!(
        e.contains("beta.toml")
            && e.contains("providers.tts = \"festival\"")
            && e.contains("known: instant, flite"),
        "{e}"
    );

    let dir = agents_dir(
        "unavailable",
        &[(
            "alpha.toml",
            &agent(
                "Alpha Dental",
                "+15035550100",
                "[providers]\ntts = \"openai\"\n",
            ),
        )],
    );
    let mut factory = factory.unavailable("openai", "OPENAI_API_KEY is not set");
    let e = load_agents_dir_with_providers(&dir, &mut process_defaults(), &mut factory)
        .expect_err("openai cannot start without a key")
        .to_string();
    assert!(
        e.contains("alpha.toml")
            && e.contains("providers.tts = \"openai\" cannot start: OPENAI_API_KEY is not set"),
        "{e}"
    );
}
