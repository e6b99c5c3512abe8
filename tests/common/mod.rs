//! Shared pieces of the scenario tests.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// A global allocator that counts allocations (while `COUNTING` is set) and live bytes (always). Install
/// it in a test binary with `#[global_allocator] static GLOBAL: common::Counting = common::Counting;`.
pub struct Counting;

/// Count allocations from now on.
pub static COUNTING: AtomicBool = AtomicBool::new(false);
/// Allocations counted while `COUNTING` was set.
pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Bytes allocated and not yet freed, by the whole process.
pub static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Live heap bytes now.
pub fn live_bytes() -> i64 {
    LIVE.load(Ordering::SeqCst)
}

/// The two ends of an in-process carrier stream: what the call loop reads and writes, and what the
/// emulated carrier sends and receives. Closed when either side drops.
pub struct StreamPair {
    /// For `run_stream_call`: messages from the carrier.
    pub server_in: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = dialtone_telephony::call::WsMessage> + Send>,
    >,
    /// For `run_stream_call`: messages to the carrier.
    pub server_out:
        std::pin::Pin<Box<dyn futures_util::Sink<String, Error = std::io::Error> + Send>>,
    /// The carrier's sender.
    pub to_server: tokio::sync::mpsc::UnboundedSender<dialtone_telephony::call::WsMessage>,
    /// The carrier's receiver.
    pub from_server: tokio::sync::mpsc::UnboundedReceiver<String>,
}

/// A connected pair of channels standing in for a carrier WebSocket.
pub fn stream_pair() -> StreamPair {
    use futures_util::{sink, stream};
    let (to_server, from_client) = tokio::sync::mpsc::unbounded_channel();
    let (to_client, from_server) = tokio::sync::mpsc::unbounded_channel::<String>();
    let server_in = stream::unfold(from_client, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    });
    let server_out = sink::unfold(to_client, |tx, text: String| async move {
        tx.send(text)
            .map_err(|_| std::io::Error::other("carrier gone"))?;
        Ok::<_, std::io::Error>(tx)
    });
    StreamPair {
        server_in: Box::pin(server_in),
        server_out: Box::pin(server_out),
        to_server,
        from_server,
    }
}

/// Runs one carrier call to `to` from a fixed caller against a call loop with `deps`: the caller says
/// `utterances` in turn and hangs up 3 s after the last answer (40 s at most). Drive it on paused time.
pub async fn run_call(
    deps: std::sync::Arc<dialtone_telephony::call::CallDeps>,
    to: &str,
    utterances: &[dialtone::softphone::Utterance],
) -> (
    dialtone::softphone::CallRecording,
    dialtone_telephony::call::CallReport,
) {
    use dialtone_telephony::call::WsMessage;
    use futures_util::{sink, stream};
    use std::time::Duration;
    let StreamPair {
        server_in,
        server_out,
        to_server,
        from_server,
    } = stream_pair();
    let server = tokio::spawn(dialtone_telephony::call::run_stream_call(
        dialtone_telephony::stream::Carrier::Twilio,
        server_in,
        server_out,
        deps,
    ));
    let client_out = sink::unfold(to_server, |tx, text: String| async move {
        tx.send(WsMessage::Text(text))
            .map_err(|_| std::io::Error::other("server gone"))?;
        Ok::<_, std::io::Error>(tx)
    });
    let client_in = stream::unfold(from_server, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    });
    let recording = dialtone::softphone::converse(
        Box::pin(client_out),
        Box::pin(client_in),
        to,
        "+15035550123",
        utterances,
        Duration::from_secs(3),
        Duration::from_secs(40),
    )
    .await
    .expect("call runs");
    let report = server.await.expect("call loop finishes");
    (recording, report)
}

/// Caller speech: a voiced tone of `seconds` at 8 kHz, which the scripted recogniser "hears" as its
/// next line.
pub fn speech(seconds: f32) -> Vec<i16> {
    dialtone_media::synth::voiced(
        dialtone_media::SampleRate::HZ_8000,
        130.0,
        (8_000.0 * seconds) as usize,
        0,
    )
}

pub mod mission;
pub mod sip;
