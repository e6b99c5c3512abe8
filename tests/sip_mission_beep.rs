//! An answering machine's beep on a mission call, through the call loop on paused time with an RTP leg
//! and an in-memory transport: the agent opens with its purpose, the far end stays silent and then
//! beeps (a 1 kHz tone), and the agent leaves its short message right after the beep and hangs up. The
//! report carries the voicemail result the task worker reads.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dialtone_media::codec::g711::linear_to_ulaw;
use dialtone_media::rtp::RtpHeader;
use dialtone_telephony::call::{
    CallEnd, CallStart, Role, Transport, TransportClosed, Wire, run_call,
};
use dialtone_telephony::dialogue::{Action, Mission, MissionOutcome, VoicemailPolicy};
use dialtone_telephony::sip::sdp::{CodecName, Direction, Negotiated};
use dialtone_telephony::sip::{Datagram, RtpIn, RtpLeg, RtpLegConfig};
use tokio::sync::mpsc;

struct Channels {
    incoming: mpsc::UnboundedReceiver<RtpIn>,
}

impl Transport for Channels {
    type In = RtpIn;

    async fn recv(&mut self) -> Option<RtpIn> {
        self.incoming.recv().await
    }

    async fn send(&mut self, _wire: Wire<'_>) -> Result<(), TransportClosed> {
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
        ssrc: 0xbeef,
    };
    let mut out = vec![0; 12 + payload.len()];
    header.write_packet(&payload, &mut out).expect("sized");
    out
}

/// 20 ms of a 1 kHz tone at 8 kHz, continuing from frame `n`.
fn tone_frame(n: u32) -> Vec<i16> {
    (0..160u32)
        .map(|i| {
            let t = f64::from(n * 160 + i) / 8000.0;
            (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn the_agent_leaves_its_message_after_the_beep() {
    // The recogniser makes nothing of the beep.
    let deps = Arc::new(
        dialtone::loadtest::fake_deps(Path::new("agents"), &["", ""]).expect("demo agent"),
    );
    let caller: SocketAddr = "198.51.100.7:31000".parse().expect("address");
    let negotiated = Negotiated {
        codec: CodecName::Pcmu,
        payload_type: 0,
        dtmf_payload_type: Some(101),
        remote_rtp: caller,
        remote_rtcp: "198.51.100.7:31001".parse().expect("address"),
        direction: Direction::SendRecv,
    };
    let start = CallStart {
        call_id: "mission-beep@host".into(),
        agent_id: Some("bright-smile-dental".into()),
        to: None,
        from: Some("+15035550777".into()),
        mission: Some(Mission {
            task: "Ask whether my order 1234 is ready for pickup".into(),
            on_voicemail: VoicemailPolicy::LeaveMessage,
        }),
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
    let call = tokio::spawn(run_call(leg, Channels { incoming }, deps));

    // Silence while the agent opens, a 500 ms beep from t = 8 s, then the machine records silence.
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let mut seq = 0u16;
    for tick in 0..3000u32 {
        if call.is_finished() {
            break;
        }
        ticker.tick().await;
        let frame = if (400..425).contains(&tick) {
            tone_frame(tick)
        } else {
            vec![0; 160]
        };
        let _ = to_leg.send(RtpIn::Rtp(Box::new(Datagram::new(
            &packet(seq, &frame),
            caller,
        ))));
        seq = seq.wrapping_add(1);
    }
    let report = call.await.expect("the loop ends");

    assert_eq!(report.end, CallEnd::AgentHungUp, "{:?}", report.transcript);
    let lines: Vec<(Role, &str, bool)> = report
        .transcript
        .iter()
        .map(|t| (t.role, t.text.as_str(), t.interrupted))
        .collect();
    assert!(
        matches!(lines[0], (Role::Agent, opening, false) if opening.contains("order 1234")),
        "{lines:?}"
    );
    let beep = lines
        .iter()
        .position(|l| *l == (Role::Caller, "(beep)", false))
        .expect("the beep is in the transcript");
    let message = lines[beep + 1..]
        .iter()
        .find(|l| l.0 == Role::Agent)
        .expect("a message after the beep");
    assert!(message.1.contains("We will try again later"), "{lines:?}");
    assert!(!message.2, "the message was not cut off: {lines:?}");
    assert!(
        report.actions.contains(&Action::MissionResult {
            outcome: MissionOutcome::Voicemail,
            answer: None,
            message_left: true,
        }),
        "{:?}",
        report.actions
    );
}
