//! [`StreamSession`]: one carrier WebSocket stream around one call's [`CallMedia`].

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use base64::Engine as _;
use dialtone_media::call_media::DtmfSource;
use dialtone_media::codec::Codec;
use dialtone_media::dtmf::Digit;
use dialtone_media::{CallMedia, CallMediaConfig, FRAME, Input, MediaEvent, Output, TurnId};
use tracing::{debug, trace};

use super::marks::{self, Echo, Marks};
use super::messages::{self, Inbound, LENIENT_BASE64, MediaBody, Num, Outbound};
use super::{
    Carrier, MediaTime, StreamError, StreamEvent, StreamOutput, StreamStart, StreamStats, cut,
};

/// Longest base64 payload taken (6 KiB decoded): carriers send 20 ms chunks, and the media engine takes
/// at most 120 ms per packet, so anything longer is refused before it is decoded.
const MAX_PAYLOAD_CHARS: usize = 8 * 1024;
/// A call loop this far behind lets the engine run (and skip) the missed ticks in one go instead of
/// stepping tick by tick.
const CATCH_UP: Duration = Duration::from_millis(100);
/// Payload type given to the engine: the WebSocket carries bare payloads, so any value does.
const DYNAMIC_PAYLOAD_TYPE: u8 = 96;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before `start`.
    Waiting,
    /// `start` received; the call loop is choosing the agent.
    Started,
    /// Media flows.
    Accepted,
    /// Rejected by the call loop: messages are ignored until the socket closes.
    Rejected,
    /// The carrier sent `stop`.
    Stopped,
}

/// Work queued for [`StreamSession::poll_output`] ahead of the engine's outputs.
#[derive(Debug)]
enum Queued {
    Event(StreamEvent),
    Mark { turn: TurnId, mark: u64 },
    Clear,
}

/// The session's state apart from the engine, so the engine can lend an output while this is updated.
#[derive(Debug)]
struct Control {
    wire: Outbound,
    /// The outbound text frame, reused for every message.
    out: String,
    queue: VecDeque<Queued>,
    marks: Marks,
    /// A `clear` went out for the current pause; the barge-in that confirms it needs none.
    cleared_for_pause: bool,
    stats: StreamStats,
}

impl Control {
    fn render(&mut self, queued: Queued) -> StreamOutput<'_> {
        match queued {
            Queued::Event(event) => StreamOutput::Event(event),
            Queued::Mark { turn, mark } => {
                self.wire
                    .mark(&mut self.out, |out| marks::write_name(out, turn, mark));
                StreamOutput::Send(&self.out)
            }
            Queued::Clear => {
                self.wire.clear(&mut self.out);
                StreamOutput::Send(&self.out)
            }
        }
    }

    /// Moves marks whose frame has gone out into the send queue.
    fn release_marks(&mut self) -> usize {
        let Self {
            marks,
            queue,
            stats,
            ..
        } = self;
        marks.release(|turn, mark| {
            stats.marks_sent += 1;
            queue.push_back(Queued::Mark { turn, mark });
        })
    }

    fn clear(&mut self) {
        self.queue.push_back(Queued::Clear);
        self.marks.cleared();
        self.stats.clears_sent += 1;
    }

    /// Side effects of an engine event on the carrier: marks after their frame, `clear` on barge-in.
    fn on_media_event(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Mark { turn, mark, played } => {
                self.marks.wait_for_frame(turn, mark, played);
            }
            MediaEvent::AgentPaused { .. } => {
                if !self.cleared_for_pause {
                    self.clear();
                }
                self.cleared_for_pause = true;
            }
            MediaEvent::AgentResumed { .. } => self.cleared_for_pause = false,
            MediaEvent::BargeIn { .. } | MediaEvent::AgentStopped { .. } => {
                if !self.cleared_for_pause {
                    self.clear();
                }
                self.cleared_for_pause = false;
            }
            _ => {}
        }
    }
}

/// Numbers caller chunks for the jitter buffer: `chunk` is the sequence number (wrapping at 2^16) and the
/// millisecond `timestamp` becomes RTP clock units. Chunks without them follow the previous one.
#[derive(Debug, Default)]
pub(super) struct RxClock {
    next_sequence: u16,
    next_timestamp: u32,
}

impl RxClock {
    /// The (sequence, RTP timestamp) of a chunk of `units` clock units.
    pub(super) fn place(
        &mut self,
        chunk: Option<Num>,
        timestamp_ms: Option<Num>,
        clock_rate: u32,
        units: usize,
    ) -> (u16, u32) {
        let sequence = chunk.map_or(self.next_sequence, |Num(chunk)| chunk as u16);
        // RTP timestamps wrap at 2^32; the millisecond clock does not, so the product is cut.
        let timestamp = timestamp_ms.map_or(self.next_timestamp, |Num(ms)| {
            (u128::from(ms) * u128::from(clock_rate) / 1000) as u32
        });
        self.next_sequence = sequence.wrapping_add(1);
        self.next_timestamp = timestamp.wrapping_add(units as u32);
        (sequence, timestamp)
    }
}

