//! Slot filling for appointment requests and messages: collect, read back, confirm, hand over.
//!
//! The caller can fill several slots in one turn, correct any of them at any point ("actually, my
//! number is ..."), and key the callback number on the keypad. Nothing is sent until the caller has
//! heard the read-back and said yes; a booking is always a request for staff to confirm.

use super::answers::speak_phone;
use super::catalog::Catalog;
use super::cues::{is_no, is_yes};
use super::extract::{self, Slot};
use super::spoken::{numbers_as_words, phone_digits, ranges};
use super::text::Utterance;
use super::when::{self, When};
use super::{Action, Booking, LocalTime, Message};
use crate::agent::{DayHours, Facts};

/// What the flow produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowKind {
    /// An appointment request.
    Booking,
    /// A message for a callback.
    Message,
}

/// Where the callback number came from; the caller id is read back by its last digits only.
#[derive(Debug, Clone, PartialEq)]
enum Callback {
    CallerId(String),
    Given(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Ask(Slot),
    CallerId,
    Confirm,
    Fix,
}

/// What the facts and the clock say, for checking a preferred day against the hours.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub facts: &'a Facts,
    pub catalog: &'a Catalog,
    pub now: Option<LocalTime>,
    /// Lower-case words of the business name, never taken for the caller's name.
    pub business: &'a [String],
}

/// One turn's outcome.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// Keep going: say this.
    Ask(String),
    /// Confirmed: say this and emit the action.
    Done { text: String, action: Action },
}

/// A booking or message in progress.
#[derive(Debug, Clone)]
pub(crate) struct Flow {
    kind: FlowKind,
    name: Option<String>,
    name_skipped: bool,
    callback: Option<Callback>,
    reason: Option<String>,
    when: Option<When>,
    recipient: Option<String>,
    caller_id: Option<String>,
    caller_id_declined: bool,
    stage: Stage,
    /// The business is on the North American plan, so ten keyed digits are a whole number.
    nanp: bool,
    dtmf: String,
    failures: u8,
}

/// Keyed digits that make a complete North American number (area codes start 2 to 9), so no "#" is
/// needed. Elsewhere, and for international numbers, the caller ends with "#".
fn complete_number(d: &str) -> bool {
    let area_ok = |c: Option<char>| c.is_some_and(|c| ('2'..='9').contains(&c));
    (d.len() == 10 && area_ok(d.chars().next()))
        || (d.len() == 11 && d.starts_with('1') && area_ok(d.chars().nth(1)))
}

impl Flow {
    /// A new flow; `reason` may be known already (the question a caller could not get answered).
    pub fn new(
        kind: FlowKind,
        caller_id: Option<String>,
        recipient: Option<String>,
        reason: Option<String>,
    ) -> Self {
        Self {
            kind,
            name: None,
            name_skipped: false,
            callback: None,
            reason,
            when: None,
            recipient,
            caller_id: caller_id.filter(|c| c.chars().filter(char::is_ascii_digit).count() >= 7),
            caller_id_declined: false,
            stage: Stage::Ask(Slot::Name),
            nanp: false,
            dtmf: String::new(),
            failures: 0,
        }
    }

    /// Ten keyed digits complete a number (the business is on the North American plan).
    pub fn north_american(mut self, yes: bool) -> Self {
        self.nanp = yes;
        self
    }

    /// What this flow produces.
    pub fn kind(&self) -> FlowKind {
        self.kind
    }

    /// Takes what the opening turn already says, then asks for the rest after `intro`.
    pub fn open(&mut self, u: &Utterance, ctx: &Ctx<'_>, intro: &str) -> String {
        let rejected = self.absorb(u, ctx, None).1;
        let next = rejected.unwrap_or_else(|| self.next_prompt());
        format!("{intro} {next}")
    }

    /// The question the flow is waiting on, to resume after answering something else.
    pub fn prompt(&self) -> String {
        match self.stage {
            Stage::Ask(slot) => self.slot_prompt(slot),
            Stage::CallerId => CALLER_ID_PROMPT.to_owned(),
            Stage::Confirm => self.read_back(),
            Stage::Fix => self.fix_prompt().to_owned(),
        }
    }

