//! Row ids and secrets: a prefix that names the kind, then random bits in lowercase base32.

use sha2::{Digest, Sha256};

/// Tenants (workspaces).
pub const TENANT_PREFIX: &str = "ws_";
/// Agents.
pub const AGENT_PREFIX: &str = "agt_";
/// Operations (jobs).
pub const OPERATION_PREFIX: &str = "op_";
/// Calls.
pub const CALL_PREFIX: &str = "call_";
/// Webhooks.
pub const WEBHOOK_PREFIX: &str = "wh_";
/// Events.
pub const EVENT_PREFIX: &str = "evt_";
/// Service accounts; the id is the OAuth `client_id`.
pub const SERVICE_ACCOUNT_PREFIX: &str = "sa_";
/// Knowledge-base proposals.
pub const KB_PROPOSAL_PREFIX: &str = "kbp_";
/// Webhook deliveries.
pub const DELIVERY_PREFIX: &str = "whd_";
/// Mission tasks.
pub const TASK_PREFIX: &str = "task_";
/// API key secrets.
pub(crate) const SECRET_PREFIX: &str = "sk_live_";
/// Access tokens.
pub(crate) const ACCESS_TOKEN_PREFIX: &str = "at_";
/// Webhook signing secrets.
pub(crate) const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// Crockford's alphabet in lower case: no i, l, o or u to misread.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new id: `prefix` then 128 random bits (26 characters).
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", base32(&random_bytes::<16>()))
}

/// A new secret: `prefix` then 256 random bits (52 characters), enough that its SHA-256 can be looked up
/// directly without a slow password hash.
pub(crate) fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", base32(&random_bytes::<32>()))
}

/// The lowercase hex SHA-256 of `bytes`: how secrets, tokens and request bodies are stored.
pub(crate) fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    Sha256::digest(bytes.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Ids and secrets must not be guessable; without the OS's random source there is no safe fallback.
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ids_have_prefix_and_26_base32_chars() {
        let id = new_id(AGENT_PREFIX);
        let body = id.strip_prefix("agt_").unwrap();
        assert_eq!(body.len(), 26);
        assert!(body.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(new_id(AGENT_PREFIX), id);
    }

    #[test]
    fn base32_encodes_known_bytes() {
        assert_eq!(base32(&[0xff]), "zw");
        assert_eq!(base32(&[0, 0, 0, 0, 0]), "00000000");
        assert_eq!(base32(&[0x84, 0x21, 0x08, 0x42, 0x10]), "gggggggg");
    }

    #[test]
    fn sha256_hex_matches_known_digest() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(new_secret(SECRET_PREFIX).len(), SECRET_PREFIX.len() + 52);
    }
}
