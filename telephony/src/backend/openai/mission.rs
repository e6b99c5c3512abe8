//! Mission calls with chat completions: the same streamed dialogue, with a prompt that gives the model the
//! task instead of the business's facts, and a tool to report what the call found out. The opening is the
//! built-in policy's, so every mission starts by saying who calls and why, whatever the model.

use serde::Deserialize;
use serde_json::{Value, json};

use super::chat::tool;
use crate::agent::AgentProfile;
use crate::dialogue::{Action, Mission, MissionOutcome, MissionPolicy, VoicemailPolicy};

/// How the agent names itself: its business, else its own name.
fn speaker(agent: &AgentProfile) -> String {
    agent
        .facts
        .business_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| agent.name.clone())
}

/// The first words of the call.
pub(super) fn opening(agent: &AgentProfile, mission: &Mission) -> String {
    MissionPolicy::new(mission.clone(), speaker(agent))
        .greeting()
        .text
}

/// The system prompt of a mission call.
pub(super) fn system_prompt(agent: &AgentProfile, mission: &Mission) -> String {
    let voicemail = match mission.on_voicemail {
        VoicemailPolicy::LeaveMessage => {
            "leave a short message saying who called and why, then report_result with outcome \
             voicemail and message_left true, and end_call"
        }
        VoicemailPolicy::HangUp => {
            "say goodbye, report_result with outcome voicemail and message_left false, and end_call"
        }
    };
    format!(
        "You are an assistant making an outbound phone call on behalf of {}. You already introduced \
         yourself and said why you call. Your task: {}\n\nPursue the task politely and briefly. When \
         the person answers, repeat what you understood and ask them to confirm. Then thank them, call \
         report_result with what you learned, say goodbye and call end_call. If they will not help, \
         thank them, report_result with outcome declined, and end_call. If you reach an answering \
         machine or voicemail greeting, {voicemail}. Never invent an answer. This is a phone call: \
         speak in short plain sentences, without lists or markup.",
        speaker(agent),
        mission.task.trim()
    )
}

/// The tools of a mission call.
pub(super) fn tools() -> Value {
    Value::Array(vec![
        tool(
            "report_result",
            "Record what the call found out about the task, before saying goodbye.",
            json!({
                "outcome": {"type": "string",
                            "enum": ["answered", "declined", "voicemail", "unanswered"]},
                "answer": {"type": "string",
                           "description": "The person's answer, in their words, as confirmed"},
                "message_left": {"type": "boolean",
                                 "description": "A voicemail message was left"}
            }),
            &["outcome"],
        ),
        tool(
            "end_call",
            "Hang up after your reply, once you have said goodbye.",
            json!({}),
            &[],
        ),
    ])
}

/// The action of a `report_result` call, and the tool result recorded for the model.
pub(super) fn report(arguments: &str) -> (Option<Action>, &'static str) {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Args {
        outcome: Option<String>,
        answer: Option<String>,
        message_left: Option<bool>,
    }
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let Ok(args) = serde_json::from_str::<Args>(arguments) else {
        return (
            None,
            "Error: the arguments were not valid JSON. Nothing was recorded.",
        );
    };
    let outcome = match args.outcome.as_deref().map(str::trim) {
        Some("answered") => MissionOutcome::Answered,
        Some("declined") => MissionOutcome::Declined,
        Some("voicemail") => MissionOutcome::Voicemail,
        Some("unanswered") => MissionOutcome::Unanswered,
        _ => {
            return (
                None,
                "Error: outcome must be answered, declined, voicemail or unanswered.",
            );
        }
    };
    let answer = args
        .answer
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    (
        Some(Action::MissionResult {
            outcome,
            answer,
            message_left: args.message_left.unwrap_or(false),
        }),
        "Recorded. Say goodbye and end the call.",
    )
}
