//! `CallMedia`: one call's media, as a sans-IO state machine.
//!
//! Feed it what arrives ([`CallMedia::handle_input`]) and the passage of time
//! ([`CallMedia::handle_timeout`]), then drain [`CallMedia::poll_output`] until it returns
//! [`Output::Timeout`], the instant it next needs to run. Every 20 ms tick it plays one frame of caller
//! audio out of the jitter buffer (to STT, VAD and turn-taking) and sends one frame of agent audio to the
//! caller. It reads no clock, owns every buffer it uses, and allocates nothing per frame in steady state.

mod agent_audio;
mod agent_tx;
mod caller_vad;
mod config;
mod events;
mod io;
mod lateness;
mod slots;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub use agent_audio::TurnId;
pub use config::CallMediaConfig;
pub use events::{CallMediaStats, DtmfSource, MediaEvent};
pub use io::{Input, MediaError, OutboundFrame, Output};
pub use lateness::{LATENESS_BOUNDS_MS, LatenessHistogram};

use io::RTP_HEADER;

use crate::audio::{FRAME, MediaTime, PcmSlice, SampleRate};
use crate::codec::{Decoder, Encoder};
use crate::dtmf::{DtmfReceiver, DtmfSender, GoertzelDetector};
use crate::jitter::{JitterBuffer, JitterConfig, JitterPacket};
use crate::resample::Resampler;
use crate::rtp::{RtpPacket, RtpSender};
use crate::turn::{TurnEvent, TurnTaker};
use crate::vad::{VadStateMachine, VadTransition};
use agent_audio::{AgentAudio, Pushed};
use caller_vad::CallerVad;
use slots::SlotRing;

/// Ticks of output held for a call loop that fell behind; beyond this, ticks are skipped.
const BACKLOG: usize = 6;
/// Longest packet we decode in one go: Opus allows 120 ms.
const MAX_PACKET_DURATION: Duration = Duration::from_millis(120);

#[derive(Debug, Clone, Copy, Default)]
struct TxMeta {
    marker: bool,
    sequence: u16,
    timestamp: u32,
    telephone_event: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lent {
    Tx,
    Stt,
}

/// One call's media engine. See the module documentation.
#[derive(Debug)]
pub struct CallMedia {
    config: CallMediaConfig,
    // Caller -> agent.
    decoder: Decoder,
    jitter: JitterBuffer,
    dtmf_rx: DtmfReceiver,
    inband: Option<GoertzelDetector>,
    to_stt: Resampler,
    vad: CallerVad,
    vad_state: VadStateMachine,
    turn: TurnTaker,
    decoded: Vec<i16>,
    caller_frame: Vec<i16>,
    stt_frame: Vec<i16>,
    caller_pos: u64,
    // Agent -> caller.
    agent: AgentAudio,
    to_caller: Resampler,
    encoder: Encoder,
    rtp: RtpSender,
    dtmf_tx: DtmfSender,
    dtmf_timestamp: u32,
    agent_frame: Vec<i16>,
    codec_frame: Vec<i16>,
    payload: Vec<u8>,
    talking: bool,
    // Outputs.
    events: VecDeque<MediaEvent>,
    tx: SlotRing<u8, TxMeta>,
    stt: SlotRing<i16, ()>,
    lent: Option<Lent>,
    /// The caller side's 20 ms grid: jitter-buffer playout, VAD, turn-taking, STT.
    next_rx: Instant,
    /// The agent side's next frame, on its own grid. `None` while nothing is being sent (transports that
    /// send nothing when quiet): the next talkspurt then starts at once instead of waiting for a tick.
    next_tx: Option<Instant>,
    /// When the agent side went idle, to advance the RTP clock across the gap.
    tx_idle_since: Option<Instant>,
    stats: CallMediaStats,
}

impl CallMedia {
    /// Media for a call answered at `now`; the first tick is at `now`.
    pub fn new(config: CallMediaConfig, now: Instant) -> Result<Self, MediaError> {
        let codec = config.codec;
        let codec_rate = codec.pcm_rate();
        let clock = SampleRate::new(codec.clock_rate()).unwrap_or(codec_rate);
        let inband = if config.inband_dtmf {
            GoertzelDetector::new(codec_rate).ok()
        } else {
            None
        };
        let jitter = JitterBuffer::new(JitterConfig {
            min_delay: config.jitter_min_delay,
            max_delay: config.jitter_max_delay,
            initial_delay: config.jitter_initial_delay,
            ..JitterConfig::for_rate(codec_rate, codec.clock_rate())
        });
        let max_packet = codec_rate.samples_in(MAX_PACKET_DURATION) as usize;
        let packet_bytes = RTP_HEADER + codec.frame_bytes_hint().max(16);
        Ok(Self {
            decoder: Decoder::new(codec)?,
            jitter,
            dtmf_rx: DtmfReceiver::new(),
            inband,
            to_stt: Resampler::new(codec_rate, config.stt_rate)?,
            vad: CallerVad::new(&config)?,
            vad_state: VadStateMachine::new(config.vad),
            turn: TurnTaker::new(config.turn),
            decoded: vec![0; max_packet],
            caller_frame: vec![0; codec_rate.frame_samples()],
            stt_frame: vec![0; config.stt_rate.frame_samples()],
            caller_pos: 0,
            agent: AgentAudio::new(config.agent_rate),
            to_caller: Resampler::new(config.agent_rate, codec_rate)?,
            encoder: Encoder::new(codec)?,
            rtp: RtpSender::new(
                config.ssrc,
                config.initial_sequence,
                config.initial_timestamp,
            ),
            dtmf_tx: DtmfSender::new(clock),
            dtmf_timestamp: 0,
            agent_frame: vec![0; config.agent_rate.frame_samples()],
            codec_frame: vec![0; codec_rate.frame_samples()],
            payload: vec![0; packet_bytes],
            talking: false,
            events: VecDeque::with_capacity(64),
            tx: SlotRing::new(BACKLOG, packet_bytes),
            stt: SlotRing::new(BACKLOG, config.stt_rate.frame_samples()),
            lent: None,
            next_rx: now,
            next_tx: config.send_silence.then_some(now),
            tx_idle_since: (!config.send_silence).then_some(now),
            stats: CallMediaStats::default(),
            config,
        })
    }

