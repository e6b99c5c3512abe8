//! Per-token rate limits, in memory: one token bucket per (token, class).
//!
//! Two classes: writes (POST, PATCH, DELETE: provisioning and every other change) at
//! `ApiConfig::write_rate_per_minute`, reads at `ApiConfig::read_rate_per_minute`, so a batch job that
//! polls hard cannot starve its own creates, and creates stay tighter than reads. A bucket holds one
//! minute's budget and refills continuously; an empty bucket answers 429 with the seconds until one
//! request's worth has refilled. Time comes from the API clock, so tests move it by hand.
//!
//! Limits are per process: behind a load balancer each node counts on its own, which is the usual
//! trade for not putting a database write on every request.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::Method;

/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 10_000;

/// Which budget a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateClass {
    /// GET and HEAD.
    Read,
    /// Everything that changes state.
    Write,
}

impl RateClass {
    /// The class of a request with `method`.
    pub fn of(method: &Method) -> Self {
        if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
            RateClass::Read
        } else {
            RateClass::Write
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

/// The limiter shared by all requests of one router.
#[derive(Debug)]
pub struct RateLimiter {
    read_per_minute: u32,
    write_per_minute: u32,
    buckets: Mutex<HashMap<(String, RateClass), Bucket>>,
}

impl RateLimiter {
    /// A limiter with these budgets; 0 means unlimited.
    pub fn new(read_per_minute: u32, write_per_minute: u32) -> Self {
        Self {
            read_per_minute,
            write_per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s `class` budget at `now_ms`. `Err(seconds)` when the budget is spent:
    /// how long until the next request would be let through.
    pub fn check(&self, key: &str, class: RateClass, now_ms: i64) -> Result<(), u64> {
        let per_minute = match class {
            RateClass::Read => self.read_per_minute,
            RateClass::Write => self.write_per_minute,
        };
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let refill_per_ms = capacity / 60_000.0;
        // A poisoned lock only means another request panicked mid-update; the counts are still usable.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| {
                let idle_ms = now_ms.saturating_sub(b.updated_ms).max(0) as f64;
                b.tokens + idle_ms * refill_per_ms < capacity
            });
        }
        let bucket = buckets.entry((key.to_owned(), class)).or_insert(Bucket {
            tokens: capacity,
            updated_ms: now_ms,
        });
        // An injected clock may step back; never refill on a negative interval.
        let elapsed_ms = now_ms.saturating_sub(bucket.updated_ms).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed_ms * refill_per_ms).min(capacity);
        bucket.updated_ms = bucket.updated_ms.max(now_ms);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = (1.0 - bucket.tokens) / refill_per_ms;
            Err(((wait_ms / 1000.0).ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills_with_time() {
        let limiter = RateLimiter::new(60, 2);
        let t0 = 1_000_000;
        assert_eq!(limiter.check("k", RateClass::Write, t0), Ok(()));
        assert_eq!(limiter.check("k", RateClass::Write, t0), Ok(()));
        // Two per minute: one refills every 30 s.
        assert_eq!(limiter.check("k", RateClass::Write, t0), Err(30));
        assert_eq!(limiter.check("k", RateClass::Write, t0 + 20_000), Err(10));
        assert_eq!(limiter.check("k", RateClass::Write, t0 + 30_000), Ok(()));
        // Reads and other tokens have budgets of their own.
        assert_eq!(limiter.check("k", RateClass::Read, t0), Ok(()));
        assert_eq!(limiter.check("other", RateClass::Write, t0), Ok(()));
    }

    #[test]
    fn zero_is_unlimited_and_methods_pick_classes() {
        let limiter = RateLimiter::new(0, 0);
        for _ in 0..1000 {
            assert_eq!(limiter.check("k", RateClass::Write, 0), Ok(()));
        }
        assert_eq!(RateClass::of(&Method::GET), RateClass::Read);
        assert_eq!(RateClass::of(&Method::DELETE), RateClass::Write);
    }
}
