//! Webhook signatures: how a delivery proves it comes from this server and was not replayed.
//!
//! Header: `Dialtone-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is the lowercase hex
//! HMAC-SHA256, keyed with the webhook's secret (the whole `whsec_...` string, as UTF-8 bytes), of the
//! signed payload `<t>.<body>`: the decimal timestamp, a full stop, and the raw request body exactly as
//! received. The timestamp is inside the MAC, so a receiver that refuses old timestamps refuses replays of
//! old deliveries. A header may carry several `v1=` entries (secret rotation); one match is enough.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Dialtone-Signature";
/// How far a signature's timestamp may be from the receiver's clock, by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is not `t=<digits>,v1=<hex>[,v1=<hex>...]`.
    #[error("malformed signature header")]
    Malformed,
    /// The timestamp is further from now than the tolerance: a replay, or a badly wrong clock.
    #[error("signature timestamp outside the tolerance")]
    Expired,
    /// No `v1` signature matches the body and secret.
    #[error("signature does not match")]
    Mismatch,
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The `Dialtone-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex(&tag))
}

/// Checks a delivery the way a receiver should: parses `header`, refuses a timestamp more than
/// `tolerance` away from `now` (either way), and compares the HMAC of `<t>.<body>` with each `v1` entry in
/// constant time. Pass the body exactly as received, before any JSON parsing.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match key {
            "t" => {
                let t = value
                    .parse::<i64>()
                    .map_err(|_| SignatureError::Malformed)?;
                if timestamp.replace(t).is_some() {
                    return Err(SignatureError::Malformed);
                }
            }
            "v1" => candidates.push(unhex(value).ok_or(SignatureError::Malformed)?),
            // Other schemes (a future v2) are skipped, so receivers keep working while both are sent.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let now_secs = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now_secs.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(SignatureError::Expired);
    }
    let expected = mac(secret, timestamp, body);
    if candidates
        .iter()
        .any(|tag| expected.clone().verify_slice(tag).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SECRET: &str = "whsec_test";
    const T: i64 = 1_700_000_000;

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
    }

    #[test]
    fn matches_an_independent_hmac() {
        // Computed with the openssl command line, which shares no code with this crate:
        //   printf '1700000000.{"event_type":"agent.activated"}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            sign(SECRET, T, br#"{"event_type":"agent.activated"}"#),
            "t=1700000000,v1=5117e53a406eed3dfe76e943f48799d80ba265e14a6ddf10070f6ea66a488370"
        );
    }

    #[test]
    fn a_signed_body_verifies_within_the_window() {
        let body = br#"{"event_type":"agent.activated"}"#;
        let header = sign(SECRET, T, body);
        assert_eq!(
            verify_signature(SECRET, &header, body, at(T + 299), DEFAULT_TOLERANCE),
            Ok(())
        );
        assert_eq!(
            verify_signature(SECRET, &header, body, at(T - 299), DEFAULT_TOLERANCE),
            Ok(())
        );
    }

    #[test]
    fn replays_tampering_and_wrong_secrets_are_refused() {
        let body = b"{\"a\":1}";
        let header = sign(SECRET, T, body);
        assert_eq!(
            verify_signature(SECRET, &header, body, at(T + 301), DEFAULT_TOLERANCE),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify_signature(SECRET, &header, b"{\"a\":2}", at(T), DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("whsec_other", &header, body, at(T), DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed: moving it forward breaks the signature.
        let moved = header.replace(&format!("t={T}"), &format!("t={}", T + 100));
        assert_eq!(
            verify_signature(SECRET, &moved, body, at(T + 100), DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rotation_and_unknown_schemes_are_accepted() {
        let body = b"x";
        let good = sign(SECRET, T, body);
        let v1 = good.split_once(",v1=").unwrap().1;
        let header = format!("t={T},v1={},v0=zz,v1={v1}", "00".repeat(32));
        assert_eq!(
            verify_signature(SECRET, &header, body, at(T), DEFAULT_TOLERANCE),
            Ok(())
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        for header in [
            "",
            "v1=00",
            "t=abc,v1=00",
            "t=1,v1=0g",
            "t=1,v1=0",
            "t=1",
            "t=1,t=2,v1=00",
            "garbage",
        ] {
            assert_eq!(
                verify_signature(SECRET, header, b"", at(1), DEFAULT_TOLERANCE),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }
}
