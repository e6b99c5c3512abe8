//! What a caller turn is about, by ordered keyword rules over normalised tokens.
//!
//! Rules run from the most consequential to the least: ending the call, an emergency and a request for a
//! person come before facts, so "I have an emergency, what are your hours" is handled as an emergency.
//! Topic only: the answer modules read the details (which day, which insurer) from the same turn.

use super::catalog::Catalog;
use super::cues::{
    asks_to_speak, is_emergency, is_goodbye, is_human, is_message, is_no, is_symptom, is_yes, wants,
};
use super::text::Utterance;
use super::when::weekday;

/// The topic of one caller turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intent {
    /// Nothing recognisable: silence or STT noise.
    Empty,
    /// Wants to hang up.
    Goodbye,
    /// Thanks on its own.
    Thanks,
    /// Agreement on its own.
    Yes,
    /// Refusal on its own.
    No,
    /// "Sorry, what was that?"
    Repeat,
    /// "Hello" on its own.
    Greeting,
    /// "Is this a robot?"
    Identity,
    /// "What can you do?"
    Capabilities,
    /// Wants a human.
    Human,
    /// Has or asks about an emergency.
    Emergency,
    /// Wants an appointment.
    Booking,
    /// Wants to cancel or move an existing appointment.
    ChangeAppointment,
    /// Describes a problem ("my tooth hurts"): offered an appointment request.
    Symptom,
    /// Wants to leave a message or a callback.
    Message,
    /// Opening hours.
    Hours,
    /// Hours on a holiday, which the weekly hours do not answer.
    Holiday,
    /// Free slots: the policy cannot see the schedule, so it offers a request.
    Availability,
    /// The caller's own account, bill or records, which the policy cannot see.
    Account,
    /// Where the business is.
    Address,
    /// The business's phone number.
    Phone,
    /// A fax number.
    Fax,
    /// The business's email.
    Email,
    /// The business's website.
    Website,
    /// How to reach the business in general.
    Contact,
    /// Who works there, or a named person.
    Staff,
    /// What the business offers.
    Services,
    /// A specific listed service (yes/no, price).
    Service(usize),
    /// "How much does it cost" without a listed service.
    Price,
    /// "Do you do X" for an X not on the list.
    UnlistedService,
    /// Insurance.
    Insurance,
    /// Financing and payment plans.
    Financing,
    /// Payment methods.
    Payment,
    /// "Is this Bright Smile Dental?"
    BusinessName,
    /// None of the above: knowledge search, then the no-information answer.
    Unknown,
}

impl Intent {
    /// Questions answered from the facts: allowed in the middle of a booking or message, which then resumes.
    pub fn is_fact(self) -> bool {
        matches!(
            self,
            Intent::Hours
                | Intent::Holiday
                | Intent::Address
                | Intent::Phone
                | Intent::Fax
                | Intent::Email
                | Intent::Website
                | Intent::Contact
                | Intent::Staff
                | Intent::Services
                | Intent::Service(_)
                | Intent::Price
                | Intent::Insurance
                | Intent::Financing
                | Intent::Payment
                | Intent::BusinessName
                | Intent::Identity
                | Intent::Capabilities
        )
    }
}

fn is_booking(u: &Utterance, catalog: &Catalog) -> bool {
    if u.has_any(&["book", "booking"]) && !u.phrase("booked") {
        return true;
    }
    let schedule_verb = u.has("schedule")
        && !u.phrase_any(&[
            "your schedule",
            "the schedule",
            "schedule on",
            "schedule for the",
        ])
        || u.phrase_any(&["schedule an", "schedule a", "schedule me", "to schedule"]);
    let appointment = u.has_any(&[
        "appointment",
        "appointments",
        "visit",
        "checkup",
        "consultation",
    ]);
    if schedule_verb
        || u.phrase_any(&[
            "make an appointment",
            "set up an appointment",
            "get in",
            "come in",
            "fit me in",
            "see the dentist",
            "see a dentist",
            "see the doctor",
            "see a doctor",
        ])
    {
        return !(u.question && u.has_any(&["how", "what", "why"]) && !wants(u));
    }
    (appointment || catalog.service(u).is_some()) && wants(u)
}

fn is_change_appointment(u: &Utterance) -> bool {
    u.has_any(&["reschedule", "rescheduling"])
        || (u.has("cancel") && !u.question && wants(u))
        || (u.has_any(&["appointment", "appointments"])
            && u.has_any(&["cancel", "move", "change", "postpone", "running"])
            && u.has_any(&["my", "our", "i"]))
        || u.phrase_any(&[
            "running late",
            "going to be late",
            "will be late",
            "be late for",
        ])
        || (u.phrase_any(&["my appointment", "my next appointment", "our appointment"])
            && !u.has_any(&["book", "schedule", "make"]))
}

fn is_holiday(u: &Utterance) -> bool {
    u.has_any(&[
        "holiday",
        "holidays",
        "christmas",
        "thanksgiving",
        "easter",
        "memorial",
        "labor",
        "independence",
        "hanukkah",
        "eid",
        "diwali",
    ]) || u.phrase_any(&[
        "new year",
        "new years",
        "fourth of july",
        "4th of july",
        "veterans day",
        "presidents day",
    ])
}

