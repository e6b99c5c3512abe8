//! Tests of the in-band detector on synthetic telephone audio.

#![allow(clippy::unwrap_used)]

use super::*;
use std::f64::consts::TAU;

/// A small deterministic noise source (xorshift) so tests need no RNG crate and never flake.
struct Noise(u64);

impl Noise {
    /// Uniform in [-1, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Builds test signals sample by sample at one rate.
struct Signal {
    rate: u32,
    samples: Vec<f64>,
}

impl Signal {
    fn new(rate: SampleRate) -> Self {
        Self {
            rate: rate.hz(),
            samples: Vec::new(),
        }
    }

    fn len_of(&self, millis: u32) -> usize {
        (self.rate * millis / 1000) as usize
    }

    fn silence(&mut self, millis: u32) -> &mut Self {
        let n = self.len_of(millis);
        self.samples.extend(std::iter::repeat_n(0.0, n));
        self
    }

    /// Sum of sines (frequency in Hz, amplitude) for `millis`.
    fn tones(&mut self, millis: u32, tones: &[(f64, f64)]) -> &mut Self {
        let n = self.len_of(millis);
        let rate = f64::from(self.rate);
        for i in 0..n {
            let t = i as f64 / rate;
            let v = tones
                .iter()
                .enumerate()
                .map(|(k, (f, a))| a * (TAU * f * t + k as f64).sin())
                .sum();
            self.samples.push(v);
        }
        self
    }

    fn digit(&mut self, digit: Digit, millis: u32, row_amp: f64, col_amp: f64) -> &mut Self {
        let (row, col) = digit.frequencies();
        self.tones(
            millis,
            &[(f64::from(row), row_amp), (f64::from(col), col_amp)],
        )
    }

    /// Adds white noise `snr_db` below the mean power of the samples from `from` on.
    fn noise(&mut self, from: usize, snr_db: f64, seed: u64) -> &mut Self {
        let body = &self.samples[from..];
        let power = body.iter().map(|x| x * x).sum::<f64>() / body.len() as f64;
        // Uniform noise on [-a, a] has power a^2 / 3.
        let a = (3.0 * power / 10f64.powf(snr_db / 10.0)).sqrt();
        let mut rng = Noise(seed | 1);
        for x in &mut self.samples {
            *x += a * rng.next();
        }
        self
    }

    fn pcm(&self) -> Vec<i16> {
        self.samples
            .iter()
            .map(|x| x.round().clamp(-32768.0, 32767.0) as i16)
            .collect()
    }
}

/// Runs `pcm` through a fresh detector in chunks of `chunk` samples.
fn detect_chunked(rate: SampleRate, pcm: &[i16], chunk: usize) -> Vec<InbandDigit> {
    let mut det = GoertzelDetector::new(rate).unwrap();
    let mut found = Vec::new();
    for frame in pcm.chunks(chunk) {
        det.process(frame);
        while let Some(d) = det.poll_digit() {
            found.push(d);
        }
    }
    found
}

fn detect(rate: SampleRate, pcm: &[i16]) -> Vec<Digit> {
    detect_chunked(rate, pcm, rate.frame_samples())
        .iter()
        .map(|d| d.digit)
        .collect()
}

#[test]
fn every_digit_at_varied_level_twist_and_alignment() {
    // (row amplitude, column amplitude): equal, loud, quiet, 6 dB normal twist, 3 dB reverse twist.
    let levels = [
        (6000.0, 6000.0),
        (14000.0, 14000.0),
        (900.0, 900.0),
        (8000.0, 4000.0),
        (3000.0, 4200.0),
    ];
    for rate in [SampleRate::HZ_8000, SampleRate::HZ_16000] {
        for (i, digit) in Digit::ALL.iter().enumerate() {
            for (j, (row, col)) in levels.iter().enumerate() {
                let lead = 3 + 7 * (i + j) as u32 % 40;
                let mut s = Signal::new(rate);
                s.silence(lead).digit(*digit, 80, *row, *col).silence(100);
                assert_eq!(
                    detect(rate, &s.pcm()),
                    [*digit],
                    "{rate} {digit:?} {row}/{col}"
                );
            }
        }
    }
}

#[test]
fn every_digit_in_noise_at_20_db_snr() {
    for rate in [SampleRate::HZ_8000, SampleRate::HZ_16000] {
        for (i, digit) in Digit::ALL.iter().enumerate() {
            let mut s = Signal::new(rate);
            s.digit(*digit, 120, 5000.0, 4000.0);
            s.noise(0, 20.0, 7 + i as u64);
            // Noise continues through the pause after the tone.
            let n = s.len_of(150);
            let mut rng = Noise(99 + i as u64);
            s.samples.extend((0..n).map(|_| 350.0 * rng.next()));
            assert_eq!(detect(rate, &s.pcm()), [*digit], "{rate} {digit:?}");
        }
    }
}

#[test]
fn off_nominal_frequencies_within_1_5_percent_are_detected() {
    let rate = SampleRate::HZ_8000;
    for digit in Digit::ALL {
        let (row, col) = digit.frequencies();
        for (dr, dc) in [(1.015, 1.015), (0.985, 0.985), (1.015, 0.985)] {
            let mut s = Signal::new(rate);
            s.tones(
                100,
                &[(f64::from(row) * dr, 5000.0), (f64::from(col) * dc, 5000.0)],
            );
            s.silence(60);
            assert_eq!(detect(rate, &s.pcm()), [digit], "{digit:?} {dr} {dc}");
        }
    }
}

#[test]
fn held_digit_is_reported_once() {
    let mut s = Signal::new(SampleRate::HZ_8000);
    s.digit(Digit::D5, 3000, 6000.0, 5000.0);
    s.noise(0, 25.0, 3);
    let found = detect_chunked(SampleRate::HZ_8000, &s.pcm(), 160);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].digit, Digit::D5);
    assert_eq!(found[0].at.samples(), 0);
}

