//! 100 SIPp calls at once, each playing 7 s of pcap speech to the agent: every one is answered, runs
//! its media without a skipped frame and ends with the caller's BYE.

mod common;

use std::time::Duration;

use dialtone_telephony::call::CallEnd;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_calls() {
    if !common::sip::have("sipp") {
        return;
    }
    let mut sip = common::sip::start(&[], |_| {}).await;
    // 100 calls started at 50 per second, each held 8 s: all 100 are up together for several seconds.
    let run = common::sip::sipp(
        sip.server.local_addr(),
        "uac_pcap.xml",
        "15035550142",
        &[
            "-m", "100", "-l", "100", "-r", "50", "-d", "8000", "-mp", "16400",
        ],
    )
    .await;
    assert!(run.success, "every call completes");
    let mut skipped = 0;
    for _ in 0..100 {
        let report = sip.report(Duration::from_secs(30)).await;
        assert_eq!(report.end, CallEnd::CallerHungUp);
        let media = report.media.expect("media ran");
        assert!(media.rx_packets > 100, "{media:?}");
        skipped += media.skipped_ticks;
    }
    eprintln!("skipped ticks over 100 calls: {skipped}");
    assert_eq!(skipped, 0, "no call loop fell behind");
}
