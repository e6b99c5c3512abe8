//! The outbound mission: the agent calls someone with one task, says who it is and why it calls, asks,
//! confirms what it heard, and ends politely. An answering machine (a greeting full of voicemail cues,
//! a long monologue as the first thing heard, or its beep before any answer) gets a short message, or a
//! hang-up, per the mission's policy.
//!
//! Sans-IO and deterministic like the receptionist: each turn is a pure function of the task, the state
//! and the transcript of the turn.

use serde::{Deserialize, Serialize};

use super::cues::{is_no, is_yes};
use super::reply::{Action, Reply};
use super::text::Utterance;

/// What the agent calls to get done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mission {
    /// The task in the requester's words ("Ask whether they have a table for four at 7 pm tonight").
    pub task: String,
    /// What to do when an answering machine picks up.
    pub on_voicemail: VoicemailPolicy,
}

/// What a mission does at an answering machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoicemailPolicy {
    /// Leave a short message saying who called and why, then hang up.
    #[default]
    LeaveMessage,
    /// Hang up without a message (the caller retries later).
    HangUp,
}

/// How a mission call went, as the dialogue saw it; carried in [`Action::MissionResult`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissionOutcome {
    /// The callee answered the question (and confirmed it, or corrected it).
    Answered,
    /// The callee would not or could not help.
    Declined,
    /// An answering machine: a message was left, or not, per the policy.
    Voicemail,
    /// The callee never gave an answer the agent could use.
    Unanswered,
}

/// Words a voicemail greeting uses and a person answering the phone rarely does.
const VOICEMAIL_CUES: &[&str] = &[
    "leave a message",
    "leave your message",
    "leave me a message",
    "after the beep",
    "after the tone",
    "at the tone",
    "not available",
    "unavailable",
    "can not come to the phone",
    "can not take your call",
    "voicemail",
    "voice mail",
    "mailbox",
    "beep",
    "record your message",
];

/// Words in a first turn that long, without a pause, come from a recording, not a person.
const MONOLOGUE_WORDS: usize = 35;

/// Turns a callee may spend without answering before the agent gives up politely.
const MAX_MISSES: u8 = 2;

#[derive(Debug, Clone, PartialEq)]
enum State {
    /// The question is out; waiting for the answer. `misses` turns went by without one.
    Asking { misses: u8 },
    /// The answer was read back; waiting for yes or no.
    Confirming { answer: String },
    /// Goodbye said (perhaps cut off), with the result it carried.
    Done(Action),
}

/// The mission policy for one call.
#[derive(Debug, Clone)]
pub struct MissionPolicy {
    mission: Mission,
    /// How the agent names itself ("Bright Smile Dental").
    speaker: String,
    state: State,
    heard_turns: u32,
}

impl MissionPolicy {
    /// The policy for `mission`, spoken by an agent that calls itself `speaker`.
    pub fn new(mission: Mission, speaker: impl Into<String>) -> Self {
        Self {
            mission,
            speaker: speaker.into(),
            state: State::Asking { misses: 0 },
            heard_turns: 0,
        }
    }

    /// The opening: who is calling, why, and the question.
    pub fn greeting(&self) -> Reply {
        Reply {
            text: format!(
                "Hello, this is an automated assistant calling on behalf of {}. {} {}",
                self.speaker,
                self.purpose(),
                self.question()
            ),
            actions: Vec::new(),
        }
    }

