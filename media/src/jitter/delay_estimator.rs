//! Arrival-jitter estimate: how much later than the fastest packets the slow ones arrive.
//!
//! Each packet gives a relative delay `rel = arrival - media time of its first sample` (both in
//! microseconds on the buffer's own axes, so only differences matter). The fastest recent packet,
//! the minimum of `rel` over a two-second sliding window, is the baseline; a packet's jitter is its
//! `rel` above that baseline. Jitter samples go into a histogram with exponential forgetting, and the
//! estimate is its 95th percentile: the delay that would have caught 95 % of recent packets.
//!
//! Why this and not RFC 3550's interarrival jitter: the RFC estimate is a smoothed mean of
//! consecutive differences, which under-reports bursty or skewed delay (one slow packet in ten) and
//! says nothing about the tail a buffer must cover. A percentile of the spread is what sets the
//! depth directly. The forgetting gives the asymmetry the buffer wants: a burst of high jitter puts
//! 5 % of the mass in the tail within about ten packets (the estimate rises fast), while an old tail
//! must decay to 5 % of the mass before the estimate falls (a few seconds: it falls slowly).

/// Span of the sliding minimum.
const WINDOW_US: i64 = 2_000_000;
/// Entries the sliding minimum can hold (it keeps only increasing values, so few are used).
const WINDOW_SLOTS: usize = 256;
/// Weight kept by older samples per new packet; the histogram's memory is about 1 / (1 - FORGET)
/// packets.
const FORGET: f64 = 0.99;
/// The share of packets the estimate should cover.
const QUANTILE: f64 = 0.95;
/// Histogram buckets (the last one also takes everything larger).
const BUCKETS: usize = 128;
/// Rescale the weights before the growing increment leaves the comfortable range of `f64`.
const RESCALE_ABOVE: f64 = 1e200;

/// The sliding-minimum and histogram state. Allocates in `new` only.
#[derive(Debug, Clone)]
pub(super) struct DelayEstimator {
    /// Monotonic deque of `(arrival_us, rel_us)` with increasing `rel`, as a ring.
    window: Vec<(i64, i64)>,
    head: usize,
    len: usize,
    last_rel: Option<i64>,
    /// Instead of decaying every bucket per packet, each new sample weighs `1 / FORGET` times the
    /// previous one; the ratios are the same.
    weights: Vec<f64>,
    increment: f64,
    total: f64,
    bucket_us: i64,
    prior_us: i64,
    quantile_us: Option<i64>,
}

impl DelayEstimator {
    /// An estimator whose histogram covers `0..=range_us` and starts out believing the jitter is
    /// `prior_us`, with the weight of a full memory of packets.
    pub(super) fn new(range_us: i64, prior_us: i64) -> Self {
        let bucket_us = (range_us / BUCKETS as i64).max(1_000);
        let mut estimator = Self {
            window: vec![(0, 0); WINDOW_SLOTS],
            head: 0,
            len: 0,
            last_rel: None,
            weights: vec![0.0; BUCKETS],
            increment: 1.0,
            total: 0.0,
            bucket_us,
            prior_us,
            quantile_us: None,
        };
        estimator.reset();
        estimator
    }

    /// Back to the prior: a new call.
    pub(super) fn reset(&mut self) {
        self.rebase();
        self.weights.fill(0.0);
        let prior = 1.0 / (1.0 - FORGET);
        let bucket = self.bucket(self.prior_us);
        self.weights[bucket] = prior;
        self.total = prior;
        self.increment = 1.0;
        self.quantile_us = None;
    }

    /// Forgets the baseline but keeps the learnt jitter: the timeline restarted (new stream or
    /// timestamp jump) on what is probably the same network path.
    pub(super) fn rebase(&mut self) {
        self.head = 0;
        self.len = 0;
        self.last_rel = None;
    }

    fn bucket(&self, jitter_us: i64) -> usize {
        usize::try_from(jitter_us.max(0) / self.bucket_us)
            .unwrap_or(usize::MAX)
            .min(BUCKETS - 1)
    }

    /// Records a packet that arrived at `arrival_us` with relative delay `rel_us`.
    pub(super) fn observe(&mut self, arrival_us: i64, rel_us: i64) {
        self.last_rel = Some(rel_us);
        // Keep the deque increasing in rel: a new, faster packet makes the slower ones irrelevant.
        while self.len > 0 {
            let back = (self.head + self.len - 1) % WINDOW_SLOTS;
            if self.window[back].1 < rel_us {
                break;
            }
            self.len -= 1;
        }
        if self.len == WINDOW_SLOTS {
            self.head = (self.head + 1) % WINDOW_SLOTS;
            self.len -= 1;
        }
        self.window[(self.head + self.len) % WINDOW_SLOTS] = (arrival_us, rel_us);
        self.len += 1;
        let oldest = arrival_us.saturating_sub(WINDOW_US);
        while self.len > 1 && self.window[self.head].0 < oldest {
            self.head = (self.head + 1) % WINDOW_SLOTS;
            self.len -= 1;
        }

        let jitter = rel_us.saturating_sub(self.window[self.head].1);
        self.increment /= FORGET;
        let bucket = self.bucket(jitter);
        self.weights[bucket] += self.increment;
        self.total += self.increment;
        if self.increment > RESCALE_ABOVE {
            let scale = 1.0 / self.increment;
            self.weights.iter_mut().for_each(|w| *w *= scale);
            self.total *= scale;
            self.increment = 1.0;
        }
        self.quantile_us = None;
    }