    /// Whether the turn holds a value for the slot being asked (so it is an answer, not a question).
    pub fn answers_slot(&self, u: &Utterance, ctx: &Ctx<'_>) -> bool {
        match self.stage {
            Stage::Ask(Slot::Name) => extract::name(u, true, ctx.business).is_some(),
            Stage::Ask(Slot::Callback) | Stage::CallerId => {
                phone_digits(&u.tokens).is_some() || is_yes(u) || is_no(u)
            }
            Stage::Ask(Slot::When) => when::parse(&u.tokens, None, ctx.now, false).is_some(),
            Stage::Ask(Slot::Reason) => !u.question,
            Stage::Confirm | Stage::Fix => is_yes(u) || is_no(u),
        }
    }

    /// Fills slots from the turn. Returns which changed and, when the preferred day is one the business is
    /// closed, what to say instead of taking it.
    fn absorb(
        &mut self,
        u: &Utterance,
        ctx: &Ctx<'_>,
        asked: Option<Slot>,
    ) -> (Vec<Slot>, Option<String>) {
        let mut changed = Vec::new();
        let mut rejected = None;
        let phone = phone_digits(&u.tokens);
        // Only a different value counts as a change: "yes, Tuesday is fine" confirms, it does not correct.
        if let Some((digits, _)) = &phone {
            let new = Some(Callback::Given(digits.clone()));
            if self.callback != new {
                self.callback = new;
                changed.push(Slot::Callback);
            }
            self.caller_id_declined = true;
        }
        if let Some(n) = extract::name(u, asked == Some(Slot::Name), ctx.business)
            && self.name.as_ref() != Some(&n)
        {
            self.name = Some(n);
            changed.push(Slot::Name);
        }
        let booking = self.kind == FlowKind::Booking;
        if booking
            && let Some(i) = ctx.catalog.staff_named(u)
            && let Some(s) = ctx.facts.staff.get(i)
        {
            self.recipient = Some(super::staff::full_title(s));
        }
        if booking
            && let Some(w) = when::parse(
                &u.tokens,
                phone.map(|(_, s)| s),
                ctx.now,
                asked == Some(Slot::When),
            )
        {
            match check_hours(&w, ctx.facts) {
                Ok(()) if self.when.as_ref() == Some(&w) => {}
                Ok(()) => {
                    self.when = Some(w);
                    changed.push(Slot::When);
                }
                Err(say) => rejected = Some(say),
            }
        }
        let asked_reason = asked == Some(Slot::Reason) && changed.is_empty();
        if let Some(r) = extract::reason(u, ctx.catalog, ctx.facts, booking, asked_reason)
            && self.reason.as_ref() != Some(&r)
        {
            self.reason = Some(r);
            changed.push(Slot::Reason);
        }
        (changed, rejected)
    }

