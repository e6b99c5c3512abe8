//! [`StreamSession`] as a [`CallLeg`], and a WebSocket (any text `Stream` + `Sink`) as its [`Transport`].

use std::time::Instant;

use dialtone_media::call_media::CallMediaStats;
use dialtone_media::{CallMediaConfig, Input, MediaTime, TurnId};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tracing::debug;

use super::{Carrier, StreamEvent, StreamOutput, StreamSession};
use crate::call::{
    CallEnd, CallLeg, CallStart, LegError, LegEvent, LegOutput, Transport, TransportClosed,
    TransportKind, Wire, WsMessage,
};

/// A carrier media stream as a call leg: the session plus the socket's close.
#[derive(Debug)]
pub struct StreamLeg {
    session: StreamSession,
    carrier: Carrier,
    closed: bool,
}

impl StreamLeg {
    /// A leg for a WebSocket the carrier just opened.
    pub fn new(carrier: Carrier) -> Self {
        Self {
            session: StreamSession::new(carrier),
            carrier,
            closed: false,
        }
    }

    /// The session inside.
    pub fn session(&self) -> &StreamSession {
        &self.session
    }
}

impl CallLeg for StreamLeg {
    type In = WsMessage;

    fn handle_transport(&mut self, input: WsMessage, now: Instant) {
        match input {
            WsMessage::Text(text) => {
                if let Err(e) = self.session.handle_message(&text, now) {
                    debug!(error = %e, "ignored a bad stream message");
                }
            }
            WsMessage::Close => self.closed = true,
        }
    }

    fn accept(&mut self, config: CallMediaConfig, now: Instant) -> Result<(), LegError> {
        // Carrier streams run over TCP: packets arrive in order, so start shallow and let the buffer
        // deepen only if delivery turns out bursty. Carriers report keys out of band (`dtmf` messages);
        // tones left in the audio would count twice.
        let config = CallMediaConfig {
            jitter_initial_delay: config.jitter_min_delay,
            inband_dtmf: false,
            ..config
        };
        Ok(self.session.accept(config, now)?)
    }

    fn handle_input(&mut self, input: Input<'_>, now: Instant) -> Result<(), LegError> {
        Ok(self.session.handle_input(input, now)?)
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
    }

    fn poll_output(&mut self) -> LegOutput<'_> {
        if self.closed {
            return LegOutput::Event(LegEvent::Ended(CallEnd::TransportClosed));
        }
        match self.session.poll_tagged(true) {
            (StreamOutput::Send(text), media) => LegOutput::Send {
                wire: Wire::Text(text),
                media,
            },
            (StreamOutput::ToStt(pcm), _) => LegOutput::ToStt(pcm),
            (StreamOutput::Event(event), _) => match event {
                StreamEvent::Started(start) => LegOutput::Event(LegEvent::Started(CallStart {
                    agent_id: start.agent_id().map(str::to_owned),
                    to: start.dialled_number().map(str::to_owned),
                    from: start.caller_number().map(str::to_owned),
                    mission: None,
                    call_id: start.call_id,
                })),
                StreamEvent::Media(event) => LegOutput::Event(LegEvent::Media(event)),
                StreamEvent::Stopped => LegOutput::Event(LegEvent::Ended(CallEnd::CarrierStopped)),
                // `poll_tagged(true)` never returns these; were it to, waiting for the carrier's next
                // frame (20 ms away) is harmless.
                StreamEvent::Connected | StreamEvent::Heard { .. } => LegOutput::Timeout(None),
            },
            (StreamOutput::Timeout(at), _) => LegOutput::Timeout(at),
        }
    }

    fn heard(&self, turn: TurnId) -> Option<MediaTime> {
        self.session.heard(turn)
    }

    fn media_stats(&self) -> Option<CallMediaStats> {
        self.session.media().map(|m| m.stats())
    }

    fn transport(&self) -> TransportKind {
        match self.carrier {
            Carrier::Twilio => TransportKind::Twilio,
            Carrier::Telnyx => TransportKind::Telnyx,
        }
    }
}

/// A carrier stream as two halves, text frames in and out: for calls driven in process (tests, an
/// embedding that owns the socket). `dialtone serve` hands the call its axum WebSocket whole instead
/// (`CarrierSocket` in `http.rs`), which spares the lock a split socket adds to every frame.
#[derive(Debug)]
pub struct WsTransport<In, Out> {
    incoming: In,
    outgoing: Out,
}

impl<In, Out> WsTransport<In, Out> {
    /// The socket's two halves.
    pub fn new(incoming: In, outgoing: Out) -> Self {
        Self { incoming, outgoing }
    }
}

impl<In, Out> Transport for WsTransport<In, Out>
where
    In: Stream<Item = WsMessage> + Unpin + Send,
    Out: Sink<String> + Unpin + Send,
{
    type In = WsMessage;

    async fn recv(&mut self) -> Option<WsMessage> {
        self.incoming.next().await
    }

    async fn send(&mut self, wire: Wire<'_>) -> Result<(), TransportClosed> {
        match wire {
            Wire::Text(text) => self
                .outgoing
                .send(text.to_owned())
                .await
                .map_err(|_| TransportClosed),
            // A WebSocket leg never produces datagrams or RTP.
            Wire::Datagram { .. } | Wire::Rtp(_) => Ok(()),
        }
    }

    async fn close(&mut self, _end: CallEnd) {
        let _ = self.outgoing.close().await;
    }
}
