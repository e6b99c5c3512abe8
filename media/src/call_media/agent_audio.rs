//! The agent's outgoing speech for the current turn: queued PCM at the TTS rate, how much of it has gone
//! to the caller, the caller-visible marks inside it, and pause/flush for barge-in.

use std::collections::VecDeque;

use crate::audio::{MediaTime, SampleRate};

/// Identifies one agent turn. The call loop numbers turns upwards; audio of an older turn than the
/// current one is stale (the caller interrupted, or the dialogue moved on) and is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TurnId(pub u64);

/// What happened to a pushed chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued; `new_turn` when it started a new turn (superseding any older audio).
    Queued { new_turn: bool },
    /// Dropped: its turn is older than the current one or was interrupted.
    Stale,
}

#[derive(Debug)]
pub(crate) struct AgentAudio {
    rate: SampleRate,
    samples: VecDeque<i16>,
    turn: Option<TurnId>,
    /// Samples of the current turn sent to the caller.
    played: u64,
    /// Samples of the current turn received.
    received: u64,
    /// (position after which the mark is reached, mark) in order.
    marks: VecDeque<(u64, u64)>,
    ended: bool,
    interrupted: bool,
    done_reported: bool,
    paused: bool,
}

impl AgentAudio {
    /// One second of TTS audio preallocated: streaming TTS runs ahead of playout by a clause or so, and the
    /// queue grows (once, then keeps its capacity) if a provider sends more at a time.
    pub(crate) fn new(rate: SampleRate) -> Self {
        Self {
            rate,
            samples: VecDeque::with_capacity(rate.hz() as usize),
            turn: None,
            played: 0,
            received: 0,
            marks: VecDeque::with_capacity(64),
            ended: false,
            interrupted: false,
            done_reported: false,
            paused: false,
        }
    }

    pub(crate) fn turn(&self) -> Option<TurnId> {
        self.turn
    }

    pub(crate) fn played(&self) -> MediaTime {
        MediaTime::new(self.played, self.rate)
    }

    pub(crate) fn push(&mut self, turn: TurnId, pcm: &[i16], mark: Option<u64>) -> Pushed {
        let new_turn = match self.turn {
            Some(current) if turn < current => return Pushed::Stale,
            Some(current) if turn == current => {
                if self.interrupted {
                    return Pushed::Stale;
                }
                false
            }
            _ => {
                self.start_turn(turn);
                true
            }
        };
        self.samples.extend(pcm.iter().copied());
        self.received += pcm.len() as u64;
        if let Some(mark) = mark {
            self.marks.push_back((self.received, mark));
        }
        Pushed::Queued { new_turn }
    }

    fn start_turn(&mut self, turn: TurnId) {
        self.samples.clear();
        self.marks.clear();
        self.turn = Some(turn);
        self.played = 0;
        self.received = 0;
        self.ended = false;
        self.interrupted = false;
        self.done_reported = false;
        self.paused = false;
    }

    /// The dialogue will send no more audio for `turn`.
    pub(crate) fn end_turn(&mut self, turn: TurnId) {
        match self.turn {
            Some(current) if current == turn => self.ended = true,
            Some(current) if turn < current => {}
            _ => {
                // A turn with no audio at all (the dialogue chose silence): done at once.
                self.start_turn(turn);
                self.ended = true;
            }
        }
    }

    /// True while the agent is talking or about to: audio is queued or more is expected for a live turn.
    pub(crate) fn is_active(&self) -> bool {
        self.turn.is_some() && !self.interrupted && !(self.ended && self.samples.is_empty())
    }

    pub(crate) fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// A frame would be taken now (same rule as [`AgentAudio::take_frame`]).
    pub(crate) fn frame_ready(&self, frame: usize) -> bool {
        !self.paused
            && !self.interrupted
            && !self.samples.is_empty()
            && (self.samples.len() >= frame || self.ended)
    }

