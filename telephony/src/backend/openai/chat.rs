//! The dialogue as streamed chat completions with tools.
//!
//! Each caller turn posts the whole conversation; the streamed answer comes back as whole sentences to
//! speak and, once a tool call's arguments are complete, as an [`Action`]. The conversation records what
//! was emitted, so an interruption can cut the last answer down to what the caller heard.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::{debug, warn};

use super::chat_stream::{TurnEvent, TurnParser};
use super::{Api, BodyStream, OpenAiConfig};
use crate::agent::AgentProfile;
use crate::backend::{
    BackendError, Dialogue, DialogueProvider, ReplyPart, ReplyStream, ready_reply,
};
use crate::dialogue::{Action, Booking, LocalTime, Message, Mission, TransferReason};

use super::mission;

const PROVIDER: &str = "openai-chat";
/// Longest part of one document put in the system prompt, in characters.
const MAX_DOCUMENT_CHARS: usize = 1_500;
/// Longest knowledge section of the system prompt, in characters.
const MAX_KNOWLEDGE_CHARS: usize = 6_000;

/// Chat completions as a [`DialogueProvider`].
#[derive(Debug, Clone)]
pub struct OpenAiChat {
    api: Api,
}

impl OpenAiChat {
    /// A provider for `config.chat_model` at `config.base_url`.
    pub fn new(config: OpenAiConfig) -> Result<Self, BackendError> {
        Ok(Self {
            api: Api::new(config, PROVIDER)?,
        })
    }
}

impl DialogueProvider for OpenAiChat {
    fn start(&self, agent: Arc<AgentProfile>, caller: Option<String>) -> Box<dyn Dialogue> {
        Box::new(ChatDialogue {
            api: self.api.clone(),
            knowledge: knowledge(&agent),
            agent,
            caller,
            mission: None,
            conversation: Arc::new(Mutex::new(Conversation::default())),
        })
    }

    /// The model pursues the task (see `mission.rs`); the opening is the built-in policy's.
    fn start_mission(&self, agent: Arc<AgentProfile>, mission: Mission) -> Box<dyn Dialogue> {
        Box::new(ChatDialogue {
            api: self.api.clone(),
            knowledge: String::new(),
            agent,
            caller: None,
            mission: Some(mission),
            conversation: Arc::new(Mutex::new(Conversation::default())),
        })
    }
}

