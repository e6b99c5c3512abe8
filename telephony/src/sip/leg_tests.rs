use super::*;
use crate::sip::sdp::{CodecName, Direction};
use dialtone_media::MediaEvent;
use dialtone_media::rtp::RtpHeader;

const SDP_PEER: &str = "192.0.2.10:4000";
const NAT_PEER: &str = "198.51.100.7:31000";

fn negotiated() -> Negotiated {
    Negotiated {
        codec: CodecName::Pcmu,
        payload_type: 0,
        dtmf_payload_type: Some(101),
        remote_rtp: SDP_PEER.parse().unwrap(),
        remote_rtcp: "192.0.2.10:4001".parse().unwrap(),
        direction: Direction::SendRecv,
    }
}

fn start() -> CallStart {
    CallStart {
        call_id: "abc@host".into(),
        agent_id: Some("bright-smile-dental".into()),
        to: Some("+15035550142".into()),
        from: None,
        mission: None,
    }
}

fn leg(now: Instant) -> RtpLeg {
    let config = RtpLegConfig {
        media_timeout: Duration::from_secs(10),
        ssrc: 0x1234_5678,
        initial_sequence: 100,
        initial_timestamp: 5000,
    };
    RtpLeg::new(start(), negotiated(), config, SystemTime::now(), now)
}

fn rtp(pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let header = RtpHeader {
        marker,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc: 0xcafe,
    };
    let mut out = vec![0; 12 + payload.len()];
    header.write_packet(payload, &mut out).unwrap();
    out
}

#[derive(Debug, Default)]
struct Seen {
    rtp: Vec<(Vec<u8>, SocketAddr)>,
    rtcp: Vec<(Vec<u8>, SocketAddr)>,
    events: Vec<LegEvent>,
    stt_frames: usize,
}

/// Drains the leg; returns its next deadline.
fn drain(leg: &mut RtpLeg, seen: &mut Seen) -> Option<Instant> {
    loop {
        match leg.poll_output() {
            LegOutput::Send {
                wire: Wire::Datagram { bytes, to, rtcp },
                ..
            } => {
                let list = if rtcp { &mut seen.rtcp } else { &mut seen.rtp };
                list.push((bytes.to_vec(), to));
            }
            LegOutput::Send { .. } => panic!("an RTP leg sends datagrams only"),
            LegOutput::ToStt(_) => seen.stt_frames += 1,
            LegOutput::Event(e) => seen.events.push(e),
            LegOutput::Timeout(at) => return at,
        }
    }
}

/// Runs the leg's deadlines up to `until`, feeding a caller packet every 20 ms from `caller` when set.
fn run(
    leg: &mut RtpLeg,
    seen: &mut Seen,
    from: Instant,
    until: Instant,
    caller: Option<SocketAddr>,
) {
    let mut now = from;
    let mut seq = 0u16;
    let mut next_packet = from;
    loop {
        if let Some(source) = caller
            && next_packet <= now
        {
            let p = rtp(0, seq, u32::from(seq) * 160, seq == 0, &[0xff; 160]);
            leg.handle_transport(RtpIn::Rtp(Box::new(Datagram::new(&p, source))), now);
            seq = seq.wrapping_add(1);
            next_packet += Duration::from_millis(20);
        }
        let mut next = drain(leg, seen).unwrap_or(until);
        if caller.is_some() {
            next = next.min(next_packet);
        }
        if next >= until {
            break;
        }
        now = next.max(now);
        leg.handle_timeout(now);
    }
}

