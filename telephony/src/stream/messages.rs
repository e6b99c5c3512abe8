//! The JSON on the wire, both carriers: inbound messages parsed into borrowed structs (no allocation for
//! `media` in the common case), and the few outbound messages written into a reused `String`.
//!
//! Inbound parsing is lenient: `sequenceNumber`, `chunk`, `timestamp` and the rates are strings on the
//! wire but numbers are taken too, Twilio's camelCase and Telnyx's snake_case names are both accepted, and
//! fields we do not use are skipped. Outbound messages are written exactly as the carriers document them.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use dialtone_media::SampleRate;
use dialtone_media::codec::Codec;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::{Carrier, StreamError, StreamStart, cut};

/// Base64 as carriers send it: standard alphabet, padding optional.
pub(crate) const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A string field, borrowed from the message unless it had escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(TextVisitor(PhantomData))
    }
}

/// A non-negative integer sent as a string (`"42"`) or a number (`42`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Num(pub u64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;

        impl Visitor<'_> for NumVisitor {
            type Value = Num;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer, as a number or a string")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                u64::try_from(v)
                    .map(Num)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                // `8000.0` is a number a lenient reader takes; `1.5` or `-3` is not.
                if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 {
                    Ok(Num(v as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                num_from_digits(v)
                    .map(Num)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }

        deserializer.deserialize_any(NumVisitor)
    }
}

/// A number sent as a string: digits, with surrounding whitespace allowed, within u64.
pub(crate) fn num_from_digits(v: &str) -> Option<u64> {
    let digits = v.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Any inbound message: the event name and whichever bodies it carries.
#[derive(Debug, Deserialize)]
pub(crate) struct Inbound<'a> {
    #[serde(default, borrow)]
    pub event: Option<Text<'a>>,
    #[serde(default, borrow, rename = "streamSid", alias = "stream_id")]
    pub stream_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub media: Option<MediaBody<'a>>,
    #[serde(default)]
    pub start: Option<StartBody>,
    #[serde(default, borrow)]
    pub mark: Option<MarkBody<'a>>,
    #[serde(default, borrow)]
    pub dtmf: Option<DtmfBody<'a>>,
}

/// `media.*`: one chunk of caller audio.
#[derive(Debug, Deserialize)]
pub(crate) struct MediaBody<'a> {
    /// `inbound` (the caller) or `outbound` (what the carrier plays, on `both_tracks` streams).
    #[serde(default, borrow)]
    pub track: Option<Text<'a>>,
    /// Counts chunks from 1.
    #[serde(default)]
    pub chunk: Option<Num>,
    /// Milliseconds since the stream started.
    #[serde(default)]
    pub timestamp: Option<Num>,
    #[serde(default, borrow)]
    pub payload: Option<Text<'a>>,
}

/// `mark.*`: the echo of a mark we sent.
#[derive(Debug, Deserialize)]
pub(crate) struct MarkBody<'a> {
    #[serde(default, borrow)]
    pub name: Option<Text<'a>>,
}

/// `dtmf.*`: a key the caller pressed.
#[derive(Debug, Deserialize)]
pub(crate) struct DtmfBody<'a> {
    #[serde(default, borrow)]
    pub track: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub digit: Option<Text<'a>>,
}

/// `start.*`, once per call, so owned.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StartBody {
    #[serde(default, rename = "streamSid", alias = "stream_id")]
    stream_id: Option<String>,
    #[serde(default, rename = "callSid", alias = "call_control_id")]
    call_id: Option<String>,
    #[serde(default, rename = "accountSid", alias = "user_id")]
    account_id: Option<String>,
    #[serde(default)]
    tracks: Option<Vec<String>>,
    #[serde(default, rename = "customParameters")]
    custom_camel: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, rename = "custom_parameters")]
    custom_snake: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, rename = "mediaFormat", alias = "media_format")]
    media_format: Option<MediaFormat>,
    #[serde(default)]
    client_state: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct MediaFormat {
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default, rename = "sampleRate", alias = "sample_rate")]
    sample_rate: Option<Num>,
    #[serde(default)]
    channels: Option<Num>,
}

/// Parses one text frame: caller audio through the fast path when it can take it, everything else
/// (and whatever the fast path is unsure of) through serde.
pub(crate) fn parse(text: &str) -> Result<Inbound<'_>, StreamError> {
    if let Some(message) = super::media_fast::parse(text) {
        return Ok(message);
    }
    Ok(serde_json::from_str(text)?)
}

