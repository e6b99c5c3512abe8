//! A fast path for the message that arrives 50 times a second per call: a caller `media` frame in the
//! plain shape carriers send (string values without escapes, numbers as digits). It reads the text in
//! one pass, where serde's derive walks it field by field through its visitor machinery; under load
//! that walk was a tenth of the server's instructions.
//!
//! It answers only when it is sure: whatever it returns is exactly what the serde parser returns for
//! the same text, and on anything else (escapes, `null`, nested values it does not need, duplicate
//! keys, any other event, malformed JSON) it returns `None` and the serde parser decides, errors
//! included. The unit tests and the `stream_media_fast` fuzz target hold the two parsers to that.

use std::borrow::Cow;

use super::messages::{Inbound, MediaBody, Num, Text, num_from_digits};

/// The `media` message in `text`, or `None` when the serde parser must look at it.
pub(crate) fn parse(text: &str) -> Option<Inbound<'_>> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut event = None;
    let mut stream_id = None;
    let mut media = None;
    r.object(|r, key| {
        match key {
            "event" => set(&mut event, r.string()?),
            "streamSid" | "stream_id" => set(&mut stream_id, r.string()?),
            "media" => set(&mut media, r.media()?),
            // Bodies the fast path does not build: serde's job.
            "start" | "mark" | "dtmf" => None,
            _ => r.skip_scalar(),
        }
    })?;
    r.ws();
    if r.at != r.bytes.len() || event != Some("media") {
        return None;
    }
    Some(Inbound {
        event: event.map(text_of),
        stream_id: stream_id.map(text_of),
        media,
        start: None,
        mark: None,
        dtmf: None,
    })
}

fn text_of(s: &str) -> Text<'_> {
    Text(Cow::Borrowed(s))
}

/// Stores a field's value; a second occurrence is serde's "duplicate field" error, so not ours.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.bytes.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.at).copied()
    }

    /// `{ "key": value, ... }`, handing each key to `member`, which reads the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string without escapes or control characters, borrowed as is.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let rest = &self.bytes[start..];
        // Keys and most values end within a few bytes, before word-wise scanning would pay for itself.
        let head = rest.len().min(16);
        let len = match rest[..head].iter().position(|&b| needs_escape(b)) {
            Some(len) => len,
            None => head + plain_run(&rest[head..]),
        };
        let end = start + len;
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        // Both ends sit next to an ASCII quote, so they are character boundaries.
        self.text.get(start..end)
    }

    /// A non-negative integer as JSON writes it (no leading zero, no fraction or exponent), within u64.
    fn digits(&mut self) -> Option<u64> {
        self.ws();
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = &self.text[start..self.at];
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        if matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        digits.parse().ok()
    }

    /// A value the message does not use: a plain string or an integer; anything else goes to serde.
    fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.digits().map(drop),
            _ => None,
        }
    }

    /// `chunk` and `timestamp`: digits in a string (as `Num` reads them) or a bare integer.
    fn num(&mut self) -> Option<Num> {
        match self.peek()? {
            b'"' => num_from_digits(self.string()?).map(Num),
            _ => self.digits().map(Num),
        }
    }

    fn media(&mut self) -> Option<MediaBody<'a>> {
        let (mut track, mut chunk, mut timestamp, mut payload) = (None, None, None, None);
        self.object(|r, key| match key {
            "track" => set(&mut track, r.string()?),
            "chunk" => set(&mut chunk, r.num()?),
            "timestamp" => set(&mut timestamp, r.num()?),
            "payload" => set(&mut payload, r.string()?),
            _ => r.skip_scalar(),
        })?;
        Some(MediaBody {
            track: track.map(text_of),
            chunk,
            timestamp,
            payload: payload.map(text_of),
        })
    }
}

/// Length of the run of bytes that need no escaping (no quote, backslash or control character), tested
/// eight bytes to a word so the payload's few hundred base64 characters take a few dozen steps.
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Non-zero exactly when some byte of `x` is below `n` (n <= 0x80): the classic bit trick, whose
    // answer for the word as a whole is exact.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut at = 0;
    for word in bytes.chunks_exact(8) {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        let x = u64::from_ne_bytes(le);
        let hit = below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            | below(x, 0x20);
        if hit != 0 {
            break;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|&b| needs_escape(b))
        .unwrap_or(bytes.len() - at)
}