/// One message of the conversation as the API takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct ChatMessage {
    pub role: &'static str,
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    fn new(role: &'static str, content: impl Into<String>) -> Self {
        Self {
            role,
            content: Some(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// A complete tool call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall,
}

/// The function a tool call names, with its arguments as the JSON text the model wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct FunctionCall {
    pub name: String,
    pub arguments: String,
}

/// The history of one call, shared with the answer being streamed.
#[derive(Debug, Default)]
struct Conversation {
    messages: Vec<ChatMessage>,
    /// Bumped by every new turn and interruption; a stream of an older turn stops recording.
    generation: u64,
}

struct ChatDialogue {
    api: Api,
    agent: Arc<AgentProfile>,
    caller: Option<String>,
    knowledge: String,
    /// Set on an outbound mission call.
    mission: Option<Mission>,
    conversation: Arc<Mutex<Conversation>>,
}

fn lock(conversation: &Mutex<Conversation>) -> std::sync::MutexGuard<'_, Conversation> {
    conversation.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ChatDialogue {
    fn system_prompt(&self, now: Option<LocalTime>) -> String {
        if let Some(m) = &self.mission {
            return mission::system_prompt(&self.agent, m);
        }
        let agent = &self.agent;
        let business = agent
            .facts
            .business_name
            .clone()
            .unwrap_or_else(|| agent.name.clone());
        let mut prompt = match &agent.system_prompt {
            Some(p) if !p.trim().is_empty() => p.trim().to_owned(),
            _ => format!(
                "You are the phone receptionist of {business}. Answer only from the facts and \
                 knowledge below; when something is not there, say you do not know and offer to take \
                 a message."
            ),
        };
        let facts = serde_json::to_string(&agent.facts).unwrap_or_default();
        prompt
            .push_str("\n\nBusiness facts (JSON; anything absent is unknown, never invent it):\n");
        prompt.push_str(&facts);
        if !self.knowledge.is_empty() {
            prompt.push_str("\n\nKnowledge from the business:\n");
            prompt.push_str(&self.knowledge);
        }
        prompt.push_str(
            "\n\nThis is a phone call: answer in short plain sentences, without lists or markup. \
             Before you call a tool, tell the caller what you are doing, and confirm the details of a \
             message or appointment with the caller first.",
        );
        match &self.caller {
            Some(number) => prompt.push_str(&format!("\nThe caller's number is {number}.")),
            None => prompt.push_str("\nThe caller's number is unknown."),
        }
        if agent.transfer_number.is_none() {
            prompt.push_str("\nCalls cannot be transferred; offer to take a message instead.");
        }
        if let Some(now) = now {
            prompt.push_str(&format!(
                "\nIt is now {:?} {:02}:{:02} at the business.",
                now.weekday,
                now.minute / 60,
                now.minute % 60
            ));
        }
        prompt
    }

    fn tools(&self) -> Value {
        if self.mission.is_some() {
            return mission::tools();
        }
        let mut tools = vec![
            tool(
                "take_message",
                "Pass a message from the caller to the business.",
                json!({
                    "name": {"type": "string", "description": "The caller's name"},
                    "callback": {"type": "string", "description": "Callback number, if not the caller id"},
                    "reason": {"type": "string", "description": "The message"}
                }),
                &["reason"],
            ),
            tool(
                "book_appointment",
                "Request an appointment; staff call back to confirm a time.",
                json!({
                    "name": {"type": "string", "description": "The caller's name"},
                    "callback": {"type": "string", "description": "Callback number, if not the caller id"},
                    "reason": {"type": "string", "description": "What the appointment is for"},
                    "preferred_time": {"type": "string", "description": "Preferred day and time, as the caller said it"}
                }),
                &["reason"],
            ),
            tool(
                "end_call",
                "Hang up after your reply, when the caller is done.",
                json!({}),
                &[],
            ),
        ];
        if self.agent.transfer_number.is_some() {
            tools.insert(
                2,
                tool(
                    "transfer_call",
                    "Transfer the caller to a person at the business.",
                    json!({
                        "reason": {"type": "string", "enum": ["person", "emergency"]}
                    }),
                    &["reason"],
                ),
            );
        }
        Value::Array(tools)
    }

    fn request(&self, now: Option<LocalTime>) -> Value {
        let conversation = lock(&self.conversation);
        let mut messages = vec![ChatMessage::new("system", self.system_prompt(now))];
        messages.extend(conversation.messages.iter().cloned());
        json!({
            "model": self.api.config.chat_model,
            "stream": true,
            "messages": messages,
            "tools": self.tools(),
        })
    }
}

pub(super) fn tool(name: &str, description: &str, properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
            }
        }
    })
}

/// The agent's documents for the system prompt, each and all truncated.
fn knowledge(agent: &AgentProfile) -> String {
    let mut out = String::new();
    for doc in &agent.documents {
        let text: String = doc.text.trim().chars().take(MAX_DOCUMENT_CHARS).collect();
        if text.is_empty() {
            continue;
        }
        let section = if doc.title.trim().is_empty() {
            format!("{text}\n")
        } else {
            format!("## {}\n{text}\n", doc.title.trim())
        };
        let room = MAX_KNOWLEDGE_CHARS.saturating_sub(out.chars().count());
        if room == 0 {
            break;
        }
        out.extend(section.chars().take(room));
    }
    out.trim_end().to_owned()
}

impl Dialogue for ChatDialogue {
    fn greeting(&mut self) -> ReplyStream {
        let text = match &self.mission {
            Some(m) => mission::opening(&self.agent, m),
            None => self.agent.greeting_text(),
        };
        let mut conversation = lock(&self.conversation);
        conversation.generation += 1;
        conversation
            .messages
            .push(ChatMessage::new("assistant", text.clone()));
        ready_reply(vec![ReplyPart::Say(text)])
    }