impl StartBody {
    /// Checks the start: a stream id (from `start` or, for Telnyx, the envelope), a call id, and a codec
    /// we decode. A missing media format means μ-law, the only format Twilio streams.
    pub(crate) fn into_start(
        self,
        carrier: Carrier,
        envelope_stream_id: Option<&str>,
    ) -> Result<StreamStart, StreamError> {
        let stream_id = self
            .stream_id
            .or_else(|| envelope_stream_id.map(str::to_owned))
            .filter(|s| !s.is_empty())
            .ok_or(StreamError::MissingField("streamSid"))?;
        let call_id = self
            .call_id
            .filter(|s| !s.is_empty())
            .ok_or(StreamError::MissingField("callSid"))?;
        let codec = match self.media_format {
            Some(format) => format.codec()?,
            None => Codec::Pcmu,
        };
        let mut custom_parameters = BTreeMap::new();
        for (key, value) in self
            .custom_camel
            .into_iter()
            .flatten()
            .chain(self.custom_snake.into_iter().flatten())
        {
            let value = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            custom_parameters.entry(key).or_insert(value);
        }
        Ok(StreamStart {
            carrier,
            stream_id,
            call_id,
            account_id: self.account_id,
            tracks: self.tracks.unwrap_or_default(),
            custom_parameters,
            codec,
            client_state: self.client_state,
            from: self.from,
            to: self.to,
        })
    }
}

impl MediaFormat {
    fn codec(&self) -> Result<Codec, StreamError> {
        let unsupported = |why: &str| {
            let encoding = self.encoding.as_deref().unwrap_or("");
            StreamError::UnsupportedEncoding(cut(&format!("{encoding} {why}"), 64))
        };
        if let Some(Num(channels)) = self.channels
            && channels != 1
        {
            return Err(unsupported(&format!("with {channels} channels")));
        }
        let encoding = self
            .encoding
            .as_deref()
            .ok_or(StreamError::MissingField("mediaFormat.encoding"))?;
        let rate = self.sample_rate.map(|Num(hz)| hz);
        let name = encoding.trim().to_ascii_lowercase();
        let name = name.strip_prefix("audio/").unwrap_or(&name);
        let name = name.strip_prefix("x-").unwrap_or(name);
        let g711_rate_ok = matches!(rate, None | Some(8_000));
        match name {
            "mulaw" | "ulaw" | "pcmu" if g711_rate_ok => Ok(Codec::Pcmu),
            "alaw" | "pcma" if g711_rate_ok => Ok(Codec::Pcma),
            "mulaw" | "ulaw" | "pcmu" | "alaw" | "pcma" => Err(unsupported("is 8000 Hz only")),
            "l16" => match rate {
                Some(8_000) => Ok(Codec::L16 {
                    rate: SampleRate::HZ_8000,
                }),
                Some(16_000) => Ok(Codec::L16 {
                    rate: SampleRate::HZ_16000,
                }),
                Some(hz) => Err(unsupported(&format!("at {hz} Hz"))),
                None => Err(StreamError::MissingField("mediaFormat.sampleRate")),
            },
            // G.722 is 16 kHz audio on an 8 kHz clock; carriers declare either.
            "g722" if matches!(rate, None | Some(8_000) | Some(16_000)) => Ok(Codec::G722),
            _ => Err(unsupported(&match rate {
                Some(hz) => format!("at {hz} Hz"),
                None => String::new(),
            })),
        }
    }
}

/// The outbound messages of one stream, with the carrier's envelope prepared once so each frame is a
/// copy and a base64 encode into the caller's `String`.
#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    /// `{"event":"media",["streamSid":"..",]"media":{"payload":"`
    media_prefix: String,
    /// `{"event":"mark",["streamSid":"..",]"mark":{"name":"`
    mark_prefix: String,
    /// The whole `clear` message.
    clear: String,
}

impl Outbound {
    pub(crate) fn new(carrier: Carrier, stream_id: &str) -> Self {
        let sid = match carrier {
            Carrier::Twilio => {
                // Escapes quotes and control characters a hostile `start` might carry.
                let quoted =
                    serde_json::to_string(stream_id).expect("a str always serialises to JSON");
                format!(",\"streamSid\":{quoted}")
            }
            Carrier::Telnyx => String::new(),
        };
        Self {
            media_prefix: format!("{{\"event\":\"media\"{sid},\"media\":{{\"payload\":\""),
            mark_prefix: format!("{{\"event\":\"mark\"{sid},\"mark\":{{\"name\":\""),
            clear: format!("{{\"event\":\"clear\"{sid}}}"),
        }
    }

    /// Length of a `media` message envelope, to size the output buffer.
    pub(crate) fn media_overhead(&self) -> usize {
        self.media_prefix.len() + 3
    }

    /// A `media` message carrying `payload`.
    pub(crate) fn media(&self, payload: &[u8], out: &mut String) {
        out.clear();
        out.push_str(&self.media_prefix);
        general_purpose::STANDARD.encode_string(payload, out);
        out.push_str("\"}}");
    }

    /// A `mark` message whose name is written by `name` (mark names are ours: no escaping needed).
    pub(crate) fn mark(&self, out: &mut String, name: impl FnOnce(&mut String)) {
        out.clear();
        out.push_str(&self.mark_prefix);
        name(out);
        out.push_str("\"}}");
    }

    /// A `clear` message.
    pub(crate) fn clear(&self, out: &mut String) {
        out.clear();
        out.push_str(&self.clear);
    }
}
