//! The OpenAI-compatible backends against a local scripted server.

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

#[tokio::test]
async fn chat_streams_sentences_over_http_and_sends_the_prompt() {
    let (server, config) = Server::start(vec![ok(split_every(&sse_text(DELTAS), 7))]).await;
    let chat = OpenAiChat::new(config).unwrap();
    let mut dialogue = chat.start(agent(), Some("+15551234567".into()));
    let parts = collect(dialogue.respond("When do you open?", None)).await;
    assert_eq!(says(&parts), SENTENCES);
    assert_eq!(parts.len(), SENTENCES.len());

    let requests = server.requests.lock().unwrap();
    let (headers, body) = &requests[0];
    assert_eq!(headers["authorization"], "Bearer sk-test");
    let body: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["model"], "chat-test");
    assert_eq!(body["stream"], true);
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with("You are the receptionist of Bright Smile Dental."));
    assert!(system.contains(r#""business_name":"Bright Smile Dental""#));
    assert!(system.contains("Free parking behind the building."));
    assert!(system.contains("+15551234567"));
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": "When do you open?"})
    );
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "take_message",
            "book_appointment",
            "transfer_call",
            "end_call"
        ]
    );
}

fn tool_call_events() -> Vec<Value> {
    let call = |delta: Value| json!({"choices": [{"index": 0, "delta": {"tool_calls": [delta]}}]});
    vec![
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Sure, I'll pass that on"}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": "."}}]}),
        call(json!({"index": 0, "id": "call_abc", "type": "function",
                    "function": {"name": "take_message", "arguments": ""}})),
        call(json!({"index": 0, "function": {"arguments": "{\"name\": \"Ana"}})),
        call(json!({"index": 0, "function": {"arguments": " L\u{f3}pez\", \"reason\": \"ca"}})),
        call(json!({"index": 0, "function": {"arguments": "ll back about the bill\"}"}})),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ]
}

#[tokio::test]
async fn a_streamed_tool_call_becomes_an_action_and_the_history_goes_back() {
    let (server, config) = Server::start(vec![
        ok(split_every(&sse(&tool_call_events()), 11)),
        ok(vec![sse_text(&["Anything else?"])]),
    ])
    .await;
    let chat = OpenAiChat::new(config).unwrap();
    let mut dialogue = chat.start(agent(), Some("+15551234567".into()));
    let greeting = collect(dialogue.greeting()).await;
    assert_eq!(says(&greeting), ["Bright Smile Dental, how can I help?"]);

    let parts = collect(dialogue.respond("Tell them Ana López called about the bill", None)).await;
    let parts: Vec<ReplyPart> = parts.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        parts,
        vec![
            ReplyPart::Say("Sure, I'll pass that on.".into()),
            ReplyPart::Do(Action::TakeMessage(Message {
                name: Some("Ana L\u{f3}pez".into()),
                callback: Some("+15551234567".into()),
                reason: "call back about the bill".into(),
            })),
        ]
    );

    let parts = collect(dialogue.respond("No, thanks", None)).await;
    assert_eq!(says(&parts), ["Anything else?"]);
    let bodies = server.json_bodies();
    let messages = bodies[1]["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(
        messages[1..],
        [
            json!({"role": "assistant", "content": "Bright Smile Dental, how can I help?"}),
            json!({"role": "user", "content": "Tell them Ana López called about the bill"}),
            json!({"role": "assistant", "content": "Sure, I'll pass that on.", "tool_calls": [{
                "id": "call_abc", "type": "function", "function": {
                    "name": "take_message",
                    "arguments": "{\"name\": \"Ana L\u{f3}pez\", \"reason\": \"call back about the bill\"}"
                }
            }]}),
            json!({"role": "tool", "tool_call_id": "call_abc",
                   "content": "The message is recorded and will be passed on."}),
            json!({"role": "user", "content": "No, thanks"}),
        ]
    );
}

