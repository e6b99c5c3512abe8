//! Answers to fact questions other than hours, worded for the ear.
//!
//! Every sentence here is built from a field of the facts; when the field is absent the answer is the
//! no-information line, and when the caller names something not on a list (an insurer, a service) the
//! answer says it is not on the list the policy has, never that the business refuses it.

use super::Offer;
use super::catalog::Catalog;
use super::spoken::digits_as_words;
use super::text::{Utterance, is_stopword, join_list, lower_first, title_case};
use crate::agent::Facts;

/// What the policy says when a fact is absent.
pub(crate) const NO_INFO: &str = "I'm sorry, I don't have that information. I can take a message and have someone call you back.";

/// A spoken answer and what it offers next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Said {
    pub text: String,
    pub offer: Option<Offer>,
}

impl Said {
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            offer: None,
        }
    }

    pub fn offering(text: impl Into<String>, offer: Offer) -> Self {
        Self {
            text: text.into(),
            offer: Some(offer),
        }
    }

    /// The no-information answer; a "yes" afterwards starts a message about the question.
    pub fn no_info(u: &Utterance) -> Self {
        Self::offering(
            NO_INFO,
            Offer::Message {
                about: question_note(u),
            },
        )
    }
}

/// What a message taken after an unanswered question says, so staff can call back with the answer.
pub(crate) fn question_note(u: &Utterance) -> Option<String> {
    (!u.clean.is_empty() && u.clean.len() <= 200).then(|| format!("Caller asked: {}", u.clean))
}

/// An E.164 or national number read digit by digit; a North American number without its "+1".
pub(crate) fn speak_phone(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix('1') {
        Some(rest) if number.starts_with("+1") && rest.len() == 10 => digits_as_words(rest),
        _ => digits_as_words(&digits),
    }
}