    /// One caller turn inside the flow.
    pub fn turn(&mut self, u: &Utterance, ctx: &Ctx<'_>) -> Step {
        match self.stage {
            Stage::CallerId => {
                if is_yes(u) && phone_digits(&u.tokens).is_none() {
                    self.callback = self.caller_id.clone().map(Callback::CallerId);
                    let rejected = self.absorb(u, ctx, None).1;
                    return Step::Ask(
                        rejected.unwrap_or_else(|| format!("Great. {}", self.next_prompt())),
                    );
                }
                if is_no(u) {
                    self.caller_id_declined = true;
                }
                let (changed, rejected) = self.absorb(u, ctx, Some(Slot::Callback));
                if let Some(r) = rejected {
                    return Step::Ask(r);
                }
                if !changed.is_empty() {
                    return Step::Ask(format!("Got it. {}", self.next_prompt()));
                }
                if self.caller_id_declined {
                    return Step::Ask(self.next_prompt());
                }
                Step::Ask(format!(
                    "Sorry, I didn't catch that. {CALLER_ID_PROMPT} Please say yes or no."
                ))
            }
            Stage::Confirm => {
                let (changed, rejected) = self.absorb(u, ctx, None);
                if is_yes(u) && changed.is_empty() && rejected.is_none() {
                    return self.finish();
                }
                if let Some(r) = rejected {
                    return Step::Ask(r);
                }
                if !changed.is_empty() {
                    return Step::Ask(format!("Thanks, I've updated that. {}", self.read_back()));
                }
                if let Some(slot) = extract::slot_named(u) {
                    return Step::Ask(self.reopen(slot, u));
                }
                if is_no(u) {
                    self.stage = Stage::Fix;
                    return Step::Ask(format!("Sorry about that. {}", self.fix_prompt()));
                }
                Step::Ask("Sorry, is that right? Please say yes or no.".to_owned())
            }
            Stage::Fix => {
                let named = extract::slot_named(u);
                let (changed, rejected) = self.absorb(u, ctx, named);
                if let Some(r) = rejected {
                    return Step::Ask(r);
                }
                if !changed.is_empty() {
                    return Step::Ask(format!("Thanks, I've updated that. {}", self.read_back()));
                }
                match named {
                    Some(slot) => Step::Ask(self.reopen(slot, u)),
                    None if is_yes(u) => self.finish(),
                    None => Step::Ask(format!("Sorry, I didn't catch that. {}", self.fix_prompt())),
                }
            }
            Stage::Ask(slot) => {
                let (changed, rejected) = self.absorb(u, ctx, Some(slot));
                if let Some(r) = rejected {
                    return Step::Ask(r);
                }
                if slot == Slot::Callback
                    && !changed.contains(&Slot::Callback)
                    && self.dtmf.len() >= 7
                {
                    self.callback = Some(Callback::Given(std::mem::take(&mut self.dtmf)));
                    return Step::Ask(format!("Got it. {}", self.next_prompt()));
                }
                if changed.contains(&slot) {
                    self.failures = 0;
                    let ack = match (slot, &self.name) {
                        (Slot::Name, Some(n)) => {
                            format!("Thanks, {}.", n.split(' ').next().unwrap_or(n))
                        }
                        _ => "Got it.".to_owned(),
                    };
                    return Step::Ask(format!("{ack} {}", self.next_prompt()));
                }
                self.failures += 1;
                Step::Ask(self.retry(slot, u, !changed.is_empty()))
            }
        }
    }

    /// The same slot again, worded for a second try; gives up on the name or the time after two misses.
    fn retry(&mut self, slot: Slot, u: &Utterance, other_changed: bool) -> String {
        if other_changed {
            return format!("Got it. {}", self.next_prompt());
        }
        match slot {
            Slot::Name
                if self.failures >= 2
                    || u.phrase_any(&["rather not", "prefer not", "do not want to", "no name"]) =>
            {
                self.name_skipped = true;
                self.failures = 0;
                format!("No problem. {}", self.next_prompt())
            }
            Slot::Name => "Sorry, I didn't get your name. Could you say it again?".to_owned(),
            Slot::Callback => "Sorry, I didn't get a full phone number. Please say it again with the area code, or key it in and press pound.".to_owned(),
            Slot::When if self.failures >= 2 && !u.clean.is_empty() => {
                self.when = Some(When {
                    text: u.clean.clone(),
                    day: None,
                    minute: None,
                    part: None,
                });
                self.failures = 0;
                format!("Got it. {}", self.next_prompt())
            }
            Slot::When => "Sorry, what day and time would you prefer? For example, Tuesday morning.".to_owned(),
            Slot::Reason => format!("Sorry, I didn't catch that. {}", self.slot_prompt(Slot::Reason)),
        }
    }

    /// Clears a slot the caller wants to change and asks for it again, unless the turn already says the
    /// new message ("no, the message is: ...").
    fn reopen(&mut self, slot: Slot, u: &Utterance) -> String {
        if slot == Slot::Reason
            && let Some(text) = extract::restated(u)
        {
            self.reason = Some(text);
            return format!("Thanks, I've updated that. {}", self.read_back());
        }
        match slot {
            Slot::Name => {
                self.name = None;
                self.name_skipped = false;
            }
            Slot::Callback => {
                self.callback = None;
                self.caller_id_declined = true;
            }
            Slot::Reason => self.reason = None,
            Slot::When => self.when = None,
        }
        self.failures = 0;
        format!("Sorry about that. {}", self.next_prompt())
    }

