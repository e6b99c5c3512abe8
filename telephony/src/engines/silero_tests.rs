//! Silero on real (synthesised) speech and on the sounds that fool the WebRTC VAD. These need
//! `dialtone models install`; without the models they skip with a notice, unless
//! `DIALTONE_REQUIRE_MODELS=1` makes that a failure.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use std::time::Instant;

use dialtone_media::codec::g711::{linear_to_ulaw, ulaw_to_linear};
use dialtone_media::resample::resample_clip;
use dialtone_media::vad::{
    Aggressiveness, GateConfig, GatedDetector, VadConfig, VadStateMachine, VadTransition, WebRtcVad,
};
use dialtone_media::wav::read_wav;

use super::*;
use crate::engines::models::{default_cache_dir, locate};

/// (onnxruntime, silero), or `None` with a notice when absent and not required.
fn installed() -> Option<(PathBuf, PathBuf)> {
    let found = default_cache_dir()
        .and_then(|dir| locate(&dir))
        .map_err(|e| e.to_string())
        .and_then(|p| match (p.onnxruntime, p.silero) {
            (Some(ort), Some(silero)) => Ok((ort, silero)),
            _ => Err(
                "ONNX Runtime or Silero VAD is not installed: run `dialtone models install`".into(),
            ),
        });
    match found {
        Ok(paths) => Some(paths),
        Err(e) if std::env::var("DIALTONE_REQUIRE_MODELS").as_deref() == Ok("1") => {
            panic!("DIALTONE_REQUIRE_MODELS=1 but a model is missing: {e}")
        }
        Err(e) => {
            eprintln!("skipping a Silero test: {e}");
            None
        }
    }
}

fn model() -> Option<SileroModel> {
    let (ort, silero) = installed()?;
    Some(SileroModel::load(&ort, &silero).unwrap())
}

/// `text` spoken by espeak-ng as a phone line carries it: 8 kHz through G.711 μ-law.
fn phone_speech(text: &str) -> Vec<i16> {
    let out = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "--stdout", text])
        .output()
        .expect("espeak-ng is needed for this test: run scripts/setup-debian.sh");
    let pcm = read_wav(&out.stdout).unwrap();
    let narrow = resample_clip(&pcm, RATE).unwrap();
    narrow
        .samples()
        .iter()
        .map(|&s| ulaw_to_linear(linear_to_ulaw(s)))
        .collect()
}

/// Deterministic white noise at about `dbfs` (a linear congruential generator: no dependency).
fn white_noise(n: usize, dbfs: f32) -> Vec<i16> {
    let amplitude = 32_768.0 * 10f32.powf(dbfs / 20.0) * 3f32.sqrt();
    let mut x = 0x2545_f491_u32;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let u = (x >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
            (u * amplitude) as i16
        })
        .collect()
}

/// Per-frame probabilities of `detector` over `audio` in 20 ms frames.
fn probabilities(detector: &mut dyn VoiceDetector, audio: &[i16]) -> Vec<f32> {
    audio
        .chunks_exact(RATE.frame_samples())
        .map(|f| detector.speech_probability(f))
        .collect()
}

fn share_above(p: &[f32], threshold: f32) -> f32 {
    p.iter().filter(|&&p| p >= threshold).count() as f32 / p.len().max(1) as f32
}

