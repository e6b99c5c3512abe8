//! The configuration's secrecy, stalled streams and mission calls.

use super::*;

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
        super::super::mission::report("{\"outcome\": \"maybe\"}")
            .0
            .is_none()
    );
    assert!(super::super::mission::report("[1]").0.is_none());
    assert_eq!(
        super::super::mission::report("{\"outcome\": \"voicemail\", \"message_left\": true}").0,
        Some(Action::MissionResult {
            outcome: crate::dialogue::MissionOutcome::Voicemail,
            answer: None,
            message_left: true,
        })
    );
}