    /// Keyed digits while the callback number is asked for. `None` while still collecting.
    pub fn dtmf(&mut self, digit: char) -> Option<Step> {
        if !matches!(self.stage, Stage::Ask(Slot::Callback) | Stage::CallerId) {
            return None;
        }
        match digit {
            '0'..='9' => {
                self.dtmf.push(digit);
                if self.nanp && complete_number(&self.dtmf) {
                    self.callback = Some(Callback::Given(std::mem::take(&mut self.dtmf)));
                    self.caller_id_declined = true;
                    return Some(Step::Ask(format!("Got it. {}", self.next_prompt())));
                }
                None
            }
            '#' if self.dtmf.len() >= 7 => {
                self.callback = Some(Callback::Given(std::mem::take(&mut self.dtmf)));
                self.caller_id_declined = true;
                Some(Step::Ask(format!("Got it. {}", self.next_prompt())))
            }
            '#' => {
                self.dtmf.clear();
                Some(Step::Ask(
                    "Sorry, that number seems too short. Please enter the full number with the area code, then press pound.".to_owned(),
                ))
            }
            '*' => {
                self.dtmf.clear();
                Some(Step::Ask(
                    "Okay, let's start the number again. Please enter it, then press pound."
                        .to_owned(),
                ))
            }
            _ => None,
        }
    }

    /// Moves to the first missing slot and returns its question, or the read-back when all are filled.
    fn next_prompt(&mut self) -> String {
        let slot = if self.name.is_none() && !self.name_skipped {
            Some(Slot::Name)
        } else if self.callback.is_none() {
            if self.caller_id.is_some() && !self.caller_id_declined {
                self.stage = Stage::CallerId;
                return CALLER_ID_PROMPT.to_owned();
            }
            Some(Slot::Callback)
        } else if self.reason.is_none() {
            Some(Slot::Reason)
        } else if self.kind == FlowKind::Booking && self.when.is_none() {
            Some(Slot::When)
        } else {
            None
        };
        match slot {
            Some(s) => {
                self.stage = Stage::Ask(s);
                self.slot_prompt(s)
            }
            None => {
                self.stage = Stage::Confirm;
                self.read_back()
            }
        }
    }

