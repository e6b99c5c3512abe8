//! A browser call over WebRTC, end to end on loopback: a Rust peer (the same `rtc` core a server uses,
//! standing in for the browser) posts its offer to the real `POST /webrtc/offer` route of a served
//! router, connects over ICE and DTLS-SRTP, speaks a question as Opus, and hears the agent's greeting and
//! answer back as Opus; then it hangs up and the call reports the turn. The other ways a browser call
//! ends: the agent's goodbye (the browser is told) and a browser that vanishes (the media timeout).
//! Scripted STT and instant TTS; the network is real, so the tests run in real time and wait with
//! deadlines, never bare sleeps.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dialtone_media::SampleRate;
use dialtone_media::codec::{Codec, Decoder, Encoder};
use dialtone_telephony::call::{CallEnd, CallReport, Role};
use dialtone_telephony::http::ReportSink;
use dialtone_telephony::webrtc::{OfferResponse, WebRtcConfig, webrtc_routes};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MediaEngine};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{
    CandidateConfig, CandidateHostConfig, RTCDtlsTransportState, RTCIceCandidate,
};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const QUESTION: &str = "What time do you open on Saturday?";
const FRAME_48K: usize = 960;
/// The caller speaks from here (after the greeting) ...
const SPEAK_AT: Duration = Duration::from_secs(6);
/// ... for this long, then listens to the answer until `HANG_UP_AT`.
const SPEAK_FOR: Duration = Duration::from_millis(1500);
const HANG_UP_AT: Duration = Duration::from_secs(14);
/// How long a call may take to report its end once either side has hung up.
const END_WITHIN: Duration = Duration::from_secs(3);

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// The stand-in browser: a peer connection on its own loopback socket.
struct Browser {
    pc: RTCPeerConnection,
    socket: UdpSocket,
    local: SocketAddr,
    sender: RTCRtpSenderId,
    ssrc: u32,
    connected: bool,
    closed: bool,
}

impl Browser {
    async fn new() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("socket");
        let local = socket.local_addr().expect("address");
        let mut media = MediaEngine::default();
        media
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: opus_codec(),
                    payload_type: 111,
                },
                RtpCodecKind::Audio,
            )
            .expect("opus");
        let settings = SettingEngineBuilder::new()
            .with_include_loopback_candidate(true)
            .build();
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(settings)
            .with_media_engine(media)
            .build(Instant::now())
            .expect("peer connection");
        let ssrc = 0x00b2_0b5e;
        let sender = pc
            .add_track(MediaStreamTrack::new(
                "browser".to_owned(),
                "browser-mic".to_owned(),
                "mic".to_owned(),
                RtpCodecKind::Audio,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec: opus_codec(),
                    ..Default::default()
                }],
            ))
            .expect("track");
        Self {
            pc,
            socket,
            local,
            sender,
            ssrc,
            connected: false,
            closed: false,
        }
    }

    fn offer(&mut self) -> String {
        let offer = self.pc.create_offer(None).expect("offer");
        self.pc
            .set_local_description(Instant::now(), offer)
            .expect("local description");
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: self.local.ip().to_string(),
                port: self.local.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()
        .expect("candidate");
        self.pc
            .add_local_candidate(RTCIceCandidate::from(&candidate).to_json().expect("json"))
            .expect("candidate added");
        self.pc.local_description().expect("offer set").sdp
    }

    async fn flush(&mut self) {
        while let Some(out) = self.pc.poll_write() {
            let _ = self
                .socket
                .send_to(&out.message, out.transport.peer_addr)
                .await;
        }
    }

    /// Takes events and the agent's RTP payloads.
    fn drain(&mut self, payloads: &mut Vec<Bytes>) {
        while let Some(event) = self.pc.poll_event() {
            if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) = event {
                match state {
                    RTCPeerConnectionState::Connected => self.connected = true,
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                        self.closed = true;
                    }
                    _ => {}
                }
            }
        }
        while let Some(TaggedRTCMessage { message, .. }) = self.pc.poll_read() {
            if let RTCMessage::RtpPacket(_, packet) = message {
                payloads.push(packet.payload);
            }
        }
    }

    fn send_opus(&mut self, seq: u16, payload: &[u8]) {
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::Header {
                version: 2,
                marker: seq == 0,
                payload_type: 111,
                sequence_number: seq,
                timestamp: u32::from(seq).wrapping_mul(FRAME_48K as u32),
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(payload),
        };
        if let Some(mut sender) = self.pc.rtp_sender(self.sender) {
            // Before DTLS is up there is nothing to encrypt with: the frame is lost, as in a browser.
            let _ = sender.write_rtp(Instant::now(), packet);
        }
    }

    /// The server closed the connection (DTLS close_notify).
    fn server_hung_up_now(&mut self) -> bool {
        self.pc.rtp_sender(self.sender).is_some_and(|sender| {
            sender
                .transport()
                .is_some_and(|dtls| dtls.state() == RTCDtlsTransportState::Closed)
        })
    }

    fn receive(&mut self, bytes: &[u8], from: SocketAddr) {
        let _ = self.pc.handle_read(TaggedBytesMut {
            now: Instant::now(),
            transport: TransportContext {
                local_addr: self.local,
                peer_addr: from,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(bytes),
        });
    }
}

