//! SIPp calls an agent and presses 0 (RFC 4733 telephone-events): the key reaches the dialogue, which
//! offers a person and transfers; the transfer goes out as a REFER to the office number, and once SIPp
//! reports it connected (NOTIFY 200) the agent leaves the call with BYE.

mod common;

use std::time::Duration;

use dialtone_telephony::call::CallEnd;
use dialtone_telephony::dialogue::Action;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_zero_transfers_the_caller_with_refer() {
    if !common::sip::have("sipp") {
        return;
    }
    let mut sip = common::sip::start(&[], |_| {}).await;
    let run = common::sip::sipp(
        sip.server.local_addr(),
        "uac_transfer.xml",
        "15035550142",
        &["-m", "1", "-mp", "16500"],
    )
    .await;
    assert!(
        run.success,
        "REFER to the office, NOTIFY answered, then BYE"
    );
    let report = sip.report(Duration::from_secs(10)).await;
    assert_eq!(report.end, CallEnd::Transferred);
    assert!(
        report
            .actions
            .iter()
            .any(|a| matches!(a, Action::Transfer { to, .. } if to == "+15035550199")),
        "{:?}",
        report.actions
    );
}
