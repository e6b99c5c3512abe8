//! The built-in mission dialogue: [`MissionPolicy`] behind the [`Dialogue`] trait, for outbound calls
//! that carry a task.

use std::sync::Arc;

use crate::agent::AgentProfile;
use crate::dialogue::{LocalTime, Mission, MissionPolicy, Reply};

use super::{Dialogue, ReplyPart, ReplyStream, ready_reply};

/// A mission dialogue for `agent`, which names itself by its business name (else its own name).
pub fn start(agent: Arc<AgentProfile>, mission: Mission) -> Box<dyn Dialogue> {
    let speaker = agent
        .facts
        .business_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| agent.name.clone());
    Box::new(MissionDialogue(MissionPolicy::new(mission, speaker)))
}

#[derive(Debug)]
struct MissionDialogue(MissionPolicy);

fn stream(reply: Reply) -> ReplyStream {
    let mut parts = vec![ReplyPart::Say(reply.text)];
    parts.extend(reply.actions.into_iter().map(ReplyPart::Do));
    ready_reply(parts)
}

impl Dialogue for MissionDialogue {
    fn greeting(&mut self) -> ReplyStream {
        stream(self.0.greeting())
    }

    fn respond(&mut self, transcript: &str, _now: Option<LocalTime>) -> ReplyStream {
        stream(self.0.respond(transcript))
    }

    fn dtmf(&mut self, _digit: char, _now: Option<LocalTime>) -> Option<ReplyStream> {
        // A mission asks in words; key presses carry no answer.
        None
    }

    fn interrupted(&mut self, _heard: &str) {
        // The policy's next turn does not depend on how much of the last one was heard.
    }

    fn beep(&mut self) -> Option<ReplyStream> {
        self.0.on_beep().map(stream)
    }
}