/// One carrier media stream: parses the carrier's messages, drives the call's [`CallMedia`] and writes
/// the carrier's messages back. See the [module documentation](super).
///
/// The session runs the engine one 20 ms tick per [`Self::handle_timeout`] call, so each tick's mark goes
/// out right after that tick's frame; a deadline in the past means "call again now". A loop more than
/// 100 ms behind lets the engine catch up (and skip ticks) in one call.
#[derive(Debug)]
pub struct StreamSession {
    carrier: Carrier,
    phase: Phase,
    start: Option<StreamStart>,
    media: Option<CallMedia>,
    ctl: Control,
    /// Decoded caller payload, reused.
    payload: Vec<u8>,
    rx: RxClock,
    /// The engine's next tick, once accepted.
    next_tick: Option<Instant>,
}

impl StreamSession {
    /// A session for a WebSocket the carrier just opened.
    pub fn new(carrier: Carrier) -> Self {
        Self {
            carrier,
            phase: Phase::Waiting,
            start: None,
            media: None,
            ctl: Control {
                wire: Outbound::new(carrier, ""),
                out: String::new(),
                queue: VecDeque::with_capacity(16),
                marks: Marks::new(),
                cleared_for_pause: false,
                stats: StreamStats::default(),
            },
            payload: Vec::new(),
            rx: RxClock::default(),
            next_tick: None,
        }
    }

    /// The dialect this session speaks.
    pub fn carrier(&self) -> Carrier {
        self.carrier
    }

    /// The call's `start`, once received.
    pub fn start(&self) -> Option<&StreamStart> {
        self.start.as_ref()
    }

    /// Counters so far.
    pub fn stats(&self) -> StreamStats {
        self.ctl.stats
    }

    /// The media engine, once accepted (its counters, its configuration).
    pub fn media(&self) -> Option<&CallMedia> {
        self.media.as_ref()
    }

    /// True once the carrier has sent `stop`.
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Handles one text frame received at `now`. An error concerns that frame only; the stream goes on.
    /// Unknown events and echoes of unknown marks are ignored (and counted), never errors.
    pub fn handle_message(&mut self, text: &str, now: Instant) -> Result<(), StreamError> {
        self.ctl.stats.messages += 1;
        let message = messages::parse(text)?;
        let Some(event) = &message.event else {
            return Err(StreamError::MissingField("event"));
        };
        match event.as_str() {
            "media" => self.on_media(message.media, now),
            "mark" => {
                self.on_mark_echo(&message);
                Ok(())
            }
            "connected" => {
                self.ctl
                    .queue
                    .push_back(Queued::Event(StreamEvent::Connected));
                Ok(())
            }
            "start" => self.on_start(message),
            "dtmf" => self.on_dtmf(&message, now),
            "stop" => {
                if self.phase != Phase::Stopped {
                    debug!(carrier = ?self.carrier, "stream stopped by the carrier");
                    self.phase = Phase::Stopped;
                    self.ctl
                        .queue
                        .push_back(Queued::Event(StreamEvent::Stopped));
                }
                Ok(())
            }
            "error" => {
                // Telnyx reports stream errors in-band; the details are the carrier's, not the caller's.
                self.ctl.stats.carrier_errors += 1;
                debug!(carrier = ?self.carrier, "carrier reported a stream error");
                Ok(())
            }
            _ => {
                self.ctl.stats.unknown_events += 1;
                trace!(event = %cut(event.as_str(), 32), "unknown stream event ignored");
                Ok(())
            }
        }
    }

    fn on_start(&mut self, message: Inbound<'_>) -> Result<(), StreamError> {
        if self.start.is_some() {
            return Err(StreamError::AlreadyStarted);
        }
        if self.phase != Phase::Waiting {
            // Stopped or rejected before any start: nothing to start any more.
            return Err(StreamError::Closed);
        }
        let body = message.start.ok_or(StreamError::MissingField("start"))?;
        let envelope_id = message.stream_id.as_ref().map(|id| id.as_str());
        let start = body.into_start(self.carrier, envelope_id)?;
        debug!(
            carrier = ?self.carrier,
            stream_id = %start.stream_id,
            call_id = %start.call_id,
            codec = start.codec.encoding_name(),
            "stream started"
        );
        self.ctl.wire = Outbound::new(self.carrier, &start.stream_id);
        self.phase = Phase::Started;
        self.ctl
            .queue
            .push_back(Queued::Event(StreamEvent::Started(start.clone())));
        self.start = Some(start);
        Ok(())
    }