#[test]
fn the_call_starts_then_sends_paced_rtp_where_the_caller_is() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let mut seen = Seen::default();
    assert_eq!(drain(&mut leg, &mut seen), None);
    assert!(matches!(&seen.events[..], [LegEvent::Started(s)] if s.call_id == "abc@host"));
    leg.accept(CallMediaConfig::pcmu(), t0).unwrap();
    assert!(matches!(
        leg.accept(CallMediaConfig::pcmu(), t0),
        Err(LegError::CannotAccept)
    ));
    let nat: SocketAddr = NAT_PEER.parse().unwrap();
    run(
        &mut leg,
        &mut seen,
        t0,
        t0 + Duration::from_secs(1),
        Some(nat),
    );
    // Silence goes out every 20 ms from the first tick, to the SDP address until the caller's first
    // packet (sent at once here) shows where it really is.
    assert!((49..=51).contains(&seen.rtp.len()), "{}", seen.rtp.len());
    assert!(seen.rtp.iter().all(|(_, to)| *to == nat));
    let packets: Vec<RtpPacket<'_>> = seen
        .rtp
        .iter()
        .map(|(p, _)| RtpPacket::parse(p).unwrap())
        .collect();
    for (i, p) in packets.iter().enumerate() {
        assert_eq!(p.ssrc(), 0x1234_5678);
        assert_eq!(p.payload_type(), 0);
        assert_eq!(p.sequence(), 100 + i as u16);
        assert_eq!(p.timestamp(), 5000 + 160 * i as u32);
        assert_eq!(p.payload().len(), 160);
    }
    assert!(seen.stt_frames >= 45);
    assert!(leg.stats().rtp_in >= 49);
    assert_eq!(leg.peer(), nat);
}

#[test]
fn silence_from_the_caller_ends_the_call_unless_held() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let mut seen = Seen::default();
    leg.accept(CallMediaConfig::pcmu(), t0).unwrap();
    run(&mut leg, &mut seen, t0, t0 + Duration::from_secs(9), None);
    assert!(!seen.events.iter().any(|e| matches!(e, LegEvent::Ended(_))));
    run(
        &mut leg,
        &mut seen,
        t0 + Duration::from_secs(9),
        t0 + Duration::from_secs(11),
        None,
    );
    assert!(
        seen.events
            .contains(&LegEvent::Ended(CallEnd::MediaTimeout)),
        "{:?}",
        seen.events
    );

    // On hold the caller sends nothing for as long as it likes, and we send nothing either.
    let mut leg = self::leg(t0);
    let mut seen = Seen::default();
    leg.accept(CallMediaConfig::pcmu(), t0).unwrap();
    let held = Negotiated {
        direction: Direction::SendOnly,
        ..negotiated()
    };
    leg.handle_transport(RtpIn::Renegotiated(held), t0);
    assert!(leg.is_held());
    run(&mut leg, &mut seen, t0, t0 + Duration::from_secs(30), None);
    assert!(!seen.events.iter().any(|e| matches!(e, LegEvent::Ended(_))));
    assert!(seen.rtp.is_empty());
    // Off hold, the timeout runs again from the resume.
    let resumed = t0 + Duration::from_secs(30);
    leg.handle_transport(RtpIn::Renegotiated(negotiated()), resumed);
    run(
        &mut leg,
        &mut seen,
        resumed,
        resumed + Duration::from_secs(11),
        None,
    );
    assert!(
        seen.events
            .contains(&LegEvent::Ended(CallEnd::MediaTimeout))
    );
    assert!(!seen.rtp.is_empty());
}

#[test]
fn reports_go_to_the_rtcp_port_every_few_seconds() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let mut seen = Seen::default();
    leg.accept(CallMediaConfig::pcmu(), t0).unwrap();
    let sdp_peer: SocketAddr = SDP_PEER.parse().unwrap();
    run(
        &mut leg,
        &mut seen,
        t0,
        t0 + Duration::from_secs(8),
        Some(sdp_peer),
    );
    assert_eq!(seen.rtcp.len(), 2, "at 2.5 s and 7.5 s");
    let (report, to) = &seen.rtcp[0];
    assert_eq!(
        *to,
        "192.0.2.10:4001".parse::<std::net::SocketAddr>().unwrap()
    );
    assert_eq!(report[1], 200, "a sender report: we sent media");
    assert!(super::rtcp::parse(report).is_some());
    // The peer's report is read, not mistaken for media.
    leg.handle_transport(
        RtpIn::Rtcp(Box::new(Datagram::new(report, sdp_peer))),
        t0 + Duration::from_secs(8),
    );
    assert_eq!(leg.stats().rtcp_in, 1);
}

