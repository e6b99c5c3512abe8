//! Settings for one call's media, fixed when the call is answered (after SDP or the stream's `start`).

use std::time::Duration;

use crate::audio::SampleRate;
use crate::codec::Codec;
use crate::turn::TurnConfig;
use crate::vad::{Aggressiveness, GateConfig, SharedDetectorFactory, VadConfig};

/// Media settings for one call.
#[derive(Debug, Clone)]
pub struct CallMediaConfig {
    /// The negotiated codec, both directions.
    pub codec: Codec,
    /// RTP payload type of the codec.
    pub payload_type: u8,
    /// RTP payload type of RFC 4733 telephone-events, when negotiated.
    pub dtmf_payload_type: Option<u8>,
    /// Rate the speech recogniser wants.
    pub stt_rate: SampleRate,
    /// Rate the speech synthesiser produces.
    pub agent_rate: SampleRate,
    /// Our RTP SSRC (random, chosen by the caller of this crate: nothing here draws random numbers).
    pub ssrc: u32,
    /// First RTP sequence number (random).
    pub initial_sequence: u16,
    /// First RTP timestamp (random).
    pub initial_timestamp: u32,
    /// Send encoded silence when the agent is quiet (SIP/RTP peers expect a continuous stream); WebSocket
    /// transports send nothing instead.
    pub send_silence: bool,
    /// Look for DTMF tones inside the audio, for carriers that do not send RFC 4733.
    pub inband_dtmf: bool,
    /// Per-frame speech detector settings.
    pub aggressiveness: Aggressiveness,
    /// A heavier detector (Silero) that confirms what the WebRTC VAD calls speech, one per call; `None`
    /// (or a factory at another rate than the VAD's) runs the WebRTC VAD alone.
    pub confirm_vad: Option<SharedDetectorFactory>,
    /// When the confirming detector runs.
    pub vad_gate: GateConfig,
    /// Speech start/stop hysteresis.
    pub vad: VadConfig,
    /// Turn-taking thresholds.
    pub turn: TurnConfig,
    /// Jitter buffer: least and most delay, and the delay before any jitter is measured.
    pub jitter_min_delay: Duration,
    /// See `jitter_min_delay`.
    pub jitter_max_delay: Duration,
    /// See `jitter_min_delay`.
    pub jitter_initial_delay: Duration,
}

impl CallMediaConfig {
    /// Defaults for a G.711 μ-law phone call (payload type 0, telephone-event 101) into a 16 kHz STT and
    /// from a 22.05 kHz TTS.
    pub fn pcmu() -> Self {
        Self {
            codec: Codec::Pcmu,
            payload_type: 0,
            dtmf_payload_type: Some(101),
            stt_rate: SampleRate::HZ_16000,
            agent_rate: SampleRate::HZ_22050,
            ssrc: 0x4449_414c,
            initial_sequence: 0,
            initial_timestamp: 0,
            send_silence: true,
            inband_dtmf: true,
            aggressiveness: Aggressiveness::default(),
            confirm_vad: None,
            vad_gate: GateConfig::default(),
            vad: VadConfig::default(),
            turn: TurnConfig::default(),
            jitter_min_delay: Duration::from_millis(20),
            jitter_max_delay: Duration::from_millis(200),
            jitter_initial_delay: Duration::from_millis(40),
        }
    }
}
