//! The client half of RFC 6455 that the load caller needs, over a plain TCP stream: the opening
//! handshake, masked text frames out, and the server's unmasked frames in. A general WebSocket client
//! (split halves behind a lock, waker proxies, a zero-filled read buffer and a random mask per frame)
//! cost the callers more CPU than the server's own call loops; the callers share the machine with the
//! server, so every cycle they spend is taken from what is being measured.

use std::fmt;

/// A fixed handshake key: the load tool talks to its own server, which does not care, and the expected
/// accept value can then be checked as a constant (the pair from RFC 6455 section 1.3).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Opcodes the caller handles.
pub(super) const TEXT: u8 = 0x1;
pub(super) const CLOSE: u8 = 0x8;
pub(super) const PING: u8 = 0x9;
pub(super) const PONG: u8 = 0xA;

/// Largest frame the caller accepts from the server; the server's frames are a few hundred bytes.
pub(super) const MAX_PAYLOAD: usize = 64 * 1024;

/// Why the server's bytes could not be read as WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum WireError {
    /// The upgrade was refused or answered wrongly; the status line or the missing header.
    Handshake(String),
    /// A frame longer than [`MAX_PAYLOAD`].
    TooLong(u64),
    /// A masked frame from the server, which RFC 6455 forbids.
    Masked,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Handshake(what) => write!(f, "websocket handshake failed: {what}"),
            Self::TooLong(len) => write!(f, "websocket frame of {len} bytes is too long"),
            Self::Masked => f.write_str("masked websocket frame from the server"),
        }
    }
}

impl std::error::Error for WireError {}

/// The upgrade request for `path` on `host`.
pub(super) fn handshake_request(host: &str, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Checks the server's answer to [`handshake_request`]: `Ok(None)` until the head is complete, then the
/// number of bytes it took (frames may follow in the same read).
pub(super) fn handshake_response(buf: &[u8]) -> Result<Option<usize>, WireError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 101") {
        return Err(WireError::Handshake(status.chars().take(80).collect()));
    }
    let accepted = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("sec-websocket-accept") && value.trim() == ACCEPT
        })
    });
    if !accepted {
        return Err(WireError::Handshake(
            "no matching Sec-WebSocket-Accept".into(),
        ));
    }
    Ok(Some(end + 4))
}

/// Appends one final client frame of `opcode` carrying `payload`, masked with `mask`.
pub(super) fn write_frame(out: &mut Vec<u8>, opcode: u8, mask: [u8; 4], payload: &[u8]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    // Eight bytes at a time: masking byte by byte was a third of the caller's instructions.
    let [a, b, c, d] = mask;
    let key = u64::from_ne_bytes([a, b, c, d, a, b, c, d]);
    let mut words = out[start..].chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ key).to_ne_bytes());
    }
    // The tail starts on a multiple of eight, so the key's phase is 0 again.
    for (i, byte) in words.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
}

/// One frame from the server, borrowed from the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Frame<'a> {
    /// The opcode (0 for a continuation).
    pub(super) opcode: u8,
    /// The payload.
    pub(super) payload: &'a [u8],
}