    /// The settings the call runs with.
    pub fn config(&self) -> &CallMediaConfig {
        &self.config
    }

    /// Counters so far.
    pub fn stats(&self) -> CallMediaStats {
        CallMediaStats {
            jitter: *self.jitter.stats(),
            vad_frames: self.vad.frames(),
            vad_heavy_frames: self.vad.heavy_frames(),
            vad_confirming: self.vad.confirming(),
            ..self.stats
        }
    }

    /// Delay the two resamplers add, caller->STT and agent->caller.
    pub fn resampler_delays(&self) -> (MediaTime, MediaTime) {
        (self.to_stt.delay(), self.to_caller.delay())
    }

    /// Handles one input received at `now`. Errors concern that input only; the call goes on.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) -> Result<(), MediaError> {
        let result = self.dispatch_input(input, now);
        self.wake_tx(now);
        result
    }

    fn dispatch_input(&mut self, input: Input<'_>, now: Instant) -> Result<(), MediaError> {
        match input {
            Input::Rtp(bytes) => self.on_rtp(bytes, now),
            Input::Payload {
                sequence,
                timestamp,
                payload,
            } => self.on_audio(
                self.config.ssrc ^ 1,
                sequence,
                timestamp,
                false,
                payload,
                now,
            ),
            Input::Dtmf(digit) => {
                self.events.push_back(MediaEvent::Dtmf {
                    digit,
                    source: DtmfSource::Transport,
                });
                Ok(())
            }
            Input::AgentAudio { turn, pcm, mark } => {
                match self.agent.push(turn, pcm, mark) {
                    Pushed::Stale => self.stats.stale_agent_chunks += 1,
                    Pushed::Queued { new_turn } => {
                        if new_turn {
                            // A new answer replaces whatever the agent was saying.
                            self.agent.set_paused(self.turn.agent_paused());
                        }
                    }
                }
                Ok(())
            }
            Input::AgentTurnEnd(turn) => {
                self.agent.end_turn(turn);
                Ok(())
            }
            Input::StopAgent => {
                if let Some((turn, played)) = self.agent.interrupt() {
                    self.events
                        .push_back(MediaEvent::AgentStopped { turn, played });
                }
                Ok(())
            }
            Input::TurnHint(hint) => {
                self.turn.set_hint(hint);
                Ok(())
            }
            Input::SendDtmf { digit, duration } => {
                self.dtmf_tx.start(digit, duration, 10)?;
                Ok(())
            }
        }
    }