    fn on_media(&mut self, body: Option<MediaBody<'_>>, now: Instant) -> Result<(), StreamError> {
        let Some(start) = &self.start else {
            return Err(StreamError::NotStarted);
        };
        let codec = start.codec;
        let body = body.ok_or(StreamError::MissingField("media"))?;
        if let Some(track) = &body.track
            && !is_caller_track(track.as_str())
        {
            self.ctl.stats.other_track += 1;
            return Ok(());
        }
        let payload = body
            .payload
            .as_ref()
            .ok_or(StreamError::MissingField("media.payload"))?;
        if payload.as_str().len() > MAX_PAYLOAD_CHARS {
            return Err(StreamError::PayloadTooLong(payload.as_str().len()));
        }
        self.payload.clear();
        LENIENT_BASE64.decode_vec(payload.as_str(), &mut self.payload)?;
        let (Phase::Accepted, Some(media)) = (self.phase, self.media.as_mut()) else {
            self.ctl.stats.media_dropped += 1;
            return Ok(());
        };
        let units = match codec {
            Codec::L16 { .. } => self.payload.len() / 2,
            _ => self.payload.len(),
        };
        let (sequence, timestamp) =
            self.rx
                .place(body.chunk, body.timestamp, codec.clock_rate(), units);
        trace!(
            sequence,
            timestamp,
            bytes = self.payload.len(),
            "caller media"
        );
        let input = Input::Payload {
            sequence,
            timestamp,
            payload: &self.payload,
        };
        media.handle_input(input, now)?;
        self.ctl.stats.media_in += 1;
        Ok(())
    }

    fn on_mark_echo(&mut self, message: &Inbound<'_>) {
        let name = message.mark.as_ref().and_then(|m| m.name.as_ref());
        let echo = match name {
            Some(name) => self.ctl.marks.echo(name.as_str()),
            None => Echo::Unknown,
        };
        match echo {
            Echo::Heard { turn, upto } => {
                self.ctl.stats.marks_heard += 1;
                self.ctl
                    .queue
                    .push_back(Queued::Event(StreamEvent::Heard { turn, upto }));
            }
            Echo::Cleared => self.ctl.stats.marks_cleared += 1,
            Echo::Unknown => self.ctl.stats.marks_unknown += 1,
        }
    }

    fn on_dtmf(&mut self, message: &Inbound<'_>, now: Instant) -> Result<(), StreamError> {
        if self.start.is_none() {
            return Err(StreamError::NotStarted);
        }
        let body = message
            .dtmf
            .as_ref()
            .ok_or(StreamError::MissingField("dtmf"))?;
        if let Some(track) = &body.track
            && !is_caller_track(track.as_str())
        {
            self.ctl.stats.other_track += 1;
            return Ok(());
        }
        let text = body
            .digit
            .as_ref()
            .ok_or(StreamError::MissingField("dtmf.digit"))?
            .as_str();
        let mut chars = text.chars();
        let digit = match (chars.next(), chars.next()) {
            (Some(c), None) => Digit::from_char(c),
            _ => None,
        }
        .ok_or_else(|| StreamError::BadDigit(cut(text, 16)))?;
        match self.media.as_mut() {
            Some(media) => media.handle_input(Input::Dtmf(digit), now)?,
            // A key pressed while the agent is being chosen still counts.
            None => self
                .ctl
                .queue
                .push_back(Queued::Event(StreamEvent::Media(MediaEvent::Dtmf {
                    digit,
                    source: DtmfSource::Transport,
                }))),
        }
        Ok(())
    }

    /// Answers the stream at `now` with `config`, whose codec, payload type and silence setting are
    /// replaced by the stream's: the codec comes from `start`, and a WebSocket sends nothing while the
    /// agent is quiet. RFC 4733 events cannot travel as bare payloads, so `SendDtmf` does nothing here.
    pub fn accept(&mut self, config: CallMediaConfig, now: Instant) -> Result<(), StreamError> {
        match self.phase {
            Phase::Waiting => return Err(StreamError::NotStarted),
            Phase::Started => {}
            Phase::Accepted => return Err(StreamError::AlreadyAccepted),
            Phase::Rejected | Phase::Stopped => return Err(StreamError::Closed),
        }
        let Some(start) = &self.start else {
            return Err(StreamError::NotStarted);
        };
        let codec = start.codec;
        let config = CallMediaConfig {
            codec,
            payload_type: codec.static_payload_type().unwrap_or(DYNAMIC_PAYLOAD_TYPE),
            dtmf_payload_type: None,
            send_silence: false,
            ..config
        };
        let media = CallMedia::new(config, now)?;
        // One frame's message: the envelope plus base64 (4 characters per 3 bytes) of the largest payload.
        let frame_chars = codec.frame_bytes_hint().div_ceil(3) * 4;
        self.ctl
            .out
            .reserve(self.ctl.wire.media_overhead() + frame_chars + 64);
        self.payload.reserve(MAX_PAYLOAD_CHARS / 4 * 3);
        self.media = Some(media);
        self.phase = Phase::Accepted;
        self.next_tick = Some(now);
        debug!(carrier = ?self.carrier, codec = codec.encoding_name(), "stream accepted");
        Ok(())
    }

