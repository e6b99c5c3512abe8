//! Differential: the media-message fast path against the serde parser. Arbitrary text (decoded lossily
//! from the bytes); whenever the fast path takes it, serde must take it too and read the same fields.
//!
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run stream_media_fast -- -dict=fuzz/stream_message.dict`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dialtone_telephony::stream::check_media_fast_path(&String::from_utf8_lossy(data));
});
