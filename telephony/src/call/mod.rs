//! The call loop: the one async piece of a call. It owns the transport session (which owns `CallMedia`),
//! the recogniser, the dialogue and the synthesiser, and `select!`s over the socket, the backends and the
//! next media deadline. Calls share nothing mutable.
//!
//! Latency design: the recogniser is flushed at every VAD speech stop (~240 ms after the caller's last
//! word), so the transcript is usually ready before turn-taking declares the end of the turn; a transcript
//! that reads as finished shortens that wait (`TurnHint::Complete`). The answer's first sentence goes to TTS
//! as soon as the dialogue produces it.

mod clock;
mod continuation;
mod directory;
mod leg;
mod metrics;
mod progress;
mod report;
mod run;
mod speaker;
mod timing;

pub use clock::{Clock, FixedClock, SystemClock};
pub use directory::{AgentDirectory, CallProgress, StartedCall, StaticDirectory, redact_number};
pub use leg::{
    CallLeg, CallStart, LegError, LegEvent, LegOutput, Signal, Transport, TransportClosed, Wire,
};
pub use metrics::{CallMetrics, LiveCall, TURN_LATENCY_BUCKETS, TransportKind};
pub use report::{BackendErrors, CallEnd, CallReport, Role, TranscriptEntry, WsMessage};
pub use run::{run_call, run_stream_call};
pub use timing::{TurnLatency, TurnTiming};

use std::sync::Arc;
use std::time::{Duration, Instant};

use dialtone_media::turn::{EndReason, TurnHint};
use dialtone_media::{CallMediaConfig, Input, MediaEvent, TurnId};
use tracing::{debug, info, warn};

use crate::agent::{AgentProfile, local_time, time_zone};
use crate::backend::registry::{CallProviders, ProviderRegistry, ProviderRole};
use crate::backend::{Dialogue, ReplyPart, SttEvent, SttSession};
use crate::dialogue::{Action, LocalTime};
use continuation::Continuation;
use speaker::Speaker;

/// Everything a call needs from the process: where agents are, the backends, and the time of day.
#[derive(Debug, Clone)]
pub struct CallDeps {
    /// Agent lookup.
    pub directory: Arc<dyn AgentDirectory>,
    /// The backends by name; each call takes the ones its agent names, else the process defaults.
    pub providers: ProviderRegistry,
    /// Media settings; codec and rates are filled in per call.
    pub media: CallMediaConfig,
    /// Wall-clock time, turned into the agent's local time for each turn.
    pub clock: Arc<dyn Clock>,
}

fn now() -> Instant {
    // tokio's clock, so tests on paused time drive the whole call.
    tokio::time::Instant::now().into_std()
}

struct CallState {
    deps: Arc<CallDeps>,
    agent: Option<Arc<AgentProfile>>,
    /// The agent's backends, from the call's start.
    backends: Option<CallProviders>,
    /// The agent's time zone, when it names one.
    zone: Option<jiff::tz::TimeZone>,
    stt: Option<Box<dyn SttSession>>,
    dialogue: Option<Box<dyn Dialogue>>,
    speaker: Option<Speaker>,
    next_turn: u64,
    turn_text: String,
    segments_pending: u32,
    segments_to_drop: u32,
    end_of_turn: bool,
    timing: TurnTiming,
    /// Index in `report.turns` of the answer being spoken, when it answers a caller turn.
    timing_index: Option<usize>,
    awaiting_first_frame: bool,
    hang_up_after: Option<TurnId>,
    /// A transfer the dialogue asked for, made once this turn has been spoken.
    transfer_after: Option<(TurnId, String)>,
    /// A request for the transport, sent before the loop next waits.
    signal: Option<Signal>,
    report: CallReport,
    /// Counts the call as active in the metrics from its start to its end.
    live: Option<LiveCall>,
    vad_stop: Duration,
    vad_start: Duration,
    continuation: Continuation,
    /// Listens for an answering machine's beep, on mission calls only.
    beeps: Option<dialtone_media::beep::BeepDetector>,
}

impl CallState {
    fn current_timing(&mut self) -> Option<&mut TurnTiming> {
        self.timing_index.and_then(|i| self.report.turns.get_mut(i))
    }

