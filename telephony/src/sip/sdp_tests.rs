use super::*;
use proptest::prelude::*;

const SIPP_OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n\
c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";

const BARESIP_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n\
m=audio 10000 RTP/AVP 111 9 0 8 101\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 stereo=1\r\n\
a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp:10005\r\na=sendrecv\r\n\
m=video 10002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";

fn local() -> Local {
    Local {
        address: "203.0.113.5".parse().unwrap(),
        port: 20000,
        session_id: 42,
        version: 1,
    }
}

#[test]
fn our_preference_picks_among_the_offered_codecs() {
    let sdp = parse(SIPP_OFFER.as_bytes()).unwrap();
    let n = negotiate(&sdp, &CodecName::DEFAULT_PREFERENCE).unwrap();
    assert_eq!(n.codec, CodecName::Pcmu);
    assert_eq!(n.payload_type, 0);
    assert_eq!(n.dtmf_payload_type, Some(101));
    assert_eq!(
        n.remote_rtp,
        "127.0.0.1:6000".parse::<std::net::SocketAddr>().unwrap()
    );
    assert_eq!(
        n.remote_rtcp,
        "127.0.0.1:6001".parse::<std::net::SocketAddr>().unwrap()
    );
    let n = negotiate(&sdp, &[CodecName::Pcma]).unwrap();
    assert_eq!((n.codec, n.payload_type), (CodecName::Pcma, 8));
}

#[test]
fn wideband_codecs_and_rtcp_port_are_read() {
    let sdp = parse(BARESIP_OFFER.as_bytes()).unwrap();
    let n = negotiate(&sdp, &[CodecName::Opus, CodecName::Pcmu]).unwrap();
    assert_eq!((n.codec, n.payload_type), (CodecName::Opus, 111));
    // telephone-event is offered at 8 kHz only, which does not match Opus's 48 kHz clock.
    assert_eq!(n.dtmf_payload_type, None);
    assert_eq!(
        n.remote_rtcp,
        "192.0.2.7:10005".parse::<std::net::SocketAddr>().unwrap()
    );
    let n = negotiate(&sdp, &[CodecName::G722]).unwrap();
    assert_eq!(
        (n.codec, n.payload_type, n.dtmf_payload_type),
        (CodecName::G722, 9, Some(101))
    );
}

#[test]
fn nothing_in_common_is_488() {
    let offer =
        "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 18 3\r\na=rtpmap:18 G729/8000\r\n";
    let sdp = parse(offer.as_bytes()).unwrap();
    assert_eq!(
        negotiate(&sdp, &CodecName::DEFAULT_PREFERENCE),
        Err(SdpError::NoCommonCodec)
    );
    let video_only = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 4000 RTP/AVP 96\r\n";
    assert_eq!(
        negotiate(&parse(video_only.as_bytes()).unwrap(), &[CodecName::Pcmu]),
        Err(SdpError::NoAudio)
    );
}

#[test]
fn answer_keeps_one_line_per_offered_stream() {
    let sdp = parse(BARESIP_OFFER.as_bytes()).unwrap();
    let n = negotiate(&sdp, &[CodecName::Pcmu]).unwrap();
    let text = answer(&sdp, &n, &local(), Direction::SendRecv);
    assert!(text.contains("m=audio 20000 RTP/AVP 0 101\r\n"), "{text}");
    assert!(text.contains("a=rtpmap:0 PCMU/8000\r\n"));
    assert!(text.contains("a=rtpmap:101 telephone-event/8000\r\n"));
    assert!(text.contains("a=ptime:20\r\n"));
    assert!(text.contains("c=IN IP4 203.0.113.5\r\n"));
    assert!(text.contains("m=video 0 RTP/AVP 96\r\n"), "{text}");
    // Our answer parses back to what was chosen.
    let back = parse(text.as_bytes()).unwrap();
    let again = negotiate(&back, &[CodecName::Pcmu]).unwrap();
    assert_eq!(
        again.remote_rtp,
        "203.0.113.5:20000".parse::<std::net::SocketAddr>().unwrap()
    );
    assert_eq!(again.dtmf_payload_type, Some(101));
}

#[test]
fn offer_lists_each_codec_once_and_parses_back() {
    let text = offer(
        &[
            CodecName::Pcma,
            CodecName::Opus,
            CodecName::Pcma,
            CodecName::Pcmu,
        ],
        &local(),
        Direction::SendRecv,
    );
    assert!(
        text.contains("m=audio 20000 RTP/AVP 8 111 0 101\r\n"),
        "{text}"
    );
    let back = parse(text.as_bytes()).unwrap();
    let n = negotiate(&back, &[CodecName::Opus]).unwrap();
    assert_eq!(n.payload_type, 111);
}

#[test]
fn hold_is_sendonly_inactive_or_zero_address() {
    for (body, hold) in [
        (
            "c=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n",
            true,
        ),
        (
            "c=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=inactive\r\n",
            true,
        ),
        ("c=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n", true),
        (
            "a=sendonly\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n",
            true,
        ),
        (
            "c=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n",
            false,
        ),
    ] {
        let sdp = parse(body.as_bytes()).unwrap();
        let n = negotiate(&sdp, &[CodecName::Pcmu]).unwrap();
        assert_eq!(n.is_hold(), hold, "{body}");
    }
    assert_eq!(Direction::SendOnly.reversed(), Direction::RecvOnly);
}

#[test]
fn malformed_lines_are_errors_not_panics() {
    assert_eq!(parse(b"m=audio\r\n"), Err(SdpError::Malformed("m")));
    assert_eq!(
        parse(b"m=audio x RTP/AVP 0\r\n"),
        Err(SdpError::Malformed("m"))
    );
    assert_eq!(
        parse(b"m=audio 1 RTP/AVP 200\r\n"),
        Err(SdpError::Malformed("m"))
    );
    assert_eq!(
        parse(b"c=IN IP4 nowhere\r\n"),
        Err(SdpError::Malformed("c"))
    );
    assert_eq!(parse(&[0xff, 0xfe]), Err(SdpError::NotText));
    let missing_address = parse(b"m=audio 4000 RTP/AVP 0\r\n").unwrap();
    assert_eq!(
        negotiate(&missing_address, &[CodecName::Pcmu]),
        Err(SdpError::NoAddress)
    );
}

#[test]
fn codec_names_parse_from_configuration() {
    assert_eq!("pcmu".parse::<CodecName>(), Ok(CodecName::Pcmu));
    assert_eq!("G722".parse::<CodecName>(), Ok(CodecName::G722));
    assert!("g729".parse::<CodecName>().is_err());
}

proptest! {
    #[test]
    fn any_bytes_parse_or_fail_cleanly(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(sdp) = parse(&body) {
            let _ = negotiate(&sdp, &CodecName::DEFAULT_PREFERENCE);
        }
    }

    #[test]
    fn any_lines_parse_or_fail_cleanly(lines in proptest::collection::vec(
        "(v|o|c|m|a|t|s)=[ -~]{0,40}", 0..12)) {
        let body = lines.join("\r\n");
        if let Ok(sdp) = parse(body.as_bytes())
            && let Ok(n) = negotiate(&sdp, &CodecName::DEFAULT_PREFERENCE)
        {
            let text = answer(&sdp, &n, &local(), Direction::SendRecv);
            prop_assert!(parse(text.as_bytes()).is_ok());
        }
    }
}