/// Serves the WebRTC routes on loopback with a recogniser that hears `said`; finished calls arrive on
/// the returned channel.
async fn serve(said: &str) -> (SocketAddr, mpsc::UnboundedReceiver<CallReport>) {
    serve_with(said, WebRtcConfig::default()).await
}

async fn serve_with(
    said: &str,
    config: WebRtcConfig,
) -> (SocketAddr, mpsc::UnboundedReceiver<CallReport>) {
    let deps =
        Arc::new(dialtone::loadtest::fake_deps(Path::new("agents"), &[said]).expect("demo agent"));
    let (tx, reports) = mpsc::unbounded_channel();
    let sink: ReportSink = Arc::new(move |report| {
        let _ = tx.send(report);
    });
    let app = webrtc_routes(deps, config, Some(sink), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, reports)
}

fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// What the stand-in browser heard on one call.
struct Heard {
    /// When (since the start) each agent frame arrived, and whether it carried sound.
    frames: Vec<(Duration, bool)>,
    /// The call's id, from the answer.
    call_id: String,
    /// The server hung up (close_notify) before `HANG_UP_AT`.
    server_hung_up: bool,
}

impl Heard {
    fn loud_between(&self, from: Duration, to: Duration) -> usize {
        self.frames
            .iter()
            .filter(|(at, loud)| *loud && *at > from && *at < to)
            .count()
    }
}

/// The offer/answer exchange over HTTP: a browser whose ICE and DTLS run once it is driven.
async fn connect(server: SocketAddr) -> (Browser, String) {
    let mut browser = Browser::new().await;
    let offer = browser.offer();

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let response = http
        .post(format!("http://{server}/webrtc/offer"))
        .json(&serde_json::json!({"sdp": offer, "agent_id": "bright-smile-dental"}))
        .send()
        .await
        .expect("signalling reachable");
    assert_eq!(response.status(), 200);
    let answer: OfferResponse = response.json().await.expect("answer JSON");
    assert_eq!(answer.kind, "answer");
    browser
        .pc
        .set_remote_description(
            Instant::now(),
            RTCSessionDescription::answer(answer.sdp).expect("answer SDP"),
        )
        .expect("answer taken");
    (browser, answer.call_id)
}

/// Calls the demo agent through `server` like a browser: offer over HTTP, ICE and DTLS on loopback, then
/// 20 ms Opus frames: silence, the question from `SPEAK_AT` for `SPEAK_FOR`, silence; hangs up at
/// `HANG_UP_AT` unless the server hangs up first.
async fn talk(server: SocketAddr) -> Heard {
    let (mut browser, call_id) = connect(server).await;
    let speech = dialtone_media::synth::voiced(
        SampleRate::HZ_48000,
        130.0,
        (48_000.0 * SPEAK_FOR.as_secs_f64()) as usize,
        0,
    );
    let silence = vec![0i16; FRAME_48K];
    let opus = Codec::Opus {
        rate: SampleRate::HZ_48000,
    };
    let mut encoder = Encoder::new(opus).expect("encoder");
    let mut decoder = Decoder::new(opus).expect("decoder");
    let mut encoded = [0u8; 1275];
    let mut decoded = vec![0i16; 5760];
    let mut heard = Heard {
        frames: Vec::new(),
        call_id,
        server_hung_up: false,
    };
    let mut payloads = Vec::new();
    let mut buf = vec![0u8; 2048];
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let mut seq = 0u16;
    let started = Instant::now();
    let connect_deadline = started + Duration::from_secs(5);

    while started.elapsed() < HANG_UP_AT {
        browser.flush().await;
        let timeout = browser
            .pc
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        tokio::select! {
            received = browser.socket.recv_from(&mut buf) => {
                let (len, from) = received.expect("loopback receive");
                browser.receive(&buf[..len], from);
            }
            _ = ticker.tick() => {
                if browser.connected {
                    let at = started.elapsed();
                    let frame = at
                        .checked_sub(SPEAK_AT)
                        .map(|d| (d.as_millis() / 20) as usize * FRAME_48K)
                        .filter(|i| i + FRAME_48K <= speech.len())
                        .map_or(&silence[..], |i| &speech[i..i + FRAME_48K]);
                    let n = encoder.encode(frame, &mut encoded).expect("encodes");
                    browser.send_opus(seq, &encoded[..n]);
                    seq = seq.wrapping_add(1);
                } else {
                    assert!(Instant::now() < connect_deadline, "ICE and DTLS did not connect");
                }
            }
            () = tokio::time::sleep_until(timeout.into()) => {
                let _ = browser.pc.handle_timeout(Instant::now());
            }
        }
        browser.drain(&mut payloads);
        for payload in payloads.drain(..) {
            let n = decoder
                .decode(&payload, &mut decoded)
                .expect("agent audio is Opus");
            heard
                .frames
                .push((started.elapsed(), rms(&decoded[..n]) > 300.0));
        }
        if browser.server_hung_up_now() {
            heard.server_hung_up = true;
            return heard;
        }
        assert!(!browser.closed, "the connection dropped mid-call");
    }
    // Hang up, as a tab closing its peer connection does.
    browser.pc.close().expect("close");
    browser.flush().await;
    heard
}