    fn on_start<L: CallLeg>(&mut self, start: CallStart, leg: &mut L) -> Option<CallEnd> {
        self.live = Some(CallMetrics::global().call_started(leg.transport()));
        self.report.call_id = Some(start.call_id.clone());
        self.report.from = start.from.clone();
        self.report.to = start.to.clone();
        self.report.started_at = Some(self.deps.clock.now());
        let directory = &self.deps.directory;
        let agent = start
            .agent_id
            .as_deref()
            .and_then(|id| directory.by_id(id))
            .or_else(|| start.to.as_deref().and_then(|n| directory.by_number(n)));
        let Some(agent) = agent else {
            warn!(
                to = start.to.as_deref().map(redact_number).unwrap_or_default(),
                "no agent answers this number"
            );
            return Some(CallEnd::NoAgent);
        };
        info!(agent = %agent.id, call = %start.call_id, "call started");
        self.report.agent_id = Some(agent.id.clone());
        self.report.outbound = start.mission.is_some();
        let started = StartedCall {
            call_id: start.call_id.clone(),
            from: start.from.clone(),
            to: start.to.clone(),
            started_at: self
                .report
                .started_at
                .unwrap_or_else(|| self.deps.clock.now()),
            outbound: self.report.outbound,
        };
        directory.call_started(&agent, &started);
        let backends = match self.deps.providers.for_agent(&agent.providers) {
            Ok(b) => b,
            Err(e) => {
                warn!(agent = %agent.id, error = %e, "the agent's providers are not available");
                self.report.backend_errors.count(e.role());
                return Some(CallEnd::BackendUnavailable);
            }
        };
        // File agents were checked at load; one from elsewhere may still name a zone the system lacks,
        // and the dialogue answers without "now" rather than dropping the call.
        self.zone = agent
            .timezone
            .as_deref()
            .and_then(|name| match time_zone(name) {
                Ok(zone) => Some(zone),
                Err(e) => {
                    warn!(agent = %agent.id, error = %e, "ignoring the agent's time zone");
                    None
                }
            });
        let mut config = self.deps.media.clone();
        config.stt_rate = backends.stt.rate();
        config.agent_rate = backends.tts.rate();
        if let Err(e) = leg.accept(config, now()) {
            warn!(error = %e, "could not start media");
            return Some(CallEnd::BackendUnavailable);
        }
        match backends.stt.open() {
            Ok(stt) => self.stt = Some(stt),
            Err(e) => {
                warn!(error = %e, "speech recognition unavailable");
                self.report.backend_errors.count(ProviderRole::Stt);
                return Some(CallEnd::BackendUnavailable);
            }
        }
        let mut dialogue = match start.mission {
            Some(mission) => {
                self.beeps = Some(dialtone_media::beep::BeepDetector::new());
                backends.dialogue.start_mission(Arc::clone(&agent), mission)
            }
            None => backends
                .dialogue
                .start(Arc::clone(&agent), start.from.clone()),
        };
        let greeting = dialogue.greeting();
        self.dialogue = Some(dialogue);
        self.agent = Some(agent);
        self.backends = Some(backends);
        self.speak(greeting);
        None
    }

    fn on_media<L: CallLeg>(&mut self, event: MediaEvent, leg: &mut L) -> Option<CallEnd> {
        match event {
            MediaEvent::SpeechStarted { .. } => {
                let started = now().checked_sub(self.vad_start).unwrap_or_else(now);
                self.continuation.speech_started(started);
            }
            MediaEvent::SpeechStopped { .. } => {
                if let Some(stt) = &mut self.stt {
                    stt.end_of_turn();
                    self.segments_pending += 1;
                }
                self.timing.speech_end = now().checked_sub(self.vad_stop);
            }
            MediaEvent::EndOfTurn { reason, .. } => {
                if reason == EndReason::MaxDuration
                    && let Some(stt) = &mut self.stt
                {
                    // Still "speaking" (hold music, a monologue): flush what we have.
                    stt.end_of_turn();
                    self.segments_pending += 1;
                    self.timing.speech_end = Some(now());
                }
                self.end_of_turn = true;
                self.timing.end_of_turn = Some(now());
                self.maybe_respond();
            }
            MediaEvent::Backchannel {
                turn_withdrawn: true,
            } => {
                // The burst's transcript (an "uh-huh") is not a request.
                self.segments_to_drop += 1;
            }
            MediaEvent::BargeIn { turn, played } => {
                if let Some(speaker) = self.speaker.take() {
                    let heard = leg.heard(turn).unwrap_or(played);
                    if self.continuation.barge_in(turn, heard) {
                        debug!(
                            turn = turn.0,
                            "caller went on with the interrupted sentence"
                        );
                    }
                    let text = speaker.heard_text(heard);
                    if let Some(d) = &mut self.dialogue {
                        d.interrupted(&text);
                    }
                    self.say(TranscriptEntry {
                        role: Role::Agent,
                        text,
                        interrupted: true,
                    });
                }
                self.awaiting_first_frame = false;
            }
            MediaEvent::AgentTurnDone { turn, .. } => {
                if let Some(speaker) = self.speaker.take_if(|s| s.turn == turn) {
                    self.say(TranscriptEntry {
                        role: Role::Agent,
                        text: speaker.text(),
                        interrupted: false,
                    });
                }
                if let Some((_, to)) = self.transfer_after.take_if(|(t, _)| *t == turn) {
                    self.signal = Some(Signal::Transfer { to });
                }
                if self.hang_up_after == Some(turn) {
                    return Some(CallEnd::AgentHungUp);
                }
            }
            MediaEvent::Dtmf { digit, .. } => {
                let now = self.local_now();
                let reply = self
                    .dialogue
                    .as_mut()
                    .and_then(|d| d.dtmf(digit.as_char(), now));
                if let Some(reply) = reply {
                    self.speak(reply);
                }
            }
            _ => {}
        }
        None
    }

