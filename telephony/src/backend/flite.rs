//! The light embedded voice: CMU flite (Debian `flite`), run as a program per sentence. 16 kHz, a few
//! milliseconds per sentence; intelligible rather than pretty. Running the program keeps its code out of
//! our binary.

use std::process::Stdio;

use dialtone_media::wav::read_wav;
use dialtone_media::{Pcm, SampleRate};
use tokio::process::Command;

use super::{BackendError, TtsProvider, TtsStream};

/// flite through its command-line program.
#[derive(Debug, Clone)]
pub struct FliteTts {
    program: String,
    voice: String,
}

impl FliteTts {
    /// `voice` is one of `flite -lv` (`slt`, `kal16`, `awb`, `rms`); all the 16 kHz ones work.
    pub fn new(voice: impl Into<String>) -> Self {
        Self {
            program: std::env::var("DIALTONE_FLITE").unwrap_or_else(|_| "flite".to_owned()),
            voice: voice.into(),
        }
    }

    /// Checks that the program runs, so a missing package is found at start-up, not on the first call.
    pub fn check(&self) -> Result<(), BackendError> {
        match std::process::Command::new(&self.program)
            .arg("-lv")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
        {
            Ok(out) if String::from_utf8_lossy(&out.stdout).contains(&self.voice) => Ok(()),
            Ok(_) => Err(BackendError::Unavailable {
                provider: "flite".into(),
                reason: format!("flite has no voice {:?} (see `flite -lv`)", self.voice),
            }),
            Err(e) => Err(BackendError::Unavailable {
                provider: "flite".into(),
                reason: format!(
                    "cannot run {:?} ({e}); install the Debian package `flite`",
                    self.program
                ),
            }),
        }
    }
}

impl TtsProvider for FliteTts {
    fn rate(&self) -> SampleRate {
        SampleRate::HZ_16000
    }

    fn synthesize(&self, text: &str) -> TtsStream {
        let mut command = Command::new(&self.program);
        command
            .args(["-voice", &self.voice, "-o", "/dev/stdout", "-t", text])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let failed = |reason: String| BackendError::Failed {
            provider: "flite".into(),
            reason,
        };
        let audio = async move {
            let out = command.output().await.map_err(|e| failed(e.to_string()))?;
            if !out.status.success() {
                return Err(failed(format!("exited with {}", out.status)));
            }
            let pcm = read_wav(&out.stdout).map_err(|e| failed(e.to_string()))?;
            Ok::<Pcm, BackendError>(pcm)
        };
        Box::pin(futures_util::stream::once(audio))
    }
}
