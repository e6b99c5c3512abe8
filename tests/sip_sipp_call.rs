//! SIPp calls the demo agent over SIP, plays 7 s of G.711 A-law speech from its pcap and hangs up: the
//! agent answers with A-law (the only codec offered), hears the caller's RTP, greets over RTP and the
//! call ends with the caller's BYE.

mod common;

use std::time::Duration;

use dialtone_telephony::call::{CallEnd, Role};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_calls_an_agent_with_pcap_audio_and_hangs_up() {
    if !common::sip::have("sipp") {
        return;
    }
    let mut sip = common::sip::start(&["What time do you open on Saturday?"], |_| {}).await;
    let run = common::sip::sipp(
        sip.server.local_addr(),
        "uac_pcap.xml",
        "15035550142",
        &["-m", "1", "-d", "8000", "-mp", "16000"],
    )
    .await;
    assert!(run.success, "the call completes");
    let report = sip.report(Duration::from_secs(20)).await;
    assert_eq!(report.end, CallEnd::CallerHungUp);
    assert_eq!(report.agent_id.as_deref(), Some("bright-smile-dental"));
    let media = report.media.expect("media ran");
    assert!(
        media.rx_packets > 200,
        "the pcap's packets arrived: {media:?}"
    );
    assert!(
        media.tx_packets > 300,
        "RTP went out every 20 ms: {media:?}"
    );
    assert_eq!(media.skipped_ticks, 0);
    let greeting = &report.transcript[0];
    assert_eq!(greeting.role, Role::Agent);
    assert!(greeting.text.contains("Bright Smile"), "{greeting:?}");
    assert_eq!(sip.server.active_calls(), 0);
}
