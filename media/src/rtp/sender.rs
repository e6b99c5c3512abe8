//! Per-stream sending state: the SSRC, the next sequence number and the media clock.

use super::RtpHeader;

/// Stamps outgoing packets of one stream with consecutive sequence numbers and a media clock.
///
/// The initial sequence number and timestamp should be random (RFC 3550 §5.1); the caller draws
/// them, so this type stays deterministic and testable.
///
/// Audio: once per 20 ms tick, `next_header(pt, marker, 160)` at 8 kHz, then write the payload.
///
/// DTMF (RFC 4733): every packet of one event carries the media timestamp at which the event
/// started. When [`crate::dtmf::DtmfSender`] hands out the first payload of an event
/// (`tick.marker`), remember `event_ts = sender.timestamp()`; then for every tick of the event,
/// including the three end packets, write `next_header_at(event_pt, tick.marker, event_ts, 160)`.
/// The media clock keeps running under the event, so audio resumes at the right timestamp. Use a
/// `samples_advance` of 0 to send several packets in the same tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpSender {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
}

impl RtpSender {
    /// A stream with `ssrc` whose first packet gets `initial_sequence` and `initial_timestamp`.
    pub fn new(ssrc: u32, initial_sequence: u16, initial_timestamp: u32) -> Self {
        Self {
            ssrc,
            sequence: initial_sequence,
            timestamp: initial_timestamp,
        }
    }

    /// The stream's SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The sequence number the next packet gets.
    pub fn sequence(&self) -> u16 {
        self.sequence
    }

    /// The media clock: the timestamp the next audio packet gets.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// A header stamped with the media clock; then moves the clock on by `samples_advance`
    /// (the samples the packet carries) and the sequence number by one.
    pub fn next_header(
        &mut self,
        payload_type: u8,
        marker: bool,
        samples_advance: u32,
    ) -> RtpHeader {
        let timestamp = self.timestamp;
        self.next_header_at(payload_type, marker, timestamp, samples_advance)
    }

    /// A header stamped with an explicit `timestamp` (a DTMF event's start); the media clock still
    /// moves on by `samples_advance` and the sequence number by one.
    pub fn next_header_at(
        &mut self,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        samples_advance: u32,
    ) -> RtpHeader {
        let header = RtpHeader {
            marker,
            payload_type,
            sequence: self.sequence,
            timestamp,
            ssrc: self.ssrc,
        };
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(samples_advance);
        header
    }

    /// Moves the media clock on without sending, e.g. across a silence that is not transmitted.
    pub fn advance_timestamp(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_advance_sequence_and_clock_with_wrap() {
        let mut s = RtpSender::new(42, 65535, u32::MAX - 100);
        let a = s.next_header(0, true, 160);
        let b = s.next_header(0, false, 160);
        assert_eq!(
            (a.sequence, a.timestamp, a.marker),
            (65535, u32::MAX - 100, true)
        );
        assert_eq!((b.sequence, b.timestamp, b.ssrc), (0, 59, 42));
        assert_eq!((s.sequence(), s.timestamp(), s.ssrc()), (1, 219, 42));
        s.advance_timestamp(1000);
        assert_eq!(s.timestamp(), 1219);
    }

    #[test]
    fn event_packets_share_a_timestamp() {
        let mut s = RtpSender::new(1, 10, 1000);
        let event_ts = s.timestamp();
        let first = s.next_header_at(101, true, event_ts, 160);
        let second = s.next_header_at(101, false, event_ts, 160);
        let redundant = s.next_header_at(101, false, event_ts, 0);
        assert_eq!(
            [first.timestamp, second.timestamp, redundant.timestamp],
            [1000; 3]
        );
        assert_eq!(
            [first.sequence, second.sequence, redundant.sequence],
            [10, 11, 12]
        );
        assert_eq!(s.next_header(0, false, 160).timestamp, 1320);
    }
}
