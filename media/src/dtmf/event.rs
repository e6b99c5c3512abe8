//! The RFC 4733 §2.3 telephone-event payload: event code, end bit, volume and duration.

use super::{Digit, DtmfError};

/// One telephone-event payload.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     event     |E|R| volume    |          duration             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TelephoneEvent {
    /// Event code: 0-15 are keys (see [`Digit::from_event_code`]), others are tones and flash.
    pub event: u8,
    /// The E bit: this packet reports the end of the event.
    pub end: bool,
    /// Power level as attenuation below 0 dBm0, 0 to 63 (DTMF senders use about 10).
    pub volume: u8,
    /// Length of the event so far, in RTP clock units, counted from the packet's timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Bytes in one event payload.
    pub const LEN: usize = 4;

    /// Reads the first event of `payload`. The reserved bit is ignored and bytes beyond the first
    /// four (redundant events some gateways append) are left to the caller.
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let Some(&[event, flags, hi, lo]) = payload.first_chunk::<4>() else {
            return Err(DtmfError::PayloadTooShort { len: payload.len() });
        };
        Ok(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([hi, lo]),
        })
    }

    /// Writes the payload at the start of `out` and returns its length (4).
    pub fn write(&self, out: &mut [u8]) -> Result<usize, DtmfError> {
        if self.volume > 63 {
            return Err(DtmfError::VolumeOutOfRange(self.volume));
        }
        let have = out.len();
        let Some(dst) = out.first_chunk_mut::<4>() else {
            return Err(DtmfError::BufferTooSmall { have });
        };
        let [hi, lo] = self.duration.to_be_bytes();
        *dst = [self.event, (u8::from(self.end) << 7) | self.volume, hi, lo];
        Ok(Self::LEN)
    }

    /// The key this event reports, if it is one.
    pub fn digit(&self) -> Option<Digit> {
        Digit::from_event_code(self.event)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_wire_example() {
        // Digit 5, end, reserved bit set (ignored), volume 10, duration 800.
        let e = TelephoneEvent::parse(&[5, 0xca, 0x03, 0x20]).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(e.digit(), Some(Digit::D5));
        let mut out = [0u8; 4];
        assert_eq!(e.write(&mut out), Ok(4));
        assert_eq!(out, [5, 0x8a, 0x03, 0x20]);
    }

    #[test]
    fn rejects_short_payload_and_bad_volume() {
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(DtmfError::PayloadTooShort { len: 3 })
        );
        assert_eq!(
            TelephoneEvent::parse(&[]),
            Err(DtmfError::PayloadTooShort { len: 0 })
        );
        let e = TelephoneEvent {
            event: 1,
            end: false,
            volume: 64,
            duration: 0,
        };
        assert_eq!(e.write(&mut [0; 4]), Err(DtmfError::VolumeOutOfRange(64)));
        let ok = TelephoneEvent { volume: 63, ..e };
        assert_eq!(
            ok.write(&mut [0; 3]),
            Err(DtmfError::BufferTooSmall { have: 3 })
        );
        assert_eq!(TelephoneEvent::parse(&[16, 0, 0, 0]).unwrap().digit(), None);
    }

    proptest! {
        #[test]
        fn round_trips(event in any::<u8>(), end in any::<bool>(), volume in 0u8..64, duration in any::<u16>()) {
            let e = TelephoneEvent { event, end, volume, duration };
            let mut out = [0u8; 8];
            prop_assert_eq!(e.write(&mut out), Ok(4));
            prop_assert_eq!(TelephoneEvent::parse(&out).unwrap(), e);
        }

        #[test]
        fn parse_is_total(payload in proptest::collection::vec(any::<u8>(), 0..8)) {
            let parsed = TelephoneEvent::parse(&payload);
            prop_assert_eq!(parsed.is_ok(), payload.len() >= 4);
        }
    }
}
