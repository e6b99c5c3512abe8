//! Sans-IO call media for Dialtone.
//!
//! Nothing here reads a clock, opens a socket or knows about an async runtime: time comes in as an
//! argument (`now: Instant`), work comes out as data to drain with `poll_output()`. Per-frame paths
//! allocate nothing in steady state; buffers belong to the call and are reused.

pub mod audio;
pub mod beep;
pub mod call_media;
pub mod codec;
pub mod dtmf;
pub mod jitter;
pub mod resample;
pub mod rtp;
pub mod synth;
pub mod turn;
pub mod vad;
pub mod wav;

pub use audio::{FRAME, MediaTime, Pcm, PcmSlice, SampleRate};
pub use call_media::{
    CallMedia, CallMediaConfig, Input, LATENESS_BOUNDS_MS, LatenessHistogram, MediaEvent, Output,
    TurnId,
};