    fn on_rtp(&mut self, bytes: &[u8], now: Instant) -> Result<(), MediaError> {
        let packet = match RtpPacket::parse(bytes) {
            Ok(p) => p,
            Err(e) => {
                self.stats.rx_errors += 1;
                return Err(e.into());
            }
        };
        let pt = packet.payload_type();
        if Some(pt) == self.config.dtmf_payload_type {
            self.stats.dtmf_packets += 1;
            let press =
                self.dtmf_rx
                    .receive(packet.timestamp(), packet.marker(), packet.payload())?;
            if let Some(press) = press {
                self.events.push_back(MediaEvent::Dtmf {
                    digit: press.digit,
                    source: DtmfSource::Rfc4733,
                });
            }
            return Ok(());
        }
        if pt != self.config.payload_type {
            self.stats.unknown_payload_types += 1;
            return Err(MediaError::UnknownPayloadType(pt));
        }
        self.on_audio(
            packet.ssrc(),
            packet.sequence(),
            packet.timestamp(),
            packet.marker(),
            packet.payload(),
            now,
        )
    }

    fn on_audio(
        &mut self,
        ssrc: u32,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        now: Instant,
    ) -> Result<(), MediaError> {
        let n = match self.decoder.decode(payload, &mut self.decoded) {
            Ok(n) => n,
            Err(e) => {
                self.stats.rx_errors += 1;
                return Err(e.into());
            }
        };
        self.stats.rx_packets += 1;
        let packet = JitterPacket {
            ssrc,
            sequence,
            timestamp,
            marker,
            samples: &self.decoded[..n],
        };
        self.jitter.push(packet, now);
        Ok(())
    }

    /// Runs every tick due at `now`, caller and agent side in time order, so a pause decided on a caller
    /// tick holds the agent's audio from the next agent tick on.
    pub fn handle_timeout(&mut self, now: Instant) {
        loop {
            self.wake_tx(now);
            let rx_due = self.next_rx <= now;
            let tx_due = self.next_tx.is_some_and(|t| t <= now);
            match (rx_due, tx_due) {
                (false, false) => break,
                (true, false) => self.run_rx_tick(),
                (false, true) => self.run_tx_tick(now),
                (true, true) => {
                    if self.next_tx.is_some_and(|t| t < self.next_rx) {
                        self.run_tx_tick(now);
                    } else {
                        self.run_rx_tick();
                    }
                }
            }
        }
    }

    fn run_rx_tick(&mut self) {
        let tick = self.next_rx;
        self.next_rx += FRAME;
        if self.stt.is_full() {
            self.stats.skipped_ticks += 1;
            return;
        }
        self.caller_tick(tick);
    }

    fn run_tx_tick(&mut self, now: Instant) {
        let Some(tick) = self.next_tx else {
            return;
        };
        self.next_tx = Some(tick + FRAME);
        if self.tx.is_full() {
            self.stats.skipped_ticks += 1;
            return;
        }
        self.stats
            .tx_lateness
            .record(now.saturating_duration_since(tick));
        self.agent_tick(tick);
    }

    /// Starts the agent side at `now` when it is idle and has something to send.
    fn wake_tx(&mut self, now: Instant) {
        if self.next_tx.is_some() {
            return;
        }
        let ready = self.dtmf_tx.is_active() || self.agent.frame_ready(self.agent_frame.len());
        if !ready {
            return;
        }
        if let Some(since) = self.tx_idle_since.take() {
            // The RTP clock runs on through silence that is not sent.
            let clock =
                SampleRate::new(self.config.codec.clock_rate()).unwrap_or(SampleRate::HZ_8000);
            let gap = clock.samples_in(now.saturating_duration_since(since));
            self.rtp.advance_timestamp(gap as u32);
        }
        self.next_tx = Some(now);
    }

