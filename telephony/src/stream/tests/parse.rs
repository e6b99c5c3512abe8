//! Every message of both carriers, inbound and outbound, and the start's checks.

use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dialtone_media::SampleRate;
use dialtone_media::codec::Codec;

use super::super::messages::{self, Num, Outbound};
use super::super::session::RxClock;
use super::*;
use crate::stream::{StreamError, StreamStart};

fn started(session: &mut StreamSession) -> StreamStart {
    loop {
        match session.poll_output() {
            StreamOutput::Event(StreamEvent::Started(start)) => return start,
            StreamOutput::Timeout(_) => panic!("no start"),
            _ => {}
        }
    }
}

fn start_with_format(carrier: Carrier, format: &str) -> Result<StreamStart, StreamError> {
    let text = match carrier {
        Carrier::Twilio => format!(
            r#"{{"event":"start","streamSid":"MZ1","start":{{"streamSid":"MZ1","callSid":"CA1","mediaFormat":{format}}}}}"#
        ),
        Carrier::Telnyx => format!(
            r#"{{"event":"start","stream_id":"s1","start":{{"call_control_id":"v2:c","media_format":{format}}}}}"#
        ),
    };
    let mut session = StreamSession::new(carrier);
    session.handle_message(&text, Instant::now())?;
    Ok(started(&mut session))
}

#[test]
fn twilio_start_carries_the_call() {
    let mut session = StreamSession::new(Carrier::Twilio);
    let now = Instant::now();
    session.handle_message(TWILIO_CONNECTED, now).unwrap();
    session.handle_message(TWILIO_START, now).unwrap();
    assert!(matches!(
        session.poll_output(),
        StreamOutput::Event(StreamEvent::Connected)
    ));
    let start = started(&mut session);
    assert_eq!(start.carrier, Carrier::Twilio);
    assert_eq!(start.stream_id, TWILIO_SID);
    assert_eq!(start.call_id, "CA123");
    assert_eq!(start.account_id.as_deref(), Some("AC123"));
    assert_eq!(start.tracks, ["inbound"]);
    assert_eq!(start.codec, Codec::Pcmu);
    assert_eq!(start.dialled_number(), Some("+15035550142"));
    assert_eq!(start.caller_number(), Some("+15035550100"));
    assert_eq!(start.agent_id(), None);
    assert_eq!(session.start(), Some(&start));
    assert!(matches!(session.poll_output(), StreamOutput::Timeout(None)));
    // Logs never show the numbers.
    let debug = format!("{start:?}");
    assert!(
        !debug.contains("5550142") && !debug.contains("5550100"),
        "{debug}"
    );
    assert!(
        debug.contains("CA123") && debug.contains("\"to\""),
        "{debug}"
    );
}

