//! The speech models the end-to-end tests need: present, or a skip with a notice, or (with
//! `DIALTONE_REQUIRE_MODELS=1`, as CI sets) a failure.

use dialtone_telephony::engines::models;

/// The installed models, or `None` after printing why the test is skipped.
pub fn models_or_skip() -> Option<models::ModelPaths> {
    let found = models::default_cache_dir()
        .ok()
        .and_then(|d| models::locate(&d).ok());
    if found.is_none() {
        assert!(
            std::env::var("DIALTONE_REQUIRE_MODELS").as_deref() != Ok("1"),
            "models are required: run `dialtone models install`"
        );
        eprintln!("skipped: speech models not installed (run `dialtone models install`)");
    }
    found
}
