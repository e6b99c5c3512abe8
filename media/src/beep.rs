//! Answering-machine beeps: a steady pure tone (300 Hz to 3 kHz) held for at least 160 ms.
//!
//! Per frame the tone's frequency is estimated from the spacing of zero crossings and checked with a Goertzel filter at
//! that frequency: a pure tone puts nearly all of the frame's energy there, speech (many harmonics) and
//! noise do not. Consecutive tonal frames at the same frequency make a beep, reported when it ends (when
//! a machine starts recording). Sans-IO and allocation-free: feed it the caller's audio frame by frame.

use crate::audio::PcmSlice;

/// Lowest and highest beep frequencies, Hz.
const MIN_HZ: f32 = 300.0;
const MAX_HZ: f32 = 3_000.0;
/// Frames below this RMS are silence.
const MIN_RMS: f32 = 300.0;
/// Share of the frame's energy at the estimated frequency for a frame to count as a tone.
const MIN_PURITY: f32 = 0.5;
/// Largest relative change of frequency between two frames of one tone.
const MAX_DRIFT: f32 = 0.06;
/// Tone length that makes a beep, in milliseconds.
const MIN_TONE_MS: u32 = 160;

/// Finds beeps in a stream of caller audio.
#[derive(Debug, Clone, Default)]
pub struct BeepDetector {
    /// Milliseconds of the current tone so far.
    tone_ms: u32,
    /// Its frequency in the last frame.
    last_hz: f32,
}

impl BeepDetector {
    /// A detector that has heard nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one frame (10 to 40 ms is best). True on the first frame after a beep, when it has ended:
    /// the moment an answering machine starts recording.
    pub fn push(&mut self, pcm: PcmSlice<'_>) -> bool {
        let rate = pcm.rate.hz() as f32;
        let n = pcm.samples.len();
        let ms = u32::try_from(n.saturating_mul(1000) / pcm.rate.hz().max(1) as usize).unwrap_or(0);
        match tone_hz(pcm.samples, rate) {
            Some(hz) if self.tone_ms > 0 && (hz - self.last_hz).abs() / hz <= MAX_DRIFT => {
                self.tone_ms = self.tone_ms.saturating_add(ms);
                self.last_hz = hz;
                false
            }
            Some(hz) => {
                let ended = self.tone_ms >= MIN_TONE_MS;
                self.tone_ms = ms;
                self.last_hz = hz;
                ended
            }
            None => {
                let ended = self.tone_ms >= MIN_TONE_MS;
                self.tone_ms = 0;
                ended
            }
        }
    }
}

/// The frequency of a frame that is one pure tone in the beep range, else `None`.
fn tone_hz(samples: &[i16], rate: f32) -> Option<f32> {
    if samples.len() < 32 || rate <= 0.0 {
        return None;
    }
    let n = samples.len() as f32;
    let energy: f32 = samples.iter().map(|&s| f32::from(s) * f32::from(s)).sum();
    if (energy / n).sqrt() < MIN_RMS {
        return None;
    }
    // k crossings spanning d samples are k - 1 half periods: exact to a sample, unlike a plain count.
    let (mut first, mut last, mut crossings) = (0usize, 0usize, 0usize);
    for (i, w) in samples.windows(2).enumerate() {
        if (w[0] >= 0) != (w[1] >= 0) {
            if crossings == 0 {
                first = i;
            }
            last = i;
            crossings += 1;
        }
    }
    if crossings < 3 || last == first {
        return None;
    }
    let hz = (crossings - 1) as f32 * rate / (2.0 * (last - first) as f32);
    if !(MIN_HZ..=MAX_HZ).contains(&hz) {
        return None;
    }
    let purity = goertzel_power(samples, hz, rate) * 2.0 / (n * energy);
    (purity >= MIN_PURITY).then_some(hz)
}