    /// The relative delay of the fastest packet in the window: the baseline the playout delay is
    /// measured from. `None` before the first packet of a timeline.
    pub(super) fn min_rel(&self) -> Option<i64> {
        (self.len > 0).then(|| self.window[self.head].1)
    }

    /// The relative delay of the latest packet, to spot timestamp jumps.
    pub(super) fn last_rel(&self) -> Option<i64> {
        self.last_rel
    }

    /// The 95th percentile of recent jitter, rounded down to a bucket edge.
    pub(super) fn jitter_us(&mut self) -> i64 {
        if let Some(q) = self.quantile_us {
            return q;
        }
        let wanted = self.total * QUANTILE;
        let mut sum = 0.0;
        let mut bucket = BUCKETS - 1;
        for (b, w) in self.weights.iter().enumerate() {
            sum += w;
            if sum >= wanted {
                bucket = b;
                break;
            }
        }
        let q = bucket as i64 * self.bucket_us;
        self.quantile_us = Some(q);
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `n` 20 ms packets whose delay is drawn by `delay(i)`, starting at packet `first`.
    fn feed(est: &mut DelayEstimator, first: i64, n: i64, delay: impl Fn(i64) -> i64) {
        for i in first..first + n {
            let media = i * 20_000;
            let arrival = media + delay(i);
            est.observe(arrival, arrival - media);
        }
    }

    /// A cheap deterministic spread in `0..span`.
    fn spread(i: i64, span: i64) -> i64 {
        (i * 7_919 + 13).rem_euclid(span)
    }

    #[test]
    fn starts_at_the_prior() {
        let mut est = DelayEstimator::new(200_000, 30_000);
        assert_eq!(est.min_rel(), None);
        assert!((28_000..=30_000).contains(&est.jitter_us()));
    }

    #[test]
    fn calm_stream_forgets_the_prior_slowly() {
        let mut est = DelayEstimator::new(200_000, 30_000);
        feed(&mut est, 0, 100, |i| spread(i, 2_000));
        assert!(est.jitter_us() >= 28_000, "prior still dominates after 2 s");
        feed(&mut est, 100, 400, |i| spread(i, 2_000));
        assert!(est.jitter_us() <= 2_000, "{}", est.jitter_us());
    }

    #[test]
    fn rises_fast_and_falls_slowly() {
        let mut est = DelayEstimator::new(200_000, 0);
        feed(&mut est, 0, 500, |i| spread(i, 2_000));
        assert!(est.jitter_us() <= 2_000);
        feed(&mut est, 500, 20, |i| spread(i, 80_000));
        let risen = est.jitter_us();
        assert!(risen >= 40_000, "{risen}");
        feed(&mut est, 520, 500, |i| spread(i, 80_000));
        let high = est.jitter_us();
        assert!((70_000..=80_000).contains(&high), "{high}");
        feed(&mut est, 1_020, 50, |i| spread(i, 2_000));
        assert!(
            est.jitter_us() >= 60_000,
            "one second of calm is not enough to fall"
        );
        feed(&mut est, 1_070, 500, |i| spread(i, 2_000));
        assert!(est.jitter_us() <= 2_000);
    }

    #[test]
    fn baseline_is_the_fastest_recent_packet() {
        let mut est = DelayEstimator::new(200_000, 0);
        est.observe(0, 50_000);
        est.observe(20_000, 10_000);
        est.observe(40_000, 30_000);
        assert_eq!(est.min_rel(), Some(10_000));
        assert_eq!(est.last_rel(), Some(30_000));
        // Two seconds later the fast packet has left the window.
        est.observe(2_100_000, 40_000);
        assert_eq!(est.min_rel(), Some(40_000));
        est.rebase();
        assert_eq!(est.min_rel(), None);
        assert_eq!(est.last_rel(), None);
    }

    #[test]
    fn survives_extreme_inputs() {
        let mut est = DelayEstimator::new(0, i64::MAX);
        for i in 0..100_000 {
            let v = if i % 2 == 0 {
                i64::MAX / 4
            } else {
                i64::MIN / 4
            };
            est.observe(v, -v);
        }
        assert!(est.jitter_us() >= 0);
        assert!(est.total.is_finite());
    }
}
