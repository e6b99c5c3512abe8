//! Call transports, the per-call loop, the dialogue and the speech backends.
//!
//! Sans-IO where it can be: transport sessions and the dialogue policy are state machines driven by the
//! call loop, which is the only async piece of a call.

pub mod agent;
pub mod backend;
pub mod call;
pub mod dialogue;
pub mod engines;
pub mod http;
pub mod sip;
pub mod stream;
pub mod webrtc;
