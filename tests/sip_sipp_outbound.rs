//! An agent places a call through a trunk: the far end (SIPp) challenges the INVITE with 401 and checks
//! the digest, sends its SDP answer in early media (183) and a 200 without one, then plays speech and
//! hangs up. The call runs through the same loop as an inbound one.

mod common;

use std::time::Duration;

use dialtone_telephony::call::{CallEnd, Role};
use dialtone_telephony::sip::{PlaceCall, TrunkConfig};

const FAR_END_PORT: u16 = 15_080;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_a_call_through_a_trunk() {
    if !common::sip::have("sipp") {
        return;
    }
    let far_end = common::sip::sipp_server("uas_answer.xml", FAR_END_PORT, &["-mp", "16700"]);
    let sip = common::sip::start(&[], |c| {
        c.trunks = vec![TrunkConfig {
            name: "carrier".into(),
            proxy: Some(format!("sip:127.0.0.1:{FAR_END_PORT}")),
            username: Some("dialtone".into()),
            password: Some("secret".into()),
            from: Some("+15035550142".into()),
            ..TrunkConfig::default()
        }];
    })
    .await;
    let report = tokio::time::timeout(
        Duration::from_secs(30),
        sip.server.place_call(PlaceCall {
            agent_id: "bright-smile-dental".into(),
            to: "+15035550777".into(),
            trunk: None,
            from: None,
            mission: None,
        }),
    )
    .await
    .expect("the call ends in time")
    .expect("the call connects");
    assert_eq!(report.end, CallEnd::CallerHungUp);
    let media = report.media.expect("media ran");
    // 3 s of the pcap play before the far end hangs up (about 150 packets; fewer on a loaded machine).
    assert!(
        media.rx_packets > 50,
        "the far end's speech arrived: {media:?}"
    );
    assert!(media.tx_packets > 50, "{media:?}");
    assert_eq!(report.transcript[0].role, Role::Agent);
    assert!(
        common::sip::finish(far_end, Duration::from_secs(10)).await,
        "the far end's scenario passed"
    );
}
