//! [`RtpLeg`]: one SIP call's media as a sans-IO [`CallLeg`]. Whole RTP packets go into the call's
//! `CallMedia` and whole RTP packets (audio with its sequence, timestamp and SSRC; RFC 4733 events out
//! of band) come out, addressed to where the peer's RTP comes from (symmetric RTP, for callers behind
//! NAT). It also keeps the RTCP reports, the media timeout and the hold state. The socket task and the
//! SIP dialog feed it [`RtpIn`]s; it reads no clock and owns no socket.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use dialtone_media::call_media::CallMediaStats;
use dialtone_media::dtmf::Digit;
use dialtone_media::rtp::RtpPacket;
use dialtone_media::{CallMedia, CallMediaConfig, Input, MediaTime, Output, TurnId};
use tracing::{debug, info, trace};

use super::rtcp::{self, Reception, Sending};
use super::sdp::Negotiated;
use crate::call::{
    CallEnd, CallLeg, CallStart, LegError, LegEvent, LegOutput, TransportKind, Wire,
};

/// Largest datagram read; RTP with the longest Opus packet fits with room to spare.
pub const MAX_DATAGRAM: usize = 1500;
/// First RTCP report after this, then every [`RTCP_INTERVAL`] (RFC 3550's 5 s minimum, halved at
/// first).
const RTCP_FIRST: Duration = Duration::from_millis(2500);
const RTCP_INTERVAL: Duration = Duration::from_secs(5);

/// One UDP datagram as received, held inline so receiving allocates nothing.
#[derive(Clone)]
pub struct Datagram {
    buf: [u8; MAX_DATAGRAM],
    len: usize,
    /// Where it came from.
    pub from: SocketAddr,
}

impl Datagram {
    /// A datagram of `bytes` (cut to [`MAX_DATAGRAM`]) from `from`.
    pub fn new(bytes: &[u8], from: SocketAddr) -> Self {
        let len = bytes.len().min(MAX_DATAGRAM);
        let mut buf = [0; MAX_DATAGRAM];
        buf[..len].copy_from_slice(&bytes[..len]);
        Self { buf, len, from }
    }

    /// An empty datagram to receive into.
    pub fn empty(from: SocketAddr) -> Self {
        Self {
            buf: [0; MAX_DATAGRAM],
            len: 0,
            from,
        }
    }

    /// The buffer to receive into; then [`Self::set_len`].
    pub fn buffer(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Sets the received length (cut to the buffer).
    pub fn set_len(&mut self, len: usize) {
        self.len = len.min(MAX_DATAGRAM);
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Debug for Datagram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datagram")
            .field("len", &self.len)
            .field("from", &self.from)
            .finish()
    }
}

/// What reaches an RTP leg: media from the sockets, and what the SIP dialog learnt.
#[derive(Debug, Clone)]
pub enum RtpIn {
    /// A datagram on the RTP port.
    Rtp(Box<Datagram>),
    /// A datagram on the RTCP port.
    Rtcp(Box<Datagram>),
    /// The peer re-offered (re-INVITE): new address, hold or resume.
    Renegotiated(Negotiated),
    /// A key the peer sent in SIP INFO.
    Dtmf(Digit),
    /// The signalling ended the call (BYE, transfer done, shutdown).
    Ended(CallEnd),
}

/// Settings of one RTP leg.
#[derive(Debug, Clone, Copy)]
pub struct RtpLegConfig {
    /// No RTP for this long (outside hold) ends the call.
    pub media_timeout: Duration,
    /// Our SSRC, first sequence number and first timestamp: random, drawn by the caller.
    pub ssrc: u32,
    /// See `ssrc`.
    pub initial_sequence: u16,
    /// See `ssrc`.
    pub initial_timestamp: u32,
}

/// Counters of one RTP leg.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtpLegStats {
    /// RTP packets handed to the media engine.
    pub rtp_in: u64,
    /// RTP packets sent.
    pub rtp_out: u64,
    /// RTP packets not taken (malformed, unknown payload type, wrong source, before accept).
    pub rtp_dropped: u64,
    /// RTCP packets received.
    pub rtcp_in: u64,
    /// RTCP reports sent.
    pub rtcp_out: u64,
    /// Times the peer's media address changed (symmetric RTP).
    pub relatched: u64,
}

