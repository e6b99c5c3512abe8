//! Serial-number arithmetic for RTP sequence numbers and timestamps, which wrap around.
//!
//! A jitter buffer, loss statistics and DTMF de-duplication all need to know which of two values
//! came first although the counters wrap (sequence numbers every 65 536 packets, about 22 minutes at
//! 50 packets/s). The rule is the usual one: the shorter way round the circle wins.

/// How far `a` is ahead of `b`, going the shorter way round: positive when `a` is newer.
///
/// Exactly half a cycle apart (32 768) is ambiguous and comes out as `i16::MIN` (older).
pub fn seq_delta(a: u16, b: u16) -> i16 {
    a.wrapping_sub(b) as i16
}

/// Whether `a` was sent after `b`. Neither is newer when they are equal or half a cycle apart.
pub fn seq_is_newer(a: u16, b: u16) -> bool {
    seq_delta(a, b) > 0
}

/// How far timestamp `a` is ahead of `b`, going the shorter way round: positive when `a` is later.
pub fn ts_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// Whether timestamp `a` is later than `b`.
pub fn ts_is_newer(a: u32, b: u32) -> bool {
    ts_delta(a, b) > 0
}

/// Extends 16-bit sequence numbers into a monotonic 64-bit space so packets can be ordered and
/// counted across wrap-around.
///
/// The first value seen is taken as is (roll-over count 0). Each later value is placed nearest to
/// the highest one seen so far, so both `65535, 0, 1` (forward wrap) and `0, 65534` (a late packet
/// from before the wrap) come out right. Extended values are signed because a packet reordered in
/// front of the very first one may lie before zero (`0` then a late `65535` gives `-1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceUnwrapper {
    highest: Option<i64>,
}

impl SequenceUnwrapper {
    /// An unwrapper that has seen nothing.
    pub const fn new() -> Self {
        Self { highest: None }
    }

    /// The extended value of `seq`; advances the highest value seen when `seq` is newer.
    pub fn extend(&mut self, seq: u16) -> i64 {
        let extended = self.peek(seq);
        if self.highest.is_none_or(|h| extended > h) {
            self.highest = Some(extended);
        }
        extended
    }

    /// The extended value `seq` would get, without recording it.
    pub fn peek(&self, seq: u16) -> i64 {
        match self.highest {
            None => i64::from(seq),
            Some(h) => h + i64::from(seq_delta(seq, h as u16)),
        }
    }

    /// The highest extended value seen, if any.
    pub fn highest(&self) -> Option<i64> {
        self.highest
    }

    /// Forgets everything, as for a new SSRC.
    pub fn reset(&mut self) {
        self.highest = None;
    }
}

/// Extends 32-bit RTP timestamps into a 64-bit space: the same rule as [`SequenceUnwrapper`].
///
/// At 8 kHz a timestamp wraps after about 6 days, at 48 kHz after about 25 hours; a long call or
/// a random initial value close to `u32::MAX` crosses that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimestampUnwrapper {
    highest: Option<i64>,
}

impl TimestampUnwrapper {
    /// An unwrapper that has seen nothing.
    pub const fn new() -> Self {
        Self { highest: None }
    }

    /// The extended value of `ts`; advances the highest value seen when `ts` is later.
    pub fn extend(&mut self, ts: u32) -> i64 {
        let extended = self.peek(ts);
        if self.highest.is_none_or(|h| extended > h) {
            self.highest = Some(extended);
        }
        extended
    }

    /// The extended value `ts` would get, without recording it.
    pub fn peek(&self, ts: u32) -> i64 {
        match self.highest {
            None => i64::from(ts),
            Some(h) => h + i64::from(ts_delta(ts, h as u32)),
        }
    }

    /// The highest extended value seen, if any.
    pub fn highest(&self) -> Option<i64> {
        self.highest
    }

    /// Forgets everything, as for a new SSRC.
    pub fn reset(&mut self) {
        self.highest = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn deltas_go_the_short_way() {
        assert_eq!(seq_delta(1, 65535), 2);
        assert_eq!(seq_delta(65535, 1), -2);
        assert_eq!(seq_delta(5, 5), 0);
        assert_eq!(seq_delta(32768, 0), i16::MIN);
        assert!(seq_is_newer(0, 65535));
        assert!(!seq_is_newer(65535, 0));
        assert!(!seq_is_newer(32768, 0) && !seq_is_newer(0, 32768));
        assert_eq!(ts_delta(10, u32::MAX - 9), 20);
        assert!(ts_is_newer(10, u32::MAX));
        assert!(!ts_is_newer(u32::MAX, 10));
    }

    #[test]
    fn sequence_wraps_both_ways() {
        let mut u = SequenceUnwrapper::new();
        assert_eq!(u.highest(), None);
        assert_eq!(u.extend(65535), 65535);
        assert_eq!(u.extend(0), 65536);
        assert_eq!(u.extend(1), 65537);
        assert_eq!(u.extend(65534), 65534); // late, from before the wrap
        assert_eq!(u.highest(), Some(65537));
        assert_eq!(u.extend(2), 65538);

        let mut u = SequenceUnwrapper::new();
        assert_eq!(u.extend(0), 0);
        assert_eq!(u.extend(65535), -1); // reordered in front of the first packet
        assert_eq!(u.peek(1), 1);
        u.reset();
        assert_eq!(u.extend(7), 7);
    }

    #[test]
    fn timestamp_wraps_both_ways() {
        let mut u = TimestampUnwrapper::new();
        let start = u32::MAX - 159;
        assert_eq!(u.extend(start), i64::from(start));
        assert_eq!(u.extend(0), 1 << 32);
        assert_eq!(u.extend(160), (1 << 32) + 160);
        assert_eq!(u.extend(start), i64::from(start));
        assert_eq!(u.highest(), Some((1 << 32) + 160));
    }

    proptest! {
        #[test]
        fn sequence_unwrap_matches_truth(
            start in any::<u16>(),
            steps in proptest::collection::vec(-3000i64..=3000, 1..400),
        ) {
            // The true stream walks forward with reordering: each step is taken from the highest
            // extended value so far, so backward steps model late packets within 3000.
            let mut u = SequenceUnwrapper::new();
            let mut highest = i64::from(start);
            prop_assert_eq!(u.extend(start), highest);
            for step in steps {
                let truth = highest + step;
                prop_assert_eq!(u.extend(truth.rem_euclid(1 << 16) as u16), truth);
                highest = highest.max(truth);
                prop_assert_eq!(u.highest(), Some(highest));
            }
        }

        #[test]
        fn timestamp_unwrap_matches_truth(
            start in any::<u32>(),
            steps in proptest::collection::vec(-480_000i64..=480_000, 1..400),
        ) {
            let mut u = TimestampUnwrapper::new();
            let mut highest = i64::from(start);
            prop_assert_eq!(u.extend(start), highest);
            for step in steps {
                let truth = highest + step;
                prop_assert_eq!(u.extend(truth.rem_euclid(1 << 32) as u32), truth);
                highest = highest.max(truth);
            }
        }

        #[test]
        fn delta_is_antisymmetric(a in any::<u16>(), b in any::<u16>()) {
            let d = seq_delta(a, b);
            if d != i16::MIN {
                prop_assert_eq!(seq_delta(b, a), -d);
            }
            prop_assert_eq!(b.wrapping_add(d as u16), a);
        }
    }
}
