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
