//! A task's `result_data` from the call's report: the transcript as one text, what the mission dialogue
//! concluded, the callee's answers, and a summary made from them (extractive: what the callee said about
//! the task, in their words).

use dialtone_telephony::call::{CallReport, Role};
use dialtone_telephony::dialogue::{Action, MissionOutcome};
use serde_json::{Value, json};

/// What a mission call came to, read from its report.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// `answered`, `declined`, `voicemail`, `unanswered`, or `incomplete` (the call ended before the
    /// dialogue concluded).
    pub outcome: &'static str,
    /// An answering machine took the call and no message was left: worth calling again.
    pub voicemail_without_message: bool,
    /// `{concatenated_transcript, summary, outcome, answers}`.
    pub data: Value,
}

/// Reads the report of a mission call about `task`.
pub fn call_result(task: &str, report: &CallReport) -> CallResult {
    let concluded = report.actions.iter().find_map(|a| match a {
        Action::MissionResult {
            outcome,
            answer,
            message_left,
        } => Some((outcome.clone(), answer.clone(), *message_left)),
        _ => None,
    });
    let transcript = concatenated_transcript(report);
    let (outcome, answer, message_left) = match &concluded {
        Some((outcome, answer, left)) => (outcome_name(outcome), answer.clone(), *left),
        None => ("incomplete", None, false),
    };
    let answers: Vec<Value> = answer
        .iter()
        .map(|a| json!({"question": task, "answer": a}))
        .collect();
    let summary = summary(task, outcome, answer.as_deref(), message_left, report);
    CallResult {
        outcome,
        voicemail_without_message: outcome == "voicemail" && !message_left,
        data: json!({
            "concatenated_transcript": transcript,
            "summary": summary,
            "outcome": outcome,
            "answers": answers,
        }),
    }
}

fn outcome_name(outcome: &MissionOutcome) -> &'static str {
    match outcome {
        MissionOutcome::Answered => "answered",
        MissionOutcome::Declined => "declined",
        MissionOutcome::Voicemail => "voicemail",
        MissionOutcome::Unanswered => "unanswered",
    }
}

/// Every line, speaker first: `Agent: ...` and `Callee: ...`, one per line.
pub fn concatenated_transcript(report: &CallReport) -> String {
    report
        .transcript
        .iter()
        .filter(|e| !e.text.trim().is_empty())
        .map(|e| {
            let who = match e.role {
                Role::Agent => "Agent",
                Role::Caller => "Callee",
            };
            format!("{who}: {}", e.text.trim())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn callee_lines(report: &CallReport) -> Vec<&str> {
    report
        .transcript
        .iter()
        .filter(|e| e.role == Role::Caller)
        .map(|e| e.text.trim())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The extractive summary: the task, then what the callee said about it.
fn summary(
    task: &str,
    outcome: &str,
    answer: Option<&str>,
    message_left: bool,
    report: &CallReport,
) -> String {
    let task = task.trim().trim_end_matches(['.', '!', '?']);
    let said = match answer {
        Some(a) => format!("The callee said: \"{}\"", a.trim()),
        None => {
            let lines = callee_lines(report);
            if lines.is_empty() {
                "The callee said nothing the agent could hear".to_owned()
            } else {
                format!("The callee said: \"{}\"", lines.join(" "))
            }
        }
    };
    match outcome {
        "answered" => format!("Task: {task}. {said}."),
        "declined" => format!("Task: {task}. The callee declined to help. {said}."),
        "voicemail" if message_left => {
            format!("Task: {task}. An answering machine picked up; the agent left a short message.")
        }
        "voicemail" => {
            format!("Task: {task}. An answering machine picked up; no message was left.")
        }
        "unanswered" => format!("Task: {task}. The callee did not answer the question. {said}."),
        _ => format!("Task: {task}. The call ended before the task was done. {said}."),
    }
}

#[cfg(test)]
mod tests {
    use dialtone_telephony::call::{CallEnd, TranscriptEntry};

    use super::*;

    fn report(lines: &[(Role, &str)], actions: Vec<Action>) -> CallReport {
        CallReport {
            call_id: None,
            agent_id: None,
            from: None,
            to: None,
            started_at: None,
            outbound: false,
            transcript: lines
                .iter()
                .map(|(role, text)| TranscriptEntry {
                    role: *role,
                    text: (*text).to_owned(),
                    interrupted: false,
                })
                .collect(),
            turns: Vec::new(),
            actions,
            end: CallEnd::AgentHungUp,
            media: None,
            backend_errors: Default::default(),
        }
    }

    #[test]
    fn an_answered_mission_reports_the_answer_in_transcript_summary_and_answers() {
        let r = report(
            &[
                (Role::Agent, "Hello, I'm calling about a table."),
                (Role::Caller, "We have one at seven."),
                (Role::Agent, "Just to confirm, seven?"),
                (Role::Caller, "Yes."),
            ],
            vec![
                Action::MissionResult {
                    outcome: MissionOutcome::Answered,
                    answer: Some("We have one at seven.".into()),
                    message_left: false,
                },
                Action::EndCall,
            ],
        );
        let result = call_result("Ask for a table for four tonight.", &r);
        assert_eq!(result.outcome, "answered");
        assert!(!result.voicemail_without_message);
        let data = &result.data;
        assert_eq!(
            data["concatenated_transcript"],
            "Agent: Hello, I'm calling about a table.\nCallee: We have one at seven.\n\
             Agent: Just to confirm, seven?\nCallee: Yes."
        );
        assert_eq!(
            data["summary"],
            "Task: Ask for a table for four tonight. The callee said: \"We have one at seven.\"."
        );
        assert_eq!(data["answers"][0]["answer"], "We have one at seven.");
        assert_eq!(data["outcome"], "answered");
    }

    #[test]
    fn voicemail_and_hang_ups_say_what_happened() {
        let r = report(
            &[(Role::Caller, "Leave a message after the beep.")],
            vec![Action::MissionResult {
                outcome: MissionOutcome::Voicemail,
                answer: None,
                message_left: false,
            }],
        );
        let result = call_result("Ask about hours", &r);
        assert!(result.voicemail_without_message);
        assert!(
            result.data["summary"]
                .as_str()
                .unwrap_or_default()
                .contains("no message")
        );
        let r = report(&[(Role::Caller, "Who? Bye.")], Vec::new());
        let result = call_result("Ask about hours", &r);
        assert_eq!(result.outcome, "incomplete");
        assert_eq!(
            result.data["summary"],
            "Task: Ask about hours. The call ended before the task was done. The callee said: \"Who? Bye.\"."
        );
        assert_eq!(result.data["answers"], json!([]));
    }
}
