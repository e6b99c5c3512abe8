//! SIPp puts the agent on hold with a re-INVITE for longer than the media timeout, then resumes and hangs
//! up: the agent answers each re-offer in kind (recvonly, then sendrecv) and the hold does not time the
//! call out.

mod common;

use std::time::Duration;

use dialtone_telephony::call::CallEnd;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_resume_by_reinvite() {
    if !common::sip::have("sipp") {
        return;
    }
    let mut sip = common::sip::start(&[], |c| c.media_timeout_secs = 2).await;
    let run = common::sip::sipp(
        sip.server.local_addr(),
        "uac_hold.xml",
        "15035550142",
        &["-m", "1", "-mp", "16600"],
    )
    .await;
    assert!(
        run.success,
        "both re-INVITEs answered, the call still up for the BYE"
    );
    let report = sip.report(Duration::from_secs(10)).await;
    assert_eq!(report.end, CallEnd::CallerHungUp);
}
