//! The caller side's per-frame speech detector: the WebRTC VAD alone, or gating a heavier detector that
//! the call settings supply (Silero), and the counters that say what the heavy one cost.

use crate::vad::{GatedDetector, VoiceDetector, WEBRTC_VAD_RATES, WebRtcVad};

use super::config::CallMediaConfig;
use super::io::MediaError;

#[derive(Debug)]
enum Detector {
    Cheap(WebRtcVad),
    Gated(GatedDetector<WebRtcVad, Box<dyn VoiceDetector>>),
}

/// One call's detector and the frames it reads.
#[derive(Debug)]
pub(super) struct CallerVad {
    detector: Detector,
    /// libfvad takes the codec's rate; for the others (G.722's 16 kHz does, Opus's 48 kHz does, a
    /// 24 kHz L16 does not) the detector reads the STT stream instead.
    on_codec_rate: bool,
    frames: u64,
}

impl CallerVad {
    pub(super) fn new(config: &CallMediaConfig) -> Result<Self, MediaError> {
        let codec_rate = config.codec.pcm_rate();
        let on_codec_rate = WEBRTC_VAD_RATES.contains(&codec_rate);
        let rate = if on_codec_rate {
            codec_rate
        } else {
            config.stt_rate
        };
        let gate = WebRtcVad::new(rate, config.aggressiveness)?;
        let heavy = config
            .confirm_vad
            .as_ref()
            .filter(|factory| factory.rate() == rate)
            .and_then(|factory| factory.detector());
        let detector = match heavy {
            Some(heavy) => Detector::Gated(GatedDetector::new(gate, heavy, config.vad_gate)?),
            None => Detector::Cheap(gate),
        };
        Ok(Self {
            detector,
            on_codec_rate,
            frames: 0,
        })
    }

    /// Speech probability of one tick, given the tick's frame at the codec rate and at the STT rate.
    pub(super) fn speech_probability(&mut self, codec_frame: &[i16], stt_frame: &[i16]) -> f32 {
        let frame = if self.on_codec_rate {
            codec_frame
        } else {
            stt_frame
        };
        self.frames += 1;
        match &mut self.detector {
            Detector::Cheap(vad) => vad.speech_probability(frame),
            Detector::Gated(vad) => vad.speech_probability(frame),
        }
    }

    /// Frames seen.
    pub(super) fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames the heavy detector ran on (0 without one).
    pub(super) fn heavy_frames(&self) -> u64 {
        match &self.detector {
            Detector::Cheap(_) => 0,
            Detector::Gated(vad) => vad.heavy_frames(),
        }
    }

    /// Whether a heavy detector is in use and ready.
    pub(super) fn confirming(&self) -> bool {
        match &self.detector {
            Detector::Cheap(_) => false,
            Detector::Gated(vad) => vad.heavy().ready(),
        }
    }
}