#[test]
fn telnyx_start_carries_the_call() {
    let mut session = StreamSession::new(Carrier::Telnyx);
    let now = Instant::now();
    session
        .handle_message(r#"{"event":"connected","version":"1.0.0"}"#, now)
        .unwrap();
    session.handle_message(TELNYX_START, now).unwrap();
    assert!(matches!(
        session.poll_output(),
        StreamOutput::Event(StreamEvent::Connected)
    ));
    let start = started(&mut session);
    assert_eq!(start.carrier, Carrier::Telnyx);
    assert_eq!(start.stream_id, "32DE0DEA-53CB-4B21-89A4-9E1819C043BC");
    assert_eq!(start.call_id, "v2:T02llQxIya");
    assert_eq!(start.account_id.as_deref(), Some("3E6F995F"));
    assert_eq!(start.client_state.as_deref(), Some("aGF2ZQ=="));
    assert_eq!(start.codec, Codec::Pcmu);
    assert_eq!(start.agent_id(), Some("dental-1"));
    // Telnyx puts the numbers beside the parameters, not in them.
    assert_eq!(start.dialled_number(), Some("+13122123456"));
    assert_eq!(start.caller_number(), Some("+13122010094"));
    assert!(start.tracks.is_empty());
}

#[test]
fn custom_parameters_take_both_spellings_and_any_json_value() {
    let text = r#"{"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","customParameters":{"to":"+1555","n":7,"b":true,"z":null},"custom_parameters":{"to":"ignored","agent_id":"a1"}}}"#;
    let mut session = StreamSession::new(Carrier::Twilio);
    session.handle_message(text, Instant::now()).unwrap();
    let start = started(&mut session);
    assert_eq!(start.dialled_number(), Some("+1555"), "camelCase wins");
    assert_eq!(start.agent_id(), Some("a1"));
    assert_eq!(start.custom_parameters["n"], "7");
    assert_eq!(start.custom_parameters["b"], "true");
    assert!(!start.custom_parameters.contains_key("z"));
    assert_eq!(start.codec, Codec::Pcmu, "no mediaFormat means μ-law");
}

#[test]
fn media_formats_map_to_codecs() {
    let l16 = |hz| Codec::L16 {
        rate: SampleRate::new(hz).unwrap(),
    };
    let cases = [
        (
            Carrier::Twilio,
            r#"{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}"#,
            Codec::Pcmu,
        ),
        (
            Carrier::Twilio,
            r#"{"encoding":"audio/x-mulaw","sampleRate":"8000","channels":"1"}"#,
            Codec::Pcmu,
        ),
        (
            Carrier::Twilio,
            r#"{"encoding":"audio/x-alaw","sampleRate":8000}"#,
            Codec::Pcma,
        ),
        (
            Carrier::Telnyx,
            r#"{"encoding":"PCMU","sample_rate":8000,"channels":1}"#,
            Codec::Pcmu,
        ),
        (
            Carrier::Telnyx,
            r#"{"encoding":"PCMA","sample_rate":8000,"channels":1}"#,
            Codec::Pcma,
        ),
        (
            Carrier::Telnyx,
            r#"{"encoding":"L16","sample_rate":8000,"channels":1}"#,
            l16(8_000),
        ),
        (
            Carrier::Telnyx,
            r#"{"encoding":"L16","sample_rate":16000,"channels":1}"#,
            l16(16_000),
        ),
        (
            Carrier::Telnyx,
            r#"{"encoding":"L16","sample_rate":16000.0}"#,
            l16(16_000),
        ),
        (
            Carrier::Telnyx,
            r#"{"encoding":"G722","sample_rate":16000,"channels":1}"#,
            Codec::G722,
        ),
        (
            Carrier::Telnyx,
            r#"{"encoding":"G722","sample_rate":8000}"#,
            Codec::G722,
        ),
    ];
    for (carrier, format, codec) in cases {
        let start = start_with_format(carrier, format).unwrap();
        assert_eq!(start.codec, codec, "{format}");
    }
}

#[test]
fn unsupported_formats_are_named_in_the_error() {
    for (format, expect) in [
        (
            r#"{"encoding":"OPUS","sample_rate":48000}"#,
            "OPUS at 48000 Hz",
        ),
        (r#"{"encoding":"AMR-WB","sample_rate":16000}"#, "AMR-WB"),
        (
            r#"{"encoding":"L16","sample_rate":44100}"#,
            "L16 at 44100 Hz",
        ),
        (r#"{"encoding":"PCMU","sample_rate":16000}"#, "8000 Hz only"),
        (r#"{"encoding":"PCMU","channels":2}"#, "2 channels"),
    ] {
        match start_with_format(Carrier::Telnyx, format) {
            Err(StreamError::UnsupportedEncoding(text)) => {
                assert!(text.contains(expect), "{text:?} for {format}")
            }
            other => panic!("{format}: {other:?}"),
        }
    }
    assert!(matches!(
        start_with_format(Carrier::Telnyx, r#"{"encoding":"L16"}"#),
        Err(StreamError::MissingField("mediaFormat.sampleRate"))
    ));
    assert!(matches!(
        start_with_format(Carrier::Telnyx, r#"{"sample_rate":8000}"#),
        Err(StreamError::MissingField("mediaFormat.encoding"))
    ));
    let long = format!(r#"{{"encoding":"{}"}}"#, "x".repeat(10_000));
    let Err(StreamError::UnsupportedEncoding(text)) = start_with_format(Carrier::Twilio, &long)
    else {
        panic!("long encoding accepted")
    };
    assert!(text.chars().count() <= 64);
}

#[test]
fn a_start_needs_stream_and_call_ids() {
    let now = Instant::now();
    for (text, field) in [
        (
            r#"{"event":"start","start":{"callSid":"CA1"}}"#,
            "streamSid",
        ),
        (
            r#"{"event":"start","streamSid":"","start":{"callSid":"CA1"}}"#,
            "streamSid",
        ),
        (
            r#"{"event":"start","streamSid":"MZ1","start":{"accountSid":"AC1"}}"#,
            "callSid",
        ),
        (
            r#"{"event":"start","stream_id":"s","start":{"call_control_id":""}}"#,
            "callSid",
        ),
        (r#"{"event":"start","streamSid":"MZ1"}"#, "start"),
    ] {
        let mut session = StreamSession::new(Carrier::Twilio);
        match session.handle_message(text, now) {
            Err(StreamError::MissingField(f)) => assert_eq!(f, field, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
        // A failed start leaves the stream waiting for a good one.
        session.handle_message(TWILIO_START, now).unwrap();
    }
    // The envelope's stream id serves when `start` has none (Telnyx).
    let mut session = StreamSession::new(Carrier::Twilio);
    session
        .handle_message(
            r#"{"event":"start","streamSid":"MZ9","start":{"callSid":"CA1"}}"#,
            now,
        )
        .unwrap();
    assert_eq!(started(&mut session).stream_id, "MZ9");
}

#[test]
fn media_fields_are_strings_or_numbers() {
    let as_strings = r#"{"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/w=="}}"#;
    let as_numbers = r#"{"event":"media","sequenceNumber":3,"streamSid":"MZ1","media":{"track":"inbound","chunk":1,"timestamp":5,"payload":"/w=="}}"#;
    let telnyx = r#"{"event":"media","sequence_number":"4","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"/w=="},"stream_id":"s1"}"#;
    for (text, chunk) in [(as_strings, 1), (as_numbers, 1), (telnyx, 2)] {
        let message = messages::parse(text).unwrap();
        assert_eq!(message.event.unwrap().as_str(), "media");
        let media = message.media.unwrap();
        assert_eq!(media.chunk, Some(Num(chunk)));
        assert_eq!(media.timestamp, Some(Num(5)));
        assert_eq!(media.track.unwrap().as_str(), "inbound");
        assert_eq!(media.payload.unwrap().as_str(), "/w==");
    }
    // An escaped payload is still read (owned instead of borrowed).
    let escaped = r#"{"event":"media","media":{"payload":"\/w=="}}"#;
    assert_eq!(
        messages::parse(escaped)
            .unwrap()
            .media
            .unwrap()
            .payload
            .unwrap()
            .as_str(),
        "/w=="
    );
    for bad in [
        r#""-1""#, "-1", "1.5", r#""""#, r#""1e3""#, r#""x""#, "true", "[]",
    ] {
        let text = format!(r#"{{"event":"media","media":{{"chunk":{bad}}}}}"#);
        assert!(messages::parse(&text).is_err(), "{bad}");
    }
}

#[test]
fn other_messages_parse_for_both_carriers() {
    for text in [
        r#"{"event":"dtmf","sequenceNumber":"5","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}}"#,
        r#"{"event":"dtmf","stream_id":"s1","occurred_at":"2024-01-01T00:00:00Z","sequence_number":"5","dtmf":{"digit":"1"}}"#,
    ] {
        let dtmf = messages::parse(text).unwrap().dtmf.unwrap();
        assert_eq!(dtmf.digit.unwrap().as_str(), "1");
    }
    for text in [
        r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"t3-m7"}}"#,
        r#"{"event":"mark","sequence_number":4,"stream_id":"s1","mark":{"name":"t3-m7"}}"#,
    ] {
        let mark = messages::parse(text).unwrap().mark.unwrap();
        assert_eq!(mark.name.unwrap().as_str(), "t3-m7");
    }
    for text in [
        TWILIO_STOP,
        r#"{"event":"stop","sequence_number":"5","stop":{"user_id":"u","call_control_id":"c"},"stream_id":"s1"}"#,
    ] {
        assert_eq!(
            messages::parse(text).unwrap().event.unwrap().as_str(),
            "stop"
        );
    }
}

#[test]
fn chunk_and_timestamp_become_rtp_numbers() {
    let mut rx = RxClock::default();
    assert_eq!(rx.place(Some(Num(1)), Some(Num(0)), 8_000, 160), (1, 0));
    assert_eq!(rx.place(Some(Num(2)), Some(Num(20)), 8_000, 160), (2, 160));
    // Missing fields follow the previous chunk.
    assert_eq!(rx.place(None, None, 8_000, 160), (3, 320));
    // Chunk counts wrap at 2^16; the RTP clock at 2^32.
    assert_eq!(
        rx.place(Some(Num(65_537)), Some(Num(40)), 16_000, 320),
        (1, 640)
    );
    let ms = 1u64 << 40;
    let expected = (u128::from(ms) * 8_000 / 1_000) as u32;
    assert_eq!(
        rx.place(Some(Num(u64::MAX)), Some(Num(ms)), 8_000, 160),
        (u16::MAX, expected)
    );
    assert_eq!(rx.place(None, None, 8_000, 160).0, 0);
}

#[test]
fn outbound_messages_are_exactly_the_documented_ones() {
    let twilio = Outbound::new(Carrier::Twilio, "MZ1");
    let telnyx = Outbound::new(Carrier::Telnyx, "ignored");
    let mut out = String::new();
    twilio.media(&[0xFF, 0x7F, 0x00], &mut out);
    assert_eq!(
        out,
        r#"{"event":"media","streamSid":"MZ1","media":{"payload":"/38A"}}"#
    );
    telnyx.media(&[0xFF, 0x7F, 0x00], &mut out);
    assert_eq!(out, r#"{"event":"media","media":{"payload":"/38A"}}"#);
    twilio.mark(&mut out, |o| o.push_str("t3-m7"));
    assert_eq!(
        out,
        r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"t3-m7"}}"#
    );
    telnyx.mark(&mut out, |o| o.push_str("t3-m7"));
    assert_eq!(out, r#"{"event":"mark","mark":{"name":"t3-m7"}}"#);
    twilio.clear(&mut out);
    assert_eq!(out, r#"{"event":"clear","streamSid":"MZ1"}"#);
    telnyx.clear(&mut out);
    assert_eq!(out, r#"{"event":"clear"}"#);
    // A hostile stream id cannot break out of its string.
    Outbound::new(Carrier::Twilio, "a\"}\n").clear(&mut out);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["streamSid"], "a\"}\n");
    assert_eq!(STANDARD.decode("/38A").unwrap(), [0xFF, 0x7F, 0x00]);
}
