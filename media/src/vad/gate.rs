//! A cheap detector gating a heavy one: the heavy detector (Silero through ONNX) runs only while the
//! cheap one (WebRTC) hears speech and for a short hangover after, so it confirms starts and ends
//! without paying for the long silences of a call. Counts the frames the heavy one ran on, which is
//! what a call costs.

use std::sync::Arc;

use super::{VadError, VoiceDetector};
use crate::audio::SampleRate;

/// When the heavy detector runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateConfig {
    /// A gate frame with at least this probability opens the gate.
    pub threshold: f32,
    /// Frames the heavy detector keeps running after the gate's last speech frame. It bridges the
    /// gate's drop-outs inside words (unvoiced consonants, soft endings) with the heavy detector's
    /// verdict, and lets it see speech end. 10 frames (200 ms) covers a syllable-long gap at the cost of
    /// 10 heavy frames per utterance.
    pub hangover_frames: u32,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            hangover_frames: 10,
        }
    }
}

/// Makes the heavy detector of each call: [`crate::CallMedia`] asks once per call and gates what it
/// gets behind its WebRTC VAD.
pub trait DetectorFactory: Send + Sync + std::fmt::Debug {
    /// The rate of the frames its detectors take. A call whose VAD runs at another rate goes without.
    fn rate(&self) -> SampleRate;
    /// A detector for one call, or `None` when none can be had now (the call then runs the cheap VAD
    /// alone). Called on the thread that answers the call: it should be quick.
    fn detector(&self) -> Option<Box<dyn VoiceDetector>>;
}

/// A shared factory, as call settings hold it.
pub type SharedDetectorFactory = Arc<dyn DetectorFactory>;

/// `gate` decides where `heavy` runs; `heavy` decides what is speech. See the module documentation.
#[derive(Debug)]
pub struct GatedDetector<G, H> {
    gate: G,
    heavy: H,
    config: GateConfig,
    /// Frames of hangover left; `None` while the heavy detector is idle.
    hangover: Option<u32>,
    frames: u64,
    heavy_frames: u64,
}

impl<G: VoiceDetector, H: VoiceDetector> GatedDetector<G, H> {
    /// `heavy` behind `gate`; both must take frames at the same rate (resampling is the caller's job).
    pub fn new(gate: G, heavy: H, config: GateConfig) -> Result<Self, VadError> {
        if gate.rate() != heavy.rate() {
            return Err(VadError::RateMismatch {
                gate: gate.rate(),
                heavy: heavy.rate(),
            });
        }
        Ok(Self {
            gate,
            heavy,
            config,
            hangover: None,
            frames: 0,
            heavy_frames: 0,
        })
    }

    /// Frames seen.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames the heavy detector ran on and answered.
    pub fn heavy_frames(&self) -> u64 {
        self.heavy_frames
    }

    /// The heavy detector.
    pub fn heavy(&self) -> &H {
        &self.heavy
    }

    /// The gate.
    pub fn gate(&self) -> &G {
        &self.gate
    }
}

impl<G: VoiceDetector, H: VoiceDetector> VoiceDetector for GatedDetector<G, H> {
    fn rate(&self) -> SampleRate {
        self.gate.rate()
    }

    fn speech_probability(&mut self, frame: &[i16]) -> f32 {
        self.frames += 1;
        let gate = self.gate.speech_probability(frame);
        let open = gate >= self.config.threshold;
        self.hangover = match (open, self.hangover) {
            (true, None) => {
                // The heavy detector last heard audio before a silence it did not see: its history
                // would join two distant moments, so it starts afresh.
                self.heavy.reset();
                Some(self.config.hangover_frames)
            }
            (true, Some(_)) => Some(self.config.hangover_frames),
            (false, Some(left)) if left > 0 => Some(left - 1),
            (false, _) => None,
        };
        if self.hangover.is_none() {
            return 0.0;
        }
        // Asked even when not ready, so that it can pick up a model that finishes loading; a detector
        // that is not ready answers at once, so only its real runs are counted.
        let p = self.heavy.speech_probability(frame);
        if !self.heavy.ready() {
            return gate;
        }
        self.heavy_frames += 1;
        p
    }

    fn reset(&mut self) {
        self.gate.reset();
        self.heavy.reset();
        self.hangover = None;
    }

