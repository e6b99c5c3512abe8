//! Synthetic audio for tests, benches and simulations: a speech-like vowel and pure tones. Real
//! recordings would be better; these are deterministic and need no files.

use crate::audio::SampleRate;

/// A crude vowel into `out`: a glottal pulse train at `pitch` Hz shaped by formants at 700, 1,200 and
/// 2,500 Hz, band-limited to the telephone band, at about -14 dBFS. WebRTC's VAD takes it for speech.
/// `offset` is the index of the first sample, so consecutive frames join without a click.
pub fn voiced_into(rate: SampleRate, pitch: f32, offset: usize, out: &mut [i16]) {
    let limit = (rate.hz() as f32 / 2.0).min(3_800.0);
    for (i, s) in out.iter_mut().enumerate() {
        let t = (offset + i) as f32 / rate.hz() as f32;
        let mut x = 0.0;
        let mut h = 1;
        while pitch * h as f32 <= limit {
            let f = pitch * h as f32;
            let formant = (-((f - 700.0) / 300.0).powi(2)).exp()
                + 0.6 * (-((f - 1200.0) / 300.0).powi(2)).exp()
                + 0.3 * (-((f - 2500.0) / 400.0).powi(2)).exp();
            x += formant * (std::f32::consts::TAU * f * t).sin();
            h += 1;
        }
        *s = (x * 6000.0) as i16;
    }
}

/// [`voiced_into`] into a new buffer of `n` samples.
pub fn voiced(rate: SampleRate, pitch: f32, n: usize, offset: usize) -> Vec<i16> {
    let mut out = vec![0; n];
    voiced_into(rate, pitch, offset, &mut out);
    out
}

/// A pure tone of `amplitude` (1.0 = full scale).
pub fn tone(rate: SampleRate, freq: f32, amplitude: f32, n: usize, offset: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = (offset + i) as f32 / rate.hz() as f32;
            (amplitude * 32767.0 * (std::f32::consts::TAU * freq * t).sin()) as i16
        })
        .collect()
}
