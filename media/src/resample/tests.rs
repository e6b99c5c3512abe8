#![allow(clippy::unwrap_used)]

use super::*;
use std::f64::consts::TAU;

const PAIRS: [(u32, u32); 8] = [
    (8_000, 16_000),
    (16_000, 8_000),
    (22_050, 8_000),
    (24_000, 8_000),
    (48_000, 8_000),
    (22_050, 16_000),
    (24_000, 16_000),
    (48_000, 16_000),
];

fn rate(hz: u32) -> SampleRate {
    SampleRate::new(hz).unwrap()
}

/// Runs `seconds` of a sine at `freq` through the resampler; returns the output.
fn run_tone(r: &mut Resampler, freq: f64, amplitude: f64, frames: usize) -> Vec<i16> {
    let from = r.from_rate();
    let n_in = from.frame_samples();
    let mut out = Vec::new();
    let mut frame_out = vec![0i16; r.to_rate().frame_samples()];
    let mut t = 0usize;
    for _ in 0..frames {
        let frame: Vec<i16> = (0..n_in)
            .map(|i| {
                let x = (TAU * freq * (t + i) as f64 / f64::from(from.hz())).sin();
                (x * amplitude * 32767.0).round() as i16
            })
            .collect();
        t += n_in;
        r.process(&frame, &mut frame_out).unwrap();
        out.extend_from_slice(&frame_out);
    }
    out
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Output level of a tone relative to its input level, in dB, after the filter has settled.
fn gain_db(from: u32, to: u32, freq: f64) -> f64 {
    let mut r = Resampler::new(rate(from), rate(to)).unwrap();
    let out = run_tone(&mut r, freq, 0.5, 50);
    let settled = &out[out.len() / 5..];
    let in_rms = 0.5 * 32767.0 / 2f64.sqrt();
    20.0 * (rms(settled).max(1e-3) / in_rms).log10()
}

/// Out-of-band tones that would alias into the telephone band: from 10% above the output Nyquist up to
/// the input Nyquist.
fn stopband_tones(from: u32, to: u32) -> Vec<f64> {
    let nyq_out = f64::from(from.min(to)) / 2.0;
    let nyq_in = f64::from(from) / 2.0;
    let mut tones = Vec::new();
    let mut f = nyq_out * 1.1;
    while f < nyq_in * 0.98 {
        tones.push(f);
        f += nyq_out * 0.25;
    }
    tones
}

#[test]
fn passes_audio_band_flat() {
    for (from, to) in PAIRS {
        let g = gain_db(from, to, 1_000.0);
        assert!(g.abs() < 0.5, "{from}->{to}: 1 kHz gain {g:.2} dB");
        let g = gain_db(from, to, 3_400.0);
        assert!(g.abs() < 1.0, "{from}->{to}: 3.4 kHz gain {g:.2} dB");
    }
}

#[test]
fn rejects_out_of_band_tones_by_50_db() {
    for (from, to) in PAIRS.into_iter().filter(|(f, t)| f > t) {
        for f in stopband_tones(from, to) {
            let g = gain_db(from, to, f);
            assert!(
                g < -50.0,
                "{from}->{to}: {f:.0} Hz tone only {g:.1} dB down"
            );
        }
    }
}

#[test]
fn upsampling_leaves_no_images() {
    // A 1 kHz tone upsampled 8k->16k must not leave its 7 kHz image behind.
    let mut r = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000).unwrap();
    let out = run_tone(&mut r, 1_000.0, 0.5, 50);
    let settled = &out[out.len() / 5..];
    let image = goertzel_power(settled, 7_000.0, 16_000.0);
    let tone = goertzel_power(settled, 1_000.0, 16_000.0);
    let db = 10.0 * (image / tone).log10();
    assert!(db < -50.0, "image at {db:.1} dB");
}