/// The power of `samples` at `hz` (Goertzel).
fn goertzel_power(samples: &[i16], hz: f32, rate: f32) -> f32 {
    let coeff = 2.0 * (2.0 * std::f32::consts::PI * hz / rate).cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in samples {
        let s0 = f32::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::audio::SampleRate;
    use crate::synth::voiced;

    fn tone(rate: SampleRate, hz: f32, ms: usize, amplitude: f32) -> Vec<i16> {
        let n = rate.hz() as usize * ms / 1000;
        (0..n)
            .map(|i| {
                let t = i as f32 / rate.hz() as f32;
                (amplitude * (2.0 * std::f32::consts::PI * hz * t).sin()) as i16
            })
            .collect()
    }

    /// How many beeps `samples` holds, fed 20 ms at a time, then 100 ms of silence.
    fn beeps(rate: SampleRate, samples: &[i16]) -> usize {
        let frame = rate.hz() as usize / 50;
        let mut d = BeepDetector::new();
        let silence = vec![0; frame * 5];
        samples
            .chunks(frame)
            .chain(silence.chunks(frame))
            .filter(|c| d.push(PcmSlice { rate, samples: c }))
            .count()
    }

    #[test]
    fn a_held_tone_is_one_beep_at_any_rate() {
        for rate in [SampleRate::HZ_8000, SampleRate::HZ_16000] {
            for hz in [440.0, 1000.0, 1400.0, 2000.0] {
                assert_eq!(
                    beeps(rate, &tone(rate, hz, 400, 8000.0)),
                    1,
                    "{hz} Hz at {rate:?}"
                );
            }
        }
        // Two beeps with silence between.
        let rate = SampleRate::HZ_8000;
        let mut two = tone(rate, 1000.0, 300, 8000.0);
        two.extend(vec![0; 1600]);
        two.extend(tone(rate, 1000.0, 300, 8000.0));
        assert_eq!(beeps(rate, &two), 2);
        // Reported when it ends, not while it lasts.
        let mut d = BeepDetector::new();
        let held = tone(rate, 1000.0, 1000, 8000.0);
        assert!(
            !held
                .chunks(160)
                .any(|c| d.push(PcmSlice { rate, samples: c }))
        );
        assert!(d.push(PcmSlice {
            rate,
            samples: &[0; 160]
        }));
    }

    #[test]
    fn speech_noise_quiet_and_short_tones_are_not_beeps() {
        let rate = SampleRate::HZ_16000;
        assert_eq!(
            beeps(rate, &voiced(rate, 115.0, 32_000, 0)),
            0,
            "voiced speech"
        );
        assert_eq!(
            beeps(rate, &voiced(rate, 210.0, 32_000, 0)),
            0,
            "higher voice"
        );
        let mut x: u32 = 12_345;
        let noise: Vec<i16> = (0..32_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                ((x >> 16) as i16) / 4
            })
            .collect();
        assert_eq!(beeps(rate, &noise), 0, "noise");
        assert_eq!(beeps(rate, &tone(rate, 1000.0, 400, 200.0)), 0, "too quiet");
        assert_eq!(
            beeps(rate, &tone(rate, 1000.0, 100, 8000.0)),
            0,
            "too short"
        );
        assert_eq!(beeps(rate, &tone(rate, 150.0, 400, 8000.0)), 0, "too low");
        assert_eq!(beeps(rate, &[]), 0);
    }

    proptest! {
        #[test]
        fn any_audio_never_panics_and_reports_at_most_one_beep_per_frame_pair(
            frames in proptest::collection::vec(proptest::collection::vec(any::<i16>(), 0..700), 0..40),
            wide in any::<bool>(),
        ) {
            let rate = if wide { SampleRate::HZ_16000 } else { SampleRate::HZ_8000 };
            let mut d = BeepDetector::new();
            let mut last = false;
            for f in &frames {
                let now = d.push(PcmSlice { rate, samples: f });
                prop_assert!(!(now && last), "two reports in a row");
                last = now;
            }
        }
    }
}