fn lines(report: &CallReport) -> Vec<(Role, &str)> {
    report
        .transcript
        .iter()
        .map(|t| (t.role, t.text.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_talks_to_the_agent_over_webrtc() {
    let (server, mut reports) = serve(QUESTION).await;
    let heard = talk(server).await;
    // The browser's close_notify ends the call at once, well before ICE would time out.
    let report = tokio::time::timeout(END_WITHIN, reports.recv())
        .await
        .expect("the call ends when the browser hangs up")
        .expect("a report");

    assert!(!heard.server_hung_up);
    assert!(
        heard.frames.len() > 300,
        "agent frames: {}",
        heard.frames.len()
    );
    let greeting = heard.loud_between(Duration::ZERO, SPEAK_AT);
    let answer = heard.loud_between(SPEAK_AT + SPEAK_FOR, HANG_UP_AT);
    assert!(greeting > 25, "greeting frames with sound: {greeting}");
    assert!(answer > 25, "answer frames with sound: {answer}");

    assert_eq!(report.call_id.as_deref(), Some(heard.call_id.as_str()));
    assert_eq!(report.agent_id.as_deref(), Some("bright-smile-dental"));
    assert_eq!(report.end, CallEnd::CallerHungUp);
    let lines = lines(&report);
    assert!(
        matches!(lines.first(), Some((Role::Agent, g)) if g.contains("Bright Smile")),
        "{lines:?}"
    );
    assert!(lines.contains(&(Role::Caller, QUESTION)), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|(role, text)| *role == Role::Agent && text.contains("Saturday")),
        "{lines:?}"
    );
    assert_eq!(report.turns.len(), 1, "{:?}", report.turns);
    assert!(
        report.turns[0].first_frame.is_some(),
        "the answer reached the wire"
    );
    let media = report.media.expect("media ran");
    assert!(media.rx_packets > 300, "{media:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_saying_goodbye_hangs_up_the_browser() {
    let (server, mut reports) = serve("Thanks, goodbye.").await;
    let heard = talk(server).await;
    let report = tokio::time::timeout(END_WITHIN, reports.recv())
        .await
        .expect("the call ends when the agent hangs up")
        .expect("a report");

    assert_eq!(report.end, CallEnd::AgentHungUp, "{:?}", lines(&report));
    assert!(heard.server_hung_up, "the browser was told (close_notify)");
    let goodbye = heard.loud_between(SPEAK_AT + SPEAK_FOR, HANG_UP_AT);
    assert!(goodbye > 10, "goodbye frames with sound: {goodbye}");
    assert!(
        lines(&report).contains(&(Role::Caller, "Thanks, goodbye.")),
        "{:?}",
        lines(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_vanishes_is_hung_up_after_the_media_timeout() {
    let media_timeout = Duration::from_secs(2);
    let config = WebRtcConfig {
        media_timeout,
        ..WebRtcConfig::default()
    };
    let (server, mut reports) = serve_with(QUESTION, config).await;
    let (mut browser, call_id) = connect(server).await;
    // Drive the browser until it hears the greeting, sending silence as a microphone does.
    let mut encoder = Encoder::new(Codec::Opus {
        rate: SampleRate::HZ_48000,
    })
    .expect("encoder");
    let mut encoded = [0u8; 1275];
    let silence = vec![0i16; FRAME_48K];
    let mut payloads = Vec::new();
    let mut buf = vec![0u8; 2048];
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let mut seq = 0u16;
    let deadline = Instant::now() + Duration::from_secs(5);
    while payloads.len() < 25 {
        assert!(Instant::now() < deadline, "no agent audio");
        browser.flush().await;
        let timeout = browser
            .pc
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        tokio::select! {
            received = browser.socket.recv_from(&mut buf) => {
                let (len, from) = received.expect("loopback receive");
                browser.receive(&buf[..len], from);
            }
            _ = ticker.tick(), if browser.connected => {
                let n = encoder.encode(&silence, &mut encoded).expect("encodes");
                browser.send_opus(seq, &encoded[..n]);
                seq = seq.wrapping_add(1);
            }
            () = tokio::time::sleep_until(timeout.into()) => {
                let _ = browser.pc.handle_timeout(Instant::now());
            }
        }
        browser.drain(&mut payloads);
    }
    // The tab is killed: no close_notify, no more packets, no answers to ICE checks.
    let vanished = Instant::now();
    drop(browser);
    let report = tokio::time::timeout(media_timeout + END_WITHIN, reports.recv())
        .await
        .expect("the call ends without the browser")
        .expect("a report");
    assert_eq!(report.call_id.as_deref(), Some(call_id.as_str()));
    assert_eq!(report.end, CallEnd::MediaTimeout);
    // Counted from the last packet, sent up to one frame before the browser vanished.
    let waited = vanished.elapsed();
    assert!(
        waited >= media_timeout - Duration::from_millis(100),
        "{waited:?}"
    );
}