#[test]
fn repeated_digit_after_60_ms_gap_is_reported_twice() {
    for rate in [SampleRate::HZ_8000, SampleRate::HZ_16000] {
        for lead in [0, 5, 9] {
            let mut s = Signal::new(rate);
            s.silence(lead)
                .digit(Digit::D7, 100, 5000.0, 5000.0)
                .silence(60)
                .digit(Digit::D7, 100, 5000.0, 5000.0)
                .silence(60);
            assert_eq!(
                detect(rate, &s.pcm()),
                [Digit::D7, Digit::D7],
                "{rate} {lead}"
            );
        }
    }
}

#[test]
fn dial_string_with_short_tones() {
    // 50 ms tones and 50 ms pauses: the fast end of what phones send.
    let rate = SampleRate::HZ_8000;
    let dial = "0123456789*#ABCD";
    let mut s = Signal::new(rate);
    for c in dial.chars() {
        s.digit(Digit::from_char(c).unwrap(), 50, 5000.0, 4000.0)
            .silence(50);
    }
    let found: String = detect(rate, &s.pcm()).iter().map(|d| d.as_char()).collect();
    assert_eq!(found, dial);
}

#[test]
fn chunk_size_does_not_change_results() {
    let rate = SampleRate::HZ_8000;
    let mut s = Signal::new(rate);
    s.digit(Digit::D3, 90, 5000.0, 5000.0)
        .silence(70)
        .digit(Digit::Pound, 90, 5000.0, 5000.0)
        .silence(70);
    let pcm = s.pcm();
    let whole = detect_chunked(rate, &pcm, pcm.len());
    assert_eq!(whole.len(), 2);
    for chunk in [1, 7, 101, 160, 333] {
        assert_eq!(detect_chunked(rate, &pcm, chunk), whole, "chunk {chunk}");
    }
}

#[test]
fn single_tones_give_no_digit() {
    let rate = SampleRate::HZ_8000;
    for hz in ROW_HZ.iter().chain(&COL_HZ).chain(&[1000, 440, 2100]) {
        let mut s = Signal::new(rate);
        s.tones(1000, &[(f64::from(*hz), 8000.0)]);
        assert_eq!(detect(rate, &s.pcm()), [], "{hz} Hz");
    }
}

#[test]
fn dial_tone_and_too_much_twist_give_no_digit() {
    let rate = SampleRate::HZ_8000;
    let mut s = Signal::new(rate);
    s.tones(1000, &[(350.0, 6000.0), (440.0, 6000.0)]); // North American dial tone
    s.digit(Digit::D1, 200, 8000.0, 2000.0); // 12 dB normal twist
    s.digit(Digit::D1, 200, 2000.0, 4000.0); // 6 dB reverse twist
    s.digit(Digit::D1, 200, 200.0, 200.0); // below the level threshold
    assert_eq!(detect(rate, &s.pcm()), []);
}

#[test]
fn chirp_gives_no_digit() {
    for rate in [SampleRate::HZ_8000, SampleRate::HZ_16000] {
        let hz = f64::from(rate.hz());
        let n = rate.hz() as usize * 2;
        // Linear sweep 300 Hz -> 3400 Hz over two seconds.
        let pcm: Vec<i16> = (0..n)
            .map(|i| {
                let t = i as f64 / hz;
                let phase = TAU * (300.0 * t + 0.5 * 1550.0 * t * t);
                (8000.0 * phase.sin()) as i16
            })
            .collect();
        assert_eq!(detect(rate, &pcm), [], "{rate}");
    }
}