/// Reads the frame at the start of `buf`: `Ok(None)` until it is all there, then the frame and the bytes
/// it took.
pub(super) fn read_frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, WireError> {
    let [first, second, rest @ ..] = buf else {
        return Ok(None);
    };
    if second & 0x80 != 0 {
        return Err(WireError::Masked);
    }
    let (len, head) = match second & 0x7F {
        126 => match rest {
            [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 4),
            _ => return Ok(None),
        },
        127 => match rest.get(..8) {
            Some(bytes) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(bytes);
                (u64::from_be_bytes(be), 10)
            }
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_PAYLOAD)
        .ok_or(WireError::TooLong(len))?;
    let Some(payload) = buf.get(head..head + len) else {
        return Ok(None);
    };
    Ok(Some((
        Frame {
            opcode: first & 0x0F,
            payload,
        },
        head + len,
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    /// A server frame of `opcode` around `payload`, encoded the way RFC 6455 says (shortest length form).
    fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            len @ 0..126 => out.push(len as u8),
            len @ 126..=0xFFFF => {
                out.push(126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(payload);
        out
    }

    /// Undoes [`write_frame`]: opcode and unmasked payload, checking the header as a server would.
    fn unmask(frame: &[u8]) -> (u8, Vec<u8>) {
        assert_eq!(frame[0] & 0xF0, 0x80, "final, no extensions");
        assert_ne!(frame[1] & 0x80, 0, "clients mask");
        let (len, head) = match frame[1] & 0x7F {
            126 => (usize::from(u16::from_be_bytes([frame[2], frame[3]])), 4),
            127 => (
                u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (usize::from(n), 2),
        };
        let mask = &frame[head..head + 4];
        let payload = &frame[head + 4..];
        assert_eq!(payload.len(), len);
        let plain = payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        (frame[0] & 0x0F, plain)
    }

    #[test]
    fn handshake_waits_for_the_whole_head_then_checks_it() {
        let ok = format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nsec-websocket-accept: {ACCEPT}\r\n\r\n\x01\x00"
        );
        let head = ok.len() - 2;
        for cut in 0..head {
            assert_eq!(handshake_response(&ok.as_bytes()[..cut]), Ok(None));
        }
        assert_eq!(handshake_response(ok.as_bytes()), Ok(Some(head)));
        let refused = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        assert!(matches!(
            handshake_response(refused),
            Err(WireError::Handshake(s)) if s.contains("404")
        ));
        let wrong = b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope\r\n\r\n";
        assert!(handshake_response(wrong).is_err());
        assert!(handshake_request("127.0.0.1:80", "/streams/twilio").contains(KEY));
    }

    #[test]
    fn masked_server_frames_and_oversized_ones_are_errors() {
        assert_eq!(
            read_frame(&[0x81, 0x81, 0, 0, 0, 0, b'x']),
            Err(WireError::Masked)
        );
        let mut huge = vec![0x82, 127];
        huge.extend_from_slice(&(MAX_PAYLOAD as u64 + 1).to_be_bytes());
        assert_eq!(
            read_frame(&huge),
            Err(WireError::TooLong(MAX_PAYLOAD as u64 + 1))
        );
    }

    proptest! {
        #[test]
        fn client_frames_unmask_to_their_payload(
            len in prop_oneof![0usize..300, 65_530usize..65_545],
            mask in any::<[u8; 4]>(),
            opcode in prop_oneof![Just(TEXT), Just(CLOSE), Just(PONG)],
        ) {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut out = vec![7u8];
            write_frame(&mut out, opcode, mask, &payload);
            prop_assert_eq!(out[0], 7);
            let (op, plain) = unmask(&out[1..]);
            prop_assert_eq!(op, opcode);
            prop_assert_eq!(plain, payload);
        }

        #[test]
        fn server_frames_read_whole_and_never_early(
            first in proptest::collection::vec(any::<u8>(), 0..300),
            second in proptest::collection::vec(any::<u8>(), 0..40),
            big in any::<bool>(),
        ) {
            let first = if big { first.repeat(200) } else { first };
            let mut bytes = server_frame(TEXT, &first);
            let one = bytes.len();
            bytes.extend(server_frame(PING, &second));
            for cut in 0..one {
                prop_assert_eq!(read_frame(&bytes[..cut]), Ok(None));
            }
            let (frame, used) = read_frame(&bytes).unwrap().unwrap();
            prop_assert_eq!(used, one);
            prop_assert_eq!(frame, Frame { opcode: TEXT, payload: &first[..] });
            let (frame, used) = read_frame(&bytes[one..]).unwrap().unwrap();
            prop_assert_eq!(used, bytes.len() - one);
            prop_assert_eq!(frame, Frame { opcode: PING, payload: &second[..] });
        }
    }
}
