//! Voice activity: a per-frame speech detector behind a small trait, and the frame-counting state machine
//! that turns its noisy per-frame verdicts into clean "speech started / stopped" transitions.
//!
//! The detector is the cheap WebRTC GMM VAD (libfvad) by default. Heavier detectors (Silero through ONNX)
//! plug in through [`VoiceDetector`], gated behind the cheap one by [`GatedDetector`] so they run only
//! around speech; the state machine does not care which one runs.

mod gate;

pub use gate::{DetectorFactory, GateConfig, GatedDetector, SharedDetectorFactory};

use std::time::Duration;

use crate::audio::{FRAME, SampleRate};

/// Per-frame speech detection. Implementations keep whatever history they need and must not allocate per
/// frame.
pub trait VoiceDetector: Send + std::fmt::Debug {
    /// Rate of the frames this detector expects.
    fn rate(&self) -> SampleRate;
    /// Probability in `0.0..=1.0` that one 20 ms frame at [`VoiceDetector::rate`] holds speech. Binary
    /// detectors answer 0 or 1.
    fn speech_probability(&mut self, frame: &[i16]) -> f32;
    /// Forgets history, as after a stream restart.
    fn reset(&mut self);
    /// False while the detector has no verdict to give: its model is still loading, or an inference
    /// error stopped it. Its answers then mean nothing, and a [`GatedDetector`] uses its gate's. The
    /// WebRTC VAD is always ready.
    fn ready(&self) -> bool {
        true
    }
}

impl<T: VoiceDetector + ?Sized> VoiceDetector for Box<T> {
    fn rate(&self) -> SampleRate {
        (**self).rate()
    }
    fn speech_probability(&mut self, frame: &[i16]) -> f32 {
        (**self).speech_probability(frame)
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn ready(&self) -> bool {
        (**self).ready()
    }
}

/// How eager the WebRTC VAD is to call a frame speech; more aggressive means fewer false positives on noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggressiveness {
    /// Calls almost anything voiced speech. For clean lines.
    Quality,
    /// Middle ground.
    LowBitrate,
    /// Good default for phone lines with background noise.
    #[default]
    Aggressive,
    /// Fewest false positives, may clip soft syllables.
    VeryAggressive,
}

/// The WebRTC VAD (libfvad, a small C library built by the `webrtc-vad` crate) with an energy gate in
/// front: frames quieter than `floor_dbfs` are silence whatever the GMM says, which stops line hiss and
/// comfort noise from reading as speech.
pub struct WebRtcVad {
    inner: SendVad,
    rate: SampleRate,
    floor: f32,
}

/// `webrtc_vad::Vad` holds a raw pointer and so is not `Send`. The pointee is a plain heap block owned by
/// this value alone, with no thread-local state, so moving it to another thread is sound; it is never
/// shared (`&mut` access only), so it is not `Sync`.
struct SendVad(webrtc_vad::Vad);

#[allow(unsafe_code)]
// SAFETY: see the type's documentation: exclusive ownership of a thread-agnostic heap object.
unsafe impl Send for SendVad {}

impl std::fmt::Debug for WebRtcVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebRtcVad")
            .field("rate", &self.rate)
            .field("floor", &self.floor)
            .finish()
    }
}

/// The rates libfvad accepts.
pub const WEBRTC_VAD_RATES: [SampleRate; 3] = [
    SampleRate::HZ_8000,
    SampleRate::HZ_16000,
    SampleRate::HZ_48000,
];

/// Errors building a detector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VadError {
    /// The detector cannot run at this rate.
    #[error("voice detection is not available at {0}")]
    UnsupportedRate(SampleRate),
    /// A gate and the detector behind it take frames at different rates.
    #[error("a {gate} gate cannot run a {heavy} detector")]
    RateMismatch {
        /// The gate's rate.
        gate: SampleRate,
        /// The gated detector's rate.
        heavy: SampleRate,
    },
}

