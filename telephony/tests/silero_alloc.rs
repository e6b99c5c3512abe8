//! Silero behind the WebRTC VAD allocates nothing per frame on the Rust side once warm: the model's
//! inputs and outputs are the detector's own tensors and the session comes from the pool. Counted with
//! a global allocator that counts this thread's allocations while a flag is set. ONNX Runtime's own
//! C++ allocations inside a run go to libc directly and are not seen here.
//!
//! Needs `dialtone models install`; skipped without it unless `DIALTONE_REQUIRE_MODELS=1`.

#![allow(unsafe_code)]
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dialtone_media::SampleRate;
use dialtone_media::synth::voiced;
use dialtone_media::vad::{Aggressiveness, GateConfig, GatedDetector, VoiceDetector, WebRtcVad};
use dialtone_telephony::engines::models;
use dialtone_telephony::engines::silero::SileroModel;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds `GlobalAlloc`'s
// contract; the counting beside it touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's obligations for `layout` pass straight through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc`/`realloc` above, with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as for `dealloc`; the obligations for `new_size` are the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Frames before counting starts: the session's arena and every buffer reach their working size.
const WARM_UP: usize = 200;

fn model() -> Option<SileroModel> {
    let paths = models::default_cache_dir()
        .and_then(|dir| models::locate(&dir))
        .ok();
    match paths.and_then(|p| p.onnxruntime.zip(p.silero)) {
        Some((runtime, silero)) => Some(SileroModel::load(&runtime, &silero).unwrap()),
        None => {
            assert!(
                std::env::var("DIALTONE_REQUIRE_MODELS").as_deref() != Ok("1"),
                "DIALTONE_REQUIRE_MODELS=1 but Silero is not installed"
            );
            eprintln!("skipped: Silero is not installed (run `dialtone models install`)");
            None
        }
    }
}

#[test]
fn gated_silero_frames_do_not_allocate() {
    let Some(model) = model() else {
        return;
    };
    let rate = SampleRate::HZ_8000;
    let gate = WebRtcVad::new(rate, Aggressiveness::Aggressive).unwrap();
    let mut vad =
        GatedDetector::new(gate, model.detector().unwrap(), GateConfig::default()).unwrap();
    // One second of speech, one of silence, over and over: Silero starts, runs, idles and restarts.
    let speech = voiced(rate, 130.0, 8_000, 0);
    let silence = vec![0i16; 8_000];
    let second: Vec<&[i16]> = speech
        .chunks_exact(160)
        .chain(silence.chunks_exact(160))
        .collect();
    let mut counted = Vec::new();
    for (i, frame) in second.iter().cycle().take(1_000).enumerate() {
        ALLOCATIONS.with(|n| n.set(0));
        COUNTING.with(|on| on.set(i >= WARM_UP));
        std::hint::black_box(vad.speech_probability(frame));
        COUNTING.with(|on| on.set(false));
        counted.push(ALLOCATIONS.with(Cell::get));
    }
    assert!(vad.heavy_frames() > 400, "{}", vad.heavy_frames());
    assert!(vad.heavy().windows() > 250, "{}", vad.heavy().windows());
    // The counter counts.
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let probe = std::hint::black_box(vec![0u8; 16]);
    COUNTING.with(|on| on.set(false));
    drop(probe);
    assert_eq!(ALLOCATIONS.with(Cell::get), 1);
    let steady: u64 = counted[WARM_UP..].iter().sum();
    let first = counted[WARM_UP..].iter().position(|&n| n > 0);
    assert_eq!(
        steady, 0,
        "allocations after warm-up, first at frame {first:?}"
    );
}