    /// The answer to one callee turn.
    pub fn respond(&mut self, transcript: &str) -> Reply {
        let first = self.heard_turns == 0;
        self.heard_turns += 1;
        let u = Utterance::parse(transcript);
        if first && is_answering_machine(&u) {
            return self.voicemail();
        }
        let unanswered = Action::MissionResult {
            outcome: MissionOutcome::Unanswered,
            answer: None,
            message_left: false,
        };
        match std::mem::replace(&mut self.state, State::Done(unanswered)) {
            // The callee spoke over the goodbye, whose result went unsaid with it: say it again.
            State::Done(result) => {
                self.state = State::Done(result.clone());
                Reply {
                    text: "Thank you again. Goodbye.".into(),
                    actions: vec![result, Action::EndCall],
                }
            }
            State::Asking { misses } => {
                if is_non_answer(&u) {
                    if misses >= MAX_MISSES {
                        return self.end(
                            "I'm sorry to have bothered you. Thank you for your time. Goodbye.",
                            MissionOutcome::Unanswered,
                            None,
                        );
                    }
                    self.state = State::Asking { misses: misses + 1 };
                    return Reply {
                        text: format!(
                            "Sorry, let me repeat. {} {}",
                            self.purpose(),
                            self.question()
                        ),
                        actions: Vec::new(),
                    };
                }
                if is_decline(&u) {
                    return self.end(
                        "I understand. Thank you for your time. Goodbye.",
                        MissionOutcome::Declined,
                        Some(transcript.trim().to_owned()),
                    );
                }
                let answer = transcript.trim().to_owned();
                let text = format!(
                    "Thank you. Just to confirm, you said: {}. Is that right?",
                    answer.trim_end_matches(['.', '!', '?'])
                );
                self.state = State::Confirming { answer };
                Reply {
                    text,
                    actions: Vec::new(),
                }
            }
            State::Confirming { answer } => {
                if is_no(&u) && u.tokens.len() <= 4 {
                    self.state = State::Asking { misses: 0 };
                    return Reply {
                        text: "Sorry about that. Could you tell me again?".into(),
                        actions: Vec::new(),
                    };
                }
                // "Yes", or a correction in its own words: either way what the callee said last stands.
                let answer = if is_yes(&u) || u.is_empty() {
                    answer
                } else {
                    transcript.trim().to_owned()
                };
                self.end(
                    "Great, thank you very much for your help. Have a nice day. Goodbye.",
                    MissionOutcome::Answered,
                    Some(answer),
                )
            }
        }
    }

    /// An answering machine's beep: before any answer it means voicemail; later it is ignored.
    pub fn on_beep(&mut self) -> Option<Reply> {
        match self.state {
            State::Asking { .. } => Some(self.voicemail()),
            State::Confirming { .. } | State::Done(_) => None,
        }
    }

    fn purpose(&self) -> String {
        let task = self.mission.task.trim().trim_end_matches(['.', '!']);
        format!("I'm calling about the following: {task}.")
    }

    fn question(&self) -> &'static str {
        if self.mission.task.trim_end().ends_with('?') {
            "Could you help me with that?"
        } else {
            "Could you help me with that, please?"
        }
    }

    fn voicemail(&mut self) -> Reply {
        let result = Action::MissionResult {
            outcome: MissionOutcome::Voicemail,
            answer: None,
            message_left: self.mission.on_voicemail == VoicemailPolicy::LeaveMessage,
        };
        self.state = State::Done(result.clone());
        let text = match self.mission.on_voicemail {
            VoicemailPolicy::LeaveMessage => format!(
                "Hello, this is an automated assistant calling on behalf of {}. {} We will try \
                 again later. Thank you, goodbye.",
                self.speaker,
                self.purpose()
            ),
            VoicemailPolicy::HangUp => "Goodbye.".to_owned(),
        };
        Reply {
            text,
            actions: vec![result, Action::EndCall],
        }
    }

    fn end(&mut self, text: &str, outcome: MissionOutcome, answer: Option<String>) -> Reply {
        let result = Action::MissionResult {
            outcome,
            answer,
            message_left: false,
        };
        self.state = State::Done(result.clone());
        Reply {
            text: text.to_owned(),
            actions: vec![result, Action::EndCall],
        }
    }
}

/// A voicemail greeting: its cues, or a first turn too long to be a person picking up.
fn is_answering_machine(u: &Utterance) -> bool {
    u.tokens.len() >= MONOLOGUE_WORDS || VOICEMAIL_CUES.iter().any(|cue| u.phrase_any(&[cue]))
}

/// A turn that does not answer: a greeting, a "who is this", a request to repeat, or nothing.
fn is_non_answer(u: &Utterance) -> bool {
    if u.is_empty() {
        return true;
    }
    let greeting_only = u.tokens.len() <= 3
        && u.tokens.iter().all(|t| {
            matches!(
                t.as_str(),
                "hello"
                    | "hi"
                    | "hey"
                    | "yes"
                    | "yeah"
                    | "speaking"
                    | "who"
                    | "is"
                    | "this"
                    | "what"
                    | "sorry"
                    | "pardon"
                    | "huh"
                    | "good"
                    | "morning"
                    | "afternoon"
                    | "evening"
            )
        });
    greeting_only
        || u.phrase_any(&[
            "who is this",
            "who is calling",
            "can you repeat",
            "could you repeat",
            "say that again",
            "did not catch",
            "what was that",
        ])
}