fn goertzel_power(x: &[i16], freq: f64, fs: f64) -> f64 {
    let w = TAU * freq / fs;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s = f64::from(v) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

#[test]
fn delay_is_within_budget_and_as_reported() {
    for (from, to) in PAIRS {
        let mut r = Resampler::new(rate(from), rate(to)).unwrap();
        let reported = r.delay();
        assert!(
            reported.as_duration() <= MAX_DELAY,
            "{from}->{to}: delay {:?}",
            reported.as_duration()
        );
        // A low-passed click at a known input position must come out `delay` samples later.
        let n_in = rate(from).frame_samples();
        let click_at = 3 * n_in + n_in / 2;
        let total_in = 10 * n_in;
        let click: Vec<i16> = (0..total_in)
            .map(|i| {
                let d = i as f64 - click_at as f64;
                let x = d * 2_000.0 / f64::from(from);
                let sinc = if d == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                };
                (sinc * (-(d / 40.0).powi(2)).exp() * 20_000.0) as i16
            })
            .collect();
        let mut out = Vec::new();
        let mut frame_out = vec![0i16; rate(to).frame_samples()];
        for frame in click.chunks(n_in) {
            r.process(frame, &mut frame_out).unwrap();
            out.extend_from_slice(&frame_out);
        }
        let peak = out
            .iter()
            .enumerate()
            .max_by_key(|(_, v)| v.unsigned_abs())
            .unwrap()
            .0;
        let expected =
            click_at as f64 * f64::from(to) / f64::from(from) + reported.samples() as f64;
        assert!(
            (peak as f64 - expected).abs() <= 1.5,
            "{from}->{to}: peak at {peak}, expected {expected:.1}"
        );
    }
}

#[test]
fn clips_keep_their_length_and_alignment() {
    // A click at 0.25 s stays at 0.25 s.
    let mut samples = vec![0i16; 16_000];
    samples[4_000] = 20_000;
    let clip = crate::audio::Pcm::new(SampleRate::HZ_16000, samples);
    let out = resample_clip(&clip, SampleRate::HZ_8000).unwrap();
    assert_eq!(out.len(), 8_000);
    let peak = out
        .samples()
        .iter()
        .enumerate()
        .max_by_key(|(_, v)| v.unsigned_abs())
        .unwrap()
        .0;
    assert!(peak.abs_diff(2_000) <= 1, "peak at {peak}");
    let up = resample_clip(&out, SampleRate::HZ_16000).unwrap();
    assert_eq!(up.len(), 16_000);
}

#[test]
fn same_rate_passes_through() {
    let mut r = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_8000).unwrap();
    let input: Vec<i16> = (0..160).map(|i| i * 7).collect();
    let mut out = [0i16; 160];
    r.process(&input, &mut out).unwrap();
    assert_eq!(&out[..], &input[..]);
    assert_eq!(r.delay().samples(), 0);
}

#[test]
fn wrong_frame_length_is_an_error_not_a_panic() {
    let mut r = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000).unwrap();
    let mut out = [0i16; 320];
    assert!(matches!(
        r.process(&[0; 100], &mut out),
        Err(ResampleError::FrameLength {
            expected: 160,
            got: 100
        })
    ));
    assert!(r.process(&[0; 160], &mut [0; 10]).is_err());
}

