//! A call ends cleanly and frees everything: after 1,000 sequential calls (start, some audio, carrier
//! `stop`; and every tenth one closed abruptly instead), no task is left running and the heap is back
//! where it was.

mod common;

use std::sync::Arc;
use std::time::Duration;

use dialtone::loadtest::fake_deps;
use dialtone::softphone::CarrierPeer;
use dialtone_telephony::call::{CallDeps, WsMessage, run_stream_call};
use dialtone_telephony::stream::Carrier;

#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

async fn one_call(deps: Arc<CallDeps>, abrupt: bool) {
    let common::StreamPair {
        server_in,
        server_out,
        to_server,
        mut from_server,
    } = common::stream_pair();
    let server = tokio::spawn(run_stream_call(
        Carrier::Twilio,
        server_in,
        server_out,
        deps,
    ));
    let mut peer = CarrierPeer::new("CAleak", "MZleak");
    for m in peer.opening("+15035550142", "+15035550123") {
        let _ = to_server.send(WsMessage::Text(m));
    }
    for _ in 0..10 {
        let _ = to_server.send(WsMessage::Text(peer.media(&[0; 160])));
        tokio::time::sleep(Duration::from_millis(20)).await;
        while let Ok(text) = from_server.try_recv() {
            for echo in peer.on_server_message(&text) {
                let _ = to_server.send(WsMessage::Text(echo));
            }
        }
    }
    if abrupt {
        drop(to_server);
    } else {
        let _ = to_server.send(WsMessage::Text(peer.stop()));
    }
    let report = server.await.expect("the call loop ends");
    assert!(report.agent_id.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_thousand_calls_leave_nothing_behind() {
    let deps = Arc::new(fake_deps(std::path::Path::new("agents"), &[]).expect("agents"));
    // Warm up: shared filter tables, lazily built statics, runtime buffers.
    for i in 0..20 {
        one_call(Arc::clone(&deps), i % 10 == 9).await;
    }
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let heap_before = common::live_bytes();
    for i in 0..1_000 {
        one_call(Arc::clone(&deps), i % 10 == 9).await;
    }
    let tasks_after = metrics.num_alive_tasks();
    let heap_after = common::live_bytes();
    assert_eq!(tasks_after, tasks_before, "tasks left running");
    let growth = heap_after - heap_before;
    assert!(
        growth < 64 * 1024,
        "heap grew {growth} bytes over 1,000 calls"
    );
}
