//! Turning received RFC 4733 telephone-event packets into one report per key press.

use super::{Digit, DtmfError, TelephoneEvent};
use crate::rtp::ts_is_newer;

/// Earlier event timestamps remembered to drop their late, duplicated or redundant packets.
const HISTORY: usize = 16;
/// How far short of 0xFFFF a long event's next segment may start and still count as the same press:
/// senders place it at the previous timestamp plus the last duration they sent, which may be a
/// whole number of packets below 0xFFFF.
const SEGMENT_SLACK: u32 = 4000;

/// A key press, reported once when its first packet arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfEvent {
    /// The key.
    pub digit: Digit,
    /// Duration carried by the packet that revealed the press: usually one packet's worth. The
    /// full length is in [`DtmfReceiver::active`] once the end packets arrive.
    pub duration_samples: u32,
    /// The event's RTP timestamp (its start, in the telephone-event clock).
    pub timestamp: u32,
}

/// The event the receiver is currently following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveEvent {
    /// Event code (0-15 for keys).
    pub event: u8,
    /// The key, when the event is one.
    pub digit: Option<Digit>,
    /// RTP timestamp of the event's first segment.
    pub timestamp: u32,
    /// Longest duration seen, summed over the segments of a long event.
    pub duration_samples: u32,
    /// Whether an end packet of the latest segment has arrived.
    pub ended: bool,
}

#[derive(Debug, Clone, Copy)]
struct Tracked {
    event: u8,
    start_ts: u32,
    segment_ts: u32,
    /// Clock units covered by earlier segments of a long event.
    base: u32,
    duration: u16,
    ended: bool,
}

/// Reports each key press carried in telephone-event packets exactly once.
///
/// Events are told apart by their RTP timestamp: all packets of one event share it, and a new
/// press gets a new one (RFC 4733 §2.5.1.1). A press is reported on the first packet seen for a
/// new timestamp, whether that is the marked start, an update (start lost) or an end packet
/// (everything else lost), so the agent can react at once; it is not reported again when the end
/// packets arrive. Duplicates, the three redundant end packets and late packets of earlier events
/// are dropped by remembering the last few event timestamps. A new timestamp closes the previous
/// event even when its end packets were lost. A long press split into segments 0xFFFF apart
/// (RFC 4733 §2.5.1.3) stays one press.
///
/// Feed packets of one SSRC only; call [`DtmfReceiver::reset`] when the stream changes.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    current: Option<Tracked>,
    recent: [Option<u32>; HISTORY],
    next_slot: usize,
}

impl DtmfReceiver {
    /// A receiver that has seen no events.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one telephone-event packet: its RTP `timestamp`, marker bit and payload. Returns
    /// the press when this packet is the first one seen of a new key event.
    pub fn receive(
        &mut self,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<Option<DtmfEvent>, DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;

        if let Some(cur) = &mut self.current
            && cur.segment_ts == timestamp
        {
            cur.duration = cur.duration.max(ev.duration);
            cur.ended |= ev.end;
            return Ok(None);
        }
        if self.recent.contains(&Some(timestamp)) {
            return Ok(None);
        }

        let report = ev.digit().map(|digit| DtmfEvent {
            digit,
            duration_samples: u32::from(ev.duration),
            timestamp,
        });
        let Some(mut cur) = self.current else {
            self.current = Some(Tracked::new(timestamp, &ev));
            return Ok(report);
        };

        if ts_is_newer(cur.segment_ts, timestamp) {
            // A packet of an earlier event we never saw: report it, but keep following the
            // newer one.
            self.remember(timestamp);
            return Ok(report);
        }

        self.remember(cur.segment_ts);
        if cur.continues_into(timestamp, marker, &ev) {
            cur.base = cur
                .base
                .saturating_add(timestamp.wrapping_sub(cur.segment_ts));
            cur.segment_ts = timestamp;
            cur.duration = ev.duration;
            cur.ended = ev.end;
            self.current = Some(cur);
            return Ok(None);
        }
        self.current = Some(Tracked::new(timestamp, &ev));
        Ok(report)
    }

    /// The event being followed: the latest one, with its duration so far and whether it ended.
    pub fn active(&self) -> Option<ActiveEvent> {
        self.current.map(|t| ActiveEvent {
            event: t.event,
            digit: Digit::from_event_code(t.event),
            timestamp: t.start_ts,
            duration_samples: t.base.saturating_add(u32::from(t.duration)),
            ended: t.ended,
        })
    }

    /// Forgets all events, as for a new SSRC.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    fn remember(&mut self, timestamp: u32) {
        self.recent[self.next_slot] = Some(timestamp);
        self.next_slot = (self.next_slot + 1) % HISTORY;
    }
}

impl Tracked {
    fn new(timestamp: u32, ev: &TelephoneEvent) -> Self {
        Self {
            event: ev.event,
            start_ts: timestamp,
            segment_ts: timestamp,
            base: 0,
            duration: ev.duration,
            ended: ev.end,
        }
    }