    /// Fills `out` with the next frame of agent audio. A partial frame (zero-padded) goes out only at the
    /// end of a turn; mid-turn, a TTS that has not caught up yet leaves a gap rather than a clipped word.
    /// Returns the samples of agent audio taken, or `None` when there is nothing to send.
    pub(crate) fn take_frame(&mut self, out: &mut [i16]) -> Option<usize> {
        if self.paused || self.interrupted || self.samples.is_empty() {
            return None;
        }
        if self.samples.len() < out.len() && !self.ended {
            return None;
        }
        let n = out.len().min(self.samples.len());
        for (dst, src) in out.iter_mut().zip(self.samples.drain(..n)) {
            *dst = src;
        }
        out[n..].fill(0);
        self.played += n as u64;
        Some(n)
    }

    /// The next mark the caller has now been sent all audio before.
    pub(crate) fn poll_mark(&mut self) -> Option<u64> {
        match self.marks.front() {
            Some(&(at, mark)) if at <= self.played => {
                self.marks.pop_front();
                Some(mark)
            }
            _ => None,
        }
    }

    /// Reports, once, that the current turn has played out completely.
    pub(crate) fn poll_done(&mut self) -> Option<TurnId> {
        if self.ended && !self.interrupted && self.samples.is_empty() && !self.done_reported {
            self.done_reported = true;
            return self.turn;
        }
        None
    }

    /// Drops the rest of the current turn (barge-in); later audio for it is stale.
    pub(crate) fn interrupt(&mut self) -> Option<(TurnId, MediaTime)> {
        let turn = self.turn?;
        if self.interrupted {
            return None;
        }
        self.interrupted = true;
        self.paused = false;
        self.samples.clear();
        self.marks.clear();
        Some((turn, self.played()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stale_turns_are_dropped_and_new_turns_supersede() {
        let mut q = AgentAudio::new(SampleRate::HZ_8000);
        assert_eq!(
            q.push(TurnId(2), &[1; 100], None),
            Pushed::Queued { new_turn: true }
        );
        assert_eq!(q.push(TurnId(1), &[1; 100], None), Pushed::Stale);
        assert_eq!(
            q.push(TurnId(3), &[2; 100], None),
            Pushed::Queued { new_turn: true }
        );
        assert_eq!(q.samples.len(), 100);
    }

    #[test]
    fn frames_are_whole_until_the_turn_ends() {
        let mut q = AgentAudio::new(SampleRate::HZ_8000);
        let mut out = [9i16; 160];
        q.push(TurnId(1), &[5; 250], Some(7));
        assert_eq!(q.take_frame(&mut out), Some(160));
        assert_eq!(q.take_frame(&mut out), None, "90 samples wait for more");
        q.end_turn(TurnId(1));
        assert_eq!(q.take_frame(&mut out), Some(90));
        assert_eq!(&out[88..92], &[5, 5, 0, 0]);
        assert_eq!(q.poll_mark(), Some(7));
        assert_eq!(q.poll_done(), Some(TurnId(1)));
        assert_eq!(q.poll_done(), None);
        assert!(!q.is_active());
    }

    #[test]
    fn interrupt_reports_what_was_played_and_drops_the_rest() {
        let mut q = AgentAudio::new(SampleRate::HZ_8000);
        let mut out = [0i16; 160];
        q.push(TurnId(4), &[1; 800], Some(1));
        q.take_frame(&mut out);
        q.take_frame(&mut out);
        let (turn, played) = q.interrupt().unwrap();
        assert_eq!((turn, played.samples()), (TurnId(4), 320));
        assert_eq!(q.poll_mark(), None, "the mark at 800 was never reached");
        assert_eq!(q.push(TurnId(4), &[1; 160], None), Pushed::Stale);
        assert!(!q.is_active());
        assert_eq!(q.poll_done(), None);
    }

    #[test]
    fn paused_audio_is_kept() {
        let mut q = AgentAudio::new(SampleRate::HZ_8000);
        let mut out = [0i16; 160];
        q.push(TurnId(1), &[3; 320], None);
        q.set_paused(true);
        assert_eq!(q.take_frame(&mut out), None);
        assert!(q.is_active());
        q.set_paused(false);
        assert_eq!(q.take_frame(&mut out), Some(160));
        assert_eq!(q.played().samples(), 160);
    }
}
