//! [`WebRtcLeg`]: one browser call's media as a sans-IO [`CallLeg`]. The transport has already undone
//! ICE, DTLS and SRTP: what reaches the leg is the browser's plain RTP (Opus), which goes whole into the
//! call's `CallMedia`, and what leaves it is `CallMedia`'s RTP for the transport to encrypt and send on
//! the negotiated track. It also keeps the media timeout, for a browser that vanishes without a word.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dialtone_media::call_media::CallMediaStats;
use dialtone_media::codec::Codec;
use dialtone_media::{CallMedia, CallMediaConfig, Input, MediaTime, Output, SampleRate, TurnId};
use tracing::{info, trace};

use crate::call::{
    CallEnd, CallLeg, CallStart, LegError, LegEvent, LegOutput, TransportKind, Wire,
};

/// What reaches a WebRTC leg from its transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebRtcIn {
    /// A decrypted RTP packet from the browser's audio track.
    Rtp(BytesMut),
    /// The connection ended (the browser closed it, or ICE failed).
    Ended(CallEnd),
}

/// Settings of one WebRTC leg, from the offer/answer exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebRtcLegConfig {
    /// The payload type the browser gave Opus (both directions use the answer's mapping).
    pub payload_type: u8,
    /// Our track's SSRC, as announced in the answer.
    pub ssrc: u32,
    /// No RTP for this long ends the call.
    pub media_timeout: Duration,
}

/// Counters of one WebRTC leg.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebRtcLegStats {
    /// RTP packets handed to the media engine.
    pub rtp_in: u64,
    /// RTP packets sent.
    pub rtp_out: u64,
    /// RTP packets not taken (before accept, or refused by the media engine).
    pub rtp_dropped: u64,
}

/// One browser call's media leg. See the module documentation.
#[derive(Debug)]
pub struct WebRtcLeg {
    config: WebRtcLegConfig,
    media: Option<CallMedia>,
    events: VecDeque<LegEvent>,
    last_rx: Option<Instant>,
    ended: bool,
    stats: WebRtcLegStats,
}

