//! Simulation on a virtual clock: a network emulator, synthetic voices and a simulated call, for the
//! scenario tests, the benches and `dialtone simulate`. Deterministic: the same seed gives the same call.

pub mod call;
pub mod netem;
pub mod signals;
