//! Conversation tests against the demo agent and an agent with no facts.
#![allow(clippy::unwrap_used)]

mod empty;
mod facts;
mod flows;
mod hours;
mod props;

use std::path::Path;
use std::sync::Arc;

use super::{LocalTime, Receptionist, Reply};
use crate::agent::{AgentProfile, Weekday, load_agent_file};

/// The demo dental practice from `agents/`.
pub(super) fn demo() -> Arc<AgentProfile> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/bright-smile-dental.toml");
    Arc::new(load_agent_file(&path).expect("the demo agent loads"))
}

/// An agent that states nothing but its name.
pub(super) fn empty() -> Arc<AgentProfile> {
    Arc::new(toml::from_str("name = \"Front desk\"").expect("a minimal profile parses"))
}

pub(super) fn at(weekday: Weekday, h: u16, m: u16) -> Option<LocalTime> {
    Some(LocalTime {
        weekday,
        minute: h * 60 + m,
    })
}

/// One fresh turn.
pub(super) fn ask(profile: &Arc<AgentProfile>, utterance: &str) -> Reply {
    Receptionist::new(profile.clone()).respond(utterance, None)
}
