//! Answers about the people at the business. Availability is never claimed: the policy cannot see a
//! schedule, so a question about someone being in offers a message or an appointment request instead.

use super::Offer;
use super::answers::{Said, question_note};
use super::catalog::{Catalog, is_doctor_role};
use super::text::{Utterance, capitalise, join_list};
use crate::agent::{Facts, StaffMember};

/// "Dr. Maria Lopez" for a doctor-like role, otherwise the name as written.
pub(crate) fn full_title(s: &StaffMember) -> String {
    if s.role.as_deref().is_some_and(role_is_doctor) {
        format!("Dr. {}", s.name.trim())
    } else {
        s.name.trim().to_owned()
    }
}

/// "Dr. Lopez" for a doctor, otherwise the full name.
fn short_title(s: &StaffMember) -> String {
    if s.role.as_deref().is_some_and(role_is_doctor) {
        let last = s.name.split_whitespace().last().unwrap_or(&s.name);
        format!("Dr. {last}")
    } else {
        s.name.trim().to_owned()
    }
}

fn role_is_doctor(role: &str) -> bool {
    super::text::tokenize(role)
        .iter()
        .any(|w| is_doctor_role(w))
}

/// People grouped by role, in the order the facts list them: "Dr. A and Dr. B, our dentists".
fn team(staff: &[StaffMember], members: &[usize]) -> String {
    let mut groups: Vec<(Option<String>, Vec<String>)> = Vec::new();
    for &i in members {
        let s = &staff[i];
        let role = s.role.as_ref().map(|r| r.trim().to_lowercase());
        match groups.iter_mut().find(|(r, _)| *r == role) {
            Some((_, names)) => names.push(full_title(s)),
            None => groups.push((role, vec![full_title(s)])),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(role, names)| {
            let plural = names.len() > 1;
            let names = join_list(&names, "and");
            match role {
                Some(r) if plural => format!("{names}, our {r}s"),
                Some(r) => format!("{names}, our {r}"),
                None => names,
            }
        })
        .collect();
    join_list(&parts, "and")
}

pub(crate) fn staff(facts: &Facts, catalog: &Catalog, u: &Utterance) -> Said {
    let staff = &facts.staff;
    if staff.is_empty() {
        return Said::no_info(u);
    }
    let just_who = u.has("who")
        && !u.has_any(&[
            "speak",
            "talk",
            "see",
            "available",
            "there",
            "in",
            "working",
            "today",
            "tomorrow",
        ]);
    if let Some(i) = catalog.staff(u) {
        let s = &staff[i];
        let who = match s.role.as_deref() {
            Some(r) => {
                let same_role = staff
                    .iter()
                    .filter(|o| o.role.as_deref() == Some(r))
                    .count();
                let r = r.trim().to_lowercase();
                if same_role > 1 {
                    format!("{} is one of our {r}s.", full_title(s))
                } else {
                    format!("{} is our {r}.", full_title(s))
                }
            }
            None => format!("{} is part of our team.", full_title(s)),
        };
        if just_who {
            return Said::plain(who);
        }
        let short = short_title(s);
        // Patients book with clinicians; anyone else gets a message.
        let clinical = s
            .role
            .as_deref()
            .is_some_and(|r| role_is_doctor(r) || r.to_lowercase().contains("hygien"));
        let or_book = if clinical {
            ", or request an appointment"
        } else {
            ""
        };
        return Said::offering(
            format!(
                "{who} I can't check {short}'s schedule from here, but I can take a message for {short}{or_book}. Would you like to leave a message?"
            ),
            Offer::MessageOrBooking {
                recipient: Some(full_title(s)),
            },
        );
    }
    if let Some(p) = u.tokens.iter().position(|t| t == "doctor")
        && let Some(name) = u.tokens.get(p + 1)
        && !super::text::is_common(name)
        && name.chars().all(char::is_alphabetic)
    {
        let everyone: Vec<usize> = (0..staff.len()).collect();
        return Said::offering(
            format!(
                "I don't have a Dr. {} on the staff list I have. Our team is {}. I can take a message and have someone call you back.",
                capitalise(name),
                team(staff, &everyone)
            ),
            Offer::Message {
                about: question_note(u),
            },
        );
    }
    let with_role = catalog.with_role(u);
    let text = if with_role.is_empty() {
        let everyone: Vec<usize> = (0..staff.len()).collect();
        format!("Our team is {}.", team(staff, &everyone))
    } else {
        let names: Vec<String> = with_role.iter().map(|&i| full_title(&staff[i])).collect();
        let role = staff[with_role[0]]
            .role
            .clone()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        let same = with_role.iter().all(|&i| {
            staff[i].role.as_deref().map(|r| r.trim().to_lowercase()) == Some(role.clone())
        });
        if same && names.len() > 1 {
            format!("Our {role}s are {}.", join_list(&names, "and"))
        } else if same {
            format!("Our {role} is {}.", names[0])
        } else {
            format!("That would be {}.", team(staff, &with_role))
        }
    };
    if just_who || u.question && !u.has_any(&["speak", "talk", "see"]) {
        return Said::plain(text);
    }
    Said::offering(
        format!(
            "{text} I can't check schedules from here, but I can take a message or request an appointment. Would you like to leave a message?"
        ),
        Offer::MessageOrBooking { recipient: None },
    )
}
