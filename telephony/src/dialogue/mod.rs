//! The default dialogue of a phone agent: a deterministic receptionist grounded in the agent's facts.
//!
//! No language model ships with Dialtone, so this policy answers every call that does not name an LLM
//! provider. It answers from the profile's structured facts and documents only; when a fact is absent it
//! says so and offers a message, so a caller never hears an invented hour, price or name. Beyond answers
//! it takes messages and appointment requests by slot filling, transfers to a person or on an
//! emergency, and ends the call when the caller is done.
//!
//! Sans-IO like the rest of the call: no clock (local time comes in as [`LocalTime`]), no I/O, and each
//! turn is a pure function of the profile, the conversation so far and the turn.

mod answers;
mod catalog;
mod cues;
mod extract;
mod grounding;
mod hours;
mod intent;
mod knowledge;
mod mission;
mod reply;
mod slots;
mod spoken;
mod staff;
mod text;
mod when;
mod words;

#[cfg(test)]
mod tests;

pub use mission::{Mission, MissionOutcome, MissionPolicy, VoicemailPolicy};
pub use reply::{Action, Booking, LocalTime, Message, Reply, TransferReason};

use std::sync::Arc;

use crate::agent::AgentProfile;
use answers::Said;
use catalog::Catalog;
use cues::{is_cancel, is_no, is_yes};
use grounding::without_offer;
use intent::{Intent, classify};
use knowledge::KnowledgeIndex;
use slots::{Ctx, Flow, FlowKind, Step};
use text::{Utterance, tokenize};

/// What the last reply offered, so "yes" or "no" on the next turn means something.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Offer {
    /// Take a message, optionally about this.
    Message { about: Option<String> },
    /// Request an appointment, optionally for this.
    Booking { reason: Option<String> },
    /// A message, or a person when transfers exist.
    MessageOrTransfer,
    /// A message for someone, or an appointment.
    MessageOrBooking { recipient: Option<String> },
    /// "Is there anything else?"
    AnythingElse,
}

/// Longest turn read, in characters.
const MAX_UTTERANCE_CHARS: usize = 1000;

const NOT_CAUGHT: &str = "Sorry, I didn't catch that.";
const ANYTHING_ELSE: &str = "Is there anything else I can help you with?";

/// The receptionist for one call. Cheap to build (it indexes the profile's documents once) and owned
/// by the call's task.
#[derive(Debug)]
pub struct Receptionist {
    profile: Arc<AgentProfile>,
    catalog: Catalog,
    knowledge: KnowledgeIndex,
    business_words: Vec<String>,
    caller_number: Option<String>,
    flow: Option<Flow>,
    offer: Option<Offer>,
    /// Consecutive turns not understood.
    misses: u8,
    last_text: String,
    /// The business's numbers are North American.
    nanp: bool,
    last_service: Option<usize>,
    follow_hours: bool,
}

impl Receptionist {
    /// Builds the per-call policy: indexes the documents and the names in the facts.
    pub fn new(profile: Arc<AgentProfile>) -> Self {
        let catalog = Catalog::build(&profile.facts);
        let knowledge = KnowledgeIndex::build(&profile.documents);
        let business_words = profile
            .facts
            .business_name
            .as_deref()
            .map(tokenize)
            .unwrap_or_default();
        let nanp = profile
            .facts
            .phones
            .iter()
            .chain(&profile.phone_numbers)
            .any(|n| n.starts_with("+1"));
        Self {
            nanp,
            profile,
            catalog,
            knowledge,
            business_words,
            caller_number: None,
            flow: None,
            offer: None,
            misses: 0,
            last_text: String::new(),
            last_service: None,
            follow_hours: false,
        }
    }

    /// The caller id (E.164), offered as the callback number so the caller need not say it.
    pub fn with_caller_number(mut self, number: Option<String>) -> Self {
        self.caller_number = number.filter(|n| !n.trim().is_empty());
        self
    }

    /// The first words on answering.
    pub fn greeting(&mut self) -> Reply {
        let text = self.profile.greeting_text();
        self.last_text = text.clone();
        say(text)
    }

    /// One caller turn (an STT final transcript). Never panics; the reply text is never empty.
    pub fn respond(&mut self, utterance: &str, now: Option<LocalTime>) -> Reply {
        // A spoken turn is a few sentences; anything longer is a runaway transcript, cut to bound the work.
        let end = utterance
            .char_indices()
            .nth(MAX_UTTERANCE_CHARS)
            .map_or(utterance.len(), |(i, _)| i);
        let u = Utterance::parse(&utterance[..end]);
        let mut reply = self.turn(&u, now);
        if reply.text.trim().is_empty() {
            reply.text = NOT_CAUGHT.to_owned();
        }
        self.last_text = reply.text.clone();
        reply
    }