    fn respond(&mut self, transcript: &str, now: Option<LocalTime>) -> ReplyStream {
        let generation = {
            let mut conversation = lock(&self.conversation);
            conversation.generation += 1;
            conversation
                .messages
                .push(ChatMessage::new("user", transcript.trim()));
            conversation.generation
        };
        let turn = Turn {
            api: self.api.clone(),
            body: Some(self.request(now)),
            body_stream: None,
            parser: TurnParser::default(),
            out: VecDeque::new(),
            finished: false,
            recorder: Recorder {
                conversation: self.conversation.clone(),
                generation,
                assistant_at: None,
            },
            transfer_number: self.agent.transfer_number.clone(),
            caller: self.caller.clone(),
        };
        Box::pin(futures_util::stream::unfold(turn, |mut turn| async move {
            let part = turn.next_part().await?;
            Some((part, turn))
        }))
    }

    fn dtmf(&mut self, digit: char, now: Option<LocalTime>) -> Option<ReplyStream> {
        Some(self.respond(&format!("(The caller pressed the {digit} key.)"), now))
    }

    fn beep(&mut self) -> Option<ReplyStream> {
        self.mission
            .is_some()
            .then(|| self.respond("(A beep: an answering machine is recording now.)", None))
    }

    fn interrupted(&mut self, heard: &str) {
        let heard = heard.trim();
        let mut conversation = lock(&self.conversation);
        conversation.generation += 1;
        let messages = &mut conversation.messages;
        let turn_start = messages
            .iter()
            .rposition(|m| m.role == "user")
            .map_or(0, |i| i + 1);
        let last_answer = messages
            .iter()
            .rposition(|m| m.role == "assistant")
            .filter(|&i| i >= turn_start);
        match last_answer {
            Some(i) if !messages[i].tool_calls.is_empty() => {
                messages[i].content = (!heard.is_empty()).then(|| heard.to_owned());
            }
            Some(i) if heard.is_empty() => {
                messages.remove(i);
            }
            Some(i) => messages[i].content = Some(heard.to_owned()),
            None if heard.is_empty() => {}
            None => messages.push(ChatMessage::new("assistant", heard)),
        }
    }
}

/// Writes what a turn emits into the conversation, unless a newer turn or an interruption came first.
struct Recorder {
    conversation: Arc<Mutex<Conversation>>,
    generation: u64,
    /// Where this turn's assistant message is, once there is one.
    assistant_at: Option<usize>,
}

impl Recorder {
    fn with_answer(&mut self, f: impl FnOnce(&mut Vec<ChatMessage>, usize)) {
        let mut conversation = lock(&self.conversation);
        if conversation.generation != self.generation {
            return;
        }
        let at = *self.assistant_at.get_or_insert_with(|| {
            conversation.messages.push(ChatMessage {
                role: "assistant",
                content: None,
                tool_calls: Vec::new(),
                tool_call_id: None,
            });
            conversation.messages.len() - 1
        });
        f(&mut conversation.messages, at);
    }

    fn said(&mut self, sentence: &str) {
        self.with_answer(|messages, at| {
            let content = messages[at].content.get_or_insert_with(String::new);
            if !content.is_empty() {
                content.push(' ');
            }
            content.push_str(sentence);
        });
    }

    fn called(&mut self, call: ToolCall, result: &str) {
        self.with_answer(|messages, at| {
            let id = call.id.clone();
            messages[at].tool_calls.push(call);
            messages.push(ChatMessage {
                role: "tool",
                content: Some(result.to_owned()),
                tool_calls: Vec::new(),
                tool_call_id: Some(id),
            });
        });
    }
}

/// One streamed answer. Dropping it drops the response body, which closes the connection.
struct Turn {
    api: Api,
    /// The request, until it is sent.
    body: Option<Value>,
    body_stream: Option<BodyStream>,
    parser: TurnParser,
    out: VecDeque<Result<ReplyPart, BackendError>>,
    finished: bool,
    recorder: Recorder,
    transfer_number: Option<String>,
    caller: Option<String>,
}