/// A quote, a backslash or a control character: a byte a plain JSON string cannot hold as is.
fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// For the fuzz target: panics if the fast path answers differently from the serde parser on `text`.
pub fn check_against_serde(text: &str) {
    if let Some(fast) = parse(text) {
        let slow = serde_json::from_str::<Inbound<'_>>(text);
        assert!(
            slow.is_ok(),
            "fast path took a message serde refuses: {text:?}"
        );
        assert_eq!(
            format!("{:?}", Some(fast)),
            format!("{:?}", slow.ok()),
            "fast path and serde differ on {text:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    const TWILIO: &str = r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/////w=="},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}"#;

    #[test]
    fn takes_the_carriers_media_frames() {
        let m = parse(TWILIO).unwrap();
        assert_eq!(m.event.unwrap().as_str(), "media");
        assert_eq!(
            m.stream_id.unwrap().as_str(),
            "MZ18ad3ab5a668481ce02b83e7395059f0"
        );
        let body = m.media.unwrap();
        assert_eq!(body.track.unwrap().as_str(), "inbound");
        assert_eq!(body.chunk, Some(Num(1)));
        assert_eq!(body.timestamp, Some(Num(5)));
        assert_eq!(body.payload.unwrap().as_str(), "/////w==");
        let telnyx = r#" { "event" : "media" , "sequence_number" : 4 , "media" : { "track" : "inbound" , "chunk" : 2 , "timestamp" : 40 , "payload" : "AAAA" } , "stream_id" : "32de0dea" } "#;
        let m = parse(telnyx).unwrap();
        assert_eq!(m.stream_id.unwrap().as_str(), "32de0dea");
        assert_eq!(m.media.unwrap().timestamp, Some(Num(40)));
        check_against_serde(TWILIO);
        check_against_serde(telnyx);
    }

    #[test]
    fn leaves_everything_else_to_serde() {
        for text in [
            // Other events and bodies.
            r#"{"event":"mark","mark":{"name":"t1-m0"}}"#,
            r#"{"event":"media","start":{}}"#,
            // Escapes, nulls, nested values, floats, negatives, leading zeros, big numbers.
            r#"{"event":"media","media":{"payload":"AA\/A"}}"#,
            r#"{"event":"media","media":null}"#,
            r#"{"event":"media","extra":{"a":1},"media":{}}"#,
            r#"{"event":"media","media":{"chunk":1.0}}"#,
            r#"{"event":"media","media":{"chunk":-1}}"#,
            r#"{"event":"media","media":{"chunk":01}}"#,
            r#"{"event":"media","media":{"chunk":99999999999999999999}}"#,
            r#"{"event":"media","media":{"chunk":" 7x"}}"#,
            // Duplicates (serde refuses them) and aliases of one field.
            r#"{"event":"media","event":"media"}"#,
            r#"{"event":"media","streamSid":"a","stream_id":"b"}"#,
            r#"{"event":"media","media":{"payload":"A","payload":"B"}}"#,
            // Malformed.
            r#"{"event":"media","media":{}"#,
            r#"{"event":"media",}"#,
            r#"{"event":"media"} x"#,
            "",
            "[]",
        ] {
            assert!(parse(text).is_none(), "{text}");
            check_against_serde(text);
        }
    }

    #[test]
    fn quotes_and_escapes_are_found_at_every_offset() {
        for len in 0..40 {
            let plain = "A".repeat(len);
            assert_eq!(plain_run(plain.as_bytes()), len);
            for special in ["\"", "\\", "\n", "\u{1}"] {
                let text = format!("{plain}{special}AAAA");
                assert_eq!(plain_run(text.as_bytes()), len, "{text:?}");
            }
        }
    }

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just(",".to_owned()),
            Just(":".to_owned()),
            Just(" ".to_owned()),
            Just("\"event\"".to_owned()),
            Just("\"media\"".to_owned()),
            Just("\"streamSid\"".to_owned()),
            Just("\"stream_id\"".to_owned()),
            Just("\"track\"".to_owned()),
            Just("\"chunk\"".to_owned()),
            Just("\"timestamp\"".to_owned()),
            Just("\"payload\"".to_owned()),
            Just("\"inbound\"".to_owned()),
            Just("\"x\\\"y\"".to_owned()),
            Just("null".to_owned()),
            Just("[1]".to_owned()),
            "[0-9]{1,21}",
            "\"[ 0-9]{0,4}\"",
            "\"[A-Za-z0-9+/=]{0,12}\"",
            "-?[0-9]\\.[0-9]",
        ]
    }

    proptest! {
        #[test]
        fn plain_run_stops_at_the_first_special_byte(
            bytes in proptest::collection::vec(prop_oneof![12 => 0x20u8.., 1 => any::<u8>()], 0..80),
        ) {
            let naive = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len());
            prop_assert_eq!(plain_run(&bytes), naive);
        }

        /// Messages assembled from the protocol's tokens, mostly nonsense and sometimes a media frame:
        /// whenever the fast path answers, serde answers the same.
        #[test]
        fn agrees_with_serde_on_token_soup(tokens in proptest::collection::vec(token(), 0..40)) {
            check_against_serde(&tokens.concat());
        }

        /// Well-formed media frames with arbitrary field values and order are all taken, and agree.
        #[test]
        fn takes_every_plain_media_frame(
            seq in any::<u32>(),
            chunk in any::<u64>(),
            ts in any::<u64>(),
            payload in "[A-Za-z0-9+/]{0,300}={0,2}",
            sid_first in any::<bool>(),
            quoted in any::<bool>(),
        ) {
            let num = |n: u64| if quoted { format!("\"{n}\"") } else { n.to_string() };
            let media = format!(
                r#""media":{{"track":"inbound","chunk":{},"timestamp":{},"payload":"{payload}"}}"#,
                num(chunk),
                num(ts)
            );
            let sid = r#""streamSid":"MZ0123""#;
            let text = if sid_first {
                format!(r#"{{"event":"media",{sid},"sequenceNumber":"{seq}",{media}}}"#)
            } else {
                format!(r#"{{"event":"media","sequenceNumber":{seq},{media},{sid}}}"#)
            };
            let fast = parse(&text);
            prop_assert!(fast.is_some(), "{}", text);
            check_against_serde(&text);
        }
    }
}
