//! Which source answers a fact question: the structured facts, or the documents when the question
//! names a topic but asks what a page says; and two questions in one turn.

use super::answers::{self, Said};
use super::intent::{Intent, classify};
use super::text::Utterance;
use super::{LocalTime, Offer, Receptionist, hours, staff};

impl Receptionist {
    /// Answers a fact question; also used mid-flow, where the offer is dropped.
    pub(super) fn fact(&mut self, u: &Utterance, intent: Intent, now: Option<LocalTime>) -> Said {
        let facts = &self.profile.facts;
        let plain = |text: String| Said { text, offer: None };
        match intent {
            Intent::Hours => {
                self.follow_hours = true;
                match hours::answer(u, facts, now) {
                    Some(text) if text.contains("I don't have") => Said {
                        text,
                        offer: Some(Offer::Message { about: None }),
                    },
                    Some(text) => plain(text),
                    None => Said::no_info(u),
                }
            }
            Intent::Holiday => Said::offering(
                "I'm sorry, I don't have our holiday hours. I can take a message and have someone call you back.",
                Offer::Message {
                    about: answers::question_note(u),
                },
            ),
            Intent::Address => answers::address(facts, u),
            Intent::Phone => answers::phone(facts, u),
            Intent::Email => answers::email(facts, u),
            Intent::Website => answers::website(facts, u),
            Intent::Contact => answers::contact(facts, u),
            Intent::Staff => staff::staff(facts, &self.catalog, u),
            Intent::Services => answers::services(facts, u),
            Intent::Service(i) => {
                self.last_service = Some(i);
                // "What age do you start seeing children?" names a service but asks what a document says.
                let open_question = u.has_any(&["what", "when", "how", "why", "which"])
                    && !u.has_any(&["much", "cost", "price", "charge", "fee"]);
                let passages = if open_question {
                    self.knowledge.answer(&u.clean)
                } else {
                    Vec::new()
                };
                if passages.is_empty() {
                    answers::service(facts, i, u)
                } else {
                    plain(passages.join(" "))
                }
            }
            Intent::Price => {
                // "Is there a fee if I miss an appointment?" is for the documents, not the price list.
                let passages = self.knowledge.answer(&u.clean);
                if passages.is_empty() {
                    answers::prices(facts, u, self.last_service)
                } else {
                    plain(passages.join(" "))
                }
            }
            Intent::UnlistedService => {
                let passages = self.knowledge.answer(&u.clean);
                if passages.is_empty() {
                    answers::unlisted_service(facts, u)
                } else {
                    plain(passages.join(" "))
                }
            }
            Intent::Insurance => answers::insurance(facts, &self.catalog, u),
            Intent::Financing => answers::financing(facts, u),
            Intent::Payment => answers::payment(facts, &self.catalog, u),
            Intent::BusinessName => match &facts.business_name {
                Some(b) => plain(format!("Yes, this is {b}. How can I help you?")),
                None => plain("This is the automated receptionist. How can I help you?".to_owned()),
            },
            Intent::Identity | Intent::Capabilities => plain(answers::capabilities(
                facts,
                self.profile.transfer_number.is_some(),
            )),
            _ => Said::no_info(u),
        }
    }

    /// Two fact questions joined by "and" ("where are you and when do you close?"), each answered, when
    /// the clauses ask about different facts.
    pub(super) fn two_questions(&self, u: &Utterance) -> Option<[(Intent, Utterance); 2]> {
        let t = &u.tokens;
        let ands = t
            .iter()
            .enumerate()
            .skip(2)
            .filter(|(_, w)| *w == "and")
            .take(3);
        ands.into_iter().find_map(|(i, w)| {
            if w != "and" || t.len() < i + 3 {
                return None;
            }
            let left = Utterance::parse(&format!("{}?", t[..i].join(" ")));
            let right = Utterance::parse(&format!("{}?", t[i + 1..].join(" ")));
            let a = classify(&left, &self.catalog, false);
            let b = classify(&right, &self.catalog, false);
            let answerable =
                |x: Intent| x.is_fact() && !matches!(x, Intent::Identity | Intent::Capabilities);
            let family = |x: Intent| match x {
                Intent::Service(_) | Intent::Price | Intent::Services | Intent::UnlistedService => {
                    1
                }
                _ => 0,
            };
            let distinct = std::mem::discriminant(&a) != std::mem::discriminant(&b)
                && (family(a) == 0 || family(a) != family(b));
            (answerable(a) && answerable(b) && distinct).then_some([(a, left), (b, right)])
        })
    }
}

/// A fact answer given in the middle of a flow: its closing offer question would compete with the
/// flow's own question, so it is dropped.
pub(super) fn without_offer(said: Said) -> String {
    let text = said.text;
    if said.offer.is_none() || !text.ends_with('?') {
        return text;
    }
    match text[..text.len() - 1].rfind(['.', '!']) {
        Some(end) => text[..=end].to_owned(),
        None => text,
    }
}