#[test]
fn telephone_events_and_info_keys_reach_the_dialogue() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let mut seen = Seen::default();
    leg.accept(CallMediaConfig::pcmu(), t0).unwrap();
    let source: SocketAddr = SDP_PEER.parse().unwrap();
    // Key 5: three packets of one event, the last with the end bit.
    for (i, end) in [(0u16, false), (1, false), (2, true)] {
        let duration = 160 * (u16::from(i as u8) + 1);
        let payload = [
            5,
            if end { 0x80 } else { 0 } | 10,
            (duration >> 8) as u8,
            duration as u8,
        ];
        let p = rtp(101, 10 + i, 8000, i == 0, &payload);
        leg.handle_transport(RtpIn::Rtp(Box::new(Datagram::new(&p, source))), t0);
    }
    leg.handle_transport(RtpIn::Dtmf(Digit::from_char('#').unwrap()), t0);
    drain(&mut leg, &mut seen);
    let digits: Vec<char> = seen
        .events
        .iter()
        .filter_map(|e| match e {
            LegEvent::Media(MediaEvent::Dtmf { digit, .. }) => Some(digit.as_char()),
            _ => None,
        })
        .collect();
    assert_eq!(digits, ['5', '#']);
}

#[test]
fn strangers_cannot_take_over_the_stream() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let mut seen = Seen::default();
    leg.accept(CallMediaConfig::pcmu(), t0).unwrap();
    let caller: SocketAddr = NAT_PEER.parse().unwrap();
    let p = rtp(0, 1, 160, true, &[0xff; 160]);
    leg.handle_transport(RtpIn::Rtp(Box::new(Datagram::new(&p, caller))), t0);
    let mut other = rtp(0, 2, 320, false, &[0xff; 160]);
    other[8..12].copy_from_slice(&0xbad_u32.to_be_bytes());
    let stranger: SocketAddr = "203.0.113.66:5000".parse().unwrap();
    leg.handle_transport(RtpIn::Rtp(Box::new(Datagram::new(&other, stranger))), t0);
    assert_eq!(leg.peer(), caller);
    assert_eq!(leg.stats().rtp_dropped, 1);
    // Garbage is dropped and counted, never fatal.
    leg.handle_transport(RtpIn::Rtp(Box::new(Datagram::new(&[1, 2, 3], caller))), t0);
    assert_eq!(leg.stats().rtp_dropped, 2);
    leg.handle_transport(RtpIn::Ended(CallEnd::CallerHungUp), t0);
    drain(&mut leg, &mut seen);
    assert_eq!(
        seen.events.last(),
        Some(&LegEvent::Ended(CallEnd::CallerHungUp))
    );
}

#[test]
fn tones_in_the_audio_are_keys_too() {
    // Phones without RFC 4733 send the key as tones: 120 ms of 7 between silence.
    use dialtone_media::SampleRate;
    use dialtone_media::call_media::DtmfSource;
    use dialtone_media::codec::g711::linear_to_ulaw;
    use dialtone_media::synth::tone;
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let mut seen = Seen::default();
    leg.accept(CallMediaConfig::pcmu(), t0).unwrap();
    let (low, high) = Digit::from_char('7').unwrap().frequencies();
    let rate = SampleRate::HZ_8000;
    let n = 8_000 * 120 / 1000;
    let a = tone(rate, low as f32, 0.3, n, 0);
    let b = tone(rate, high as f32, 0.3, n, 0);
    let mut audio: Vec<i16> = vec![0; 1600];
    audio.extend(a.iter().zip(&b).map(|(x, y)| x.saturating_add(*y)));
    audio.extend(std::iter::repeat_n(0, 1600));
    let source: SocketAddr = SDP_PEER.parse().unwrap();
    let mut now = t0;
    for (i, frame) in audio.chunks(160).enumerate() {
        let payload: Vec<u8> = frame.iter().map(|&s| linear_to_ulaw(s)).collect();
        let p = rtp(0, i as u16, i as u32 * 160, i == 0, &payload);
        leg.handle_transport(RtpIn::Rtp(Box::new(Datagram::new(&p, source))), now);
        now += Duration::from_millis(20);
        leg.handle_timeout(now);
        drain(&mut leg, &mut seen);
    }
    let keys: Vec<(char, DtmfSource)> = seen
        .events
        .iter()
        .filter_map(|e| match e {
            LegEvent::Media(MediaEvent::Dtmf { digit, source }) => Some((digit.as_char(), *source)),
            _ => None,
        })
        .collect();
    assert_eq!(keys, [('7', DtmfSource::InBand)]);
}
