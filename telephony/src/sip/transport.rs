//! The RTP leg's [`Transport`]: the call's RTP and RTCP sockets, plus channels to and from the call's
//! SIP dialog task (hang-up, hold, transfer).

use tokio::sync::mpsc;
use tracing::{debug, trace};

use super::leg::{Datagram, RtpIn};
use super::ports::PortLease;
use crate::call::{CallEnd, Signal, Transport, TransportClosed, Wire};

/// What the call loop asks of the call's SIP dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogCommand {
    /// Blind-transfer the caller (REFER).
    Transfer(String),
    /// The call is over: hang up unless the peer already did.
    Hangup(CallEnd),
}

/// UDP sockets and the dialog's channels. See the module documentation.
#[derive(Debug)]
pub struct RtpTransport {
    ports: PortLease,
    events: mpsc::UnboundedReceiver<RtpIn>,
    commands: mpsc::UnboundedSender<DialogCommand>,
    /// Receive buffers, kept across cancelled `recv`s.
    rtp_buf: Box<Datagram>,
    rtcp_buf: Box<Datagram>,
}

impl RtpTransport {
    /// A transport over `ports` whose signalling comes from `events` and goes to `commands`.
    pub fn new(
        ports: PortLease,
        events: mpsc::UnboundedReceiver<RtpIn>,
        commands: mpsc::UnboundedSender<DialogCommand>,
    ) -> Self {
        let nowhere = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        Self {
            ports,
            events,
            commands,
            rtp_buf: Box::new(Datagram::empty(nowhere)),
            rtcp_buf: Box::new(Datagram::empty(nowhere)),
        }
    }
}

impl Transport for RtpTransport {
    type In = RtpIn;

    async fn recv(&mut self) -> Option<RtpIn> {
        loop {
            let Self {
                ports,
                events,
                rtp_buf,
                rtcp_buf,
                ..
            } = self;
            // Each branch is cancel-safe: a datagram is either received whole or not at all.
            tokio::select! {
                received = ports.rtp.recv_from(rtp_buf.buffer()) => match received {
                    Ok((len, from)) => {
                        rtp_buf.set_len(len);
                        rtp_buf.from = from;
                        let next = Box::new(Datagram::empty(from));
                        return Some(RtpIn::Rtp(std::mem::replace(rtp_buf, next)));
                    }
                    // ICMP errors from an earlier send surface here on some systems; not fatal.
                    Err(e) => trace!(error = %e, "RTP receive failed"),
                },
                received = ports.rtcp.recv_from(rtcp_buf.buffer()) => match received {
                    Ok((len, from)) => {
                        rtcp_buf.set_len(len);
                        rtcp_buf.from = from;
                        let next = Box::new(Datagram::empty(from));
                        return Some(RtpIn::Rtcp(std::mem::replace(rtcp_buf, next)));
                    }
                    Err(e) => trace!(error = %e, "RTCP receive failed"),
                },
                event = events.recv() => return event,
            }
        }
    }

    async fn send(&mut self, wire: Wire<'_>) -> Result<(), TransportClosed> {
        if let Wire::Datagram { bytes, to, rtcp } = wire {
            let socket = if rtcp {
                &self.ports.rtcp
            } else {
                &self.ports.rtp
            };
            // A lost datagram is what UDP does; it never ends the call.
            if let Err(e) = socket.send_to(bytes, to).await {
                trace!(error = %e, %to, "media send failed");
            }
        }
        Ok(())
    }

    async fn signal(&mut self, signal: Signal) {
        match signal {
            Signal::Transfer { to } => {
                if self.commands.send(DialogCommand::Transfer(to)).is_err() {
                    debug!("transfer asked after the dialog ended");
                }
            }
        }
    }

    async fn close(&mut self, end: CallEnd) {
        let _ = self.commands.send(DialogCommand::Hangup(end));
    }
}
