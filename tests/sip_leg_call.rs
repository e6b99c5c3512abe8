//! A SIP call's RTP leg through the call loop on paused time, with an in-memory transport: the caller's
//! RTP carries a spoken question, the agent greets and answers in paced RTP to where the caller's media
//! comes from, and the caller's BYE ends the call. The same loop as WebSocket calls, no sockets.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dialtone_media::codec::g711::linear_to_ulaw;
use dialtone_media::rtp::{RtpHeader, RtpPacket};
use dialtone_telephony::call::{
    CallEnd, CallStart, Role, Transport, TransportClosed, Wire, run_call,
};
use dialtone_telephony::sip::sdp::{CodecName, Direction, Negotiated};
use dialtone_telephony::sip::{Datagram, RtpIn, RtpLeg, RtpLegConfig};
use tokio::sync::mpsc;

struct Channels {
    incoming: mpsc::UnboundedReceiver<RtpIn>,
    sent: mpsc::UnboundedSender<(Vec<u8>, SocketAddr)>,
}

impl Transport for Channels {
    type In = RtpIn;

    async fn recv(&mut self) -> Option<RtpIn> {
        self.incoming.recv().await
    }

    async fn send(&mut self, wire: Wire<'_>) -> Result<(), TransportClosed> {
        if let Wire::Datagram {
            bytes,
            to,
            rtcp: false,
        } = wire
        {
            let _ = self.sent.send((bytes.to_vec(), to));
        }
        Ok(())
    }

    async fn close(&mut self, _end: CallEnd) {}
}

fn packet(seq: u16, samples: &[i16]) -> Vec<u8> {
    let payload: Vec<u8> = samples.iter().map(|&s| linear_to_ulaw(s)).collect();
    let header = RtpHeader {
        marker: seq == 0,
        payload_type: 0,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 0xfeed,
    };
    let mut out = vec![0; 12 + payload.len()];
    header.write_packet(&payload, &mut out).expect("sized");
    out
}

#[tokio::test(start_paused = true)]
async fn an_rtp_leg_runs_through_the_call_loop() {
    let deps = Arc::new(
        dialtone::loadtest::fake_deps(Path::new("agents"), &["What time do you open on Saturday?"])
            .expect("demo agent"),
    );
    let caller: SocketAddr = "198.51.100.7:31000".parse().expect("address");
    let negotiated = Negotiated {
        codec: CodecName::Pcmu,
        payload_type: 0,
        dtmf_payload_type: Some(101),
        // Behind NAT: SDP names a private address the caller's media does not come from.
        remote_rtp: "10.0.0.5:4000".parse().expect("address"),
        remote_rtcp: "10.0.0.5:4001".parse().expect("address"),
        direction: Direction::SendRecv,
    };
    let start = CallStart {
        call_id: "leg-test@host".into(),
        agent_id: Some("bright-smile-dental".into()),
        to: Some("+15035550142".into()),
        from: Some("+15035550123".into()),
        mission: None,
    };
    let config = RtpLegConfig {
        media_timeout: Duration::from_secs(10),
        ssrc: 7,
        initial_sequence: 0,
        initial_timestamp: 0,
    };
    let leg = RtpLeg::new(
        start,
        negotiated,
        config,
        SystemTime::now(),
        tokio::time::Instant::now().into_std(),
    );
    let (to_leg, incoming) = mpsc::unbounded_channel();
    let (sent, mut from_leg) = mpsc::unbounded_channel();
    let call = tokio::spawn(run_call(leg, Channels { incoming, sent }, deps));

    // The caller: silence, a 1.5 s question from t = 6 s (after the greeting), silence again; then BYE.
    let speech = common::speech(1.5);
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let mut seq = 0u16;
    let mut received = Vec::new();
    for tick in 0..700u32 {
        ticker.tick().await;
        let at = (tick as usize).checked_sub(300).map(|i| i * 160);
        let frame: Vec<i16> = match at {
            Some(i) if i + 160 <= speech.len() => speech[i..i + 160].to_vec(),
            _ => vec![0; 160],
        };
        let datagram = Datagram::new(&packet(seq, &frame), caller);
        to_leg
            .send(RtpIn::Rtp(Box::new(datagram)))
            .expect("call running");
        seq = seq.wrapping_add(1);
        while let Ok(out) = from_leg.try_recv() {
            received.push(out);
        }
    }
    to_leg
        .send(RtpIn::Ended(CallEnd::CallerHungUp))
        .expect("call running");
    let report = call.await.expect("the loop ends");

    assert_eq!(report.end, CallEnd::CallerHungUp);
    // Symmetric RTP: the SDP address until the caller's first packet shows where it really is.
    let sdp: SocketAddr = "10.0.0.5:4000".parse().expect("address");
    let first_to_caller = received
        .iter()
        .position(|(_, to)| *to == caller)
        .expect("media reached the caller");
    assert!(first_to_caller <= 2, "{first_to_caller}");
    assert!(received[..first_to_caller].iter().all(|(_, to)| *to == sdp));
    assert!(
        received[first_to_caller..]
            .iter()
            .all(|(_, to)| *to == caller)
    );
    // Paced: about one packet per 20 ms tick for 14 s, numbered in order.
    assert!((680..=710).contains(&received.len()), "{}", received.len());
    for (i, (bytes, _)) in received.iter().enumerate() {
        let p = RtpPacket::parse(bytes).expect("RTP");
        assert_eq!(p.sequence(), i as u16);
        assert_eq!(p.ssrc(), 7);
    }
    let lines: Vec<(Role, &str)> = report
        .transcript
        .iter()
        .map(|t| (t.role, t.text.as_str()))
        .collect();
    assert!(
        matches!(lines[0], (Role::Agent, g) if g.contains("Bright Smile")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&(Role::Caller, "What time do you open on Saturday?")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(role, text)| *role == Role::Agent && text.contains("Saturday")),
        "{lines:?}"
    );
    assert_eq!(report.media.expect("media ran").skipped_ticks, 0);
}
