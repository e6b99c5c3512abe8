//! What Silero VAD costs: per 20 ms frame, and per call once the WebRTC VAD gates it.
//! `cargo bench --bench silero -- --warm-up-time 1 --measurement-time 4`
//!
//! Needs `dialtone models install`; without the model it prints a notice and measures nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use dialtone::sim::call::{Scenario, run};
use dialtone::sim::signals::voiced;
use dialtone_media::vad::{Aggressiveness, GateConfig, GatedDetector, VoiceDetector, WebRtcVad};
use dialtone_media::{CallMediaConfig, SampleRate};
use dialtone_telephony::engines::models;
use dialtone_telephony::engines::silero::{RATE, SileroModel};

fn model() -> Option<SileroModel> {
    let paths = models::default_cache_dir()
        .and_then(|dir| models::locate(&dir))
        .ok()?;
    match (paths.onnxruntime, paths.silero) {
        (Some(runtime), Some(silero)) => Some(SileroModel::load(&runtime, &silero).ok()?),
        _ => {
            eprintln!("Silero is not installed (run `dialtone models install`): nothing measured");
            None
        }
    }
}

/// Deterministic white noise at about `dbfs`.
fn noise(n: usize, dbfs: f32, seed: u32) -> Vec<i16> {
    let amplitude = 32_768.0 * 10f32.powf(dbfs / 20.0) * 3f32.sqrt();
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let u = (x >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
            (u * amplitude) as i16
        })
        .collect()
}

/// CPU time this thread has run (Linux), which unlike wall time does not grow when other jobs share
/// the cores.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Mean cost of one 20 ms frame, timed by hand for the per-call figure (criterion's own result is
/// not available to the bench): (wall, thread CPU).
fn frame_cost(model: &SileroModel, audio: &[i16]) -> (Duration, Option<Duration>) {
    let mut vad = model.detector().expect("detector");
    let frames = audio.chunks_exact(RATE.frame_samples());
    let n = frames.len() as u32;
    let (started, cpu) = (Instant::now(), thread_cpu());
    for frame in frames {
        black_box(vad.speech_probability(frame));
    }
    let cpu = thread_cpu().zip(cpu).map(|(end, start)| (end - start) / n);
    (started.elapsed() / n, cpu)
}

/// The share of frames Silero runs on: the scripted two-question call through `CallMedia`, and the
/// same caller track over a line with hiss (where the WebRTC VAD opens the gate far more often).
fn per_call(model: &SileroModel, per_frame: Duration) {
    let scenario = Scenario {
        media: CallMediaConfig {
            confirm_vad: Some(std::sync::Arc::new(model.clone())),
            ..CallMediaConfig::pcmu()
        },
        ..Scenario::two_questions()
    };
    let stats = run(&scenario).expect("the scenario runs").stats;
    let report = |name: &str, heavy: u64, frames: u64| {
        let share = heavy as f64 / frames as f64;
        let seconds = frames as f64 * 0.02;
        let cost = per_frame.mul_f64(heavy as f64);
        eprintln!(
            "{name}: Silero ran on {heavy} of {frames} frames ({:.1}%): {cost:?} per {seconds:.1} s \
             call = {:.3}% of a core ({:?} per minute of call)",
            share * 100.0,
            cost.as_secs_f64() / seconds * 100.0,
            per_frame.mul_f64(share * 3_000.0),
        );
    };
    report(
        "two_questions (clean line)",
        stats.vad_heavy_frames,
        stats.vad_frames,
    );

    // The same call's caller track at 8 kHz, with hiss under it, through the gate directly.
    let frame = RATE.frame_samples();
    let speech = scenario.speech_truth();
    let frames = stats.vad_frames as usize;
    for dbfs in [-45.0, -35.0, -25.0] {
        let mut track = noise(frames * frame, dbfs, 7);
        let spoken = voiced(SampleRate::HZ_8000, 130.0, frames * frame, 0);
        for &(from, to) in &speech {
            let (a, b) = (RATE.samples_in(from) as usize, RATE.samples_in(to) as usize);
            for (t, s) in track[a..b].iter_mut().zip(&spoken[a..b]) {
                *t = t.saturating_add(*s);
            }
        }
        let gate = WebRtcVad::new(RATE, Aggressiveness::Aggressive).expect("8 kHz");
        let mut gated = GatedDetector::new(
            gate,
            model.detector().expect("detector"),
            GateConfig::default(),
        )
        .expect("same rate");
        for f in track.chunks_exact(frame) {
            gated.speech_probability(f);
        }
        report(
            &format!("two_questions with hiss at {dbfs} dBFS"),
            gated.heavy_frames(),
            gated.frames(),
        );
    }
}

fn silero(c: &mut Criterion) {
    let Some(model) = model() else {
        return;
    };
    // Speech-like audio: the cost does not depend on the content, only on the windows run.
    let audio = voiced(RATE, 130.0, 8_000 * 20, 0);
    let (wall, cpu) = frame_cost(&model, &audio);
    eprintln!(
        "silero_vad_frame, timed by hand over 1,000 frames: {wall:?} wall, {cpu:?} thread CPU"
    );
    per_call(&model, cpu.unwrap_or(wall));

    let mut vad = model.detector().expect("detector");
    let mut frames = audio.chunks_exact(RATE.frame_samples()).cycle();
    // Per 20 ms frame: three frames in five complete a 256-sample window and run the model.
    c.bench_function("silero_vad_frame", |b| {
        b.iter(|| {
            let frame = frames.next().expect("cycled");
            black_box(vad.speech_probability(black_box(frame)))
        })
    });
}

criterion_group!(benches, silero);
criterion_main!(benches);