/// "frontdesk at brightsmile dot example".
fn speak_address(s: &str) -> String {
    let s = s
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '@' => out.push_str(" at "),
            '.' => out.push_str(" dot "),
            '-' => out.push_str(" dash "),
            '_' => out.push_str(" underscore "),
            '/' => out.push_str(" slash "),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn address(facts: &Facts, u: &Utterance) -> Said {
    match &facts.address {
        Some(a) => Said::plain(format!("We're at {}.", a.trim().trim_end_matches('.'))),
        None => Said::no_info(u),
    }
}

pub(crate) fn phone(facts: &Facts, u: &Utterance) -> Said {
    match facts.phones.first() {
        Some(p) => Said::plain(format!("Our main number is {}.", speak_phone(p))),
        None => Said::no_info(u),
    }
}

pub(crate) fn email(facts: &Facts, u: &Utterance) -> Said {
    match &facts.email {
        Some(e) => Said::plain(format!("Our email is {}.", speak_address(e))),
        None => Said::no_info(u),
    }
}

pub(crate) fn website(facts: &Facts, u: &Utterance) -> Said {
    match &facts.website {
        Some(w) => Said::plain(format!("Our website is {}.", speak_address(w))),
        None => Said::no_info(u),
    }
}

/// Every way to reach the business that the facts state.
pub(crate) fn contact(facts: &Facts, u: &Utterance) -> Said {
    let mut parts = Vec::new();
    if let Some(p) = facts.phones.first() {
        parts.push(format!("Our main number is {}.", speak_phone(p)));
    }
    if let Some(e) = &facts.email {
        parts.push(format!("Our email is {}.", speak_address(e)));
    }
    if let Some(w) = &facts.website {
        parts.push(format!("Our website is {}.", speak_address(w)));
    }
    if parts.is_empty() {
        return Said::no_info(u);
    }
    Said::plain(parts.join(" "))
}

fn service_names(facts: &Facts) -> Vec<String> {
    facts
        .services
        .iter()
        .map(|s| lower_first(&s.name))
        .collect()
}

pub(crate) fn services(facts: &Facts, u: &Utterance) -> Said {
    if facts.services.is_empty() {
        return Said::no_info(u);
    }
    let names = service_names(facts);
    Said::offering(
        format!(
            "We offer {}. Would you like to request an appointment?",
            join_list(&names, "and")
        ),
        Offer::Booking { reason: None },
    )
}

/// Yes for a listed service, with its price or description when stated.
pub(crate) fn service(facts: &Facts, index: usize, u: &Utterance) -> Said {
    let Some(s) = facts.services.get(index) else {
        return Said::no_info(u);
    };
    let name = lower_first(&s.name);
    let asks_price = u.has_any(&[
        "price", "prices", "cost", "costs", "charge", "fee", "much", "pricing",
    ]);
    let offer = Offer::Booking {
        reason: Some(name.clone()),
    };
    let ask = "Would you like to request an appointment?";
    match (&s.price, asks_price) {
        (Some(p), true) => Said::offering(format!("Our {name} is {}. {ask}", p.trim()), offer),
        (Some(p), false) => Said::offering(
            format!("Yes, we offer {name}. It's {}. {ask}", p.trim()),
            offer,
        ),
        (None, true) => Said::offering(
            format!(
                "We offer {name}, but I don't have a price for it. I can take a message and have someone call you back with a price."
            ),
            Offer::Message {
                about: Some(format!("Price of {name}")),
            },
        ),
        (None, false) => {
            let desc = s
                .description
                .as_deref()
                .map(|d| format!(": {}", d.trim().trim_end_matches('.')))
                .unwrap_or_default();
            Said::offering(format!("Yes, we offer {name}{desc}. {ask}"), offer)
        }
    }
}

/// "How much does it cost?" without a service: the prices the facts state.
pub(crate) fn prices(facts: &Facts, u: &Utterance, last_service: Option<usize>) -> Said {
    if let Some(i) = last_service {
        return service(facts, i, &Utterance::parse("how much"));
    }
    let priced: Vec<String> = facts
        .services
        .iter()
        .filter_map(|s| {
            s.price
                .as_ref()
                .map(|p| format!("{} is {}", lower_first(&s.name), p.trim()))
        })
        .collect();
    if priced.is_empty() {
        return Said::no_info(u);
    }
    Said::offering(
        format!(
            "Here are the prices I have: {}. For anything else, I can take a message and have someone call you back with a price.",
            join_list(&priced, "and")
        ),
        Offer::Message {
            about: question_note(u),
        },
    )
}

/// Words that end the name of a thing a caller asks about.
#[rustfmt::skip]
const NAME_STOP: &[&str] = &[
    "insurance", "plan", "plans", "coverage", "there", "here", "please", "today", "now", "at", "in",
    "on", "for", "and", "or", "too", "also", "as", "payment", "payments", "service", "services",
];

/// The thing named after one of `verbs` ("do you take Blue Cross" -> "Blue Cross").
fn named_after(u: &Utterance, verbs: &[&str]) -> Option<String> {
    let t = &u.tokens;
    let start = t.iter().position(|w| verbs.contains(&w.as_str()))? + 1;
    let words: Vec<String> = t[start..]
        .iter()
        .skip_while(|w| {
            matches!(
                w.as_str(),
                "a" | "an"
                    | "the"
                    | "any"
                    | "some"
                    | "my"
                    | "with"
                    | "by"
                    | "you"
                    | "guys"
                    | "do"
                    | "offer"
            )
        })
        .take_while(|w| !is_stopword(w) && !NAME_STOP.contains(&w.as_str()))
        .take(4)
        .cloned()
        .collect();
    (!words.is_empty()).then(|| title_case(&words))
}

/// "Do you do implants?" for a service not on the list.
pub(crate) fn unlisted_service(facts: &Facts, u: &Utterance) -> Said {
    if facts.services.is_empty() {
        return Said::no_info(u);
    }
    let thing = named_after(
        u,
        &[
            "do", "offer", "provide", "perform", "have", "treat", "fix", "handle",
        ],
    )
    .map(|n| n.to_lowercase());
    let lead = match &thing {
        Some(t) => format!("I don't see {t} on the list of services I have."),
        None => "I don't see that on the list of services I have.".to_owned(),
    };
    Said::offering(
        format!(
            "{lead} We offer {}. I can take a message and have someone call you back about it.",
            join_list(&service_names(facts), "and")
        ),
        Offer::Message {
            about: question_note(u),
        },
    )
}

/// Insurers named often enough that a question about one should be recognised even when it is not listed.
#[rustfmt::skip]
const KNOWN_INSURERS: &[&str] = &[
    "blue cross blue shield", "blue cross", "blue shield", "united healthcare", "united concordia",
    "sun life", "unitedhealthcare", "humana", "anthem", "kaiser", "medicaid", "medicare", "tricare",
    "geha", "ameritas", "regence", "premera", "moda", "careington", "bcbs", "uhc",
];

pub(crate) fn insurance(facts: &Facts, catalog: &Catalog, u: &Utterance) -> Said {
    let listed = &facts.payment.insurers;
    if listed.is_empty() {
        return Said::no_info(u);
    }
    let all = join_list(listed, "and");
    let named: Vec<String> = catalog
        .insurers(u)
        .into_iter()
        .map(|i| listed[i].clone())
        .collect();
    let unlisted = KNOWN_INSURERS
        .iter()
        .find(|k| u.phrase(k) && !named.iter().any(|n| n.to_lowercase().contains(*k)));
    if !named.is_empty() {
        let yes = format!("Yes, we accept {}.", join_list(&named, "and"));
        return match unlisted {
            Some(k) => {
                let name = title_case(&k.split(' ').map(str::to_owned).collect::<Vec<_>>());
                Said::offering(
                    format!(
                        "{yes} {name} isn't on the list of insurers I have. I can take a message and have someone confirm your coverage."
                    ),
                    Offer::Message {
                        about: Some(format!("Asked whether we accept {name} insurance")),
                    },
                )
            }
            None => Said::plain(yes),
        };
    }
    let named = KNOWN_INSURERS
        .iter()
        .find(|k| u.phrase(k))
        .map(|k| match *k {
            "bcbs" | "uhc" => k.to_uppercase(),
            k => title_case(&k.split(' ').map(str::to_owned).collect::<Vec<_>>()),
        })
        .or_else(|| {
            named_after(
                u,
                &[
                    "take", "accept", "with", "through", "by", "have", "use", "about", "got",
                ],
            )
        });
    match named {
        Some(name) => Said::offering(
            format!(
                "{name} isn't on the list of insurers I have. We accept {all}. I can take a message and have someone confirm your coverage."
            ),
            Offer::Message {
                about: Some(format!("Asked whether we accept {name} insurance")),
            },
        ),
        None => Said::plain(format!("We accept {all}. Which insurance do you have?")),
    }
}

pub(crate) fn financing(facts: &Facts, u: &Utterance) -> Said {
    if facts.payment.financing.is_empty() {
        return Said::no_info(u);
    }
    Said::plain(format!(
        "Yes, we offer financing through {}.",
        join_list(&facts.payment.financing, "and")
    ))
}

pub(crate) fn payment(facts: &Facts, catalog: &Catalog, u: &Utterance) -> Said {
    let methods = &facts.payment.methods;
    if methods.is_empty() {
        return Said::no_info(u);
    }
    let all = join_list(methods, "and");
    let also = if facts.payment.financing.is_empty() {
        String::new()
    } else {
        format!(
            " We also offer financing through {}.",
            join_list(&facts.payment.financing, "and")
        )
    };
    if let Some(i) = catalog.method(u) {
        return Said::plain(format!("Yes, we accept {}.", methods[i]));
    }
    let unlisted = u.tokens.iter().find_map(|t| match t.as_str() {
        "check" | "checks" | "cheque" | "cheques" => Some("Checks"),
        "paypal" => Some("PayPal"),
        "venmo" => Some("Venmo"),
        "zelle" => Some("Zelle"),
        "bitcoin" | "crypto" => Some("Cryptocurrency"),
        "discover" => Some("Discover"),
        "applepay" => Some("Apple Pay"),
        _ => None,
    });
    let unlisted = unlisted.map(str::to_owned).or_else(|| {
        u.phrase_any(&["apple pay", "google pay"]).then(|| {
            if u.has("apple") {
                "Apple Pay"
            } else {
                "Google Pay"
            }
            .to_owned()
        })
    });
    match unlisted {
        Some(name) => Said::offering(
            format!(
                "{name} {} on the list of payment methods I have. We accept {all}.{also}",
                if name.ends_with('s') {
                    "aren't"
                } else {
                    "isn't"
                }
            ),
            Offer::Message {
                about: question_note(u),
            },
        ),
        _ => Said::plain(format!("We accept {all}.{also}")),
    }
}

/// What the policy can do for this business, listing only topics the facts cover.
pub(crate) fn capabilities(facts: &Facts, can_transfer: bool) -> String {
    let mut topics: Vec<String> = Vec::new();
    let f = facts;
    for (has, topic) in [
        (!f.hours.is_empty(), "our hours"),
        (f.address.is_some(), "our location"),
        (!f.services.is_empty(), "our services"),
        (!f.payment.insurers.is_empty(), "insurance"),
        (!f.payment.methods.is_empty(), "payment"),
        (!f.staff.is_empty(), "our team"),
    ] {
        if has {
            topics.push(topic.to_owned());
        }
    }
    let mut actions = vec![
        "take a message".to_owned(),
        "request an appointment".to_owned(),
    ];
    if can_transfer {
        actions.push("connect you with someone at the office".to_owned());
    }
    if topics.is_empty() {
        format!("I can {}.", join_list(&actions, "or"))
    } else {
        format!(
            "I can answer questions about {}. I can also {}.",
            join_list(&topics, "and"),
            join_list(&actions, "or")
        )
    }
}