    /// A keypad digit. Collects the callback number while one is asked for (`None` until it is complete);
    /// outside a flow, 0 asks for a person as on any phone menu.
    pub fn on_dtmf(&mut self, digit: char, _now: Option<LocalTime>) -> Option<Reply> {
        let reply = if let Some(flow) = self.flow.as_mut() {
            match flow.dtmf(digit)? {
                Step::Ask(text) => say(text),
                Step::Done { text, action } => {
                    self.flow = None;
                    self.offer = Some(Offer::AnythingElse);
                    Reply {
                        text,
                        actions: vec![action],
                    }
                }
            }
        } else if digit == '0' {
            self.human()
        } else {
            return None;
        };
        tracing::debug!(
            digit_kind = "dtmf",
            in_flow = self.flow.is_some(),
            "dialogue keypad turn"
        );
        self.last_text = reply.text.clone();
        Some(reply)
    }

    fn ctx(&self, now: Option<LocalTime>) -> Ctx<'_> {
        Ctx {
            facts: &self.profile.facts,
            catalog: &self.catalog,
            now,
            business: &self.business_words,
        }
    }

    fn turn(&mut self, u: &Utterance, now: Option<LocalTime>) -> Reply {
        if u.is_empty() {
            tracing::debug!(in_flow = self.flow.is_some(), "dialogue turn not caught");
            return self.missed(NOT_CAUGHT);
        }
        let intent = classify(u, &self.catalog, self.follow_hours);
        tracing::debug!(?intent, in_flow = self.flow.is_some(), offer = ?self.offer.as_ref().map(std::mem::discriminant), "dialogue turn");
        self.follow_hours = false;
        if let Some(flow) = self.flow.take() {
            self.misses = 0;
            return self.flow_turn(flow, u, intent, now);
        }
        if let Some(offer) = self.offer.take()
            && let Some(reply) = self.offer_turn(offer, u, intent, now)
        {
            self.misses = 0;
            return reply;
        }
        self.intent_turn(u, intent, now)
    }

    /// A turn not understood: a short apology, and after two in a row, a way out.
    fn missed(&mut self, first: &str) -> Reply {
        self.misses = self.misses.saturating_add(1);
        if let Some(flow) = &self.flow {
            return say(format!("{NOT_CAUGHT} {}", flow.prompt()));
        }
        if self.misses < 2 {
            return say(first);
        }
        self.misses = 0;
        if self.profile.transfer_number.is_some() {
            self.offer = Some(Offer::MessageOrTransfer);
            say(
                "I'm sorry, I'm having trouble helping with that. I can take a message and have someone call you back, or connect you with someone at the office. Which would you prefer?",
            )
        } else {
            self.offer = Some(Offer::Message { about: None });
            say(
                "I'm sorry, I'm having trouble helping with that. I can take a message and have someone call you back. Would you like to leave a message?",
            )
        }
    }

    fn flow_turn(
        &mut self,
        mut flow: Flow,
        u: &Utterance,
        intent: Intent,
        now: Option<LocalTime>,
    ) -> Reply {
        let says_bye = u.has_any(&["bye", "goodbye", "byebye"]);
        if !(flow.confirming() && is_yes(u)) {
            match intent {
                Intent::Emergency => return self.emergency(u),
                Intent::Human => return self.human(),
                Intent::Goodbye if says_bye => {
                    return self.goodbye("Okay, I won't send that.");
                }
                _ if is_cancel(u) => {
                    self.offer = Some(Offer::AnythingElse);
                    let what = match flow.kind() {
                        FlowKind::Booking => "the appointment request",
                        FlowKind::Message => "the message",
                    };
                    return say(format!("Okay, I've cancelled {what}. {ANYTHING_ELSE}"));
                }
                Intent::Repeat => {
                    let text = self.last_text.clone();
                    self.flow = Some(flow);
                    return say(text);
                }
                _ => {}
            }
            let ctx = self.ctx(now);
            let fills = flow.answers_slot(u, &ctx);
            let fact_first = intent.is_fact() && (flow.asking() || !fills);
            if u.question && (fact_first || !fills) {
                let answer = if intent.is_fact() {
                    Some(without_offer(self.fact(u, intent, now)))
                } else {
                    let passages = self.knowledge.answer(&u.clean);
                    (!passages.is_empty()).then(|| passages.join(" "))
                };
                if let Some(answer) = answer {
                    let text = format!("{answer} {}", flow.prompt());
                    self.flow = Some(flow);
                    return say(text);
                }
            }
        }
        let ctx = self.ctx(now);
        match flow.turn(u, &ctx) {
            Step::Ask(text) => {
                self.flow = Some(flow);
                say(text)
            }
            Step::Done { text, action } => {
                tracing::debug!(kind = ?flow.kind(), "dialogue request confirmed");
                if says_bye {
                    let mut reply = self.goodbye("");
                    reply.actions.insert(0, action);
                    return reply;
                }
                self.offer = Some(Offer::AnythingElse);
                Reply {
                    text,
                    actions: vec![action],
                }
            }
        }
    }

    /// "Yes" or "no" to what the last reply offered; `None` when the turn is about something else.
    fn offer_turn(
        &mut self,
        offer: Offer,
        u: &Utterance,
        intent: Intent,
        now: Option<LocalTime>,
    ) -> Option<Reply> {
        let yes = intent == Intent::Yes
            || (is_yes(u) && matches!(intent, Intent::Unknown | Intent::Thanks));
        let no = intent == Intent::No
            || (is_no(u) && matches!(intent, Intent::Unknown | Intent::Thanks));
        if offer == Offer::AnythingElse {
            if no {
                return Some(self.goodbye(""));
            }
            return yes.then(|| say("Sure. What can I help you with?"));
        }
        if no {
            self.offer = Some(Offer::AnythingElse);
            return Some(say(format!("Okay. {ANYTHING_ELSE}")));
        }
        if !yes {
            return None;
        }
        Some(match offer {
            Offer::Message { about } => self.start(FlowKind::Message, u, None, about, "Sure.", now),
            Offer::MessageOrTransfer => self.start(
                FlowKind::Message,
                u,
                None,
                None,
                "Sure, I'll take a message.",
                now,
            ),
            Offer::MessageOrBooking { recipient } => {
                let intro = match &recipient {
                    Some(r) => format!("Sure, I can take a message for {r}."),
                    None => "Sure, I can take a message.".to_owned(),
                };
                self.start(FlowKind::Message, u, recipient, None, &intro, now)
            }
            Offer::Booking { reason } => self.start(
                FlowKind::Booking,
                u,
                None,
                reason,
                "Great. The office will call you back to confirm a time.",
                now,
            ),
            Offer::AnythingElse => return None,
        })
    }

    fn start(
        &mut self,
        kind: FlowKind,
        u: &Utterance,
        recipient: Option<String>,
        reason: Option<String>,
        intro: &str,
        now: Option<LocalTime>,
    ) -> Reply {
        let mut flow = Flow::new(kind, self.caller_number.clone(), recipient, reason)
            .north_american(self.nanp);
        let ctx = self.ctx(now);
        let text = flow.open(u, &ctx, intro);
        self.flow = Some(flow);
        say(text)
    }

    fn intent_turn(&mut self, u: &Utterance, intent: Intent, now: Option<LocalTime>) -> Reply {
        if intent != Intent::Unknown {
            self.misses = 0;
        }
        let business = self.business_name();
        match intent {
            Intent::Empty => self.missed(NOT_CAUGHT),
            Intent::Goodbye => self.goodbye(""),
            Intent::Thanks | Intent::No => {
                self.offer = Some(Offer::AnythingElse);
                let lead = if intent == Intent::Thanks { "You're welcome." } else { "Okay." };
                say(format!("{lead} {ANYTHING_ELSE}"))
            }
            Intent::Yes => say("Okay. What can I help you with?"),
            Intent::Repeat => {
                let text = if self.last_text.is_empty() { self.profile.greeting_text() } else { self.last_text.clone() };
                say(text)
            }
            Intent::Greeting => say("Hello! How can I help you today?"),
            Intent::Human => self.human(),
            Intent::Emergency => self.emergency(u),
            Intent::Booking => self.start(
                FlowKind::Booking,
                u,
                None,
                None,
                "I can request an appointment for you, and the office will call you back to confirm a time.",
                now,
            ),
            Intent::ChangeAppointment => self.start(
                FlowKind::Message,
                u,
                None,
                Some(u.clean.clone()),
                "I can't see the appointment book from here, but I can take a message for the front desk about your appointment.",
                now,
            ),
            Intent::Message => {
                let recipient = self
                    .catalog
                    .staff_named(u)
                    .and_then(|i| self.profile.facts.staff.get(i))
                    .map(staff::full_title);
                let intro = match &recipient {
                    Some(r) => format!("Sure, I can take a message for {r}."),
                    None => "Sure, I can take a message.".to_owned(),
                };
                self.start(FlowKind::Message, u, recipient, None, &intro, now)
            }
            Intent::Symptom => {
                self.offer = Some(Offer::Booking {
                    reason: Some(u.clean.clone()),
                });
                say("I'm sorry to hear that. I can request an appointment, and the office will call you back to confirm a time. If it's an emergency, just tell me. Would you like me to request an appointment?")
            }
            Intent::Availability => {
                self.offer = Some(Offer::Booking { reason: None });
                say("I can't see the schedule from here, but I can request an appointment, and the office will call you back with a time. Would you like me to do that?")
            }
            Intent::Account => {
                self.offer = Some(Offer::Message {
                    about: Some(u.clean.clone()),
                });
                say("I can't see account details from here, but I can take a message and have someone call you back about it. Would you like to leave a message?")
            }
            Intent::Identity => say(format!(
                "I'm the automated receptionist{}. {}",
                business.as_ref().map(|b| format!(" for {b}")).unwrap_or_default(),
                answers::capabilities(&self.profile.facts, self.profile.transfer_number.is_some())
            )),
            Intent::Unknown => {
                let passages = self.knowledge.answer(&u.clean);
                if !passages.is_empty() {
                    self.misses = 0;
                    return say(passages.join(" "));
                }
                let reply = self.missed(answers::NO_INFO);
                if self.offer.is_none() {
                    self.offer = Said::no_info(u).offer;
                }
                reply
            }
            _ => {
                if let Some([(a, first), (b, second)]) = self.two_questions(u) {
                    let one = without_offer(self.fact(&first, a, now));
                    let two = self.fact(&second, b, now);
                    self.offer = two.offer;
                    return say(format!("{one} {}", two.text));
                }
                let said = self.fact(u, intent, now);
                self.offer = said.offer;
                say(said.text)
            }
        }
    }

    fn business_name(&self) -> Option<String> {
        self.profile.facts.business_name.clone()
    }

    fn goodbye(&mut self, lead: &str) -> Reply {
        self.flow = None;
        self.offer = None;
        let thanks = match self.business_name() {
            Some(b) => format!("Thank you for calling {b}. Have a great day. Goodbye."),
            None => "Thank you for calling. Have a great day. Goodbye.".to_owned(),
        };
        let text = if lead.is_empty() {
            thanks
        } else {
            format!("{lead} {thanks}")
        };
        Reply {
            text,
            actions: vec![Action::EndCall],
        }
    }

    fn human(&mut self) -> Reply {
        self.flow = None;
        match self.profile.transfer_number.clone() {
            Some(to) => {
                self.offer = None;
                Reply {
                    text: "Of course. I'll connect you with someone at the office now.".to_owned(),
                    actions: vec![Action::Transfer {
                        to,
                        reason: TransferReason::Person,
                    }],
                }
            }
            None => {
                self.offer = Some(Offer::Message { about: None });
                say(
                    "I'm not able to transfer calls, but I can take a message and have someone call you back. Would you like to leave a message?",
                )
            }
        }
    }

    fn emergency(&mut self, u: &Utterance) -> Reply {
        self.flow = None;
        self.offer = None;
        let advice = match &self.profile.facts.emergency {
            Some(e) if !e.trim().is_empty() => e.trim().to_owned(),
            _ => "If this is life-threatening, please hang up and call emergency services."
                .to_owned(),
        };
        match self.profile.transfer_number.clone() {
            Some(to) => Reply {
                text: format!("{advice} I'm connecting you with the office now."),
                actions: vec![Action::Transfer {
                    to,
                    reason: TransferReason::Emergency,
                }],
            },
            None => {
                let mut flow = Flow::new(
                    FlowKind::Message,
                    self.caller_number.clone(),
                    None,
                    Some(format!("Urgent: {}", u.clean)),
                )
                .north_american(self.nanp);
                let empty = Utterance::parse("");
                let ctx = self.ctx(None);
                let text = flow.open(
                    &empty,
                    &ctx,
                    &format!(
                        "{advice} I can take an urgent message and have someone call you back."
                    ),
                );
                self.flow = Some(flow);
                say(text)
            }
        }
    }
}

fn say(text: impl Into<String>) -> Reply {
    Reply {
        text: text.into(),
        actions: Vec::new(),
    }
}
