//! Whatever arrives on the socket, the session answers Ok or Err and never panics.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::*;

/// Names and values that steer generated objects into the parser's paths.
const KEYS: &[&str] = &[
    "event",
    "streamSid",
    "stream_id",
    "sequenceNumber",
    "start",
    "media",
    "mark",
    "dtmf",
    "stop",
    "callSid",
    "call_control_id",
    "accountSid",
    "tracks",
    "customParameters",
    "custom_parameters",
    "mediaFormat",
    "media_format",
    "encoding",
    "sampleRate",
    "sample_rate",
    "channels",
    "track",
    "chunk",
    "timestamp",
    "payload",
    "name",
    "digit",
    "to",
    "from",
];
const WORDS: &[&str] = &[
    "connected",
    "start",
    "media",
    "mark",
    "dtmf",
    "stop",
    "error",
    "inbound",
    "outbound",
    "audio/x-mulaw",
    "PCMU",
    "PCMA",
    "L16",
    "G722",
    "OPUS",
    "/w==",
    "////",
    "t1-m0",
    "t0-m0",
    "1",
    "#",
    "8000",
    "16000",
    "-1",
    "",
    "MZ1",
    "CA1",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A message with a known event name and generated bodies.
fn message() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&WORDS[..7]),
        prop::collection::vec((prop::sample::select(KEYS), json()), 0..5),
    )
        .prop_map(|(event, fields)| {
            let mut object = Map::new();
            object.insert("event".into(), Value::from(event));
            for (k, v) in fields {
                object.insert(k.to_owned(), v);
            }
            Value::Object(object).to_string()
        })
}

/// Feeds `texts` to an accepted Twilio call with the agent talking, stepping the clock between them.
fn feed_live_call(texts: &[String]) {
    let mut call = Call::twilio();
    call.agent(1, &agent_tone(4_410), Some(0));
    for text in texts {
        let _ = call.message(text);
        call.step(None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_string_is_ok_or_err(texts in prop::collection::vec("\\PC{0,64}", 1..8)) {
        let mut fresh = StreamSession::new(Carrier::Twilio);
        for text in &texts {
            let _ = fresh.handle_message(text, Instant::now());
        }
        feed_live_call(&texts);
    }

    #[test]
    fn any_json_is_ok_or_err(values in prop::collection::vec(json(), 1..6)) {
        let texts: Vec<String> = values.iter().map(Value::to_string).collect();
        for carrier in [Carrier::Twilio, Carrier::Telnyx] {
            let mut fresh = StreamSession::new(carrier);
            for text in &texts {
                let _ = fresh.handle_message(text, Instant::now());
            }
        }
        feed_live_call(&texts);
    }

    #[test]
    fn any_message_shaped_object_is_ok_or_err(texts in prop::collection::vec(message(), 1..8)) {
        for carrier in [Carrier::Twilio, Carrier::Telnyx] {
            let mut session = StreamSession::new(carrier);
            let now = Instant::now();
            for text in &texts {
                let _ = session.handle_message(text, now);
                let mut started = false;
                loop {
                    match session.poll_output() {
                        StreamOutput::Event(StreamEvent::Started(_)) => started = true,
                        StreamOutput::Timeout(_) => break,
                        _ => {}
                    }
                }
                if started {
                    session.accept(CallMediaConfig::pcmu(), now).unwrap();
                }
                session.handle_timeout(now);
                while !matches!(session.poll_output(), StreamOutput::Timeout(_)) {}
            }
        }
        feed_live_call(&texts);
    }
}
