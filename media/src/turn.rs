//! Turn-taking: when the caller's turn ends, when the caller interrupts the agent, and when a short
//! "uh-huh" should not interrupt at all. Counted in 20 ms frames, fed by the VAD state machine.
//!
//! Caller speech over agent audio pauses the agent at once (within one frame), so the caller is not talked
//! over while we decide. A burst that outlasts [`TurnConfig::backchannel_max`] is a barge-in: the agent's
//! pending audio is dropped. A shorter burst was a backchannel: the agent resumes where it paused.

use std::time::Duration;

use crate::vad::{VadTransition, frames_in};

/// Thresholds for turn decisions. Durations are rounded up to whole frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnConfig {
    /// Silence after the caller's last speech that ends the turn when nothing hints otherwise.
    pub end_of_turn_silence: Duration,
    /// Silence that ends the turn when the transcript looks finished ([`TurnHint::Complete`]).
    pub min_end_silence: Duration,
    /// Silence that ends the turn when the transcript looks unfinished ([`TurnHint::Incomplete`]).
    pub max_end_silence: Duration,
    /// Caller bursts over agent audio shorter than this are backchannels and do not interrupt.
    pub backchannel_max: Duration,
    /// Pause agent audio as soon as the caller speaks over it, before the barge-in is confirmed.
    pub pause_on_speech: bool,
    /// A caller turn longer than this ends anyway, so hold music or an IVR prompt never stalls the call.
    pub max_turn: Duration,
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            end_of_turn_silence: Duration::from_millis(700),
            min_end_silence: Duration::from_millis(300),
            max_end_silence: Duration::from_millis(1_500),
            backchannel_max: Duration::from_millis(400),
            pause_on_speech: true,
            max_turn: Duration::from_secs(30),
        }
    }
}

/// What the transcript so far suggests about the caller's turn, from STT or the dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TurnHint {
    /// No opinion: use [`TurnConfig::end_of_turn_silence`].
    #[default]
    Unknown,
    /// Reads as a finished sentence or question: end sooner.
    Complete,
    /// Trails off ("and...", "um"): wait longer.
    Incomplete,
}

/// Why a caller turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The caller stopped speaking long enough.
    Silence,
    /// The turn hit [`TurnConfig::max_turn`] (hold music, IVR audio, a monologue).
    MaxDuration,
}

/// Decisions from one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEvent {
    /// The caller began a turn.
    UserTurnStarted,
    /// Caller speech over agent audio: stop sending agent audio now, keep it for a possible resume.
    PauseAgent,
    /// The overlap was a backchannel: continue the agent's audio where it paused.
    ResumeAgent,
    /// A caller burst over agent audio ended short: not an interruption. If the burst had opened a caller
    /// turn, that turn is withdrawn (no end of turn follows; its transcript is a backchannel, not a request).
    Backchannel {
        /// The caller turn opened by this burst is withdrawn.
        turn_withdrawn: bool,
    },
    /// The caller really interrupted: drop the agent's pending audio.
    BargeIn,
    /// The caller's turn is over.
    EndOfTurn(EndReason),
}

/// Up to four events from one frame, without allocating.
#[derive(Debug, Clone, Copy, Default)]
pub struct TurnEvents {
    events: [Option<TurnEvent>; 4],
    len: usize,
}

impl TurnEvents {
    fn push(&mut self, event: TurnEvent) {
        // Four is the most one frame can produce (pause, turn start, barge-in, end); more is a logic error
        // that we would rather drop than panic on in a live call.
        if let Some(slot) = self.events.get_mut(self.len) {
            *slot = Some(event);
            self.len += 1;
        }
    }

