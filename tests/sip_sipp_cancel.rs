//! SIPp calls an agent that rings for a while and cancels before the answer: the CANCEL gets 200, the
//! INVITE 487, and no call runs.

mod common;

use std::sync::atomic::Ordering;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_before_answer_ends_the_call_unanswered() {
    if !common::sip::have("sipp") {
        return;
    }
    let sip = common::sip::start(&[], |c| c.ring_ms = 5_000).await;
    let run = common::sip::sipp(
        sip.server.local_addr(),
        "uac_cancel.xml",
        "15035550142",
        &["-m", "1", "-mp", "16100"],
    )
    .await;
    assert!(run.success, "CANCEL answered 200, INVITE answered 487");
    let counters = sip.server.counters();
    // SIPp is done once it has the 487; the ringing task notices the CANCEL at about the same moment.
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        counters.wait_until(|c| c.cancelled.load(Ordering::Relaxed) == 1),
    )
    .await
    .expect("the call is counted as cancelled");
    assert_eq!(counters.answered.load(Ordering::Relaxed), 0);
}
