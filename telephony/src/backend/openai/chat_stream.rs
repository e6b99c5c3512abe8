//! The sans-IO half of a streamed chat completion: SSE bytes in, whole sentences and complete tool calls
//! out. Kept apart from the dialogue so it can be tested byte by byte.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use tracing::debug;

use super::chat::{FunctionCall, ToolCall};
use super::sse::SseParser;
use crate::backend::sentences;

/// What a streamed completion yields, in order.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TurnEvent {
    /// A whole sentence of text (or the last, unfinished piece at the end).
    Sentence(String),
    /// A tool call whose arguments are complete.
    Call(ToolCall),
    /// The server reported an error in the stream.
    Error(String),
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// The sans-IO part of a turn: SSE bytes in, sentences and complete tool calls out.
#[derive(Debug, Default)]
pub(super) struct TurnParser {
    sse: SseParser,
    /// Text not yet emitted: at most an unfinished sentence.
    text: String,
    /// Tool calls still being streamed, by index.
    calls: BTreeMap<usize, PartialCall>,
    /// Tool calls emitted so far, for ids the server left out.
    emitted_calls: usize,
    /// `[DONE]` or a finish reason was seen.
    pub done: bool,
}

#[derive(Deserialize)]
struct Chunk {
    choices: Option<Vec<Choice>>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    index: Option<u32>,
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    index: Option<usize>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

impl TurnParser {
    /// Feeds response bytes.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<TurnEvent> {
        let mut events = Vec::new();
        for data in self.sse.push(bytes) {
            self.on_data(&data, &mut events);
        }
        events
    }

    /// The response ended: whatever is left.
    pub fn finish(&mut self) -> Vec<TurnEvent> {
        let mut events = Vec::new();
        if let Some(data) = self.sse.finish() {
            self.on_data(&data, &mut events);
        }
        self.flush(&mut events);
        self.done = true;
        events
    }

    fn on_data(&mut self, data: &str, events: &mut Vec<TurnEvent>) {
        if self.done {
            return;
        }
        let data = data.trim();
        if data == "[DONE]" {
            self.flush(events);
            self.done = true;
            return;
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(e) => {
                debug!(error = %e, "skipping an unreadable stream event");
                return;
            }
        };
        if let Some(error) = chunk.error {
            let what = error
                .get("code")
                .or_else(|| error.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("error")
                .chars()
                .take(64)
                .collect::<String>();
            self.flush(events);
            self.done = true;
            events.push(TurnEvent::Error(format!("the stream reported {what}")));
            return;
        }
        let mut finished = false;
        for choice in chunk.choices.unwrap_or_default() {
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content {
                    self.text.push_str(&text);
                    self.whole_sentences(events);
                }
                for call in delta.tool_calls.unwrap_or_default() {
                    self.on_call_delta(call, events);
                }
            }
            finished |= choice.finish_reason.is_some_and(|r| !r.is_empty());
        }
        if finished {
            // Servers may still send usage and `[DONE]`; nothing after a finish reason is spoken.
            self.flush(events);
            self.done = true;
        }
    }

    fn on_call_delta(&mut self, delta: ToolCallDelta, events: &mut Vec<TurnEvent>) {
        let index = delta
            .index
            .unwrap_or_else(|| self.calls.keys().next_back().copied().unwrap_or(0));
        // Calls stream one after another: a later index completes the earlier ones.
        let earlier: Vec<usize> = self.calls.range(..index).map(|(&i, _)| i).collect();
        if !earlier.is_empty() {
            self.flush_text(events);
            for i in earlier {
                if let Some(call) = self.calls.remove(&i) {
                    self.emit_call(call, events);
                }
            }
        }
        let call = self.calls.entry(index).or_default();
        if let Some(id) = delta.id.filter(|id| !id.is_empty())
            && call.id.is_empty()
        {
            call.id = id;
        }
        if let Some(function) = delta.function {
            if let Some(name) = function.name.filter(|n| !n.is_empty()) {
                if call.name.is_empty() {
                    call.name = name;
                } else if call.name != name {
                    call.name.push_str(&name);
                }
            }
            if let Some(arguments) = function.arguments
                && call.arguments.len() + arguments.len() <= super::sse::MAX_LINE
            {
                call.arguments.push_str(&arguments);
            }
        }
    }

    fn emit_call(&mut self, call: PartialCall, events: &mut Vec<TurnEvent>) {
        if call.name.is_empty() {
            return;
        }
        self.emitted_calls += 1;
        let id = if call.id.is_empty() {
            format!("call_{}", self.emitted_calls)
        } else {
            call.id
        };
        events.push(TurnEvent::Call(ToolCall {
            id,
            kind: "function",
            function: FunctionCall {
                name: call.name,
                arguments: call.arguments,
            },
        }));
    }

    /// Emits every sentence of the buffer but the last, which may still grow.
    fn whole_sentences(&mut self, events: &mut Vec<TurnEvent>) {
        let parts: Vec<&str> = sentences(&self.text).collect();
        let Some(&last) = parts.last() else {
            return;
        };
        if parts.len() < 2 {
            return;
        }
        // `sentences` yields slices of the buffer: the tail starts where the last one does.
        let tail_at = last.as_ptr() as usize - self.text.as_ptr() as usize;
        events.extend(
            parts[..parts.len() - 1]
                .iter()
                .map(|s| TurnEvent::Sentence((*s).to_owned())),
        );
        self.text.drain(..tail_at);
    }

    fn flush_text(&mut self, events: &mut Vec<TurnEvent>) {
        events.extend(
            sentences(&self.text)
                .map(|s| TurnEvent::Sentence(s.to_owned()))
                .collect::<Vec<_>>(),
        );
        self.text.clear();
    }

    fn flush(&mut self, events: &mut Vec<TurnEvent>) {
        self.flush_text(events);
        for call in std::mem::take(&mut self.calls).into_values() {
            self.emit_call(call, events);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::openai::tests::{DELTAS, SENTENCES, sse_text};

    #[test]
    fn text_comes_out_in_whole_sentences_whatever_the_chunk_boundaries() {
        let body = sse_text(DELTAS);
        for n in 1..body.len() {
            let mut parser = TurnParser::default();
            let mut events = Vec::new();
            for chunk in body.chunks(n) {
                events.extend(parser.push(chunk));
            }
            events.extend(parser.finish());
            let expected: Vec<TurnEvent> = SENTENCES
                .iter()
                .map(|s| TurnEvent::Sentence((*s).to_owned()))
                .collect();
            assert_eq!(events, expected, "chunks of {n}");
        }
    }

    mod garbage {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn garbage_streams_never_panic(
                lines in proptest::collection::vec(
                    prop_oneof![
                        "[ -~]{0,60}".prop_map(|s| format!("data: {s}\n\n")),
                        Just("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":3,\"function\":{\"arguments\":\"{\"}}]}}]}\n\n".to_owned()),
                        Just("data: {\"choices\":null,\"error\":7}\n\n".to_owned()),
                        Just("data: {\"choices\":[{\"delta\":{\"content\":\"Hi. \"}}]}\n".to_owned()),
                        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
                    ],
                    0..12,
                ),
                split in 1usize..50,
            ) {
                let body = lines.concat();
                let mut parser = TurnParser::default();
                for chunk in body.as_bytes().chunks(split) {
                    let _ = parser.push(chunk);
                }
                let _ = parser.finish();
            }
        }
    }
}