    fn on_stt<L: CallLeg>(&mut self, event: Option<SttEvent>, leg: &mut L) {
        match event {
            Some(SttEvent::Final(text)) => {
                self.segments_pending = self.segments_pending.saturating_sub(1);
                if self.segments_to_drop > 0 {
                    self.segments_to_drop -= 1;
                    return;
                }
                let text = text.trim();
                if !text.is_empty() {
                    if !self.turn_text.is_empty() {
                        self.turn_text.push(' ');
                    }
                    self.turn_text.push_str(text);
                    let hint = turn_hint(&self.turn_text);
                    let _ = leg.handle_input(Input::TurnHint(hint), now());
                }
                self.timing.stt_final = Some(now());
                self.maybe_respond();
            }
            Some(SttEvent::Partial(_)) => {}
            Some(SttEvent::Error(e)) => {
                warn!(error = %e, "speech recognition failed");
                self.report.backend_errors.count(ProviderRole::Stt);
                self.segments_pending = self.segments_pending.saturating_sub(1);
                self.maybe_respond();
            }
            None => self.stt = None,
        }
    }

    /// Caller audio on its way to the recogniser: on mission calls, listen for a beep too.
    fn on_caller_audio(&mut self, pcm: dialtone_media::PcmSlice<'_>) {
        let beeped = self.beeps.as_mut().is_some_and(|d| d.push(pcm));
        if !beeped {
            return;
        }
        debug!("answering-machine beep heard");
        let reply = self.dialogue.as_mut().and_then(|d| d.beep());
        if let Some(reply) = reply {
            self.say(TranscriptEntry {
                role: Role::Caller,
                text: "(beep)".into(),
                interrupted: false,
            });
            self.speak(reply);
        }
    }

    /// Answers once the turn is over and every segment's transcript is in.
    fn maybe_respond(&mut self) {
        if !self.end_of_turn || self.segments_pending > 0 {
            return;
        }
        self.end_of_turn = false;
        let text = std::mem::take(&mut self.turn_text);
        if text.trim().is_empty() {
            self.timing = TurnTiming::default();
            return;
        }
        self.say(TranscriptEntry {
            role: Role::Caller,
            text: text.clone(),
            interrupted: false,
        });
        let now = self.local_now();
        let Some(dialogue) = &mut self.dialogue else {
            return;
        };
        // A sentence the caller paused in and then finished over our early answer is one request.
        let request = self.continuation.join(text);
        let reply = dialogue.respond(&request, now);
        let speech_end = self.timing.speech_end;
        self.speak(reply);
        self.continuation
            .answering(&request, speech_end, TurnId(self.next_turn - 1));
    }

    /// The time at the business, read afresh each turn: a call can run past midnight or closing time.
    fn local_now(&self) -> Option<LocalTime> {
        let zone = self.zone.as_ref()?;
        local_time(self.deps.clock.now(), zone)
    }

    /// Starts a new agent turn with `reply`, replacing whatever the agent was saying.
    fn speak(&mut self, reply: crate::backend::ReplyStream) {
        if let Some(old) = self.speaker.take() {
            let said = old.text();
            if !said.is_empty() {
                self.say(TranscriptEntry {
                    role: Role::Agent,
                    text: said,
                    interrupted: true,
                });
            }
        }
        let turn = TurnId(self.next_turn);
        self.next_turn += 1;
        self.timing_index = None;
        if self.timing.end_of_turn.is_some() || self.timing.speech_end.is_some() {
            self.report.turns.push(std::mem::take(&mut self.timing));
            self.timing_index = Some(self.report.turns.len() - 1);
        }
        self.awaiting_first_frame = true;
        self.speaker = Some(Speaker::new(turn, reply));
    }