    /// Whether a packet at `timestamp` is the next segment of this long event rather than a new
    /// press: same event, not marked, this segment not ended, and starting about 0xFFFF later.
    fn continues_into(&self, timestamp: u32, marker: bool, ev: &TelephoneEvent) -> bool {
        let gap = timestamp.wrapping_sub(self.segment_ts);
        let max = u32::from(u16::MAX);
        ev.event == self.event
            && !marker
            && !self.ended
            && gap <= max
            && gap >= max - SEGMENT_SLACK
            && gap >= u32::from(self.duration)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::SampleRate;
    use crate::dtmf::DtmfSender;
    use proptest::prelude::*;
    use std::time::Duration;

    /// One wire packet: (timestamp, marker, payload).
    type Packet = (u32, bool, [u8; 4]);

    /// The packets a [`DtmfSender`] produces for `digit`, stamped with `ts`.
    fn press(digit: Digit, ts: u32, millis: u64) -> Vec<Packet> {
        let mut sender = DtmfSender::new(SampleRate::HZ_8000);
        sender
            .start(digit, Duration::from_millis(millis), 10)
            .unwrap();
        let mut packets = Vec::new();
        let mut out = [0u8; 4];
        while let Some(tick) = sender.next_packet_payload(&mut out).unwrap() {
            packets.push((ts, tick.marker, out));
        }
        packets
    }

    fn feed(rx: &mut DtmfReceiver, packets: &[Packet]) -> Vec<Digit> {
        packets
            .iter()
            .filter_map(|(ts, m, p)| rx.receive(*ts, *m, p).unwrap())
            .map(|e| e.digit)
            .collect()
    }

    fn payload(event: u8, end: bool, duration: u16) -> [u8; 4] {
        let mut out = [0u8; 4];
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .write(&mut out)
        .unwrap();
        out
    }

    #[test]
    fn reports_once_on_start() {
        let mut rx = DtmfReceiver::new();
        let packets = press(Digit::D5, 1000, 100);
        let first = rx.receive(1000, true, &packets[0].2).unwrap();
        assert_eq!(
            first,
            Some(DtmfEvent {
                digit: Digit::D5,
                duration_samples: 160,
                timestamp: 1000
            })
        );
        assert_eq!(feed(&mut rx, &packets[1..]), []);
        let active = rx.active().unwrap();
        assert_eq!((active.duration_samples, active.ended), (800, true));
        assert_eq!(active.digit, Some(Digit::D5));
    }

    #[test]
    fn duplicates_and_retransmissions_report_once() {
        let mut rx = DtmfReceiver::new();
        let packets: Vec<Packet> = press(Digit::Star, 5, 100)
            .into_iter()
            .flat_map(|p| [p, p])
            .collect();
        assert_eq!(feed(&mut rx, &packets), [Digit::Star]);
        assert_eq!(feed(&mut rx, &packets), []);
    }

    #[test]
    fn missing_start_or_only_end_still_reports() {
        let mut rx = DtmfReceiver::new();
        assert_eq!(feed(&mut rx, &press(Digit::D1, 0, 100)[2..]), [Digit::D1]);
        assert_eq!(
            feed(&mut rx, &press(Digit::D2, 2000, 100)[5..]),
            [Digit::D2]
        );
    }

    #[test]
    fn new_timestamp_closes_an_event_without_end() {
        let mut rx = DtmfReceiver::new();
        let a = press(Digit::D3, 100, 200);
        let b = press(Digit::D3, 4000, 200);
        assert_eq!(feed(&mut rx, &a[..4]), [Digit::D3]);
        assert!(!rx.active().unwrap().ended);
        assert_eq!(feed(&mut rx, &b), [Digit::D3]);
        assert_eq!(rx.active().unwrap().timestamp, 4000);
        assert_eq!(feed(&mut rx, &a[4..]), []); // late end of the first press
    }

    #[test]
    fn reordering_across_events() {
        let mut rx = DtmfReceiver::new();
        let a = press(Digit::D4, u32::MAX - 100, 100); // timestamps wrap between the presses
        let b = press(Digit::D6, 2000, 100);
        let mut packets = a.clone();
        packets.insert(3, b[0]);
        packets.insert(1, b[1]);
        packets.extend(&b[2..]);
        packets.swap(0, 2);
        let got = feed(&mut rx, &packets);
        assert_eq!(got.len(), 2);
        assert!(got.contains(&Digit::D4) && got.contains(&Digit::D6));
        assert_eq!(rx.active().unwrap().digit, Some(Digit::D6));
    }

    #[test]
    fn late_packet_of_unseen_earlier_event_reported_once() {
        let mut rx = DtmfReceiver::new();
        let a = press(Digit::A, 1000, 100);
        let b = press(Digit::B, 3000, 100);
        assert_eq!(feed(&mut rx, &b[..2]), [Digit::B]);
        assert_eq!(feed(&mut rx, &a), [Digit::A]);
        assert_eq!(feed(&mut rx, &b[2..]), []);
        assert_eq!(rx.active().unwrap().digit, Some(Digit::B));
    }

    #[test]
    fn long_event_segments_are_one_press() {
        let mut rx = DtmfReceiver::new();
        let ts = 10_000u32;
        let mut packets: Vec<Packet> = vec![(ts, true, payload(9, false, 160))];
        for d in (320..=65_440).step_by(160 * 50) {
            packets.push((ts, false, payload(9, false, d as u16)));
        }
        packets.push((ts, false, payload(9, false, u16::MAX)));
        let seg = ts.wrapping_add(u32::from(u16::MAX));
        for d in [160, 320, 480] {
            packets.push((seg, false, payload(9, false, d)));
        }
        for _ in 0..3 {
            packets.push((seg, false, payload(9, true, 640)));
        }
        assert_eq!(feed(&mut rx, &packets), [Digit::D9]);
        let active = rx.active().unwrap();
        assert_eq!(active.timestamp, ts);
        assert_eq!(active.duration_samples, 65_535 + 640);
        assert!(active.ended);
        // A segment from a sender that stops at a whole packet below 0xFFFF.
        let mut rx = DtmfReceiver::new();
        let seg = ts + 65_440;
        let packets = [
            (ts, true, payload(2, false, 65_440)),
            (seg, false, payload(2, false, 160)),
            (seg, false, payload(2, true, 320)),
        ];
        assert_eq!(feed(&mut rx, &packets), [Digit::D2]);
        assert_eq!(rx.active().unwrap().duration_samples, 65_440 + 320);
    }

    #[test]
    fn a_marked_press_after_a_long_press_is_new() {
        let mut rx = DtmfReceiver::new();
        let packets = [
            (0, true, payload(1, false, 65_000)),
            (65_535, true, payload(1, false, 160)),
        ];
        assert_eq!(feed(&mut rx, &packets), [Digit::D1, Digit::D1]);
    }

    #[test]
    fn non_key_events_are_tracked_not_reported() {
        let mut rx = DtmfReceiver::new();
        assert_eq!(rx.receive(0, true, &payload(16, false, 160)), Ok(None));
        assert_eq!(rx.active().unwrap().digit, None);
        assert_eq!(feed(&mut rx, &press(Digit::C, 800, 60)), [Digit::C]);
        assert_eq!(
            rx.receive(0, true, &[1, 2]),
            Err(DtmfError::PayloadTooShort { len: 2 })
        );
        rx.reset();
        assert_eq!(rx.active(), None);
    }

    /// A dial string sent over a lossy, duplicating, locally reordering network.
    fn dial_packets(
        digits: &[(u8, u64, u32)],
        start: u32,
        drops: &[bool],
        dups: &[bool],
        swaps: &[bool],
    ) -> Vec<Packet> {
        let mut packets = Vec::new();
        let mut ts = start;
        let mut k = 0;
        for (code, millis, gap) in digits {
            let event = press(Digit::from_event_code(*code).unwrap(), ts, *millis);
            let last = event.len() - 1;
            for (i, p) in event.into_iter().enumerate() {
                let dropped = drops[k % drops.len()] && i != last;
                if !dropped {
                    packets.push(p);
                    if dups[k % dups.len()] {
                        packets.push(p);
                    }
                }
                k += 1;
            }
            ts = ts.wrapping_add(*millis as u32 * 8 + gap);
        }
        for i in 1..packets.len() {
            if swaps[i % swaps.len()] {
                packets.swap(i - 1, i);
            }
        }
        packets
    }

    proptest! {
        #[test]
        fn each_press_reported_exactly_once(
            digits in proptest::collection::vec((0u8..16, 40u64..400, 320u32..4000), 1..12),
            start in any::<u32>(),
            drops in proptest::collection::vec(proptest::bool::weighted(0.3), 1..32),
            dups in proptest::collection::vec(proptest::bool::weighted(0.2), 1..32),
            swaps in proptest::collection::vec(proptest::bool::weighted(0.2), 1..32),
        ) {
            let packets = dial_packets(&digits, start, &drops, &dups, &swaps);
            let mut rx = DtmfReceiver::new();
            let mut got = feed(&mut rx, &packets);
            let mut want: Vec<Digit> =
                digits.iter().map(|d| Digit::from_event_code(d.0).unwrap()).collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn arbitrary_packets_never_panic(
            packets in proptest::collection::vec((any::<u32>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..6)), 0..64),
        ) {
            let mut rx = DtmfReceiver::new();
            for (ts, m, p) in &packets {
                let _ = rx.receive(*ts, *m, p);
            }
            let _ = rx.active();
        }
    }
}