    /// The events in order.
    pub fn iter(&self) -> impl Iterator<Item = TurnEvent> + '_ {
        self.events[..self.len].iter().flatten().copied()
    }

    /// True when the frame decided nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserState {
    Idle,
    InTurn {
        /// Frames since the turn started.
        frames: u32,
        /// Frames since the last speech frame, once speech has stopped.
        silence: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Burst {
    /// Frames of this burst that overlapped agent audio.
    overlap: u32,
    /// The overlap was judged a barge-in already.
    confirmed: bool,
    /// This burst opened the caller turn (so a backchannel verdict discards the turn).
    opened_turn: bool,
}

/// The turn-taking state machine for one call.
#[derive(Debug, Clone)]
pub struct TurnTaker {
    config: TurnConfig,
    end_frames: [u32; 3],
    backchannel_frames: u32,
    max_turn_frames: u32,
    hint: TurnHint,
    user: UserState,
    burst: Option<Burst>,
    agent_paused: bool,
}

impl TurnTaker {
    /// A turn taker with nobody speaking.
    pub fn new(config: TurnConfig) -> Self {
        Self {
            end_frames: [
                frames_in(config.end_of_turn_silence),
                frames_in(config.min_end_silence),
                frames_in(config.max_end_silence),
            ],
            backchannel_frames: frames_in(config.backchannel_max),
            max_turn_frames: frames_in(config.max_turn),
            config,
            hint: TurnHint::Unknown,
            user: UserState::Idle,
            burst: None,
            agent_paused: false,
        }
    }

    /// The thresholds in force.
    pub fn config(&self) -> &TurnConfig {
        &self.config
    }

    /// True while the caller is in a turn (speaking or within the end-of-turn silence).
    pub fn in_user_turn(&self) -> bool {
        matches!(self.user, UserState::InTurn { .. })
    }

    /// True while agent audio is held back for a possible backchannel.
    pub fn agent_paused(&self) -> bool {
        self.agent_paused
    }

    /// Updates the end-of-turn silence for the current turn from what the transcript suggests.
    pub fn set_hint(&mut self, hint: TurnHint) {
        self.hint = hint;
    }

    /// Advances one frame. `transition` and `speaking` come from the VAD state machine for this frame;
    /// `agent_active` is true while agent audio is queued or playing (paused counts).
    pub fn step(
        &mut self,
        transition: VadTransition,
        speaking: bool,
        agent_active: bool,
    ) -> TurnEvents {
        let mut out = TurnEvents::default();
        match transition {
            VadTransition::SpeechStarted { frames_ago } => {
                self.on_speech_started(frames_ago, &mut out)
            }
            VadTransition::SpeechStopped { frames_ago } => {
                self.on_speech_stopped(frames_ago, &mut out)
            }
            VadTransition::None => {}
        }
        if speaking {
            self.on_speech_frame(agent_active, &mut out);
        } else if let UserState::InTurn { silence, .. } = &mut self.user
            && !matches!(transition, VadTransition::SpeechStopped { .. })
        {
            *silence += 1;
        }
        if !agent_active {
            self.agent_paused = false;
        }
        self.check_turn_end(speaking, &mut out);
        out
    }

    fn on_speech_started(&mut self, frames_ago: u32, out: &mut TurnEvents) {
        let opened_turn = match &mut self.user {
            UserState::Idle => {
                self.user = UserState::InTurn {
                    frames: frames_ago,
                    silence: 0,
                };
                self.hint = TurnHint::Unknown;
                out.push(TurnEvent::UserTurnStarted);
                true
            }
            UserState::InTurn { silence, .. } => {
                *silence = 0;
                false
            }
        };
        self.burst = Some(Burst {
            overlap: 0,
            confirmed: false,
            opened_turn,
        });
    }

    fn on_speech_frame(&mut self, agent_active: bool, out: &mut TurnEvents) {
        let Some(burst) = &mut self.burst else {
            return;
        };
        if !agent_active || burst.confirmed {
            return;
        }
        if burst.overlap == 0 && self.config.pause_on_speech && !self.agent_paused {
            self.agent_paused = true;
            out.push(TurnEvent::PauseAgent);
        }
        burst.overlap += 1;
        if burst.overlap >= self.backchannel_frames {
            burst.confirmed = true;
            self.agent_paused = false;
            out.push(TurnEvent::BargeIn);
        }
    }

    fn on_speech_stopped(&mut self, frames_ago: u32, out: &mut TurnEvents) {
        let burst = self.burst.take();
        if let Some(b) = burst.filter(|b| b.overlap > 0 && !b.confirmed) {
            out.push(TurnEvent::Backchannel {
                turn_withdrawn: b.opened_turn,
            });
            if self.agent_paused {
                self.agent_paused = false;
                out.push(TurnEvent::ResumeAgent);
            }
            if b.opened_turn {
                self.user = UserState::Idle;
                return;
            }
        }
        if let UserState::InTurn { silence, .. } = &mut self.user {
            *silence = frames_ago;
        }
    }

    fn check_turn_end(&mut self, speaking: bool, out: &mut TurnEvents) {
        let UserState::InTurn { frames, silence } = &mut self.user else {
            return;
        };
        *frames += 1;
        let end_frames = match self.hint {
            TurnHint::Unknown => self.end_frames[0],
            TurnHint::Complete => self.end_frames[1],
            TurnHint::Incomplete => self.end_frames[2],
        };
        if !speaking && *silence >= end_frames {
            self.user = UserState::Idle;
            self.burst = None;
            out.push(TurnEvent::EndOfTurn(EndReason::Silence));
        } else if *frames >= self.max_turn_frames {
            out.push(TurnEvent::EndOfTurn(EndReason::MaxDuration));
            // Whatever is still playing (hold music) opens the next turn at once, so a forced end comes
            // again every `max_turn` for as long as it lasts.
            self.hint = TurnHint::Unknown;
            if speaking {
                self.user = UserState::InTurn {
                    frames: 0,
                    silence: 0,
                };
                out.push(TurnEvent::UserTurnStarted);
            } else {
                self.user = UserState::Idle;
            }
        }
    }

    /// Forgets the current turn, as after a stream restart.
    pub fn reset(&mut self) {
        self.user = UserState::Idle;
        self.burst = None;
        self.agent_paused = false;
        self.hint = TurnHint::Unknown;
    }
}

#[cfg(test)]
mod tests;
