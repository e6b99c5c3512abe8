//! Vertical templates: what a receptionist for a kind of business is for, which facts it needs, the
//! rules it never breaks, its tone and how it greets. A template turns extracted facts into a system
//! prompt and greeting; free-text instructions steer it.

mod catalog;
mod prompt;

pub use catalog::TEMPLATES;
pub use prompt::{PromptInput, greeting, system_prompt};

use crate::error::{ProvisionError, ProvisionErrorCode};

pub use crate::extract::Tone;

/// How the prompt describes speaking in `tone`.
pub fn tone_style(tone: Tone) -> &'static str {
    match tone {
        Tone::Professional => "clear, courteous and efficient",
        Tone::Friendly => "warm, upbeat and welcoming",
        Tone::Casual => "relaxed and conversational, like a helpful neighbour",
        Tone::Formal => "reserved, precise and respectful",
    }
}

/// One vertical's template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// Stable id (`dental_receptionist`), as the API's `template_id`.
    pub id: &'static str,
    /// The vertical names users send as `verticalType` that pick this template.
    pub verticals: &'static [&'static str],
    /// Display name.
    pub name: &'static str,
    /// One line on what the template is for.
    pub description: &'static str,
    /// How the agent presents itself; `{business_name}` is filled in.
    pub personality: &'static str,
    /// What the agent tries to get done on a call, in order of importance.
    pub goals: &'static [&'static str],
    /// Facts the agent needs to do its job; missing ones are reported and low-confidence flagged.
    pub required_facts: &'static [&'static str],
    /// Rules the agent never breaks.
    pub guardrails: &'static [&'static str],
    /// Tone when the site does not suggest another.
    pub tone: Tone,
    /// The opening line; `{business_name}` is filled in.
    pub greeting: &'static str,
    /// Default voice of the embedded TTS.
    pub voice: &'static str,
}

/// Guardrails every template shares.
pub const COMMON_GUARDRAILS: &[&str] = &[
    "Never invent facts: if the business has not stated an hour, price, name or policy, say you don't have \
     it and offer to take a message.",
    "Never share other callers' information or anything about the business beyond its published facts.",
    "If the caller describes an emergency that threatens life or safety, tell them to hang up and call 911 \
     (or the local emergency number) now.",
    "Keep answers short enough for the phone: one or two sentences, then let the caller speak.",
];

/// The template with this id or vertical name (case-insensitive; `-` and spaces read as `_`).
pub fn template(name: &str) -> Result<&'static Template, ProvisionError> {
    let key = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    TEMPLATES
        .iter()
        .find(|t| t.id == key || t.verticals.contains(&key.as_str()))
        .ok_or_else(|| {
            let known: Vec<&str> = TEMPLATES.iter().map(|t| t.id).collect();
            ProvisionError::new(
                ProvisionErrorCode::TemplateNotFound,
                format!(
                    "no template named {name:?}; known templates: {}",
                    known.join(", ")
                ),
            )
        })
}

/// The generic template, used when nothing picks another.
pub fn generic() -> &'static Template {
    TEMPLATES
        .iter()
        .find(|t| t.id == "generic")
        .unwrap_or(&TEMPLATES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_vertical_names_both_find_templates() {
        assert_eq!(
            template("dental_receptionist").unwrap().id,
            "dental_receptionist"
        );
        assert_eq!(template("dental").unwrap().id, "dental_receptionist");
        assert_eq!(template("Home Services").unwrap().id, "home_services");
        assert_eq!(template("salon-spa").unwrap().id, "salon_spa");
        assert_eq!(generic().id, "generic");
    }

    #[test]
    fn an_unknown_template_is_template_not_found_and_lists_the_known_ones() {
        let e = template("astrology").unwrap_err();
        assert_eq!(e.code, ProvisionErrorCode::TemplateNotFound);
        assert!(e.message.contains("dental_receptionist"), "{}", e.message);
    }

    #[test]
    fn every_template_is_complete_and_ids_are_unique() {
        let mut ids: Vec<&str> = TEMPLATES.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), TEMPLATES.len());
        assert_eq!(TEMPLATES.len(), 7);
        for t in TEMPLATES {
            assert!(!t.goals.is_empty() && !t.guardrails.is_empty(), "{}", t.id);
            assert!(t.greeting.contains("{business_name}"), "{}", t.id);
            assert!(t.personality.contains("{business_name}"), "{}", t.id);
        }
    }
}
