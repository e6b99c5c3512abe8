//! SIPp calls an agent and then sends no media: after the media timeout the agent ends the call with
//! its own BYE, which SIPp answers.

mod common;

use std::time::Duration;

use dialtone_telephony::call::CallEnd;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_ends_the_call_with_a_bye_from_the_agent() {
    if !common::sip::have("sipp") {
        return;
    }
    let mut sip = common::sip::start(&[], |c| c.media_timeout_secs = 2).await;
    let run = common::sip::sipp(
        sip.server.local_addr(),
        "uac_server_bye.xml",
        "15035550142",
        &["-m", "1", "-mp", "16200"],
    )
    .await;
    assert!(run.success, "the agent's BYE arrives and is answered");
    let report = sip.report(Duration::from_secs(10)).await;
    assert_eq!(report.end, CallEnd::MediaTimeout);
    assert_eq!(report.media.expect("media ran").rx_packets, 0);
}
