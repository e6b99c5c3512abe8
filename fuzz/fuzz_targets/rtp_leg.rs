//! Drives an accepted SIP RTP leg with arbitrary datagrams on its RTP and RTCP ports from two sources,
//! with time advancing between them: parsing, symmetric-RTP latching, RTCP, the media engine and the
//! media timeout must never panic, and outputs always drain.

#![no_main]

use std::time::{Duration, Instant, SystemTime};

use dialtone_media::CallMediaConfig;
use dialtone_telephony::call::{CallLeg, CallStart, LegOutput};
use dialtone_telephony::sip::sdp::{CodecName, Direction, Negotiated};
use dialtone_telephony::sip::{Datagram, RtpIn, RtpLeg, RtpLegConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let negotiated = Negotiated {
        codec: CodecName::Pcmu,
        payload_type: 0,
        dtmf_payload_type: Some(101),
        remote_rtp: "192.0.2.1:4000".parse().expect("literal"),
        remote_rtcp: "192.0.2.1:4001".parse().expect("literal"),
        direction: Direction::SendRecv,
    };
    let config = RtpLegConfig {
        media_timeout: Duration::from_secs(5),
        ssrc: 1,
        initial_sequence: 2,
        initial_timestamp: 3,
    };
    let start = CallStart {
        call_id: "fuzz".into(),
        agent_id: None,
        to: None,
        from: None,
    };
    let mut leg = RtpLeg::new(start, negotiated, config, SystemTime::now(), t0);
    if leg.accept(CallMediaConfig::pcmu(), t0).is_err() {
        return;
    }
    let sources = ["192.0.2.1:4000", "198.51.100.9:5000"];
    let mut now = t0;
    // Each chunk: a control byte (source, port, time step) then up to 255 bytes of datagram.
    let mut rest = data;
    while rest.len() >= 2 {
        let control = rest[0];
        let len = usize::from(rest[1]).min(rest.len() - 2);
        let bytes = &rest[2..2 + len];
        rest = &rest[2 + len..];
        let from = sources[usize::from(control & 1)].parse().expect("literal");
        let datagram = Box::new(Datagram::new(bytes, from));
        let input = if control & 2 == 0 {
            RtpIn::Rtp(datagram)
        } else {
            RtpIn::Rtcp(datagram)
        };
        now += Duration::from_millis(u64::from(control >> 2) * 5);
        leg.handle_transport(input, now);
        leg.handle_timeout(now);
        for _ in 0..10_000 {
            if let LegOutput::Timeout(_) = leg.poll_output() {
                break;
            }
        }
    }
});