impl WebRtcVad {
    /// Energy floor below which a frame is never speech: -50 dBFS is well under quiet speech on a phone line
    /// (-35 to -20 dBFS) and above G.711 idle noise.
    pub const DEFAULT_FLOOR_DBFS: f32 = -50.0;

    /// A detector for 20 ms frames at `rate` (8, 16 or 48 kHz).
    pub fn new(rate: SampleRate, aggressiveness: Aggressiveness) -> Result<Self, VadError> {
        let fvad_rate = match rate.hz() {
            8_000 => webrtc_vad::SampleRate::Rate8kHz,
            16_000 => webrtc_vad::SampleRate::Rate16kHz,
            48_000 => webrtc_vad::SampleRate::Rate48kHz,
            _ => return Err(VadError::UnsupportedRate(rate)),
        };
        let mode = match aggressiveness {
            Aggressiveness::Quality => webrtc_vad::VadMode::Quality,
            Aggressiveness::LowBitrate => webrtc_vad::VadMode::LowBitrate,
            Aggressiveness::Aggressive => webrtc_vad::VadMode::Aggressive,
            Aggressiveness::VeryAggressive => webrtc_vad::VadMode::VeryAggressive,
        };
        Ok(Self {
            inner: SendVad(webrtc_vad::Vad::new_with_rate_and_mode(fvad_rate, mode)),
            rate,
            floor: Self::DEFAULT_FLOOR_DBFS,
        })
    }

    /// Changes the energy gate.
    pub fn with_floor_dbfs(mut self, floor_dbfs: f32) -> Self {
        self.floor = floor_dbfs;
        self
    }
}

/// Mean power of a frame in dBFS (full-scale sine = -3 dBFS).
pub fn frame_dbfs(frame: &[i16]) -> f32 {
    if frame.is_empty() {
        return f32::NEG_INFINITY;
    }
    let energy: i64 = frame.iter().map(|&s| i64::from(s) * i64::from(s)).sum();
    let mean = energy as f32 / frame.len() as f32;
    10.0 * (mean / (32768.0 * 32768.0)).max(1e-12).log10()
}

impl VoiceDetector for WebRtcVad {
    fn rate(&self) -> SampleRate {
        self.rate
    }

    fn speech_probability(&mut self, frame: &[i16]) -> f32 {
        if frame.len() != self.rate.frame_samples() || frame_dbfs(frame) < self.floor {
            return 0.0;
        }
        match self.inner.0.is_voice_segment(frame) {
            Ok(true) => 1.0,
            Ok(false) | Err(()) => 0.0,
        }
    }

    fn reset(&mut self) {
        self.inner.0.reset();
    }
}

/// Thresholds of the speech state machine, in whole frames so behaviour does not depend on timing jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// A frame with at least this probability counts as speech.
    pub threshold: f32,
    /// Consecutive speech frames before speech is declared (filters clicks and coughs).
    pub start_frames: u32,
    /// Consecutive non-speech frames before speech is declared over (bridges gaps between words).
    pub stop_frames: u32,
}

impl VadConfig {
    /// Thresholds from durations, rounded up to whole frames.
    pub fn from_durations(threshold: f32, start: Duration, stop: Duration) -> Self {
        Self {
            threshold,
            start_frames: frames_in(start),
            stop_frames: frames_in(stop),
        }
    }
}

impl Default for VadConfig {
    /// 60 ms of speech to start (3 frames), 240 ms of quiet to stop (12 frames).
    fn default() -> Self {
        Self {
            threshold: 0.5,
            start_frames: 3,
            stop_frames: 12,
        }
    }
}

