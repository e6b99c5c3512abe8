//! A trunk with a registrar: Dialtone REGISTERs, answers the registrar's 401 with a digest SIPp checks,
//! and refreshes the 2 s registration before it runs out.

mod common;

use std::time::Duration;

use dialtone_telephony::sip::TrunkConfig;

const REGISTRAR_PORT: u16 = 15_070;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_digest_and_refreshes() {
    if !common::sip::have("sipp") {
        return;
    }
    // SIPp may bind after our first REGISTER goes out: the UDP transaction retransmits until it answers.
    let registrar = common::sip::sipp_server("uas_registrar.xml", REGISTRAR_PORT, &[]);
    let _sip = common::sip::start(&[], |c| {
        c.accept_any = false;
        c.trunks = vec![TrunkConfig {
            name: "carrier".into(),
            registrar: Some(format!("sip:127.0.0.1:{REGISTRAR_PORT}")),
            username: Some("dialtone".into()),
            password: Some("secret".into()),
            register_expires: Some(2),
            ..TrunkConfig::default()
        }];
    })
    .await;
    assert!(
        common::sip::finish(registrar, Duration::from_secs(30)).await,
        "challenge answered, digest right, refreshed"
    );
}
