//! The WebRTC leg's [`Transport`]: the call's UDP socket and the peer connection that runs ICE, DTLS and
//! SRTP over it. This is the thin driver around the sans-IO connection: it feeds it datagrams and the
//! passage of time, writes what it wants sent, and hands the leg the browser's decrypted RTP.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::BytesMut;
use rtc::peer_connection::RTCPeerConnection;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::RTCDtlsTransportState;
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::sansio::Protocol;
use rtc::shared::marshal::{Marshal, Unmarshal};
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use tokio::net::UdpSocket;
use tracing::{debug, info, trace};

use super::leg::WebRtcIn;
use super::peer::Answered;
use crate::call::{CallEnd, Transport, TransportClosed, Wire};

/// Largest datagram read: DTLS records and SRTP packets stay under the path MTU.
const MAX_DATAGRAM: usize = 2048;

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// A browser call's socket and peer connection. See the module documentation.
pub struct WebRtcTransport {
    pc: RTCPeerConnection,
    sender: RTCRtpSenderId,
    socket: UdpSocket,
    local: SocketAddr,
    buf: Box<[u8; MAX_DATAGRAM]>,
    incoming: VecDeque<WebRtcIn>,
    /// The connection has ended; `recv` reports it once, then returns `None`.
    ended: Option<CallEnd>,
    reported_end: bool,
    closed: bool,
}

impl std::fmt::Debug for WebRtcTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebRtcTransport")
            .field("local", &self.local)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl WebRtcTransport {
    /// A transport for the connection `answered`, whose host candidate is `socket`.
    pub fn new(answered: Answered, socket: UdpSocket) -> std::io::Result<Self> {
        let local = socket.local_addr()?;
        Ok(Self {
            pc: answered.pc,
            sender: answered.sender,
            socket,
            local,
            buf: Box::new([0; MAX_DATAGRAM]),
            incoming: VecDeque::with_capacity(8),
            ended: None,
            reported_end: false,
            closed: false,
        })
    }

    /// Sends what the connection wants sent. A lost datagram is what UDP does: never fatal.
    async fn flush(&mut self) {
        while let Some(out) = self.pc.poll_write() {
            if let Err(e) = self
                .socket
                .send_to(&out.message, out.transport.peer_addr)
                .await
            {
                trace!(error = %e, to = %out.transport.peer_addr, "WebRTC send failed");
            }
        }
    }

    /// Takes the connection's events and received media.
    fn drain(&mut self) {
        while let Some(event) = self.pc.poll_event() {
            match event {
                RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => {
                    debug!(%state, "WebRTC connection state");
                    match state {
                        RTCPeerConnectionState::Connected => info!("browser media connected"),
                        RTCPeerConnectionState::Failed => {
                            self.ended.get_or_insert(CallEnd::TransportClosed);
                        }
                        RTCPeerConnectionState::Closed => {
                            self.ended.get_or_insert(CallEnd::CallerHungUp);
                        }
                        _ => {}
                    }
                }
                other => trace!(event = ?std::mem::discriminant(&other), "WebRTC event"),
            }
        }
        // A browser that closes its peer connection sends DTLS close_notify; the connection state
        // does not change for it (ICE is still up), the DTLS transport's does.
        if self.ended.is_none() && !self.closed {
            let peer_closed = self.pc.rtp_sender(self.sender).is_some_and(|sender| {
                sender
                    .transport()
                    .is_some_and(|dtls| dtls.state() == RTCDtlsTransportState::Closed)
            });
            if peer_closed {
                info!("the browser closed the connection");
                self.ended = Some(CallEnd::CallerHungUp);
            }
        }
        while let Some(TaggedRTCMessage { message, .. }) = self.pc.poll_read() {
            // Receiver reports and data-channel messages carry nothing the call needs yet.
            if let RTCMessage::RtpPacket(_, packet) = message {
                match packet.marshal() {
                    Ok(bytes) => self.incoming.push_back(WebRtcIn::Rtp(bytes)),
                    Err(e) => trace!(error = %e, "browser RTP not re-framed"),
                }
            }
        }
    }
}

impl Transport for WebRtcTransport {
    type In = WebRtcIn;

    async fn recv(&mut self) -> Option<WebRtcIn> {
        loop {
            // Cancel-safe: everything taken from the connection is queued before the next await that
            // can be cancelled, and a datagram is received whole or not at all.
            self.drain();
            if let Some(input) = self.incoming.pop_front() {
                return Some(input);
            }
            if let Some(end) = self.ended {
                if self.reported_end {
                    return None;
                }
                self.reported_end = true;
                return Some(WebRtcIn::Ended(end));
            }
            self.flush().await;
            let deadline = self.pc.poll_timeout();
            let Self {
                pc,
                socket,
                buf,
                local,
                ..
            } = self;
            tokio::select! {
                received = socket.recv_from(&mut buf[..]) => match received {
                    Ok((len, from)) => {
                        let message = TaggedBytesMut {
                            now: now(),
                            transport: TransportContext {
                                local_addr: *local,
                                peer_addr: from,
                                ecn: None,
                                transport_protocol: TransportProtocol::UDP,
                            },
                            message: BytesMut::from(&buf[..len]),
                        };
                        if let Err(e) = pc.handle_read(message) {
                            trace!(error = %e, %from, "datagram not taken");
                        }
                    }
                    // ICMP errors from an earlier send surface here on some systems; not fatal.
                    Err(e) => trace!(error = %e, "WebRTC receive failed"),
                },
                () = sleep_until(deadline) => {
                    if let Err(e) = pc.handle_timeout(now()) {
                        trace!(error = %e, "WebRTC timer failed");
                    }
                }
            }
        }
    }

    async fn send(&mut self, wire: Wire<'_>) -> Result<(), TransportClosed> {
        let Wire::Rtp(mut bytes) = wire else {
            return Ok(());
        };
        if self.ended.is_some() {
            return Err(TransportClosed);
        }
        let packet = match rtc::rtp::Packet::unmarshal(&mut bytes) {
            Ok(packet) => packet,
            Err(e) => {
                debug!(error = %e, "agent RTP not parsed");
                return Ok(());
            }
        };
        match self.pc.rtp_sender(self.sender) {
            Some(mut sender) => {
                // Before DTLS is up there is no SRTP context yet: the packet is dropped, as the
                // browser would not hear it anyway.
                if let Err(e) = sender.write_rtp(now(), packet) {
                    trace!(error = %e, "agent RTP not sent");
                }
            }
            None => return Err(TransportClosed),
        }
        self.flush().await;
        Ok(())
    }

    async fn close(&mut self, end: CallEnd) {
        if self.closed {
            return;
        }
        self.closed = true;
        debug!(?end, "closing the WebRTC connection");
        // Tells the browser (DTLS close_notify) rather than leaving it to time out.
        if let Err(e) = self.pc.close() {
            trace!(error = %e, "WebRTC close failed");
        }
        self.flush().await;
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