/// Whole 20 ms frames in `d`, rounded up, at least one.
pub fn frames_in(d: Duration) -> u32 {
    let frame = FRAME.as_micros();
    u32::try_from(d.as_micros().div_ceil(frame))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Where the speaker is, as the state machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadState {
    /// No speech.
    Quiet,
    /// Speech-like frames seen, not yet enough to call it speech.
    Starting {
        /// Consecutive speech frames so far.
        speech_frames: u32,
    },
    /// Speech declared.
    Speaking,
    /// Quiet frames inside speech, not yet enough to call it over.
    Stopping {
        /// Consecutive quiet frames so far.
        quiet_frames: u32,
    },
}

/// What one frame changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadTransition {
    /// Nothing changed.
    None,
    /// Speech was declared; it began `frames_ago` frames before this one (the start frames).
    SpeechStarted {
        /// How many frames back the first speech frame was (0 = this frame).
        frames_ago: u32,
    },
    /// Speech ended; the last speech frame was `frames_ago` frames before this one.
    SpeechStopped {
        /// How many frames back the last speech frame was.
        frames_ago: u32,
    },
}

/// Frame-counting hysteresis over per-frame speech probabilities: quiet -> starting -> speaking ->
/// stopping -> quiet.
#[derive(Debug, Clone)]
pub struct VadStateMachine {
    config: VadConfig,
    state: VadState,
}

impl VadStateMachine {
    /// A machine in the quiet state.
    pub fn new(config: VadConfig) -> Self {
        Self {
            config,
            state: VadState::Quiet,
        }
    }

    /// Current state.
    pub fn state(&self) -> VadState {
        self.state
    }

    /// True while speech is declared (including the bridging `Stopping` frames).
    pub fn is_speaking(&self) -> bool {
        matches!(self.state, VadState::Speaking | VadState::Stopping { .. })
    }

    /// Feeds one frame's speech probability.
    pub fn step(&mut self, probability: f32) -> VadTransition {
        let speech = probability >= self.config.threshold;
        let (next, transition) = match (self.state, speech) {
            (VadState::Quiet, false) => (VadState::Quiet, VadTransition::None),
            (VadState::Quiet, true) => self.starting(1),
            (VadState::Starting { speech_frames }, true) => self.starting(speech_frames + 1),
            (VadState::Starting { .. }, false) => (VadState::Quiet, VadTransition::None),
            (VadState::Speaking, true) => (VadState::Speaking, VadTransition::None),
            (VadState::Speaking, false) => self.stopping(1),
            (VadState::Stopping { .. }, true) => (VadState::Speaking, VadTransition::None),
            (VadState::Stopping { quiet_frames }, false) => self.stopping(quiet_frames + 1),
        };
        self.state = next;
        transition
    }

    fn starting(&self, speech_frames: u32) -> (VadState, VadTransition) {
        if speech_frames >= self.config.start_frames {
            let frames_ago = speech_frames - 1;
            (
                VadState::Speaking,
                VadTransition::SpeechStarted { frames_ago },
            )
        } else {
            (VadState::Starting { speech_frames }, VadTransition::None)
        }
    }

    fn stopping(&self, quiet_frames: u32) -> (VadState, VadTransition) {
        if quiet_frames >= self.config.stop_frames {
            (
                VadState::Quiet,
                VadTransition::SpeechStopped {
                    frames_ago: quiet_frames,
                },
            )
        } else {
            (VadState::Stopping { quiet_frames }, VadTransition::None)
        }
    }