#[tokio::test]
async fn an_interruption_keeps_only_what_was_heard() {
    let (server, config) = Server::start(vec![
        ok(vec![sse_text(&[
            "We open at nine. We close at five. On Saturdays we open at ten.",
        ])]),
        ok(vec![sse_text(&["Yes."])]),
    ])
    .await;
    let chat = OpenAiChat::new(config).unwrap();
    let mut dialogue = chat.start(agent(), None);
    let parts = collect(dialogue.respond("What are your hours?", None)).await;
    assert_eq!(says(&parts).len(), 3);
    dialogue.interrupted("We open at nine.");
    collect(dialogue.respond("Saturdays too?", None)).await;
    let bodies = server.json_bodies();
    let messages = bodies[1]["messages"].as_array().unwrap();
    assert_eq!(
        messages[1..],
        [
            json!({"role": "user", "content": "What are your hours?"}),
            json!({"role": "assistant", "content": "We open at nine."}),
            json!({"role": "user", "content": "Saturdays too?"}),
        ]
    );
}

#[tokio::test]
async fn dropping_the_reply_closes_the_request() {
    let (server, config) = Server::start(vec![Answer {
        status: StatusCode::OK,
        chunks: vec![b"data: {\"choices\":[{\"delta\":{\"content\":\"One. Two\"}}]}\n\n".to_vec()],
        hang: true,
        when: None,
    }])
    .await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    *server.closed.lock().unwrap() = Some(tx);
    let chat = OpenAiChat::new(config).unwrap();
    let mut dialogue = chat.start(agent(), None);
    let mut reply = dialogue.respond("Count", None);
    assert_eq!(
        reply.next().await.unwrap().unwrap(),
        ReplyPart::Say("One.".into())
    );
    drop(reply);
    tokio::time::timeout(Duration::from_secs(10), rx)
        .await
        .expect("the server saw the connection close")
        .unwrap();
}