/// The caller's own records: "a question about my bill", "my x-ray results".
fn is_account(u: &Utterance) -> bool {
    let own = u.has_any(&["my", "our"]);
    own && (u.has_any(&[
        "bill",
        "billing",
        "invoice",
        "statement",
        "balance",
        "refund",
        "receipt",
        "records",
        "results",
        "prescription",
        "refill",
        "claim",
        "xrays",
        "chart",
    ]) || u.phrase_any(&["x rays", "x ray"]))
}

fn is_hours(u: &Utterance) -> bool {
    u.has_any(&[
        "hours", "hour", "open", "opened", "opening", "opens", "close", "closed", "closing",
        "closes", "lunch", "weekend", "weekends", "until", "til", "till",
    ]) || u.phrase_any(&[
        "your schedule",
        "the schedule",
        "what time",
        "what days",
        "which days",
    ])
}

fn is_address(u: &Utterance) -> bool {
    if u.has_any(&[
        "park",
        "parking",
        "garage",
        "bus",
        "train",
        "elevator",
        "wheelchair",
        "stairs",
    ]) {
        return false;
    }
    u.has_any(&[
        "address",
        "located",
        "location",
        "directions",
        "street",
        "zip",
        "postcode",
        "situated",
    ]) || u.phrase_any(&[
        "where are you",
        "where is your",
        "where is the office",
        "where is the clinic",
        "where is it",
        "where is that",
        "where do i go",
        "how do i get there",
        "how do i get to",
        "how to get to",
        "get to you",
        "find you",
        "where you are",
    ])
}

fn is_price(u: &Utterance) -> bool {
    u.has_any(&[
        "price", "prices", "pricing", "cost", "costs", "charge", "fee", "fees", "rate", "rates",
    ]) || u.phrase_any(&["how much", "what do you charge"])
}

fn asks_offer(u: &Utterance) -> bool {
    u.phrase_any(&[
        "do you do",
        "do you offer",
        "do you provide",
        "do you perform",
        "do you have",
        "can you do",
        "do you guys do",
        "do you guys offer",
        "do you treat",
        "do you fix",
        "do you handle",
        "is there",
        "are there",
        "you offer",
    ])
}

/// Known insurer and plan words, for recognising an insurance question about an insurer not on the list.
#[rustfmt::skip]
const INSURANCE_WORDS: &[&str] = &[
    "insurance", "insurer", "insurers", "insured", "coverage", "covered", "cover", "network", "ppo",
    "hmo", "medicaid", "medicare", "tricare", "humana", "anthem", "kaiser", "bcbs", "uhc", "geha",
    "ameritas", "regence", "premera", "moda", "careington", "unitedhealthcare", "carrier", "copay",
    "deductible",
];

fn is_insurance(u: &Utterance, catalog: &Catalog) -> bool {
    catalog.insurer(u).is_some()
        || u.has_any(INSURANCE_WORDS)
        || u.phrase_any(&[
            "blue cross",
            "blue shield",
            "united healthcare",
            "united concordia",
            "sun life",
            "dental plan",
        ])
}

fn is_financing(u: &Utterance, catalog: &Catalog) -> bool {
    catalog.financing(u).is_some()
        || u.has_any(&[
            "financing",
            "finance",
            "installments",
            "installment",
            "carecredit",
        ])
        || u.phrase_any(&[
            "payment plan",
            "payment plans",
            "pay over time",
            "monthly payments",
            "care credit",
        ])
}

/// Payment words not on any list, for recognising "do you take checks?".
#[rustfmt::skip]
pub(crate) const METHOD_WORDS: &[&str] = &[
    "cash", "check", "checks", "cheque", "cheques", "credit", "debit", "visa", "mastercard", "amex",
    "discover", "paypal", "venmo", "zelle", "bitcoin", "crypto", "applepay", "hsa", "fsa",
];

fn is_payment(u: &Utterance, catalog: &Catalog) -> bool {
    catalog.method(u).is_some()
        || u.has_any(&["pay", "payment", "payments", "paying", "card", "cards"])
        || u.has_any(METHOD_WORDS)
        || u.phrase_any(&["apple pay", "google pay", "american express"])
}

fn is_staff(u: &Utterance, catalog: &Catalog) -> bool {
    if catalog.staff(u).is_some() {
        return true;
    }
    let role_words = u.has_any(&[
        "doctor",
        "doctors",
        "dentist",
        "dentists",
        "hygienist",
        "hygienists",
        "staff",
        "team",
        "physician",
        "orthodontist",
        "surgeon",
        "nurse",
        "assistant",
    ]);
    let roles = !catalog.with_role(u).is_empty();
    (role_words || roles)
        && (u.question || asks_to_speak(u) || u.has_any(&["who", "names", "name"]))
        || u.phrase_any(&[
            "who works",
            "who is working",
            "who is in",
            "who will i see",
            "who would i see",
        ])
}