    fn fix_prompt(&self) -> &'static str {
        match self.kind {
            FlowKind::Booking => {
                "What should I change: the name, the number, the reason, or the time?"
            }
            FlowKind::Message => "What should I change: the name, the number, or the message?",
        }
    }

    /// Asking for a slot value (not a yes or no).
    pub fn asking(&self) -> bool {
        matches!(self.stage, Stage::Ask(_))
    }

    /// Waiting for a yes to the read-back.
    pub fn confirming(&self) -> bool {
        self.stage == Stage::Confirm
    }

    fn slot_prompt(&self, slot: Slot) -> String {
        match slot {
            Slot::Name => "May I have your name, please?".to_owned(),
            Slot::Callback => "What's the best phone number to reach you? You can say it, or key it in and press pound.".to_owned(),
            Slot::Reason => match (self.kind, &self.recipient) {
                (FlowKind::Booking, _) => "What's the appointment for?".to_owned(),
                (FlowKind::Message, Some(r)) => format!("What's the message for {r}?"),
                (FlowKind::Message, None) => "What message would you like me to pass on?".to_owned(),
            },
            Slot::When => "What day and time would you prefer?".to_owned(),
        }
    }

    fn callback_phrase(&self) -> String {
        match &self.callback {
            Some(Callback::CallerId(n)) => {
                let digits: String = n.chars().filter(char::is_ascii_digit).collect();
                let last4 = &digits[digits.len().saturating_sub(4)..];
                format!(
                    "at the number you're calling from, ending in {}",
                    super::spoken::digits_as_words(last4)
                )
            }
            Some(Callback::Given(n)) => format!("at {}", speak_phone(n)),
            None => "when someone is free".to_owned(),
        }
    }

    fn read_back(&self) -> String {
        let cb = self.callback_phrase();
        // Echoed caller words carry no digits: a figure in a reply is always one the facts state.
        let reason = numbers_as_words(
            self.reason
                .as_deref()
                .unwrap_or("no reason given")
                .trim_end_matches(['.', '!', '?']),
        );
        match self.kind {
            FlowKind::Booking => {
                let who = self
                    .name
                    .as_ref()
                    .map(|n| format!(" for {n}"))
                    .unwrap_or_default();
                let with = self
                    .recipient
                    .as_ref()
                    .map(|r| format!(" with {r}"))
                    .unwrap_or_default();
                let when = match self.when.as_ref().map(|w| w.text.as_str()) {
                    Some(t @ ("as soon as possible" | "any time")) => t.to_owned(),
                    Some(t) => format!("preferably {}", numbers_as_words(t)),
                    None => "at any time".to_owned(),
                };
                format!(
                    "Let me read that back. An appointment request{who}, for {reason}{with}, {when}. We'll call you back {cb}. Is that right?"
                )
            }
            FlowKind::Message => {
                let from = self
                    .name
                    .as_ref()
                    .map(|n| format!(" from {n}"))
                    .unwrap_or_default();
                let to = self
                    .recipient
                    .as_ref()
                    .map(|r| format!(" for {r}"))
                    .unwrap_or_default();
                format!(
                    "Let me read that back. A message{from}{to}: {reason}. We'll call you back {cb}. Is that right?"
                )
            }
        }
    }

    fn finish(&mut self) -> Step {
        let callback = self.callback.as_ref().map(|c| match c {
            Callback::CallerId(n) | Callback::Given(n) => n.clone(),
        });
        let reason = self.reason.clone().unwrap_or_default();
        let thanks = match &self.name {
            Some(n) => format!("Thank you, {}.", n.split(' ').next().unwrap_or(n)),
            None => "Thank you.".to_owned(),
        };
        match self.kind {
            FlowKind::Booking => Step::Done {
                text: format!(
                    "{thanks} I've sent your appointment request to the office. It isn't confirmed yet: someone will call you back to confirm a time. Is there anything else I can help you with?"
                ),
                action: Action::BookingRequest(Booking {
                    name: self.name.clone(),
                    callback,
                    reason: match &self.recipient {
                        Some(r) => format!("{reason}, with {r}"),
                        None => reason,
                    },
                    preferred_time: self.when.as_ref().map(|w| w.text.clone()),
                }),
            },
            FlowKind::Message => Step::Done {
                text: format!(
                    "{thanks} I've passed your message on, and someone will call you back. Is there anything else I can help you with?"
                ),
                action: Action::TakeMessage(Message {
                    name: self.name.clone(),
                    callback,
                    reason: match &self.recipient {
                        Some(r) => format!("For {r}: {reason}"),
                        None => reason,
                    },
                }),
            },
        }
    }
}

const CALLER_ID_PROMPT: &str = "Is the number you're calling from the best one to reach you?";

/// Refuses a preferred day the business is closed, or a time outside that day's hours.
fn check_hours(w: &When, facts: &Facts) -> Result<(), String> {
    let Some(day) = w.day else { return Ok(()) };
    match facts.hours.get(&day) {
        Some(DayHours::Open(rs)) if rs.is_empty() => Ok(()),
        Some(DayHours::Open(rs)) => {
            let at_time = w
                .minute
                .is_none_or(|m| rs.iter().any(|r| r.open <= m && m < r.close));
            let in_part = w
                .part
                .is_none_or(|(a, b)| rs.iter().any(|r| r.open < b && a < r.close));
            if at_time && in_part {
                Ok(())
            } else {
                Err(format!(
                    "On {} we're open {}. What time in those hours would work for you?",
                    day.name(),
                    ranges(rs)
                ))
            }
        }
        Some(DayHours::Closed) => Err(format!(
            "We're closed on {}. What other day would work for you?",
            day.name()
        )),
        None => Ok(()),
    }
}