impl WebRtcLeg {
    /// A leg for the call `start`, negotiated as `config`; the call loop accepts it.
    pub fn new(start: CallStart, config: WebRtcLegConfig) -> Self {
        let mut events = VecDeque::with_capacity(8);
        events.push_back(LegEvent::Started(start));
        Self {
            config,
            media: None,
            events,
            last_rx: None,
            ended: false,
            stats: WebRtcLegStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> WebRtcLegStats {
        self.stats
    }

    fn end(&mut self, end: CallEnd) {
        if !self.ended {
            self.ended = true;
            self.events.push_back(LegEvent::Ended(end));
        }
    }

    fn media_deadline(&self) -> Option<Instant> {
        self.media.as_ref()?;
        self.last_rx.map(|at| at + self.config.media_timeout)
    }
}

impl CallLeg for WebRtcLeg {
    type In = WebRtcIn;

    fn handle_transport(&mut self, input: WebRtcIn, now: Instant) {
        match input {
            WebRtcIn::Rtp(packet) => {
                let Some(media) = self.media.as_mut() else {
                    self.stats.rtp_dropped += 1;
                    return;
                };
                self.last_rx = Some(now);
                match media.handle_input(Input::Rtp(&packet), now) {
                    Ok(()) => self.stats.rtp_in += 1,
                    Err(e) => {
                        self.stats.rtp_dropped += 1;
                        trace!(error = %e, "browser packet not taken");
                    }
                }
            }
            WebRtcIn::Ended(end) => self.end(end),
        }
    }

    fn accept(&mut self, config: CallMediaConfig, now: Instant) -> Result<(), LegError> {
        if self.media.is_some() || self.ended {
            return Err(LegError::CannotAccept);
        }
        let config = CallMediaConfig {
            // Browsers send and play Opus at 48 kHz: no resampling on the wire side.
            codec: Codec::Opus {
                rate: SampleRate::HZ_48000,
            },
            payload_type: self.config.payload_type,
            // Keys come from the page, not as RFC 4733 or tones.
            dtmf_payload_type: None,
            ssrc: self.config.ssrc,
            initial_sequence: 0,
            initial_timestamp: 0,
            // A continuous stream keeps the browser's jitter buffer steady; Opus silence is tiny.
            send_silence: true,
            inband_dtmf: false,
            ..config
        };
        self.media = Some(CallMedia::new(config, now)?);
        self.last_rx = Some(now);
        Ok(())
    }

    fn handle_input(&mut self, input: Input<'_>, now: Instant) -> Result<(), LegError> {
        let media = self.media.as_mut().ok_or(LegError::NotAccepted)?;
        Ok(media.handle_input(input, now)?)
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.ended {
            return;
        }
        if self.media_deadline().is_some_and(|at| at <= now) {
            info!(
                seconds = self.config.media_timeout.as_secs(),
                "no media from the browser: ending the call"
            );
            self.end(CallEnd::MediaTimeout);
            return;
        }
        if let Some(media) = self.media.as_mut() {
            media.handle_timeout(now);
        }
    }

    fn poll_output(&mut self) -> LegOutput<'_> {
        if let Some(event) = self.events.pop_front() {
            return LegOutput::Event(event);
        }
        if self.ended {
            return LegOutput::Timeout(None);
        }
        let media_deadline = self.media_deadline();
        let Self { media, stats, .. } = self;
        let Some(media) = media.as_mut() else {
            return LegOutput::Timeout(None);
        };
        match media.poll_output() {
            Output::ToStt(pcm) => LegOutput::ToStt(pcm),
            Output::Event(event) => LegOutput::Event(LegEvent::Media(event)),
            Output::ToCaller(frame) => {
                stats.rtp_out += 1;
                LegOutput::Send {
                    wire: Wire::Rtp(frame.rtp()),
                    media: frame.marker && !frame.telephone_event,
                }
            }
            Output::Timeout(at) => LegOutput::Timeout(Some(match media_deadline {
                Some(timeout) => at.min(timeout),
                None => at,
            })),
        }
    }

    fn heard(&self, _turn: TurnId) -> Option<MediaTime> {
        // No playout receipts over RTP: what was sent is the best estimate of what was heard.
        None
    }

    fn media_stats(&self) -> Option<CallMediaStats> {
        self.media.as_ref().map(CallMedia::stats)
    }

    fn transport(&self) -> TransportKind {
        TransportKind::WebRtc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_media::codec::Encoder;
    use dialtone_media::rtp::RtpHeader;

    fn start() -> CallStart {
        CallStart {
            call_id: "webrtc-test".into(),
            agent_id: Some("demo".into()),
            to: None,
            from: None,
            mission: None,
        }
    }

    fn leg() -> WebRtcLeg {
        WebRtcLeg::new(
            start(),
            WebRtcLegConfig {
                payload_type: 111,
                ssrc: 42,
                media_timeout: Duration::from_secs(5),
            },
        )
    }

    fn opus_packet(seq: u16, encoder: &mut Encoder) -> BytesMut {
        let pcm = dialtone_media::synth::voiced(SampleRate::HZ_48000, 140.0, 960, 0);
        let mut payload = [0u8; 1275];
        let n = encoder.encode(&pcm, &mut payload).expect("encodes");
        let header = RtpHeader {
            marker: seq == 0,
            payload_type: 111,
            sequence: seq,
            timestamp: u32::from(seq) * 960,
            ssrc: 7,
        };
        let mut out = vec![0; 12 + n];
        header.write_packet(&payload[..n], &mut out).expect("sized");
        BytesMut::from(&out[..])
    }

    /// Drains the leg; returns the events and the RTP packets it sent.
    fn drain(leg: &mut WebRtcLeg) -> (Vec<LegEvent>, Vec<Vec<u8>>, Option<Instant>) {
        let mut events = Vec::new();
        let mut sent = Vec::new();
        loop {
            match leg.poll_output() {
                LegOutput::Event(e) => events.push(e),
                LegOutput::Send {
                    wire: Wire::Rtp(bytes),
                    ..
                } => sent.push(bytes.to_vec()),
                LegOutput::Send { .. } | LegOutput::ToStt(_) => {}
                LegOutput::Timeout(at) => return (events, sent, at),
            }
        }
    }

    #[test]
    fn the_leg_starts_the_call_then_takes_opus_and_sends_rtp_on_our_ssrc() {
        let t0 = Instant::now();
        let mut leg = leg();
        let (events, _, _) = drain(&mut leg);
        assert!(matches!(events.as_slice(), [LegEvent::Started(s)] if s.call_id == "webrtc-test"));
        // Before accept, media is counted and dropped.
        let mut encoder = Encoder::new(Codec::Opus {
            rate: SampleRate::HZ_48000,
        })
        .expect("opus");
        leg.handle_transport(WebRtcIn::Rtp(opus_packet(0, &mut encoder)), t0);
        assert_eq!(leg.stats().rtp_dropped, 1);

        leg.accept(CallMediaConfig::pcmu(), t0).expect("accepts");
        assert!(matches!(
            leg.accept(CallMediaConfig::pcmu(), t0),
            Err(LegError::CannotAccept)
        ));
        let mut now = t0;
        for seq in 1..50u16 {
            now += dialtone_media::FRAME;
            leg.handle_transport(WebRtcIn::Rtp(opus_packet(seq, &mut encoder)), now);
            leg.handle_timeout(now);
            let _ = drain(&mut leg);
        }
        assert_eq!(leg.stats().rtp_in, 49);
        assert!(leg.stats().rtp_out > 0, "silence goes out as RTP");
        // What goes out is RTP with the negotiated payload type and our SSRC.
        now += dialtone_media::FRAME;
        leg.handle_timeout(now);
        let (_, sent, _) = drain(&mut leg);
        let packet = sent.first().expect("a frame per tick");
        let parsed = dialtone_media::rtp::RtpPacket::parse(packet).expect("RTP");
        assert_eq!(parsed.payload_type(), 111);
        assert_eq!(parsed.ssrc(), 42);
    }

    #[test]
    fn silence_from_the_browser_for_the_media_timeout_ends_the_call_once() {
        let t0 = Instant::now();
        let mut leg = leg();
        let _ = drain(&mut leg);
        leg.accept(CallMediaConfig::pcmu(), t0).expect("accepts");
        let (_, _, at) = drain(&mut leg);
        assert!(at.is_some_and(|at| at <= t0 + Duration::from_secs(5)));
        leg.handle_timeout(t0 + Duration::from_secs(5));
        let (events, _, at) = drain(&mut leg);
        assert_eq!(events, vec![LegEvent::Ended(CallEnd::MediaTimeout)]);
        assert_eq!(at, None);
        leg.handle_transport(WebRtcIn::Ended(CallEnd::CallerHungUp), t0);
        assert!(drain(&mut leg).0.is_empty(), "one end only");
    }

    #[test]
    fn the_transport_ending_the_call_is_reported() {
        let mut leg = leg();
        let _ = drain(&mut leg);
        leg.handle_transport(WebRtcIn::Ended(CallEnd::CallerHungUp), Instant::now());
        let (events, _, _) = drain(&mut leg);
        assert_eq!(events, vec![LegEvent::Ended(CallEnd::CallerHungUp)]);
        assert!(matches!(
            leg.accept(CallMediaConfig::pcmu(), Instant::now()),
            Err(LegError::CannotAccept)
        ));
    }
}
