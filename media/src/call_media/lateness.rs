//! How late the agent's frames leave: for each 20 ms send slot, the time between the slot and the moment
//! the call loop actually produced the frame. The runtime's own pacing, measured where it happens, apart
//! from whatever the network and the far end add. A fixed set of buckets: nothing allocates per frame.

use std::time::Duration;

/// Upper bounds of the buckets, in milliseconds; a last bucket holds everything later.
pub const LATENESS_BOUNDS_MS: [u32; 7] = [1, 2, 5, 10, 20, 50, 100];

/// Counts of send slots by lateness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatenessHistogram {
    /// `counts[i]` holds slots no later than `LATENESS_BOUNDS_MS[i]` (and later than the bound before);
    /// the last one, slots later than 100 ms.
    pub counts: [u64; LATENESS_BOUNDS_MS.len() + 1],
}

impl LatenessHistogram {
    /// Counts one slot produced `late` after its time.
    pub fn record(&mut self, late: Duration) {
        let ms = late.as_micros();
        let bucket = LATENESS_BOUNDS_MS
            .iter()
            .position(|&bound| ms <= u128::from(bound) * 1000)
            .unwrap_or(LATENESS_BOUNDS_MS.len());
        self.counts[bucket] += 1;
    }

    /// Counts since `earlier` (both cumulative).
    pub fn since(&self, earlier: &Self) -> Self {
        let mut counts = self.counts;
        for (c, e) in counts.iter_mut().zip(earlier.counts) {
            *c = c.saturating_sub(e);
        }
        Self { counts }
    }

    /// Slots counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The bucket bound under which at least `q` (0..=1) of the slots fell, in ms: `p99 <= 5 ms` reads
    /// `quantile_bound_ms(0.99) <= Some(5)`. `None` with no slots; `u32::MAX` when the quantile is in the
    /// overflow bucket.
    pub fn quantile_bound_ms(&self, q: f64) -> Option<u32> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let wanted = (q.clamp(0.0, 1.0) * total as f64).ceil() as u64;
        let mut seen = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= wanted.max(1) {
                return Some(LATENESS_BOUNDS_MS.get(i).copied().unwrap_or(u32::MAX));
            }
        }
        Some(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fall_in_the_bucket_of_their_bound() {
        let mut h = LatenessHistogram::default();
        for us in [0, 1_000, 1_001, 5_000, 20_000, 150_000] {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.counts, [2, 1, 1, 0, 1, 0, 0, 1]);
        assert_eq!(h.total(), 6);
    }

    #[test]
    fn quantiles_read_the_bound_that_covers_them() {
        let mut h = LatenessHistogram::default();
        assert_eq!(h.quantile_bound_ms(0.99), None);
        for _ in 0..990 {
            h.record(Duration::from_micros(300));
        }
        for _ in 0..10 {
            h.record(Duration::from_millis(8));
        }
        assert_eq!(h.quantile_bound_ms(0.5), Some(1));
        assert_eq!(h.quantile_bound_ms(0.99), Some(1));
        assert_eq!(h.quantile_bound_ms(0.995), Some(10));
        h.record(Duration::from_secs(1));
        assert_eq!(h.quantile_bound_ms(1.0), Some(u32::MAX));
    }

    #[test]
    fn differencing_takes_out_the_earlier_counts() {
        let mut a = LatenessHistogram::default();
        a.record(Duration::from_millis(3));
        let mut b = a;
        b.record(Duration::from_millis(30));
        // Cumulative counts: everything in `a`, then `b`'s on top.
        let mut sum = b;
        sum.record(Duration::from_millis(3));
        assert_eq!(sum.since(&a), b);
        assert_eq!(sum.total(), 3);
    }
}