    /// The next thing to do. Call until it returns [`Output::Timeout`].
    pub fn poll_output(&mut self) -> Output<'_> {
        match self.lent.take() {
            Some(Lent::Tx) => self.tx.pop(),
            Some(Lent::Stt) => self.stt.pop(),
            None => {}
        }
        if let Some(event) = self.events.pop_front() {
            return Output::Event(event);
        }
        if let Some((samples, ())) = self.stt.front() {
            self.lent = Some(Lent::Stt);
            return Output::ToStt(PcmSlice {
                rate: self.config.stt_rate,
                samples,
            });
        }
        if let Some((packet, meta)) = self.tx.front() {
            self.lent = Some(Lent::Tx);
            return Output::ToCaller(OutboundFrame {
                packet,
                marker: meta.marker,
                sequence: meta.sequence,
                timestamp: meta.timestamp,
                telephone_event: meta.telephone_event,
            });
        }
        let next = match self.next_tx {
            Some(tx) => tx.min(self.next_rx),
            None => self.next_rx,
        };
        Output::Timeout(next)
    }

    fn caller_tick(&mut self, now: Instant) {
        self.jitter.pop(now, &mut self.caller_frame);
        if let Some(detector) = &mut self.inband {
            detector.process(&self.caller_frame);
            while let Some(found) = detector.poll_digit() {
                self.events.push_back(MediaEvent::Dtmf {
                    digit: found.digit,
                    source: DtmfSource::InBand,
                });
            }
        }
        if self
            .to_stt
            .process(&self.caller_frame, &mut self.stt_frame)
            .is_err()
        {
            // Frame sizes are fixed at construction, so this cannot happen; silence is the safe answer.
            self.stt_frame.fill(0);
        }
        let probability = self
            .vad
            .speech_probability(&self.caller_frame, &self.stt_frame);
        let transition = self.vad_state.step(probability);
        let frame = self.config.stt_rate.frame_samples() as u64;
        let rate = self.config.stt_rate;
        let mut turn_start = MediaTime::new(self.caller_pos, rate);
        match transition {
            VadTransition::SpeechStarted { frames_ago } => {
                let at = self
                    .caller_pos
                    .saturating_sub(u64::from(frames_ago) * frame);
                turn_start = MediaTime::new(at, rate);
                self.events
                    .push_back(MediaEvent::SpeechStarted { at: turn_start });
            }
            VadTransition::SpeechStopped { frames_ago } => {
                let at = (self.caller_pos + frame).saturating_sub(u64::from(frames_ago) * frame);
                self.events.push_back(MediaEvent::SpeechStopped {
                    at: MediaTime::new(at, rate),
                });
            }
            VadTransition::None => {}
        }
        let decisions = self.turn.step(
            transition,
            self.vad_state.is_speaking(),
            self.agent.is_active(),
        );
        for decision in decisions.iter() {
            self.apply_turn_event(decision, turn_start);
        }
        if let Some((slot, ())) = self.stt.push() {
            slot.extend_from_slice(&self.stt_frame);
        }
        self.caller_pos += frame;
    }

    fn apply_turn_event(&mut self, decision: TurnEvent, turn_start: MediaTime) {
        let turn = self.agent.turn().unwrap_or_default();
        let event = match decision {
            TurnEvent::UserTurnStarted => MediaEvent::UserTurnStarted { at: turn_start },
            TurnEvent::PauseAgent => {
                self.agent.set_paused(true);
                MediaEvent::AgentPaused {
                    turn,
                    played: self.agent.played(),
                }
            }
            TurnEvent::ResumeAgent => {
                self.agent.set_paused(false);
                MediaEvent::AgentResumed {
                    turn,
                    from: self.agent.played(),
                }
            }
            TurnEvent::Backchannel { turn_withdrawn } => MediaEvent::Backchannel { turn_withdrawn },
            TurnEvent::BargeIn => match self.agent.interrupt() {
                Some((turn, played)) => MediaEvent::BargeIn { turn, played },
                None => return,
            },
            TurnEvent::EndOfTurn(reason) => MediaEvent::EndOfTurn {
                reason,
                at: MediaTime::new(self.caller_pos, self.config.stt_rate),
            },
        };
        self.events.push_back(event);
    }
}

#[cfg(test)]
mod tests;
