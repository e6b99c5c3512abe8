//! What an INVITE is refused with, each checked by a SIPp scenario: 404 for a number no agent answers,
//! 488 when no codec is in common, 503 at capacity, 403 from a stranger when only trunks may call; and
//! OPTIONS answered with what we allow.

mod common;

use std::sync::atomic::Ordering;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_options() {
    if !common::sip::have("sipp") {
        return;
    }
    let sip = common::sip::start(&[], |_| {}).await;
    let addr = sip.server.local_addr();
    let once = ["-m", "1", "-mp", "16300"];
    assert!(
        common::sip::sipp(addr, "uac_404.xml", "15035550000", &once)
            .await
            .success
    );
    assert!(
        common::sip::sipp(addr, "uac_488.xml", "15035550142", &once)
            .await
            .success
    );
    assert!(
        common::sip::sipp(addr, "options.xml", "15035550142", &once)
            .await
            .success
    );
    let counters = sip.server.counters();
    assert_eq!(counters.not_found.load(Ordering::Relaxed), 1);
    assert_eq!(counters.no_codec.load(Ordering::Relaxed), 1);
    assert_eq!(counters.answered.load(Ordering::Relaxed), 0);

    let full = common::sip::start(&[], |c| c.max_calls = 0).await;
    let run = common::sip::sipp(
        full.server.local_addr(),
        "uac_503.xml",
        "15035550142",
        &once,
    );
    assert!(run.await.success);
    assert_eq!(full.server.counters().busy.load(Ordering::Relaxed), 1);

    let closed = common::sip::start(&[], |c| c.accept_any = false).await;
    let run = common::sip::sipp(
        closed.server.local_addr(),
        "uac_403.xml",
        "15035550142",
        &once,
    );
    assert!(run.await.success);
    assert_eq!(
        closed
            .server
            .counters()
            .unauthorised
            .load(Ordering::Relaxed),
        1
    );
}