#[test]
fn engines_silero_hears_speech_but_not_silence_noise_or_a_tone() {
    let Some(model) = model() else {
        return;
    };
    let mut silero = model.detector().unwrap();
    let mut webrtc = WebRtcVad::new(RATE, Aggressiveness::Aggressive).unwrap();

    let speech =
        phone_speech("What time do you open on Saturday? I would like to book a cleaning.");
    let p = probabilities(&mut silero, &speech);
    let (max, share) = (p.iter().copied().fold(0.0, f32::max), share_above(&p, 0.5));
    eprintln!(
        "speech: {} frames, max {max:.3}, {:.0}% >= 0.5 (webrtc {:.0}%)",
        p.len(),
        share * 100.0,
        share_above(&probabilities(&mut webrtc, &speech), 0.5) * 100.0
    );
    assert!(max > 0.9, "max {max}");
    // espeak leaves short pauses between words, which Silero rightly calls quiet.
    assert!(share > 0.5, "{:.0}% of speech frames", share * 100.0);
    assert!(silero.windows() > 0 && silero.ready());

    let cases = [
        ("silence", vec![0i16; 16_000]),
        ("white noise at -20 dBFS", white_noise(16_000, -20.0)),
        (
            "1 kHz tone at -10 dBFS",
            dialtone_media::synth::tone(RATE, 1_000.0, 0.45, 16_000, 0),
        ),
        (
            "a 400 Hz + 450 Hz dial-tone-like pair",
            dialtone_media::synth::tone(RATE, 400.0, 0.2, 16_000, 0)
                .iter()
                .zip(dialtone_media::synth::tone(RATE, 450.0, 0.2, 16_000, 0))
                .map(|(a, b)| a.saturating_add(b))
                .collect(),
        ),
    ];
    for (name, audio) in cases {
        silero.reset();
        webrtc.reset();
        let p = probabilities(&mut silero, &audio);
        let max = p.iter().copied().fold(0.0, f32::max);
        let fooled = share_above(&probabilities(&mut webrtc, &audio), 0.5);
        eprintln!(
            "{name}: silero max {max:.3}; webrtc calls {:.0}% of it speech",
            fooled * 100.0
        );
        assert!(max < 0.3, "{name}: silero max {max}");
    }
}

#[test]
fn engines_silero_behind_webrtc_runs_only_around_speech_and_finds_the_turn() {
    let Some(model) = model() else {
        return;
    };
    let silence = vec![0i16; 8_000];
    let speech = phone_speech("What time do you open on Saturday?");
    let mut audio = silence.clone();
    audio.extend_from_slice(&speech);
    audio.extend_from_slice(&silence);
    audio.extend_from_slice(&silence);

    let webrtc = || WebRtcVad::new(RATE, Aggressiveness::Aggressive).unwrap();
    let mut gated =
        GatedDetector::new(webrtc(), model.detector().unwrap(), GateConfig::default()).unwrap();
    let events = |detector: &mut dyn VoiceDetector| {
        let mut machine = VadStateMachine::new(VadConfig::default());
        probabilities(detector, &audio)
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| match machine.step(p) {
                VadTransition::None => None,
                t => Some((i, t)),
            })
            .collect::<Vec<_>>()
    };
    let with_silero = events(&mut gated);
    let alone = events(&mut webrtc());
    let frames = audio.len() / RATE.frame_samples();
    eprintln!(
        "speech in frames 50..{}; webrtc alone: {alone:?}; gated silero: {with_silero:?}; silero ran on \
         {}/{frames} frames",
        50 + speech.len() / RATE.frame_samples(),
        gated.heavy_frames()
    );
    let Some(&(start, VadTransition::SpeechStarted { frames_ago })) = with_silero.first() else {
        panic!("no speech found: {with_silero:?}");
    };
    let first_speech = start - frames_ago as usize;
    assert!(
        (48..=56).contains(&first_speech),
        "speech began at frame {first_speech}"
    );
    let Some(&(_, VadTransition::SpeechStopped { .. })) = with_silero.last() else {
        panic!("speech never stopped: {with_silero:?}");
    };
    // One second of silence each side is not Silero's work.
    assert!(
        gated.heavy_frames() < frames as u64 - 80,
        "{}",
        gated.heavy_frames()
    );
}

