//! Wrapping RTP counters (16-bit sequence numbers, 32-bit timestamps) extended onto a signed line,
//! and a short memory of which packets were already seen.

/// Extends a wrapping counter of `bits` bits to `i64`.
///
/// Each raw value is read as the extended value nearest to the highest one seen so far, so a value
/// less than half the counter range behind is "reordered" and anything else is "ahead" (the usual
/// RTP reading, RFC 3550 appendix A.1). The first value maps to 0: positions are relative to the
/// start of the stream, which keeps them small.
#[derive(Debug, Clone, Copy)]
pub(super) struct Unwrapper {
    bits: u32,
    highest: Option<(i64, u64)>,
}

impl Unwrapper {
    /// An unwrapper for 16-bit sequence numbers.
    pub(super) const fn sequence() -> Self {
        Self {
            bits: 16,
            highest: None,
        }
    }

    /// An unwrapper for 32-bit timestamps.
    pub(super) const fn timestamp() -> Self {
        Self {
            bits: 32,
            highest: None,
        }
    }

    /// Forgets the stream: the next value maps to 0.
    pub(super) fn reset(&mut self) {
        self.highest = None;
    }

    /// The highest extended value so far.
    pub(super) fn highest(&self) -> Option<i64> {
        self.highest.map(|(ext, _)| ext)
    }

    /// The extended value of `raw`; moves the reference forward when `raw` is the newest.
    pub(super) fn unwrap(&mut self, raw: u32) -> i64 {
        let range = 1u64 << self.bits;
        let mask = range - 1;
        let raw = u64::from(raw) & mask;
        let Some((ext, last)) = self.highest else {
            self.highest = Some((0, raw));
            return 0;
        };
        let forward = raw.wrapping_sub(last) & mask;
        // Both terms are below 2^32, so the casts are exact.
        let delta = if forward >= range / 2 {
            forward as i64 - range as i64
        } else {
            forward as i64
        };
        let value = ext.saturating_add(delta);
        if value > ext {
            self.highest = Some((value, raw));
        }
        value
    }
}

/// Slots in [`SeenPackets`]: more than any reordering the buffer can hold (a 200 ms buffer of 10 ms
/// packets holds 20).
const SEEN_SLOTS: usize = 512;

/// The recent packets, by extended sequence number and raw timestamp, to tell exact duplicates
/// (same sequence number and timestamp) from a sender that restarted its numbering.
#[derive(Clone)]
pub(super) struct SeenPackets {
    slots: Vec<(i64, u32)>,
}

impl SeenPackets {
    pub(super) fn new() -> Self {
        Self {
            slots: vec![(i64::MIN, 0); SEEN_SLOTS],
        }
    }

    pub(super) fn clear(&mut self) {
        self.slots.fill((i64::MIN, 0));
    }

    fn slot(sequence: i64) -> usize {
        // SEEN_SLOTS is a power of two, so masking is a Euclidean remainder, also for negatives.
        (sequence as u64 & (SEEN_SLOTS as u64 - 1)) as usize
    }

    pub(super) fn contains(&self, sequence: i64, timestamp: u32) -> bool {
        self.slots[Self::slot(sequence)] == (sequence, timestamp)
    }

    pub(super) fn insert(&mut self, sequence: i64, timestamp: u32) {
        self.slots[Self::slot(sequence)] = (sequence, timestamp);
    }
}

impl std::fmt::Debug for SeenPackets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeenPackets")
            .field("slots", &self.slots.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_wraps_forward_and_back() {
        let mut seq = Unwrapper::sequence();
        assert_eq!(seq.unwrap(65_534), 0);
        assert_eq!(seq.unwrap(65_535), 1);
        assert_eq!(seq.unwrap(0), 2);
        assert_eq!(seq.unwrap(1), 3);
        // Reordered across the wrap: behind the highest, not 65 536 ahead.
        assert_eq!(seq.unwrap(65_535), 1);
        assert_eq!(seq.highest(), Some(3));
        assert_eq!(seq.unwrap(3), 5);
    }

    #[test]
    fn timestamp_wraps() {
        let mut ts = Unwrapper::timestamp();
        assert_eq!(ts.unwrap(u32::MAX - 159), 0);
        assert_eq!(ts.unwrap(0), 160);
        assert_eq!(ts.unwrap(160), 320);
        assert_eq!(ts.unwrap(u32::MAX - 159), 0);
        // Many wraps in small steps keep counting.
        let mut raw = 160u32;
        for _ in 0..100_000 {
            raw = raw.wrapping_add(100_000);
            ts.unwrap(raw);
        }
        assert_eq!(ts.highest(), Some(320 + 100_000 * 100_000));
    }

    #[test]
    fn reset_restarts_at_zero() {
        let mut ts = Unwrapper::timestamp();
        ts.unwrap(5);
        ts.unwrap(1_000);
        ts.reset();
        assert_eq!(ts.highest(), None);
        assert_eq!(ts.unwrap(7), 0);
    }

    #[test]
    fn seen_packets_need_sequence_and_timestamp() {
        let mut seen = SeenPackets::new();
        seen.insert(-3, 10);
        seen.insert(7, 20);
        assert!(seen.contains(-3, 10));
        assert!(seen.contains(7, 20));
        assert!(!seen.contains(7, 21));
        assert!(!seen.contains(7 + SEEN_SLOTS as i64, 20));
        seen.clear();
        assert!(!seen.contains(7, 20));
    }
}