    /// Declines the stream (no agent for the number): later messages are ignored. The call loop closes
    /// the socket; neither carrier has a message for it.
    pub fn reject(&mut self) {
        if self.phase != Phase::Stopped {
            self.phase = Phase::Rejected;
        }
        self.media = None;
        self.next_tick = None;
    }

    /// Agent audio, turn ends, hints and stops, forwarded to the media engine.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) -> Result<(), StreamError> {
        let media = self.media.as_mut().ok_or(StreamError::NotAccepted)?;
        media.handle_input(input, now)?;
        Ok(())
    }

    /// Runs the engine's next tick if it is due at `now` (see the type's documentation).
    pub fn handle_timeout(&mut self, now: Instant) {
        let (Some(media), Some(next)) = (self.media.as_mut(), self.next_tick) else {
            return;
        };
        if now < next {
            return;
        }
        let behind = now.duration_since(next);
        if behind >= CATCH_UP {
            media.handle_timeout(now);
            self.next_tick = Some(tick_after(next, now));
        } else {
            media.handle_timeout(next);
            self.next_tick = Some(next + FRAME);
        }
    }

    /// The next thing to do. Call until it returns [`StreamOutput::Timeout`].
    pub fn poll_output(&mut self) -> StreamOutput<'_> {
        self.poll_tagged(false).0
    }

    /// [`Self::poll_output`], and whether the output is a frame of agent audio. `quiet` skips the
    /// events a call loop has no use for (`Connected`, `Heard`).
    pub(super) fn poll_tagged(&mut self, quiet: bool) -> (StreamOutput<'_>, bool) {
        let Self {
            media,
            ctl,
            next_tick,
            ..
        } = self;
        while let Some(queued) = ctl.queue.pop_front() {
            if quiet
                && matches!(
                    queued,
                    Queued::Event(StreamEvent::Connected | StreamEvent::Heard { .. })
                )
            {
                continue;
            }
            return (ctl.render(queued), false);
        }
        let Some(media) = media.as_mut() else {
            return (StreamOutput::Timeout(None), false);
        };
        match media.poll_output() {
            Output::ToStt(pcm) => (StreamOutput::ToStt(pcm), false),
            Output::ToCaller(frame) => {
                ctl.wire.media(frame.payload(), &mut ctl.out);
                ctl.stats.media_out += 1;
                trace!(sequence = frame.sequence, "agent media");
                ctl.release_marks();
                (StreamOutput::Send(&ctl.out), true)
            }
            Output::Event(event) => {
                ctl.on_media_event(event);
                (StreamOutput::Event(StreamEvent::Media(event)), false)
            }
            Output::Timeout(at) => {
                *next_tick = Some(at);
                // A mark whose frame never came (the engine dropped it) goes out now rather than never.
                if ctl.release_marks() > 0
                    && let Some(queued) = ctl.queue.pop_front()
                {
                    return (ctl.render(queued), false);
                }
                (StreamOutput::Timeout(Some(at)), false)
            }
        }
    }

    /// How far into agent turn `turn` the caller has heard, from the carrier's mark echoes. Conservative:
    /// the position of the last echoed mark, so audio after it may have been heard too; marks a `clear`
    /// flushed never count. `None` until a mark of the turn comes back (or for turns long past).
    pub fn heard(&self, turn: TurnId) -> Option<MediaTime> {
        self.ctl.marks.heard(turn)
    }
}

/// True for the caller's side of the call. `both_tracks` streams also carry `outbound`, what the carrier
/// plays to the caller (our own audio).
fn is_caller_track(track: &str) -> bool {
    matches!(track, "inbound" | "inbound_track")
}

/// The first tick after `now` on the 20 ms grid through `next`.
fn tick_after(next: Instant, now: Instant) -> Instant {
    let behind = now.saturating_duration_since(next).as_nanos();
    let ticks = behind / FRAME.as_nanos() + 1;
    u32::try_from(ticks)
        .ok()
        .and_then(|ticks| FRAME.checked_mul(ticks))
        .and_then(|ahead| next.checked_add(ahead))
        .unwrap_or(now + FRAME)
}
