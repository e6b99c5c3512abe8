//! Synthetic audio: the media crate's generators, re-exported for the simulation's users.

pub use dialtone_media::synth::{tone, voiced, voiced_into};
