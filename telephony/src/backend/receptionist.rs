//! The built-in dialogue: the deterministic receptionist policy as a [`DialogueProvider`].

use std::sync::Arc;

use crate::agent::AgentProfile;
use crate::dialogue::{LocalTime, Receptionist, Reply};

use super::{Dialogue, DialogueProvider, ReplyPart, ReplyStream, ready_reply};

/// Runs [`Receptionist`] for each call. Needs no model and no network.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReceptionistProvider;

impl DialogueProvider for ReceptionistProvider {
    fn start(&self, agent: Arc<AgentProfile>, caller: Option<String>) -> Box<dyn Dialogue> {
        Box::new(ReceptionistDialogue(
            Receptionist::new(agent).with_caller_number(caller),
        ))
    }
}

#[derive(Debug)]
struct ReceptionistDialogue(Receptionist);

fn stream(reply: Reply) -> ReplyStream {
    let mut parts = vec![ReplyPart::Say(reply.text)];
    parts.extend(reply.actions.into_iter().map(ReplyPart::Do));
    ready_reply(parts)
}

impl Dialogue for ReceptionistDialogue {
    fn greeting(&mut self) -> ReplyStream {
        stream(self.0.greeting())
    }

    fn respond(&mut self, transcript: &str, now: Option<LocalTime>) -> ReplyStream {
        stream(self.0.respond(transcript, now))
    }

    fn dtmf(&mut self, digit: char, now: Option<LocalTime>) -> Option<ReplyStream> {
        self.0.on_dtmf(digit, now).map(stream)
    }

    fn interrupted(&mut self, _heard: &str) {
        // The policy answers each turn from the facts; what was cut off needs no repair.
    }
}
