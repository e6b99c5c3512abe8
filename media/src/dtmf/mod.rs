//! DTMF: key presses as RFC 4733 telephone-events (out of band, in RTP) and as dual tones in the
//! audio (in band, for carriers that do not negotiate telephone-event).
//!
//! - [`TelephoneEvent`]: the 4-byte event payload.
//! - [`DtmfReceiver`]: turns a stream of event packets into one report per key press.
//! - [`DtmfSender`]: produces the event payloads for a key press, one per 20 ms tick.
//! - [`GoertzelDetector`]: finds key presses in PCM.

mod event;
mod goertzel;
mod receiver;
mod sender;

pub use event::TelephoneEvent;
pub use goertzel::{GoertzelDetector, InbandDigit};
pub use receiver::{ActiveEvent, DtmfEvent, DtmfReceiver};
pub use sender::{DtmfSender, DtmfTick};

use crate::SampleRate;

/// Why a telephone-event could not be parsed or produced, or a detector not built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// A telephone-event payload is 4 bytes; fewer cannot be read.
    #[error("telephone-event payload of {len} bytes is shorter than 4")]
    PayloadTooShort {
        /// Bytes received.
        len: usize,
    },
    /// The output buffer cannot hold the 4-byte payload.
    #[error("buffer of {have} bytes cannot hold the 4-byte telephone-event payload")]
    BufferTooSmall {
        /// Bytes available.
        have: usize,
    },
    /// Volume is a 6-bit attenuation in dBm0 (0 to 63).
    #[error("volume -{0} dBm0 is out of range (0 to 63)")]
    VolumeOutOfRange(u8),
    /// [`DtmfSender::start`] while an event is still being sent.
    #[error("a DTMF event is still being sent")]
    Busy,
    /// The in-band detector needs the DTMF frequencies below the Nyquist limit with margin.
    #[error("in-band DTMF detection needs at least 8000 Hz, got {0}")]
    UnsupportedRate(SampleRate),
}

/// A DTMF key: the sixteen keys of the 4x4 keypad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Digit {
    /// Key 0.
    D0,
    /// Key 1.
    D1,
    /// Key 2.
    D2,
    /// Key 3.
    D3,
    /// Key 4.
    D4,
    /// Key 5.
    D5,
    /// Key 6.
    D6,
    /// Key 7.
    D7,
    /// Key 8.
    D8,
    /// Key 9.
    D9,
    /// Key `*`.
    Star,
    /// Key `#`.
    Pound,
    /// Key A (military/legacy keypads).
    A,
    /// Key B.
    B,
    /// Key C.
    C,
    /// Key D.
    D,
}

impl Digit {
    /// Every key, in event-code order (0-9, `*`, `#`, A-D).
    pub const ALL: [Digit; 16] = [
        Digit::D0,
        Digit::D1,
        Digit::D2,
        Digit::D3,
        Digit::D4,
        Digit::D5,
        Digit::D6,
        Digit::D7,
        Digit::D8,
        Digit::D9,
        Digit::Star,
        Digit::Pound,
        Digit::A,
        Digit::B,
        Digit::C,
        Digit::D,
    ];

    /// The key for an RFC 4733 event code; `None` for codes that are not keys (flash, tones).
    pub fn from_event_code(code: u8) -> Option<Digit> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The RFC 4733 event code (0-15).
    pub fn event_code(self) -> u8 {
        self as u8
    }

    /// The key as printed on the keypad: `'0'`-`'9'`, `'*'`, `'#'`, `'A'`-`'D'`.
    pub fn as_char(self) -> char {
        b"0123456789*#ABCD"[usize::from(self.event_code())] as char
    }

    /// The key for a printed character; lower-case `a`-`d` are accepted too.
    pub fn from_char(c: char) -> Option<Digit> {
        let code = match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            _ => return None,
        };
        Self::from_event_code(code)
    }

    /// The (row, column) tone frequencies in Hz of the key's in-band signal.
    pub fn frequencies(self) -> (u32, u32) {
        let code = self.event_code();
        let (row, col) = match code {
            1..=9 => ((code - 1) / 3, (code - 1) % 3),
            0 => (3, 1),
            10 => (3, 0),
            11 => (3, 2),
            _ => (code - 12, 3),
        };
        (
            goertzel::ROW_HZ[usize::from(row)],
            goertzel::COL_HZ[usize::from(col)],
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn digits_round_trip_through_codes_and_chars() {
        for (code, digit) in Digit::ALL.iter().enumerate() {
            let code = code as u8;
            assert_eq!(digit.event_code(), code);
            assert_eq!(Digit::from_event_code(code), Some(*digit));
            assert_eq!(Digit::from_char(digit.as_char()), Some(*digit));
            assert_eq!(
                Digit::from_char(digit.as_char().to_ascii_lowercase()),
                Some(*digit)
            );
        }
        assert_eq!(Digit::from_event_code(16), None);
        assert_eq!(Digit::from_event_code(255), None);
        assert_eq!(Digit::from_char('E'), None);
        assert_eq!(Digit::from_char('5'), Some(Digit::D5));
        assert_eq!(Digit::Pound.as_char(), '#');
    }

    #[test]
    fn keypad_frequencies() {
        assert_eq!(Digit::D1.frequencies(), (697, 1209));
        assert_eq!(Digit::D5.frequencies(), (770, 1336));
        assert_eq!(Digit::D9.frequencies(), (852, 1477));
        assert_eq!(Digit::Star.frequencies(), (941, 1209));
        assert_eq!(Digit::D0.frequencies(), (941, 1336));
        assert_eq!(Digit::Pound.frequencies(), (941, 1477));
        assert_eq!(Digit::A.frequencies(), (697, 1633));
        assert_eq!(Digit::D.frequencies(), (941, 1633));
    }
}