    /// Back to quiet.
    pub fn reset(&mut self) {
        self.state = VadState::Quiet;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn run(m: &mut VadStateMachine, frames: &[f32]) -> Vec<(usize, VadTransition)> {
        frames
            .iter()
            .enumerate()
            .map(|(i, &p)| (i, m.step(p)))
            .filter(|(_, t)| *t != VadTransition::None)
            .collect()
    }

    #[test]
    fn speech_needs_start_frames_and_ends_after_stop_frames() {
        let mut m = VadStateMachine::new(VadConfig {
            threshold: 0.5,
            start_frames: 3,
            stop_frames: 4,
        });
        let mut frames = vec![0.0; 5];
        frames.extend([1.0; 10]);
        frames.extend([0.0; 6]);
        let t = run(&mut m, &frames);
        assert_eq!(
            t,
            vec![
                (7, VadTransition::SpeechStarted { frames_ago: 2 }),
                (18, VadTransition::SpeechStopped { frames_ago: 4 }),
            ]
        );
    }

    #[test]
    fn short_clicks_and_short_gaps_are_ignored() {
        let mut m = VadStateMachine::new(VadConfig {
            threshold: 0.5,
            start_frames: 3,
            stop_frames: 4,
        });
        // Two-frame click: no speech.
        assert!(run(&mut m, &[1.0, 1.0, 0.0, 0.0]).is_empty());
        // Speech with a three-frame gap between words: one start, no stop.
        let t = run(&mut m, &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0]);
        assert_eq!(t.len(), 1);
        assert!(m.is_speaking());
    }

    #[test]
    fn durations_round_up_to_frames() {
        assert_eq!(frames_in(Duration::from_millis(60)), 3);
        assert_eq!(frames_in(Duration::from_millis(61)), 4);
        assert_eq!(frames_in(Duration::ZERO), 1);
    }

    fn tone(rate: SampleRate, freq: f32, amp: f32, frame_index: usize) -> Vec<i16> {
        let n = rate.frame_samples();
        crate::synth::tone(rate, freq, amp, n, frame_index * n)
    }

    fn vowel(rate: SampleRate, frame_index: usize) -> Vec<i16> {
        let n = rate.frame_samples();
        crate::synth::voiced(rate, 140.0, n, frame_index * n)
    }

    #[test]
    fn webrtc_vad_hears_voice_not_silence() {
        for rate in WEBRTC_VAD_RATES {
            let mut vad = WebRtcVad::new(rate, Aggressiveness::Aggressive).unwrap();
            let silent = vec![0i16; rate.frame_samples()];
            assert_eq!(vad.speech_probability(&silent), 0.0);
            let voiced = (0..20)
                .filter(|&i| vad.speech_probability(&vowel(rate, i)) > 0.5)
                .count();
            assert!(voiced >= 15, "{rate}: only {voiced}/20 voiced frames");
        }
    }

    #[test]
    fn energy_gate_silences_faint_signals() {
        let rate = SampleRate::HZ_8000;
        let mut vad = WebRtcVad::new(rate, Aggressiveness::Quality).unwrap();
        // A -66 dBFS hum is below the gate.
        let faint = tone(rate, 300.0, 0.0007, 0);
        assert!(frame_dbfs(&faint) < WebRtcVad::DEFAULT_FLOOR_DBFS);
        assert_eq!(vad.speech_probability(&faint), 0.0);
    }

    #[test]
    fn wrong_length_or_rate_is_handled() {
        assert!(WebRtcVad::new(SampleRate::HZ_22050, Aggressiveness::Quality).is_err());
        let mut vad = WebRtcVad::new(SampleRate::HZ_8000, Aggressiveness::Quality).unwrap();
        assert_eq!(vad.speech_probability(&[]), 0.0);
        assert_eq!(vad.speech_probability(&[1000; 7]), 0.0);
    }

    #[test]
    fn detector_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<WebRtcVad>();
    }

    proptest! {
        #[test]
        fn starts_and_stops_alternate(probs in proptest::collection::vec(0.0f32..1.0, 0..400)) {
            let mut m = VadStateMachine::new(VadConfig::default());
            let mut speaking = false;
            for p in probs {
                match m.step(p) {
                    VadTransition::SpeechStarted { .. } => { prop_assert!(!speaking); speaking = true; }
                    VadTransition::SpeechStopped { .. } => { prop_assert!(speaking); speaking = false; }
                    VadTransition::None => {}
                }
                prop_assert_eq!(speaking, m.is_speaking());
            }
        }
    }
}
