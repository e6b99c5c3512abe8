#![allow(clippy::unwrap_used)]

use super::*;
use crate::vad::{VadConfig, VadStateMachine};
use proptest::prelude::*;

/// Drives a VAD state machine and a turn taker over a script of (caller speaks, agent has audio) frames.
struct Harness {
    vad: VadStateMachine,
    turn: TurnTaker,
    frame: usize,
    log: Vec<(usize, TurnEvent)>,
}

impl Harness {
    fn new(config: TurnConfig) -> Self {
        Self {
            vad: VadStateMachine::new(VadConfig {
                threshold: 0.5,
                start_frames: 3,
                stop_frames: 5,
            }),
            turn: TurnTaker::new(config),
            frame: 0,
            log: Vec::new(),
        }
    }

    fn run(&mut self, frames: usize, caller: bool, agent: bool) -> &mut Self {
        for _ in 0..frames {
            let t = self.vad.step(if caller { 1.0 } else { 0.0 });
            let events = self.turn.step(t, self.vad.is_speaking(), agent);
            self.log.extend(events.iter().map(|e| (self.frame, e)));
            self.frame += 1;
        }
        self
    }

    fn events(&self) -> Vec<TurnEvent> {
        self.log.iter().map(|(_, e)| *e).collect()
    }

    fn at(&self, event: TurnEvent) -> Option<usize> {
        self.log.iter().find(|(_, e)| *e == event).map(|(f, _)| *f)
    }
}

fn config() -> TurnConfig {
    TurnConfig {
        end_of_turn_silence: Duration::from_millis(600), // 30 frames
        min_end_silence: Duration::from_millis(200),     // 10
        max_end_silence: Duration::from_millis(1_200),   // 60
        backchannel_max: Duration::from_millis(300),     // 15
        pause_on_speech: true,
        max_turn: Duration::from_secs(10), // 500
    }
}

#[test]
fn turn_ends_after_silence_threshold() {
    let mut h = Harness::new(config());
    h.run(10, false, false)
        .run(50, true, false)
        .run(40, false, false);
    assert_eq!(
        h.events(),
        vec![
            TurnEvent::UserTurnStarted,
            TurnEvent::EndOfTurn(EndReason::Silence)
        ]
    );
    // Speech frames 10..60; the last speech frame is 59, so the end comes 30 frames later.
    assert_eq!(
        h.at(TurnEvent::EndOfTurn(EndReason::Silence)),
        Some(59 + 30)
    );
}

#[test]
fn pause_between_words_does_not_end_the_turn() {
    let mut h = Harness::new(config());
    h.run(20, true, false)
        .run(20, false, false)
        .run(20, true, false)
        .run(40, false, false);
    let ends = h
        .events()
        .iter()
        .filter(|e| matches!(e, TurnEvent::EndOfTurn(_)))
        .count();
    assert_eq!(ends, 1);
    assert_eq!(
        h.at(TurnEvent::EndOfTurn(EndReason::Silence)),
        Some(59 + 30)
    );
}

#[test]
fn hints_shorten_or_lengthen_the_wait() {
    let mut h = Harness::new(config());
    h.run(20, true, false);
    h.turn.set_hint(TurnHint::Complete);
    h.run(40, false, false);
    assert_eq!(
        h.at(TurnEvent::EndOfTurn(EndReason::Silence)),
        Some(19 + 10)
    );

    let mut h = Harness::new(config());
    h.run(20, true, false);
    h.turn.set_hint(TurnHint::Incomplete);
    h.run(100, false, false);
    assert_eq!(
        h.at(TurnEvent::EndOfTurn(EndReason::Silence)),
        Some(19 + 60)
    );
}

#[test]
fn barge_in_pauses_within_a_frame_and_confirms_after_backchannel_max() {
    let mut h = Harness::new(config());
    h.run(10, false, true).run(40, true, true);
    // Speech starts at frame 10 and is declared at frame 12 (three start frames): the agent pauses then.
    assert_eq!(h.at(TurnEvent::PauseAgent), Some(12));
    assert_eq!(h.at(TurnEvent::BargeIn), Some(12 + 14));
    assert!(h.at(TurnEvent::ResumeAgent).is_none());
}

#[test]
fn backchannel_resumes_the_agent_and_opens_no_turn() {
    let mut h = Harness::new(config());
    // An 8-frame (160 ms) "uh-huh" while the agent talks.
    h.run(10, false, true)
        .run(8, true, true)
        .run(60, false, true);
    assert_eq!(
        h.events(),
        vec![
            TurnEvent::UserTurnStarted,
            TurnEvent::PauseAgent,
            TurnEvent::Backchannel {
                turn_withdrawn: true
            },
            TurnEvent::ResumeAgent
        ]
    );
    assert!(!h.turn.in_user_turn());
    assert!(!h.turn.agent_paused());
}

#[test]
fn no_pause_mode_keeps_talking_until_confirmed() {
    let mut h = Harness::new(TurnConfig {
        pause_on_speech: false,
        ..config()
    });
    h.run(10, false, true).run(40, true, true);
    assert!(h.at(TurnEvent::PauseAgent).is_none());
    assert!(h.at(TurnEvent::BargeIn).is_some());
}

#[test]
fn endless_audio_is_cut_into_max_turns() {
    let mut h = Harness::new(config());
    h.run(1_600, true, false);
    let forced: Vec<usize> = h
        .log
        .iter()
        .filter(|(_, e)| *e == TurnEvent::EndOfTurn(EndReason::MaxDuration))
        .map(|(f, _)| *f)
        .collect();
    assert_eq!(forced.len(), 3, "{forced:?}");
    assert!(forced.windows(2).all(|w| w[1] - w[0] == 500));
}

#[test]
fn agent_starting_mid_utterance_is_interrupted_by_the_ongoing_speech() {
    let mut h = Harness::new(config());
    h.run(30, true, false).run(30, true, true);
    assert_eq!(h.at(TurnEvent::PauseAgent), Some(30));
    assert_eq!(h.at(TurnEvent::BargeIn), Some(44));
}

proptest! {
    /// Whatever the caller and agent do, turns open and close in order, every pause is followed by a
    /// resume, a barge-in or the agent running out of audio before the next pause, and the machine's own
    /// state agrees with what its events said.
    #[test]
    fn events_are_well_ordered(script in proptest::collection::vec((any::<bool>(), any::<bool>(), 1usize..40), 0..60)) {
        let mut h = Harness::new(config());
        let mut in_turn = false;
        let mut paused = false;
        for (caller, agent, n) in script {
            let before = h.log.len();
            h.run(n, caller, agent);
            for &(_, e) in &h.log[before..] {
                match e {
                    TurnEvent::UserTurnStarted => { prop_assert!(!in_turn); in_turn = true; }
                    TurnEvent::EndOfTurn(_) => { prop_assert!(in_turn); in_turn = false; }
                    TurnEvent::PauseAgent => { prop_assert!(!paused); paused = true; }
                    TurnEvent::ResumeAgent => { prop_assert!(paused); paused = false; }
                    TurnEvent::BargeIn => { paused = false; }
                    TurnEvent::Backchannel { turn_withdrawn } => {
                        if turn_withdrawn { prop_assert!(in_turn); in_turn = false; }
                    }
                }
            }
            // With no agent audio left there is nothing paused.
            if !agent { paused = false; }
            prop_assert_eq!(paused, h.turn.agent_paused());
            prop_assert_eq!(in_turn, h.turn.in_user_turn());
        }
    }
}