impl Turn {
    async fn next_part(&mut self) -> Option<Result<ReplyPart, BackendError>> {
        loop {
            if let Some(part) = self.out.pop_front() {
                return Some(part);
            }
            if self.finished {
                return None;
            }
            if let Some(body) = self.body.take() {
                match self
                    .api
                    .send(self.api.post("chat/completions").json(&body))
                    .await
                {
                    Ok(response) => self.body_stream = Some(Box::pin(response.bytes_stream())),
                    Err(e) => {
                        self.finished = true;
                        return Some(Err(e));
                    }
                }
                continue;
            }
            let Some(body) = self.body_stream.as_mut() else {
                self.finished = true;
                continue;
            };
            let events = match body.next().await {
                Some(Ok(bytes)) => self.parser.push(&bytes),
                Some(Err(e)) => {
                    self.finished = true;
                    self.body_stream = None;
                    return Some(Err(self.api.transport(&e)));
                }
                None => {
                    self.finished = true;
                    self.body_stream = None;
                    self.parser.finish()
                }
            };
            if self.parser.done {
                self.finished = true;
                self.body_stream = None;
            }
            for event in events {
                self.on_event(event);
            }
        }
    }

    fn on_event(&mut self, event: TurnEvent) {
        match event {
            TurnEvent::Sentence(text) => {
                self.recorder.said(&text);
                self.out.push_back(Ok(ReplyPart::Say(text)));
            }
            TurnEvent::Call(call) => {
                let (action, result) = self.action(&call);
                self.recorder.called(call, result);
                if let Some(action) = action {
                    self.out.push_back(Ok(ReplyPart::Do(action)));
                }
            }
            TurnEvent::Error(reason) => {
                self.finished = true;
                self.body_stream = None;
                self.out.push_back(Err(self.api.failed(reason)));
            }
        }
    }

    /// The action a tool call asks for, and the tool result recorded for the model.
    fn action(&self, call: &ToolCall) -> (Option<Action>, &'static str) {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Args {
            name: Option<String>,
            callback: Option<String>,
            reason: Option<String>,
            preferred_time: Option<String>,
        }
        let arguments = if call.function.arguments.trim().is_empty() {
            "{}"
        } else {
            call.function.arguments.as_str()
        };
        let Ok(args) = serde_json::from_str::<Args>(arguments) else {
            warn!(tool = %call.function.name, "tool call arguments are not a JSON object");
            return (
                None,
                "Error: the arguments were not valid JSON. Nothing was done.",
            );
        };
        let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let callback = given(args.callback).or_else(|| self.caller.clone());
        match call.function.name.as_str() {
            "take_message" => (
                Some(Action::TakeMessage(Message {
                    name: given(args.name),
                    callback,
                    reason: given(args.reason).unwrap_or_default(),
                })),
                "The message is recorded and will be passed on.",
            ),
            "book_appointment" => (
                Some(Action::BookingRequest(Booking {
                    name: given(args.name),
                    callback,
                    reason: given(args.reason).unwrap_or_default(),
                    preferred_time: given(args.preferred_time),
                })),
                "The request is recorded; staff will call back to confirm a time.",
            ),
            "transfer_call" => match &self.transfer_number {
                Some(to) => {
                    let reason = match given(args.reason).as_deref() {
                        Some("emergency") => TransferReason::Emergency,
                        _ => TransferReason::Person,
                    };
                    (
                        Some(Action::Transfer {
                            to: to.clone(),
                            reason,
                        }),
                        "The caller is being transferred.",
                    )
                }
                None => (
                    None,
                    "Error: calls cannot be transferred. Offer to take a message.",
                ),
            },
            "end_call" => (Some(Action::EndCall), "The call ends after your reply."),
            "report_result" => mission::report(arguments),
            other => {
                debug!(tool = %other.chars().take(40).collect::<String>(), "unknown tool called");
                (None, "Error: no such tool. Nothing was done.")
            }
        }
    }
}