#[test]
fn full_scale_input_does_not_wrap() {
    // Gibbs overshoot on a full-scale square wave must clip, never wrap around to the other sign.
    let mut r = Resampler::new(SampleRate::HZ_22050, SampleRate::HZ_8000).unwrap();
    let frame: Vec<i16> = (0..441)
        .map(|i| {
            if (i / 20) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    let mut out = [0i16; 160];
    for _ in 0..5 {
        r.process(&frame, &mut out).unwrap();
    }
    let jumps = out
        .windows(2)
        .filter(|w| (i32::from(w[0]) - i32::from(w[1])).abs() > 60_000)
        .count();
    assert_eq!(jumps, 0);
}

/// Our kernel computes rubato's filter: on speech-like audio the two outputs match to within rounding.
#[test]
fn matches_rubato_sinc_resampler() {
    for (from, to) in PAIRS {
        let (from, to) = (rate(from), rate(to));
        let frames = 40;
        let input: Vec<i16> = (0..frames * from.frame_samples())
            .map(|i| {
                let t = i as f64 / f64::from(from.hz());
                let x = (TAU * 310.0 * t).sin()
                    + 0.5 * (TAU * 1_270.0 * t).sin()
                    + 0.3 * (TAU * 2_950.0 * t).sin();
                (x * 9_000.0) as i16
            })
            .collect();
        let params = FilterParams::for_rates(from, to);
        let mut r = Resampler::new(from, to).unwrap();
        let mut ours = Vec::new();
        let mut out = vec![0i16; to.frame_samples()];
        for frame in input.chunks(from.frame_samples()) {
            r.process(frame, &mut out).unwrap();
            ours.extend_from_slice(&out);
        }
        // The two place the output grid differently by up to one input sample (rubato counts its delay
        // from another origin), so search both input and output offsets for the alignment.
        let delay = r.delay().samples() as usize;
        let skip = to.frame_samples() * 4;
        let mut best = f64::MAX;
        for pad in 0..4 {
            let mut shifted = vec![0i16; pad];
            shifted.extend_from_slice(&input[..input.len() - pad]);
            let reference = reference::rubato_resample(from, to, params, &shifted);
            for lag in delay.saturating_sub(3)..=delay + 3 {
                let ours = &ours[lag..];
                let n = ours.len().min(reference.len()) - skip;
                let err: f64 = (skip..skip + n)
                    .map(|i| (f64::from(ours[i]) - f64::from(reference[i])).powi(2))
                    .sum();
                let sig: f64 = (skip..skip + n)
                    .map(|i| f64::from(reference[i]).powi(2))
                    .sum();
                best = best.min(10.0 * (err.max(1e-9) / sig).log10());
            }
        }
        assert!(
            best < -50.0,
            "{from}->{to}: differs from rubato by {best:.1} dB"
        );
    }
}

/// Prints rejection, delay and cost for candidate filter lengths, to choose `FilterParams::for_rates`.
/// `cargo test --release -p dialtone-media resample_sweep -- --ignored --nocapture`
#[test]
#[ignore = "exploration: prints a table"]
fn resample_sweep() {
    let pairs = [
        (22_050u32, 8_000u32),
        (24_000, 8_000),
        (48_000, 8_000),
        (16_000, 8_000),
        (22_050, 16_000),
        (48_000, 16_000),
    ];
    for (from, to) in pairs {
        for sinc_len in [32usize, 64, 96, 128, 160, 192, 256, 320, 384] {
            let p = FilterParams {
                sinc_len,
                cutoff: None,
            };
            let worst = stopband_tones(from, to)
                .into_iter()
                .map(|f| gain_db_with(p, from, to, f))
                .fold(f64::MIN, f64::max);
            let mut r = Resampler::with_params(rate(from), rate(to), p).unwrap();
            let frame = vec![1000i16; rate(from).frame_samples()];
            let mut out = vec![0i16; rate(to).frame_samples()];
            let start = std::time::Instant::now();
            for _ in 0..2000 {
                r.process(&frame, &mut out).unwrap();
            }
            let per_frame = start.elapsed() / 2000;
            println!(
                "{from}->{to} len {sinc_len:3}: worst stopband {worst:6.1} dB, 3.4k {:5.2} dB, delay {:.2} ms, {per_frame:?}/frame",
                gain_db_with(p, from, to, 3_400.0),
                r.delay().as_duration().as_secs_f64() * 1000.0
            );
        }
    }
}

fn gain_db_with(p: FilterParams, from: u32, to: u32, freq: f64) -> f64 {
    let mut r = Resampler::with_params(rate(from), rate(to), p).unwrap();
    let out = run_tone(&mut r, freq, 0.5, 30);
    20.0 * (rms(&out[out.len() / 4..]).max(1e-3) / (0.5 * 32767.0 / 2f64.sqrt())).log10()
}

#[test]
#[ignore = "exploration: prints a table"]
fn upsample_sweep() {
    for (from, to) in [(8_000u32, 16_000u32), (8_000, 48_000), (16_000, 48_000)] {
        for sinc_len in [16usize, 24, 32, 40, 48, 64] {
            for cutoff in [None, Some(0.9f32), Some(0.95), Some(1.0)] {
                let p = FilterParams { sinc_len, cutoff };
                let mk = || Resampler::with_params(rate(from), rate(to), p).unwrap();
                let image_db = |f: f64| {
                    let out = run_tone(&mut mk(), f, 0.5, 30);
                    let s = &out[out.len() / 4..];
                    10.0 * (goertzel_power(s, f64::from(from) - f, f64::from(to))
                        / goertzel_power(s, f, f64::from(to)))
                    .log10()
                };
                println!(
                    "{from}->{to} len {sinc_len:2} cutoff {cutoff:?}: 3.4k {:5.2} dB, image(1k) {:6.1} dB, image(3k) {:6.1} dB, image(3.4k) {:6.1} dB, delay {:.2} ms",
                    gain_db_with(p, from, to, 3_400.0),
                    image_db(1000.0),
                    image_db(3000.0),
                    image_db(3400.0),
                    mk().delay().as_duration().as_secs_f64() * 1000.0
                );
            }
        }
    }
}

/// The figures for the filters in use, as quoted in the README.
/// `cargo test --release -p dialtone-media chosen_filters -- --ignored --nocapture`
#[test]
#[ignore = "report: prints a table"]
fn chosen_filters() {
    for (from, to) in PAIRS {
        let p = FilterParams::for_rates(rate(from), rate(to));
        let worst = if from > to {
            stopband_tones(from, to)
                .into_iter()
                .map(|f| gain_db_with(p, from, to, f))
                .fold(f64::MIN, f64::max)
        } else {
            let out = run_tone(
                &mut Resampler::new(rate(from), rate(to)).unwrap(),
                3_400.0,
                0.5,
                30,
            );
            let s = &out[out.len() / 4..];
            10.0 * (goertzel_power(s, f64::from(from) - 3_400.0, f64::from(to))
                / goertzel_power(s, 3_400.0, f64::from(to)))
            .log10()
        };
        let r = Resampler::new(rate(from), rate(to)).unwrap();
        println!(
            "| {from} -> {to} | {} | {:.2} ms | {worst:.1} dB | {:.2} dB |",
            p.sinc_len,
            r.delay().as_duration().as_secs_f64() * 1e3,
            gain_db_with(p, from, to, 3_400.0)
        );
    }
}

/// A 20 ms frame for the silence-shortcut property: digital silence, a lone click, or noise.
fn shortcut_frame(kind: u8, seed: u64, len: usize) -> Vec<i16> {
    let mut x = seed | 1;
    let mut noise = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as i16
    };
    match kind % 4 {
        0 | 1 => vec![0; len],
        2 => {
            let mut frame = vec![0; len];
            frame[(seed as usize) % len] = noise();
            frame
        }
        _ => (0..len).map(|_| noise()).collect(),
    }
}

proptest::proptest! {
    /// The silence shortcut gives, frame for frame, what the full filter gives: after speech, through
    /// the filter's tail, and on silence that follows silence.
    #[test]
    fn silence_shortcut_changes_nothing(
        pair in 0..PAIRS.len(),
        frames in proptest::collection::vec((proptest::prelude::any::<u8>(), proptest::prelude::any::<u64>()), 1..24),
    ) {
        let (from, to) = PAIRS[pair];
        let (from, to) = (rate(from), rate(to));
        let mut fast = Resampler::new(from, to).unwrap();
        let mut full = Resampler::new(from, to).unwrap();
        let mut a = vec![0i16; to.frame_samples()];
        let mut b = vec![1i16; to.frame_samples()];
        for (kind, seed) in frames {
            let input = shortcut_frame(kind, seed, from.frame_samples());
            fast.process(&input, &mut a).unwrap();
            full.engine.as_mut().unwrap().process_full(&input, &mut b);
            proptest::prop_assert_eq!(&a, &b);
        }
    }
}