/// One SIP call's media leg. See the module documentation.
#[derive(Debug)]
pub struct RtpLeg {
    config: RtpLegConfig,
    negotiated: Negotiated,
    media: Option<CallMedia>,
    events: VecDeque<LegEvent>,
    /// Where RTP and RTCP go: the SDP's addresses until the peer's media arrives from elsewhere.
    peer_rtp: SocketAddr,
    peer_rtcp: SocketAddr,
    /// The source the peer's RTP came from, once it did, and its SSRC.
    latched: Option<(SocketAddr, u32)>,
    last_rx: Option<Instant>,
    held: bool,
    ended: bool,
    // RTCP.
    reception: Reception,
    sending: Sending,
    next_rtcp: Option<Instant>,
    rtcp_out: Vec<u8>,
    /// A report in `rtcp_out` waits to be sent.
    rtcp_pending: bool,
    /// The latest instant handed in, for outputs that must come back "at once".
    last_now: Instant,
    /// The wall clock at `epoch`, so reports carry NTP time without reading a clock.
    wall_epoch: (SystemTime, Instant),
    stats: RtpLegStats,
}

impl RtpLeg {
    /// A leg for a call set up with `negotiated` as `start`; the call loop accepts it. `wall` is the
    /// wall-clock time at `now`.
    pub fn new(
        start: CallStart,
        negotiated: Negotiated,
        config: RtpLegConfig,
        wall: SystemTime,
        now: Instant,
    ) -> Self {
        let mut events = VecDeque::with_capacity(16);
        events.push_back(LegEvent::Started(start));
        Self {
            config,
            peer_rtp: negotiated.remote_rtp,
            peer_rtcp: negotiated.remote_rtcp,
            held: negotiated.is_hold(),
            negotiated,
            media: None,
            events,
            latched: None,
            last_rx: None,
            ended: false,
            reception: Reception::default(),
            sending: Sending::default(),
            next_rtcp: None,
            rtcp_out: Vec::with_capacity(128),
            rtcp_pending: false,
            last_now: now,
            wall_epoch: (wall, now),
            stats: RtpLegStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> RtpLegStats {
        self.stats
    }

    /// Where RTP goes now.
    pub fn peer(&self) -> SocketAddr {
        self.peer_rtp
    }

    /// The peer holds the call.
    pub fn is_held(&self) -> bool {
        self.held
    }

    fn end(&mut self, end: CallEnd) {
        if !self.ended {
            self.ended = true;
            self.events.push_back(LegEvent::Ended(end));
        }
    }

    fn on_rtp(&mut self, datagram: &Datagram, now: Instant) {
        if self.media.is_none() {
            self.stats.rtp_dropped += 1;
            return;
        }
        let bytes = datagram.bytes();
        let Ok(packet) = RtpPacket::parse(bytes) else {
            self.stats.rtp_dropped += 1;
            trace!(len = bytes.len(), "not an RTP packet");
            return;
        };
        match self.latched {
            None => self.latch(datagram.from, packet.ssrc()),
            Some((source, ssrc)) if source != datagram.from => {
                // Media from a second address: the same stream after a NAT rebinding, or the address
                // SDP named, is followed; anything else is someone else's traffic.
                if packet.ssrc() != ssrc && datagram.from != self.negotiated.remote_rtp {
                    self.stats.rtp_dropped += 1;
                    return;
                }
                self.latch(datagram.from, packet.ssrc());
            }
            Some(_) => {}
        }
        let clock = u64::from(self.negotiated.codec.clock_rate());
        let since = now.saturating_duration_since(self.wall_epoch.1);
        let arrival = (since.as_nanos() * u128::from(clock) / 1_000_000_000) as u64;
        self.reception.on_rtp(&packet, arrival);
        self.last_rx = Some(now);
        let Some(media) = self.media.as_mut() else {
            return;
        };
        match media.handle_input(Input::Rtp(bytes), now) {
            Ok(()) => self.stats.rtp_in += 1,
            Err(e) => {
                self.stats.rtp_dropped += 1;
                trace!(error = %e, "caller packet not taken");
            }
        }
    }

    /// Sends to `source` from now on: symmetric RTP.
    fn latch(&mut self, source: SocketAddr, ssrc: u32) {
        if self.latched.is_some() {
            self.stats.relatched += 1;
        }
        if source != self.peer_rtp {
            debug!(sdp = %self.peer_rtp, %source, "sending media where the caller's comes from");
            // RTCP follows to the next port of the same address.
            self.peer_rtcp = SocketAddr::new(source.ip(), source.port().wrapping_add(1));
        }
        self.peer_rtp = source;
        self.latched = Some((source, ssrc));
    }

    fn on_rtcp(&mut self, datagram: &Datagram, now: Instant) {
        let Some(report) = rtcp::parse(datagram.bytes()) else {
            return;
        };
        self.stats.rtcp_in += 1;
        if self.latched.is_some() {
            self.peer_rtcp = datagram.from;
        }
        if let Some(middle) = report.sr_ntp_middle {
            self.reception.on_sender_report(middle, now);
        }
    }

    fn on_renegotiated(&mut self, negotiated: Negotiated, now: Instant) {
        let held = negotiated.is_hold();
        if held != self.held {
            info!(held, "caller changed hold");
        }
        self.held = held;
        if negotiated.remote_rtp != self.negotiated.remote_rtp
            && !negotiated.remote_rtp.ip().is_unspecified()
        {
            // A new address in SDP: follow it, and latch afresh on what arrives.
            self.peer_rtp = negotiated.remote_rtp;
            self.peer_rtcp = negotiated.remote_rtcp;
            self.latched = None;
        }
        // The codec stays: a re-offer that drops it is answered with the same one by the dialog.
        self.negotiated.remote_rtp = negotiated.remote_rtp;
        self.negotiated.remote_rtcp = negotiated.remote_rtcp;
        self.negotiated.direction = negotiated.direction;
        // Coming off hold restarts the media timeout.
        self.last_rx = Some(now);
    }

    /// The media timeout's deadline, when it runs.
    fn media_deadline(&self) -> Option<Instant> {
        if self.held || self.media.is_none() {
            return None;
        }
        self.last_rx.map(|at| at + self.config.media_timeout)
    }

    fn wall(&self, now: Instant) -> SystemTime {
        self.wall_epoch.0 + now.saturating_duration_since(self.wall_epoch.1)
    }
}

impl CallLeg for RtpLeg {
    type In = RtpIn;

    fn handle_transport(&mut self, input: RtpIn, now: Instant) {
        self.last_now = now;
        match input {
            RtpIn::Rtp(datagram) => self.on_rtp(&datagram, now),
            RtpIn::Rtcp(datagram) => self.on_rtcp(&datagram, now),
            RtpIn::Renegotiated(negotiated) => self.on_renegotiated(negotiated, now),
            RtpIn::Dtmf(digit) => match self.media.as_mut() {
                Some(media) => {
                    let _ = media.handle_input(Input::Dtmf(digit), now);
                }
                None => debug!("key pressed before the call was accepted"),
            },
            RtpIn::Ended(end) => self.end(end),
        }
    }

    fn accept(&mut self, config: CallMediaConfig, now: Instant) -> Result<(), LegError> {
        if self.media.is_some() || self.ended {
            return Err(LegError::CannotAccept);
        }
        let n = &self.negotiated;
        let config = CallMediaConfig {
            codec: n.codec.codec(),
            payload_type: n.payload_type,
            dtmf_payload_type: n.dtmf_payload_type,
            ssrc: self.config.ssrc,
            initial_sequence: self.config.initial_sequence,
            initial_timestamp: self.config.initial_timestamp,
            // RTP peers expect a continuous stream, and a key pressed on a phone without RFC 4733
            // reaches us only as tones.
            send_silence: true,
            inband_dtmf: true,
            ..config
        };
        self.media = Some(CallMedia::new(config, now)?);
        self.last_rx = Some(now);
        self.next_rtcp = Some(now + RTCP_FIRST);
        Ok(())
    }

    fn handle_input(&mut self, input: Input<'_>, now: Instant) -> Result<(), LegError> {
        let media = self.media.as_mut().ok_or(LegError::NotAccepted)?;
        Ok(media.handle_input(input, now)?)
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.last_now = now;
        if self.ended {
            return;
        }
        if self.media_deadline().is_some_and(|at| at <= now) {
            info!(
                seconds = self.config.media_timeout.as_secs(),
                "no media from the caller: ending the call"
            );
            self.end(CallEnd::MediaTimeout);
            return;
        }
        if let Some(media) = self.media.as_mut() {
            media.handle_timeout(now);
        }
        if self.next_rtcp.is_some_and(|at| at <= now) {
            self.next_rtcp = Some(now + RTCP_INTERVAL);
            let ssrc = self.config.ssrc;
            let sending = (self.sending.packets > 0).then_some(self.sending);
            let wall = self.wall(now);
            rtcp::write_report(
                &mut self.rtcp_out,
                ssrc,
                sending,
                &mut self.reception,
                wall,
                now,
            );
            self.stats.rtcp_out += 1;
            // Sent on the next poll, ahead of media.
            self.rtcp_pending = true;
        }
    }

    fn poll_output(&mut self) -> LegOutput<'_> {
        if let Some(event) = self.events.pop_front() {
            return LegOutput::Event(event);
        }
        if self.ended {
            return LegOutput::Timeout(None);
        }
        if std::mem::take(&mut self.rtcp_pending) {
            return LegOutput::Send {
                wire: Wire::Datagram {
                    bytes: &self.rtcp_out,
                    to: self.peer_rtcp,
                    rtcp: true,
                },
                media: false,
            };
        }
        let media_deadline = self.media_deadline();
        let Self {
            media,
            held,
            sending,
            stats,
            peer_rtp,
            last_now,
            next_rtcp,
            ..
        } = self;
        let Some(media) = media.as_mut() else {
            return LegOutput::Timeout(None);
        };
        match media.poll_output() {
            Output::ToStt(pcm) => LegOutput::ToStt(pcm),
            Output::Event(event) => LegOutput::Event(LegEvent::Media(event)),
            Output::ToCaller(_) if *held => {
                // The peer asked for no media (sendonly/inactive): the frame is dropped, and the loop
                // is asked back at once for what follows (a deadline already passed), since a borrow
                // checker limit keeps this from simply polling the engine again here.
                LegOutput::Timeout(Some(*last_now))
            }
            Output::ToCaller(frame) => {
                sending.packets = sending.packets.wrapping_add(1);
                sending.octets = sending.octets.wrapping_add(frame.payload().len() as u32);
                sending.last_timestamp = frame.timestamp;
                stats.rtp_out += 1;
                LegOutput::Send {
                    wire: Wire::Datagram {
                        bytes: frame.rtp(),
                        to: *peer_rtp,
                        rtcp: false,
                    },
                    media: frame.marker && !frame.telephone_event,
                }
            }
            Output::Timeout(at) => {
                let mut next = at;
                if let Some(rtcp) = *next_rtcp {
                    next = next.min(rtcp);
                }
                if let Some(timeout) = media_deadline {
                    next = next.min(timeout);
                }
                LegOutput::Timeout(Some(next))
            }
        }
    }

    fn heard(&self, _turn: TurnId) -> Option<MediaTime> {
        // RTP has no playout receipts: what was sent is the best estimate of what was heard.
        None
    }

    fn media_stats(&self) -> Option<CallMediaStats> {
        self.media.as_ref().map(CallMedia::stats)
    }

    fn transport(&self) -> TransportKind {
        TransportKind::Sip
    }
}

#[cfg(test)]
#[path = "leg_tests.rs"]
mod tests;