    fn ready(&self) -> bool {
        self.gate.ready()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Answers what the frame's first sample says (in thousandths), counting calls and resets.
    #[derive(Debug, Default)]
    struct Fake {
        calls: u64,
        resets: u64,
        fail_after: Option<u64>,
    }

    impl VoiceDetector for Fake {
        fn rate(&self) -> SampleRate {
            SampleRate::HZ_8000
        }
        fn speech_probability(&mut self, frame: &[i16]) -> f32 {
            self.calls += 1;
            f32::from(frame[0]) / 1000.0
        }
        fn reset(&mut self) {
            self.resets += 1;
        }
        fn ready(&self) -> bool {
            self.fail_after.is_none_or(|n| self.calls <= n)
        }
    }

    /// A gate that hears speech in frames whose second sample is 1.
    #[derive(Debug)]
    struct Gate;

    impl VoiceDetector for Gate {
        fn rate(&self) -> SampleRate {
            SampleRate::HZ_8000
        }
        fn speech_probability(&mut self, frame: &[i16]) -> f32 {
            f32::from(frame[1])
        }
        fn reset(&mut self) {}
    }

    /// A frame the gate calls `gate` and the heavy detector gives `heavy` (0..=1000 thousandths).
    fn frame(gate: bool, heavy: i16) -> [i16; 160] {
        let mut f = [0; 160];
        f[0] = heavy;
        f[1] = i16::from(gate);
        f
    }

    fn gated(hangover_frames: u32) -> GatedDetector<Gate, Fake> {
        let config = GateConfig {
            hangover_frames,
            ..GateConfig::default()
        };
        GatedDetector::new(Gate, Fake::default(), config).unwrap()
    }

    #[test]
    fn heavy_is_not_called_on_silence() {
        let mut d = gated(3);
        for _ in 0..100 {
            assert_eq!(d.speech_probability(&frame(false, 900)), 0.0);
        }
        assert_eq!(d.heavy().calls, 0);
        assert_eq!((d.frames(), d.heavy_frames()), (100, 0));
    }

    #[test]
    fn heavy_decides_during_speech_and_hangover_then_stops() {
        let mut d = gated(3);
        let mut out = Vec::new();
        // The gate hears 4 frames, the heavy one agrees on all but the first.
        for heavy in [200, 800, 900, 900] {
            out.push(d.speech_probability(&frame(true, heavy)));
        }
        // The gate goes quiet: 3 hangover frames where the heavy one still hears the word's tail, then
        // idle.
        for _ in 0..6 {
            out.push(d.speech_probability(&frame(false, 700)));
        }
        assert_eq!(
            out,
            [0.2, 0.8, 0.9, 0.9, 0.7, 0.7, 0.7, 0.0, 0.0, 0.0],
            "heavy's verdicts inside the gate and its hangover"
        );
        assert_eq!(d.heavy().calls, 7);
        assert_eq!((d.frames(), d.heavy_frames()), (10, 7));
    }

    #[test]
    fn heavy_overrules_a_gate_that_fires_on_noise() {
        let mut d = gated(2);
        for _ in 0..20 {
            assert_eq!(d.speech_probability(&frame(true, 50)), 0.05);
        }
    }

    #[test]
    fn a_gap_inside_the_hangover_keeps_heavy_history_and_a_later_one_resets_it() {
        let mut d = gated(3);
        d.speech_probability(&frame(true, 900));
        assert_eq!(
            d.heavy().resets,
            1,
            "a fresh start at the first gate opening"
        );
        d.speech_probability(&frame(false, 900));
        d.speech_probability(&frame(true, 900));
        assert_eq!(
            d.heavy().resets,
            1,
            "a two-frame dip is inside the hangover"
        );
        for _ in 0..5 {
            d.speech_probability(&frame(false, 900));
        }
        d.speech_probability(&frame(true, 900));
        assert_eq!(
            d.heavy().resets,
            2,
            "after an idle stretch the heavy one starts afresh"
        );
    }

    #[test]
    fn a_failed_heavy_detector_hands_over_to_the_gate() {
        let heavy = Fake {
            fail_after: Some(2),
            ..Fake::default()
        };
        let mut d = GatedDetector::new(Gate, heavy, GateConfig::default()).unwrap();
        assert_eq!(d.speech_probability(&frame(true, 100)), 0.1);
        assert_eq!(d.speech_probability(&frame(true, 100)), 0.1);
        // From the third call on it fails: the gate's verdict stands.
        assert_eq!(d.speech_probability(&frame(true, 100)), 1.0);
        assert_eq!(d.speech_probability(&frame(true, 100)), 1.0);
        assert_eq!(d.speech_probability(&frame(false, 100)), 0.0);
        assert_eq!(d.heavy_frames(), 2, "only its real answers count");
    }

    #[test]
    fn rates_must_match() {
        #[derive(Debug)]
        struct Wide;
        impl VoiceDetector for Wide {
            fn rate(&self) -> SampleRate {
                SampleRate::HZ_16000
            }
            fn speech_probability(&mut self, _: &[i16]) -> f32 {
                0.0
            }
            fn reset(&mut self) {}
        }
        let err = GatedDetector::new(Gate, Wide, GateConfig::default()).unwrap_err();
        assert!(matches!(err, VadError::RateMismatch { .. }), "{err}");
    }
}
