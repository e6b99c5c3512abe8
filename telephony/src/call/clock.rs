//! Wall-clock time for the dialogue's "now" ("are you open now", "today"). It comes from [`CallDeps`]
//! rather than the OS so a test can put a call on a Saturday morning in Portland. Deadlines inside the
//! call use tokio's monotonic clock instead; this one only answers "what day and hour is it".
//!
//! [`CallDeps`]: super::CallDeps

use std::fmt;
use std::time::SystemTime;

/// The current wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, as an instant (the zone is the agent's business).
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant, for tests: a call is seconds long, so its day and minute hold.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}