/// The callee will not or cannot help.
fn is_decline(u: &Utterance) -> bool {
    u.phrase_any(&[
        "not interested",
        "can not help",
        "do not call",
        "stop calling",
        "we do not give",
        "no comment",
        "can not tell you",
        "not able to help",
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(task: &str) -> MissionPolicy {
        MissionPolicy::new(
            Mission {
                task: task.into(),
                on_voicemail: VoicemailPolicy::LeaveMessage,
            },
            "Bright Smile Dental",
        )
    }

    fn result(reply: &Reply) -> Option<(&MissionOutcome, Option<&str>)> {
        reply.actions.iter().find_map(|a| match a {
            Action::MissionResult {
                outcome, answer, ..
            } => Some((outcome, answer.as_deref())),
            _ => None,
        })
    }

    #[test]
    fn introduces_itself_asks_confirms_and_ends_politely() {
        let mut p = policy("Ask whether they have a table for four at 7 pm tonight");
        let hello = p.greeting();
        assert!(hello.text.contains("Bright Smile Dental"), "{hello:?}");
        assert!(hello.text.contains("a table for four at 7 pm tonight"));
        let confirm = p.respond("Yes, we have a table for four at seven.");
        assert!(
            confirm.text.contains("a table for four at seven"),
            "{confirm:?}"
        );
        assert!(confirm.actions.is_empty());
        let bye = p.respond("Yes, that's right.");
        assert_eq!(
            result(&bye),
            Some((
                &MissionOutcome::Answered,
                Some("Yes, we have a table for four at seven.")
            ))
        );
        assert_eq!(bye.actions.last(), Some(&Action::EndCall));
        assert!(bye.text.contains("Goodbye"));
        // Spoken over, the goodbye's result is lost with it; the next turn carries it again.
        let again = p.respond("hello?");
        assert_eq!(result(&again), result(&bye));
        assert_eq!(again.actions.last(), Some(&Action::EndCall));
    }

    #[test]
    fn a_hello_first_gets_the_purpose_again_and_a_no_asks_again() {
        let mut p = policy("Ask what time they close today?");
        let again = p.respond("Hello?");
        assert!(again.text.contains("what time they close"), "{again:?}");
        assert!(again.actions.is_empty());
        p.respond("We close at six.");
        let retry = p.respond("No.");
        assert!(retry.text.contains("tell me again"), "{retry:?}");
        p.respond("Five thirty on weekdays.");
        let bye = p.respond("A correction: five thirty, six on Fridays.");
        assert_eq!(
            result(&bye),
            Some((
                &MissionOutcome::Answered,
                Some("A correction: five thirty, six on Fridays.")
            ))
        );
    }

    #[test]
    fn answering_machines_get_a_short_message_or_a_hang_up() {
        let mut p = policy("Ask about opening hours");
        let msg = p.respond("Hi, you've reached Sam. Please leave a message after the beep.");
        assert_eq!(result(&msg).map(|r| r.0), Some(&MissionOutcome::Voicemail));
        assert!(msg.text.contains("opening hours"), "{msg:?}");
        assert_eq!(msg.actions.last(), Some(&Action::EndCall));

        let long = "thank you for calling ".repeat(10);
        let mut p = MissionPolicy::new(
            Mission {
                task: "Ask about opening hours".into(),
                on_voicemail: VoicemailPolicy::HangUp,
            },
            "Acme",
        );
        let bye = p.respond(&long);
        assert_eq!(bye.text, "Goodbye.");
        assert!(matches!(
            bye.actions.first(),
            Some(Action::MissionResult {
                message_left: false,
                ..
            })
        ));
        // Only the first thing heard can be a machine: later monologues are answers.
        let mut p = policy("Ask about opening hours");
        p.respond("Hello?");
        let confirm = p.respond(&long);
        assert!(confirm.text.starts_with("Thank you. Just to confirm"));
    }

    #[test]
    fn a_beep_before_any_answer_is_voicemail_and_later_ignored() {
        let mut p = policy("Ask about opening hours");
        let msg = p.on_beep().expect("a message");
        assert_eq!(result(&msg).map(|r| r.0), Some(&MissionOutcome::Voicemail));
        assert!(p.on_beep().is_none(), "said once");
        let mut p = policy("Ask about opening hours");
        p.respond("We open at nine.");
        assert!(p.on_beep().is_none());
    }

    #[test]
    fn gives_up_after_repeated_non_answers_and_accepts_a_refusal() {
        let mut p = policy("Ask about prices");
        p.respond("Hello?");
        p.respond("Who is this?");
        let bye = p.respond("What?");
        assert_eq!(result(&bye).map(|r| r.0), Some(&MissionOutcome::Unanswered));
        let mut p = policy("Ask about prices");
        let bye = p.respond("Sorry, we don't give prices over the phone.");
        assert_eq!(result(&bye).map(|r| r.0), Some(&MissionOutcome::Declined));
    }
}