#[tokio::test]
async fn auth_failures_are_unavailable_and_server_errors_failed() {
    let (_server, config) = Server::start(vec![
        status(
            StatusCode::UNAUTHORIZED,
            r#"{"error":{"message":"Incorrect API key provided: sk-te**st"}}"#,
        ),
        status(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":{"type":"server_error"}}"#,
        ),
        status(StatusCode::TOO_MANY_REQUESTS, "slow down"),
        status(StatusCode::FORBIDDEN, ""),
    ])
    .await;
    let chat = OpenAiChat::new(config.clone()).unwrap();
    let mut dialogue = chat.start(agent(), None);
    let parts = collect(dialogue.respond("Hi", None)).await;
    match &parts[..] {
        [Err(BackendError::Unavailable { reason, .. })] => {
            assert!(reason.contains("OPENAI_API_KEY"), "{reason}");
            assert!(!reason.contains("sk-te"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let parts = collect(dialogue.respond("Hi", None)).await;
    match &parts[..] {
        [Err(BackendError::Failed { reason, .. })] => {
            assert!(
                reason.contains("500") && reason.contains("server_error"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let tts = OpenAiTts::new(config).unwrap();
    let chunks: Vec<_> = tts.synthesize("Hello").collect().await;
    assert!(
        matches!(&chunks[..], [Err(BackendError::Failed { reason, .. })] if reason.contains("429"))
    );
    let chunks: Vec<_> = tts.synthesize("Hello").collect().await;
    assert!(matches!(
        &chunks[..],
        [Err(BackendError::Unavailable { .. })]
    ));
}

#[tokio::test]
async fn an_unreachable_server_fails_the_reply() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = OpenAiConfig {
        base_url: format!("http://{addr}/v1"),
        ..OpenAiConfig::default()
    };
    let chat = OpenAiChat::new(config).unwrap();
    let parts = collect(chat.start(agent(), None).respond("Hi", None)).await;
    assert!(
        matches!(&parts[..], [Err(BackendError::Failed { .. })]),
        "{parts:?}"
    );
}

/// The parts of a multipart body, as (headers, content).
fn multipart_parts<'a>(headers: &HeaderMap, body: &'a [u8]) -> Vec<(String, &'a [u8])> {
    let content_type = headers["content-type"].to_str().unwrap();
    let boundary = content_type.split("boundary=").nth(1).unwrap();
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let head_end = find(rest, b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content = &rest[head_end + 4..];
        let end = find(content, delimiter.as_bytes()).unwrap();
        parts.push((head, &content[..end - 2]));
        rest = &content[end..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn next_event(session: &mut Box<dyn crate::backend::SttSession>) -> SttEvent {
    std::future::poll_fn(|cx| session.poll_event(cx))
        .await
        .expect("the session goes on")
}

#[tokio::test]
async fn stt_posts_each_turn_as_a_wav_and_reports_in_order() {
    let (server, config) = Server::start(vec![
        Answer {
            // The one-second turn; the half-second one fails.
            when: Some(|body| body.len() > 32_000),
            ..ok(vec![br#"{"text": " Hello there. "}"#.to_vec()])
        },
        status(StatusCode::BAD_GATEWAY, ""),
    ])
    .await;
    let stt = OpenAiStt::new(config).unwrap();
    assert_eq!(stt.rate(), SampleRate::HZ_16000);
    let mut session = stt.open().unwrap();
    let speech = dialtone_media::synth::voiced(SampleRate::HZ_16000, 120.0, 16_000, 0);
    for frame in speech.chunks(320) {
        session.push_audio(PcmSlice {
            rate: SampleRate::HZ_16000,
            samples: frame,
        });
    }
    session.end_of_turn();
    session.push_audio(PcmSlice {
        rate: SampleRate::HZ_16000,
        samples: &[0; 320],
    });
    session.end_of_turn();
    session.push_audio(PcmSlice {
        rate: SampleRate::HZ_16000,
        samples: &speech[..8_000],
    });
    session.end_of_turn();

    assert_eq!(
        next_event(&mut session).await,
        SttEvent::Final("Hello there.".into())
    );
    assert_eq!(
        next_event(&mut session).await,
        SttEvent::Final(String::new())
    );
    assert!(matches!(
        next_event(&mut session).await,
        SttEvent::Error(BackendError::Failed { .. })
    ));

    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 2, "silence is not sent");
    let (headers, body) = requests
        .iter()
        .find(|(_, body)| body.len() > 32_000)
        .unwrap();
    let parts = multipart_parts(headers, body);
    let file = parts
        .iter()
        .find(|(head, _)| head.contains(r#"name="file""#))
        .expect("a file part");
    assert!(file.0.contains("filename="), "{}", file.0);
    let pcm = dialtone_media::wav::read_wav(file.1).expect("a valid WAV");
    assert_eq!(pcm.rate(), SampleRate::HZ_16000);
    assert_eq!(pcm.samples(), &speech[..]);
    let model = parts
        .iter()
        .find(|(head, _)| head.contains(r#"name="model""#))
        .expect("a model part");
    assert_eq!(model.1, b"stt-test");
}

#[test]
fn pcm_decoding_carries_an_odd_byte_over() {
    let samples: Vec<i16> = (0..200).map(|i| (i * 331 - 30_000) as i16).collect();
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    for n in 1..9 {
        let mut decoder = PcmDecoder::default();
        let out: Vec<i16> = bytes.chunks(n).flat_map(|c| decoder.push(c)).collect();
        assert_eq!(out, samples, "chunks of {n}");
    }
}

#[tokio::test]
async fn tts_streams_pcm_split_on_odd_bytes() {
    let samples: Vec<i16> = (0..2_400)
        .map(|i| ((i * 97) % 65_536 - 32_768) as i16)
        .collect();
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let (server, config) = Server::start(vec![ok(split_every(&bytes, 333))]).await;
    let tts = OpenAiTts::new(config).unwrap();
    assert_eq!(tts.rate(), SampleRate::HZ_24000);
    let chunks: Vec<_> = tts.synthesize("Hello there.").collect().await;
    let mut out = Vec::new();
    for chunk in chunks {
        let pcm = chunk.unwrap();
        assert_eq!(pcm.rate(), SampleRate::HZ_24000);
        out.extend_from_slice(pcm.samples());
    }
    assert_eq!(out, samples);
    assert_eq!(
        server.json_bodies()[0],
        json!({"model": "tts-test", "voice": "voice-test", "input": "Hello there.", "response_format": "pcm"})
    );
}

#[test]
fn the_config_never_shows_the_key() {
    let config = OpenAiConfig {
        api_key: Some("sk-secret".into()),
        ..OpenAiConfig::default()
    };
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("sk-secret") && shown.contains("redacted"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_stalled_stream_times_out_as_a_failure() {
    let (_server, config) = Server::start(vec![Answer {
        status: StatusCode::OK,
        chunks: vec![b"data: {\"choices\":[{\"delta\":{\"content\":\"One. Two\"}}]}\n\n".to_vec()],
        hang: true,
        when: None,
    }])
    .await;
    let config = OpenAiConfig {
        timeout: Duration::from_millis(300),
        ..config
    };
    let chat = OpenAiChat::new(config).unwrap();
    let parts = collect(chat.start(agent(), None).respond("Count", None)).await;
    match &parts[..] {
        [
            Ok(ReplyPart::Say(one)),
            Err(BackendError::Failed { reason, .. }),
        ] => {
            assert_eq!(one, "One.");
            assert!(reason.contains("no answer"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_mission_call_opens_with_the_task_and_reports_the_answer_through_a_tool() {
    let call = |delta: Value| json!({"choices": [{"index": 0, "delta": {"tool_calls": [delta]}}]});
    let events = vec![
        json!({"choices": [{"index": 0, "delta": {"content": "Thank you, goodbye."}}]}),
        call(json!({"index": 0, "id": "call_1", "type": "function",
                    "function": {"name": "report_result",
                                 "arguments": "{\"outcome\": \"answered\", \"answer\": \"Yes, at seven\"}"}})),
        call(json!({"index": 1, "id": "call_2", "type": "function",
                    "function": {"name": "end_call", "arguments": "{}"}})),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ];
    let (server, config) = Server::start(vec![ok(vec![sse(&events)])]).await;
    let chat = OpenAiChat::new(config).unwrap();
    let mission = crate::dialogue::Mission {
        task: "Ask whether they have a table for four at 7 pm".into(),
        on_voicemail: crate::dialogue::VoicemailPolicy::HangUp,
    };
    let mut dialogue = chat.start_mission(agent(), mission);
    let opening = says(&collect(dialogue.greeting()).await).join(" ");
    assert!(
        opening.contains("on behalf of Bright Smile Dental"),
        "{opening}"
    );
    assert!(opening.contains("a table for four at 7 pm"), "{opening}");

    let parts: Vec<ReplyPart> = collect(dialogue.respond("Yes, at seven.", None))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        parts,
        vec![
            ReplyPart::Say("Thank you, goodbye.".into()),
            ReplyPart::Do(Action::MissionResult {
                outcome: crate::dialogue::MissionOutcome::Answered,
                answer: Some("Yes, at seven".into()),
                message_left: false,
            }),
            ReplyPart::Do(Action::EndCall),
        ]
    );
    let body = &server.json_bodies()[0];
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Your task: Ask whether they have a table for four at 7 pm"));
    assert!(
        system.contains("message_left false"),
        "the voicemail policy is given"
    );
    assert!(
        !system.contains("Free parking"),
        "no receptionist knowledge on a mission"
    );
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["report_result", "end_call"]);
    assert_eq!(body["messages"][1]["role"], "assistant");
    assert_eq!(
        body["messages"][2],
        json!({"role": "user", "content": "Yes, at seven."})
    );
}

#[test]
fn report_result_arguments_are_checked() {
    assert!(
        super::mission::report("{\"outcome\": \"maybe\"}")
            .0
            .is_none()
    );
    assert!(super::mission::report("[1]").0.is_none());
    assert_eq!(
        super::mission::report("{\"outcome\": \"voicemail\", \"message_left\": true}").0,
        Some(Action::MissionResult {
            outcome: crate::dialogue::MissionOutcome::Voicemail,
            answer: None,
            message_left: true,
        })
    );
}
