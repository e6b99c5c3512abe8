//! A caller that is no trunk, with trunks-only access and a digest user configured: Dialtone challenges
//! its INVITE with 401, SIPp answers with the user's digest, and the call is taken and runs.

mod common;

use std::time::Duration;

use dialtone_telephony::call::CallEnd;
use dialtone_telephony::sip::UserConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_authenticated_peer_may_call() {
    if !common::sip::have("sipp") {
        return;
    }
    let mut sip = common::sip::start(&[], |c| {
        c.accept_any = false;
        c.users = vec![UserConfig {
            username: "alice".into(),
            password: "wonderland".into(),
        }];
    })
    .await;
    let run = common::sip::sipp(
        sip.server.local_addr(),
        "uac_digest.xml",
        "15035550142",
        &["-m", "1", "-mp", "16800"],
    )
    .await;
    assert!(run.success, "challenged, authenticated, answered");
    let report = sip.report(Duration::from_secs(10)).await;
    assert_eq!(report.end, CallEnd::CallerHungUp);
}