#[test]
fn engines_silero_calls_share_a_few_pooled_sessions() {
    let Some(model) = model() else {
        return;
    };
    assert_eq!((model.sessions(), model.idle_sessions()), (1, 1));
    let started = Instant::now();
    let mut calls: Vec<SileroVad> = (0..50).map(|_| model.detector().unwrap()).collect();
    eprintln!("50 detectors took {:?}", started.elapsed());
    // Fifty calls on this thread take turns with the one session.
    let speech = phone_speech("Hello there.");
    let mut best = [0.0f32; 50];
    for frame in speech.chunks_exact(RATE.frame_samples()) {
        for (vad, best) in calls.iter_mut().zip(&mut best) {
            *best = best.max(vad.speech_probability(frame));
        }
    }
    assert!(calls.iter().all(|v| v.ready() && v.skipped_windows() == 0));
    assert!(best.iter().all(|&p| p > 0.5), "{best:?}");
    assert_eq!(model.sessions(), 1);

    // Calls on two threads at once may need a second session: the one that finds none skips windows
    // (the WebRTC VAD decides them) until it is built; then both hear the speech.
    let handles: Vec<_> = calls
        .drain(..2)
        .map(|mut vad| {
            let speech = speech.clone();
            std::thread::spawn(move || {
                vad.reset();
                let deadline = Instant::now() + std::time::Duration::from_secs(30);
                let mut best = 0.0f32;
                while vad.windows() < 60 {
                    assert!(Instant::now() < deadline, "no session after 30 s");
                    let p = probabilities(&mut vad, &speech);
                    best = best.max(p.iter().copied().fold(0.0, f32::max));
                }
                (best, vad.skipped_windows())
            })
        })
        .collect();
    for h in handles {
        let (best, skipped) = h.join().unwrap();
        eprintln!("a thread's best {best:.3}, {skipped} windows skipped");
        assert!(best > 0.5);
    }
    assert!(model.sessions() <= 2, "{}", model.sessions());
}

#[test]
fn engines_silero_skips_windows_while_the_pool_grows() {
    let Some(model) = model() else {
        return;
    };
    let speech = phone_speech("Hello there, how are you today?");
    let mut vad = model.detector().unwrap();
    // Every session is busy elsewhere.
    let busy = model.pool.idle.lock().unwrap().pop().unwrap();
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    let mut best = 0.0f32;
    for frame in speech.chunks_exact(RATE.frame_samples()).cycle() {
        let p = vad.speech_probability(frame);
        if vad.ready() {
            best = best.max(p);
            if vad.windows() > 40 {
                break;
            }
        } else {
            assert!(Instant::now() < deadline, "no session after 30 s");
            // Let the builder thread work (a yield, not a sleep: the loop is the wait).
            std::thread::yield_now();
        }
    }
    eprintln!(
        "{} windows skipped while a session was built",
        vad.skipped_windows()
    );
    assert!(vad.skipped_windows() > 0);
    assert!(best > 0.5, "{best}");
    assert_eq!(model.sessions(), 2);
    drop(busy);
}

#[test]
fn engines_silero_failure_is_quiet_and_final() {
    let Some(model) = model() else {
        return;
    };
    let mut vad = model.detector().unwrap();
    // A state of the wrong shape makes ONNX Runtime refuse the run, as any inference error would.
    vad.state = Tensor::from_array(([1usize, 1, 1], vec![0f32])).unwrap();
    let speech = phone_speech("Hello.");
    assert_eq!(vad.speech_probability(&speech[..160]), 0.0);
    assert!(vad.ready(), "no window has run yet");
    assert_eq!(vad.speech_probability(&speech[160..320]), 0.0);
    assert!(!vad.ready());
    assert_eq!(vad.speech_probability(&speech[320..480]), 0.0);
    assert_eq!(vad.windows(), 0);
    assert_eq!(model.idle_sessions(), 0, "the failed session is not pooled");
}

/// What a session and a call's detector hold; run by hand:
/// `cargo test -p dialtone-telephony silero_memory -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn engines_silero_memory() {
    let Some(model) = model() else {
        return;
    };
    let rss_kib = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
            .unwrap()
    };
    let speech = phone_speech("Hello there, how are you?");
    let before = rss_kib();
    let started = Instant::now();
    let sessions: Vec<_> = (0..8).map(|_| model.pool.build().unwrap()).collect();
    let took = started.elapsed() / 8;
    for s in sessions {
        model.pool.give_back(s);
    }
    // Warm each session's arena with a run.
    let mut held: Vec<_> = (0..9)
        .map(|_| model.pool.idle.lock().unwrap().pop().unwrap())
        .collect();
    let mut vad = model.detector().unwrap();
    for s in &mut held {
        vad.infer(s).unwrap();
    }
    eprintln!(
        "a session: built in {took:?}, about {} KiB resident",
        (rss_kib() - before) / 8
    );
    let before = rss_kib();
    let mut calls: Vec<_> = (0..1000).map(|_| model.detector().unwrap()).collect();
    for vad in &mut calls {
        probabilities(vad, &speech[..1600]);
    }
    eprintln!(
        "a call's detector: about {} bytes resident",
        (rss_kib() - before) * 1024 / 1000
    );
}
