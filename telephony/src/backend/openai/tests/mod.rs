//! The OpenAI-compatible backends against a local scripted server: the server and helpers here, the
//! chat completions in `chat.rs`, transcription and speech in `audio.rs`, missions in `mission_calls.rs`.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use dialtone_media::{PcmSlice, SampleRate};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::tts::PcmDecoder;
use super::*;
use crate::agent::AgentProfile;
use crate::backend::{
    BackendError, DialogueProvider, ReplyPart, SttEvent, SttProvider, TtsProvider,
};
use crate::dialogue::{Action, Message};

/// One scripted answer: a status and the body, in the chunks it is written in.
struct Answer {
    status: StatusCode,
    chunks: Vec<Vec<u8>>,
    /// Keep the body open after the chunks, until the client goes away.
    hang: bool,
    /// Answers only a request whose body passes; `None` answers any.
    when: Option<fn(&[u8]) -> bool>,
}

#[derive(Default)]
struct Server {
    answers: Mutex<VecDeque<Answer>>,
    /// Every request: its headers and body.
    requests: Mutex<Vec<(HeaderMap, Bytes)>>,
    /// Signalled when a hanging body is dropped (the client closed the connection).
    closed: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

struct OnDrop(Arc<Server>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.closed.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }
}

async fn answer(State(server): State<Arc<Server>>, headers: HeaderMap, body: Bytes) -> Response {
    let Answer {
        status,
        chunks,
        hang,
        ..
    } = {
        let mut answers = server.answers.lock().unwrap();
        let at = answers
            .iter()
            .position(|a| a.when.is_none_or(|when| when(&body)))
            .expect("a scripted answer");
        answers.remove(at).unwrap()
    };
    server.requests.lock().unwrap().push((headers, body));
    let chunks = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, Infallible>));
    let body = if hang {
        let guard = OnDrop(server.clone());
        Body::from_stream(chunks.chain(futures_util::stream::pending().map(move |()| {
            let _keep = &guard;
            Ok(Vec::new())
        })))
    } else {
        Body::from_stream(chunks)
    };
    Response::builder().status(status).body(body).unwrap()
}

impl Server {
    async fn start(answers: Vec<Answer>) -> (Arc<Self>, OpenAiConfig) {
        let server = Arc::new(Server {
            answers: Mutex::new(answers.into()),
            ..Server::default()
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .route("/v1/audio/transcriptions", post(answer))
            .route("/v1/audio/speech", post(answer))
            .with_state(server.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = OpenAiConfig {
            base_url: format!("http://{addr}/v1/"),
            api_key: Some("sk-test".into()),
            chat_model: "chat-test".into(),
            stt_model: "stt-test".into(),
            tts_model: "tts-test".into(),
            tts_voice: "voice-test".into(),
            timeout: Duration::from_secs(10),
        };
        (server, config)
    }

    fn json_bodies(&self) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_slice(b).unwrap())
            .collect()
    }
}

fn ok(chunks: Vec<Vec<u8>>) -> Answer {
    Answer {
        status: StatusCode::OK,
        chunks,
        hang: false,
        when: None,
    }
}

fn status(status: StatusCode, body: &str) -> Answer {
    Answer {
        status,
        chunks: vec![body.as_bytes().to_vec()],
        hang: false,
        when: None,
    }
}

/// An SSE body of text deltas, a finish reason and `[DONE]`.
pub(super) fn sse_text(deltas: &[&str]) -> Vec<u8> {
    let mut events: Vec<Value> = deltas
        .iter()
        .map(|d| json!({"choices": [{"index": 0, "delta": {"content": d}, "finish_reason": null}]}))
        .collect();
    events.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
    sse(&events)
}

fn sse(events: &[Value]) -> Vec<u8> {
    let mut out = String::new();
    for e in events {
        out.push_str(&format!("data: {e}\r\n\r\n"));
    }
    out.push_str("data: [DONE]\r\n\r\n");
    out.into_bytes()
}

fn split_every(bytes: &[u8], n: usize) -> Vec<Vec<u8>> {
    bytes.chunks(n).map(<[u8]>::to_vec).collect()
}

fn agent() -> Arc<AgentProfile> {
    let mut agent: AgentProfile = serde_json::from_value(json!({
        "name": "Bright Smile Dental receptionist",
        "greeting": "Bright Smile Dental, how can I help?",
        "system_prompt": "You are the receptionist of Bright Smile Dental.",
        "facts": {"business_name": "Bright Smile Dental"},
        "documents": [{"title": "Parking", "text": "Free parking behind the building."}]
    }))
    .unwrap();
    agent.transfer_number = Some("+15550001111".into());
    Arc::new(agent)
}

async fn collect(stream: crate::backend::ReplyStream) -> Vec<Result<ReplyPart, BackendError>> {
    stream.collect().await
}

fn says(parts: &[Result<ReplyPart, BackendError>]) -> Vec<String> {
    parts
        .iter()
        .filter_map(|p| match p {
            Ok(ReplyPart::Say(s)) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

pub(super) const DELTAS: &[&str] = &[
    "Hello the",
    "re. We open at 9",
    ".30 on Mon",
    "days. Caf\u{e9} Dr. Lee is in ",
    "today! Bye",
];
pub(super) const SENTENCES: &[&str] = &[
    "Hello there.",
    "We open at 9.30 on Mondays.",
    "Caf\u{e9} Dr. Lee is in today!",
    "Bye",
];

mod audio;
mod chat;
mod mission_calls;
