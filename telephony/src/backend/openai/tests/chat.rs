//! Chat completions: streamed sentences, tool calls, interruptions, cancellation and failures.

use super::*;

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