/// A steady vowel like /a/: 150 Hz glottal pulse train through three formant resonances, so
/// harmonics sit next to DTMF tones (750 Hz by 770, 1200 Hz by 1209).
fn vowel(rate: SampleRate, millis: u32, f0: f64) -> Vec<i16> {
    let formants = [(730.0, 90.0), (1090.0, 110.0), (2440.0, 170.0)];
    let mut harmonics = Vec::new();
    let mut k = 1.0;
    while f0 * k < 3800.0 {
        let f = f0 * k;
        let gain: f64 = formants
            .iter()
            .map(|(fc, bw)| 1.0 / (1.0 + ((f - fc) / bw).powi(2)).sqrt())
            .sum();
        harmonics.push((f, gain / k.sqrt()));
        k += 1.0;
    }
    let peak: f64 = harmonics.iter().map(|h| h.1).sum();
    let mut s = Signal::new(rate);
    let scaled: Vec<(f64, f64)> = harmonics
        .iter()
        .map(|(f, g)| (*f, 20000.0 * g / peak))
        .collect();
    s.tones(millis, &scaled);
    s.pcm()
}

#[test]
fn vowel_like_harmonics_give_no_digit() {
    for rate in [SampleRate::HZ_8000, SampleRate::HZ_16000] {
        for f0 in [100.0, 120.0, 150.0, 180.0, 220.0, 240.0] {
            assert_eq!(detect(rate, &vowel(rate, 1000, f0)), [], "{rate} f0 {f0}");
        }
    }
}

#[test]
fn white_noise_and_silence_give_no_digit() {
    for rate in [SampleRate::HZ_8000, SampleRate::HZ_16000] {
        for amp in [500.0, 5000.0, 30000.0] {
            let mut rng = Noise(42);
            let n = rate.hz() as usize * 2;
            let pcm: Vec<i16> = (0..n).map(|_| (amp * rng.next()) as i16).collect();
            assert_eq!(detect(rate, &pcm), [], "{rate} {amp}");
        }
        assert_eq!(detect(rate, &vec![0; 16000]), []);
        assert_eq!(detect(rate, &vec![i16::MAX; 16000]), []);
    }
}

#[test]
fn reports_queue_up_between_polls_and_reset_clears() {
    let rate = SampleRate::HZ_8000;
    let mut s = Signal::new(rate);
    for d in [Digit::D1, Digit::D2, Digit::D3] {
        s.digit(d, 80, 5000.0, 5000.0).silence(60);
    }
    let mut det = GoertzelDetector::new(rate).unwrap();
    assert_eq!(det.rate(), rate);
    det.process(&s.pcm());
    let got: Vec<Digit> = std::iter::from_fn(|| det.poll_digit())
        .map(|d| d.digit)
        .collect();
    assert_eq!(got, [Digit::D1, Digit::D2, Digit::D3]);
    det.process(&s.pcm()[..400]);
    det.reset();
    assert_eq!(det.poll_digit(), None);
    det.process(&s.pcm());
    assert_eq!(det.poll_digit().unwrap().at.samples(), 0);
}

#[test]
fn rejects_rates_below_8_khz() {
    let rate = SampleRate::new(4000).unwrap();
    assert_eq!(
        GoertzelDetector::new(rate).err(),
        Some(DtmfError::UnsupportedRate(rate))
    );
    assert!(GoertzelDetector::new(SampleRate::HZ_48000).is_ok());
}

#[test]
fn two_rows_or_a_strong_extra_tone_give_no_digit() {
    let rate = SampleRate::HZ_8000;
    let mut s = Signal::new(rate);
    // Two row tones with one column: no key is meant.
    s.tones(300, &[(697.0, 5000.0), (770.0, 4000.0), (1209.0, 5000.0)]);
    // A key under an equally loud out-of-band tone: the two tones carry half the energy.
    s.tones(300, &[(852.0, 5000.0), (1477.0, 5000.0), (2500.0, 7071.0)]);
    assert_eq!(detect(rate, &s.pcm()), []);

    let mut s = Signal::new(rate);
    s.tones(300, &[(852.0, 5000.0), (1477.0, 5000.0), (2500.0, 2236.0)]);
    assert_eq!(detect(rate, &s.pcm()), [Digit::D9]);
}