    fn on_reply_part<L: CallLeg>(
        &mut self,
        part: Option<Result<ReplyPart, crate::backend::BackendError>>,
        leg: &mut L,
    ) {
        let Some(speaker) = &mut self.speaker else {
            return;
        };
        match part {
            Some(Ok(part)) => {
                let says = matches!(part, ReplyPart::Say(_));
                let due = speaker.on_part(part);
                if says
                    && let Some(t) = self.current_timing()
                    && t.first_text.is_none()
                {
                    t.first_text = Some(now());
                }
                self.take_actions(due);
            }
            Some(Err(e)) => {
                warn!(error = %e, "dialogue failed");
                self.report.backend_errors.count(ProviderRole::Llm);
                speaker.reply = None;
            }
            None => speaker.reply = None,
        }
        self.end_turn_if_finished(leg);
    }

    fn on_tts_chunk<L: CallLeg>(
        &mut self,
        chunk: Option<Result<dialtone_media::Pcm, crate::backend::BackendError>>,
        leg: &mut L,
    ) {
        let Some(speaker) = &mut self.speaker else {
            return;
        };
        match chunk {
            Some(Ok(pcm)) => {
                let mark = speaker.on_audio(&pcm);
                let turn = speaker.turn;
                if let Some(t) = self.current_timing()
                    && t.first_audio.is_none()
                {
                    t.first_audio = Some(now());
                }
                let input = Input::AgentAudio {
                    turn,
                    pcm: pcm.samples(),
                    mark: Some(mark),
                };
                if let Err(e) = leg.handle_input(input, now()) {
                    debug!(error = %e, "agent audio not taken");
                }
            }
            Some(Err(e)) => {
                warn!(error = %e, "speech synthesis failed");
                self.report.backend_errors.count(ProviderRole::Tts);
                let due = speaker.sentence_done();
                self.take_actions(due);
            }
            None => {
                let due = speaker.sentence_done();
                self.take_actions(due);
            }
        }
        self.end_turn_if_finished(leg);
    }

    fn end_turn_if_finished<L: CallLeg>(&mut self, leg: &mut L) {
        self.pump_tts();
        if let Some(speaker) = &self.speaker
            && speaker.finished()
        {
            let _ = leg.handle_input(Input::AgentTurnEnd(speaker.turn), now());
        }
    }

    /// Starts synthesising the next sentence when the synthesiser is idle.
    fn pump_tts(&mut self) {
        if let Some(speaker) = &mut self.speaker
            && let Some(backends) = &self.backends
            && let Some(sentence) = speaker.next_sentence()
        {
            speaker.tts = Some(backends.tts.synthesize(&sentence));
        }
    }

    fn take_actions(&mut self, actions: Vec<Action>) {
        for action in actions {
            debug!(?action, "dialogue action");
            let turn = self.speaker.as_ref().map(|s| s.turn);
            match &action {
                Action::EndCall => self.hang_up_after = turn,
                Action::Transfer { to, .. } => {
                    self.transfer_after = turn.map(|t| (t, to.clone()));
                }
                _ => {}
            }
            self.report.actions.push(action);
        }
    }
}

/// Whether the transcript so far reads as a finished sentence.
fn turn_hint(text: &str) -> TurnHint {
    let t = text.trim_end();
    let last_word = t
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_ascii_lowercase();
    if [
        "and", "but", "so", "um", "uh", "or", "because", "the", "a", "to",
    ]
    .contains(&last_word.as_str())
        || t.ends_with(',')
        || t.ends_with("...")
    {
        TurnHint::Incomplete
    } else if t.ends_with(['.', '?', '!']) {
        TurnHint::Complete
    } else {
        TurnHint::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_the_transcript() {
        assert_eq!(
            turn_hint("What time do you open on Saturday?"),
            TurnHint::Complete
        );
        assert_eq!(turn_hint("I wanted to ask about, um"), TurnHint::Incomplete);
        assert_eq!(turn_hint("I need a cleaning and..."), TurnHint::Incomplete);
        assert_eq!(turn_hint("hello there"), TurnHint::Unknown);
    }
}