/// Classifies one turn. `follow_hours` is true when the previous answer was about hours, so a bare day
/// ("what about Sunday?") continues that topic.
pub(crate) fn classify(u: &Utterance, catalog: &Catalog, follow_hours: bool) -> Intent {
    if u.is_empty() {
        return Intent::Empty;
    }
    if is_goodbye(u) {
        return Intent::Goodbye;
    }
    if u.phrase_any(&[
        "anyone there",
        "anybody there",
        "someone there",
        "are you there",
        "you still there",
    ]) && u.tokens.len() <= 5
    {
        return Intent::Greeting;
    }
    if u.phrase_any(&[
        "are you a",
        "am i talking to a",
        "is this a",
        "are you real",
        "are you human",
    ]) && u.has_any(&[
        "robot",
        "bot",
        "machine",
        "computer",
        "ai",
        "real",
        "human",
        "person",
        "recording",
        "automated",
    ]) {
        return Intent::Identity;
    }
    if u.phrase_any(&[
        "what can you do",
        "what can you help",
        "how can you help",
        "what are my options",
        "what are the options",
    ]) || u.is_only(&["help", "menu", "options"])
    {
        return Intent::Capabilities;
    }
    if is_emergency(u) && !u.phrase_any(&["emergency contact", "non emergency"]) {
        return Intent::Emergency;
    }
    if is_change_appointment(u) {
        return Intent::ChangeAppointment;
    }
    if is_message(u) && !u.phrase_any(&["call you", "phone number"]) {
        return Intent::Message;
    }
    if is_human(u) {
        return Intent::Human;
    }
    if u.has_any(&["openings", "availability", "slots", "slot"])
        || u.phrase_any(&[
            "next available",
            "any appointments",
            "appointments available",
            "anything available",
        ])
    {
        return Intent::Availability;
    }
    if is_booking(u, catalog) {
        return Intent::Booking;
    }
    if is_account(u) {
        return Intent::Account;
    }
    if is_insurance(u, catalog) {
        return Intent::Insurance;
    }
    if is_financing(u, catalog) {
        return Intent::Financing;
    }
    if is_payment(u, catalog) {
        return Intent::Payment;
    }
    if is_staff(u, catalog) {
        return Intent::Staff;
    }
    if is_hours(u) && is_holiday(u) {
        return Intent::Holiday;
    }
    if is_hours(u)
        || (follow_hours
            && u.tokens
                .iter()
                .any(|t| weekday(t).is_some() || t == "today" || t == "tomorrow"))
    {
        return Intent::Hours;
    }
    if u.has("fax") {
        return Intent::Fax;
    }
    if u.has("email") {
        return Intent::Email;
    }
    if u.has_any(&["website", "site", "online", "web", "url", "internet"]) {
        return Intent::Website;
    }
    if u.has_any(&["telephone", "phone"])
        || u.phrase_any(&["your number", "the number", "number to call", "number for"])
    {
        return Intent::Phone;
    }
    if is_address(u) {
        return Intent::Address;
    }
    if u.phrase_any(&[
        "contact you",
        "reach you",
        "get in touch",
        "get a hold of you",
        "get ahold of you",
    ]) {
        return Intent::Contact;
    }
    if is_symptom(u) && !u.question {
        return Intent::Symptom;
    }
    if let Some(i) = catalog.service(u) {
        return Intent::Service(i);
    }
    if u.has_any(&["services", "treatments", "procedures"])
        || u.phrase_any(&[
            "what do you do",
            "what do you offer",
            "what do you guys do",
            "what kind of",
            "what type of",
            "what sort of",
        ])
    {
        return Intent::Services;
    }
    if is_price(u) {
        return Intent::Price;
    }
    let names_day = u.tokens.iter().any(|t| {
        weekday(t).is_some()
            || matches!(
                t.as_str(),
                "today" | "tonight" | "tomorrow" | "weekend" | "weekends"
            )
    });
    if names_day && u.question {
        return Intent::Hours;
    }
    if asks_offer(u) {
        return Intent::UnlistedService;
    }
    if u.phrase_any(&[
        "is this",
        "who is this",
        "who am i speaking",
        "who am i talking",
        "what is the name",
        "what is your name",
        "name of",
    ]) {
        return Intent::BusinessName;
    }
    if u.has_any(&["repeat", "pardon"])
        || u.phrase_any(&[
            "say that again",
            "say again",
            "come again",
            "what did you say",
            "did not catch",
            "did not hear",
        ])
        || u.is_only(&["what", "sorry", "huh", "sorry what", "excuse me"])
    {
        return Intent::Repeat;
    }
    if is_yes(u) && u.tokens.len() <= 4 {
        return Intent::Yes;
    }
    if is_no(u) && u.tokens.len() <= 4 {
        return Intent::No;
    }
    if is_symptom(u) {
        return Intent::Symptom;
    }
    if u.has_any(&["thanks", "thank"]) {
        return Intent::Thanks;
    }
    if u.has_any(&["hello", "hi", "hey", "morning", "afternoon", "evening"]) && u.tokens.len() <= 4
    {
        return Intent::Greeting;
    }
    if u.phrase_any(&["help me", "help with", "need help"]) {
        return Intent::Capabilities;
    }
    Intent::Unknown
}
