//! Parses arbitrary bytes as SDP and negotiates it as an offer; an offer that negotiates is answered,
//! and the answer must parse and negotiate back to the same codec, payload types and our address.

#![no_main]

use dialtone_telephony::sip::sdp::{self, CodecName, Direction, Local};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = sdp::parse(data) else {
        return;
    };
    let Ok(negotiated) = sdp::negotiate(&offer, &CodecName::DEFAULT_PREFERENCE) else {
        return;
    };
    let _ = negotiated.is_hold();
    let local = Local {
        address: "192.0.2.1".parse().expect("literal address"),
        port: 20_000,
        session_id: 1,
        version: 1,
    };
    let answer = sdp::answer(&offer, &negotiated, &local, negotiated.direction.reversed());
    let back = sdp::parse(answer.as_bytes()).expect("our answer parses");
    let again = sdp::negotiate(&back, &[negotiated.codec]).expect("our answer negotiates");
    assert_eq!(again.codec, negotiated.codec);
    assert_eq!(again.payload_type, negotiated.payload_type);
    assert_eq!(again.dtmf_payload_type, negotiated.dtmf_payload_type);
    assert_eq!(again.remote_rtp, "192.0.2.1:20000".parse().expect("literal"));
    let offer_text = sdp::offer(&[negotiated.codec], &local, Direction::SendRecv);
    assert!(sdp::parse(offer_text.as_bytes()).is_ok());
});
