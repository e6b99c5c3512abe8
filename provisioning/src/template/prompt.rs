//! The system prompt and greeting a template writes for one business.
//!
//! The prompt holds the role, tone, goals, guardrails and the operator's instructions. The business's
//! facts and knowledge are not pasted in here: the dialogue adds the current facts and the retrieved
//! knowledge at call time, so a knowledge-base sync never leaves a stale copy inside the prompt.

use std::fmt::Write as _;

use super::{COMMON_GUARDRAILS, Template, Tone, tone_style};

/// What a template needs to know about one business.
#[derive(Debug, Clone, Copy)]
pub struct PromptInput<'a> {
    /// The business's trading name.
    pub business_name: &'a str,
    /// The tone to speak in (from the site, else the template's).
    pub tone: Tone,
    /// Free-text instructions from the operator, which take precedence over the template's goals.
    pub instructions: Option<&'a str>,
    /// Facts the template needs that the site did not state, so the agent knows to take a message.
    pub missing_facts: &'a [String],
}

/// The opening line for `business_name`.
pub fn greeting(template: &Template, business_name: &str) -> String {
    template.greeting.replace("{business_name}", business_name)
}

/// The system prompt for one business.
pub fn system_prompt(template: &Template, input: &PromptInput<'_>) -> String {
    let mut p = String::with_capacity(2_048);
    p.push_str(
        &template
            .personality
            .replace("{business_name}", input.business_name),
    );
    let _ = writeln!(
        p,
        " You are speaking on the phone: your words are read aloud, so use plain sentences without lists, \
         markdown or emoji. Speak in a {} way.",
        tone_style(input.tone)
    );
    if let Some(instructions) = input.instructions.map(str::trim).filter(|i| !i.is_empty()) {
        let _ = write!(
            p,
            "\nInstructions from {} (these come first):\n{instructions}\n",
            input.business_name
        );
    }
    p.push_str("\nYour goals:\n");
    for (i, goal) in template.goals.iter().enumerate() {
        let _ = writeln!(p, "{}. {goal}", i + 1);
    }
    p.push_str("\nRules you never break:\n");
    for rule in COMMON_GUARDRAILS.iter().chain(template.guardrails) {
        let _ = writeln!(p, "- {rule}");
    }
    p.push_str(
        "\nAnswer only from the business facts and knowledge given with each call. Use the tools to take a \
         message, request an appointment, transfer the call or end it.\n",
    );
    if !input.missing_facts.is_empty() {
        let _ = write!(
            p,
            "\nThe business has not published: {}. If asked, say you don't have that information and offer to \
             take a message.\n",
            input.missing_facts.join(", ")
        );
    }
    p
}

#[cfg(test)]
mod tests {
    use super::super::template;
    use super::*;

    #[test]
    fn the_prompt_names_the_business_and_carries_goals_rules_and_instructions() {
        let t = template("dental").unwrap();
        let missing = vec!["hours".to_owned()];
        let p = system_prompt(
            t,
            &PromptInput {
                business_name: "Bright Smile Dental",
                tone: Tone::Friendly,
                instructions: Some("Mention the free parking when giving directions."),
                missing_facts: &missing,
            },
        );
        assert!(p.starts_with("You are the front-desk receptionist of Bright Smile Dental"));
        assert!(p.contains("warm, upbeat"));
        assert!(p.contains("free parking"));
        assert!(p.contains("Never invent facts"));
        assert!(p.contains("Never give a diagnosis"));
        assert!(p.contains("has not published: hours"));
        assert!(!p.contains("{business_name}"));
    }

    #[test]
    fn the_greeting_names_the_business() {
        let t = template("legal").unwrap();
        assert_eq!(
            greeting(t, "Hale & Orr LLP"),
            "Good day, you have reached Hale & Orr LLP. How may I assist you?"
        );
    }
}
