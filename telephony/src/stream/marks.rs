//! Marks: how we learn what the caller actually heard.
//!
//! The media engine reports [`MediaEvent::Mark`](dialtone_media::MediaEvent::Mark) when the last frame of
//! an agent chunk goes out. The session sends that frame, then a carrier `mark` named `t{turn}-m{mark}`;
//! the carrier echoes the name once the audio before it has played. A `clear` (barge-in) makes the carrier
//! drop its queued audio and echo every queued mark at once, so marks outstanding at a clear were *not*
//! heard and must not move the heard position.

use std::collections::VecDeque;
use std::fmt::Write as _;

use dialtone_media::{MediaTime, TurnId};

/// Marks awaiting their echo beyond this are forgotten, oldest first: a carrier that never echoes must
/// not grow the call's memory.
const MAX_OUTSTANDING: usize = 128;
/// Agent turns whose heard position is remembered; older turns are of no use to the dialogue.
const HEARD_TURNS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placed {
    turn: TurnId,
    mark: u64,
    /// Agent audio of the turn sent before the mark.
    played: MediaTime,
    /// A `clear` went out after this mark: its echo says nothing about what was heard.
    cleared: bool,
}

/// What a mark echo meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Echo {
    /// The caller heard `turn` up to `upto`.
    Heard { turn: TurnId, upto: MediaTime },
    /// A mark flushed by a `clear`.
    Cleared,
    /// Not a mark we are waiting for (garbled, repeated, or forgotten).
    Unknown,
}

/// Marks between the engine and the carrier, and what each turn is known to have been heard up to.
#[derive(Debug)]
pub(crate) struct Marks {
    /// Reported by the engine; sent once the frame they follow has been sent.
    waiting: Vec<Placed>,
    /// Sent, not yet echoed, oldest first.
    outstanding: VecDeque<Placed>,
    heard: VecDeque<(TurnId, MediaTime)>,
}

impl Marks {
    pub(crate) fn new() -> Self {
        Self {
            waiting: Vec::with_capacity(8),
            outstanding: VecDeque::with_capacity(MAX_OUTSTANDING),
            heard: VecDeque::with_capacity(HEARD_TURNS),
        }
    }

    /// The engine reached a mark; it goes out after the frame now being sent.
    pub(crate) fn wait_for_frame(&mut self, turn: TurnId, mark: u64, played: MediaTime) {
        self.waiting.push(Placed {
            turn,
            mark,
            played,
            cleared: false,
        });
    }

    /// Marks due now (their frame has gone): each is handed to `send` and starts waiting for its echo.
    pub(crate) fn release(&mut self, mut send: impl FnMut(TurnId, u64)) -> usize {
        let released = self.waiting.len();
        for placed in self.waiting.drain(..) {
            if self.outstanding.len() == MAX_OUTSTANDING {
                self.outstanding.pop_front();
            }
            self.outstanding.push_back(placed);
            send(placed.turn, placed.mark);
        }
        released
    }

    /// A `clear` went out: every mark sent so far will come back unheard.
    pub(crate) fn cleared(&mut self) {
        for placed in &mut self.outstanding {
            placed.cleared = true;
        }
    }

    /// The carrier echoed `name`. Carriers echo in order, so marks older than an echoed one that are still
    /// outstanding were lost and are dropped.
    pub(crate) fn echo(&mut self, name: &str) -> Echo {
        let Some((turn, mark)) = parse_name(name) else {
            return Echo::Unknown;
        };
        let Some(index) = self
            .outstanding
            .iter()
            .position(|p| p.turn == turn && p.mark == mark)
        else {
            return Echo::Unknown;
        };
        let placed = self.outstanding[index];
        self.outstanding.drain(..=index);
        if placed.cleared {
            return Echo::Cleared;
        }
        let upto = self.record(turn, placed.played);
        Echo::Heard { turn, upto }
    }

    /// Raises the heard position of `turn` to `played` (never lowers it) and returns the position.
    fn record(&mut self, turn: TurnId, played: MediaTime) -> MediaTime {
        if let Some((_, heard)) = self.heard.iter_mut().find(|(t, _)| *t == turn) {
            if played.samples() > heard.samples() {
                *heard = played;
            }
            return *heard;
        }
        if self.heard.len() == HEARD_TURNS {
            self.heard.pop_front();
        }
        self.heard.push_back((turn, played));
        played
    }

    /// The furthest echoed position of `turn`, if any of its marks has been echoed as heard.
    pub(crate) fn heard(&self, turn: TurnId) -> Option<MediaTime> {
        self.heard
            .iter()
            .find(|(t, _)| *t == turn)
            .map(|(_, heard)| *heard)
    }

    /// Marks sent and not yet echoed.
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.outstanding.len()
    }
}

/// Writes the carrier-visible name of a mark.
pub(crate) fn write_name(out: &mut String, turn: TurnId, mark: u64) {
    // Writing into a String cannot fail.
    let _ = write!(out, "t{}-m{}", turn.0, mark);
}

/// Reads a name written by [`write_name`]; anything else is `None`.
pub(crate) fn parse_name(name: &str) -> Option<(TurnId, u64)> {
    let (turn, mark) = name.strip_prefix('t')?.split_once("-m")?;
    Some((TurnId(digits(turn)?), digits(mark)?))
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use dialtone_media::SampleRate;

    fn at(samples: u64) -> MediaTime {
        MediaTime::new(samples, SampleRate::HZ_22050)
    }

    #[test]
    fn names_round_trip_and_garbage_is_rejected() {
        let mut name = String::new();
        write_name(&mut name, TurnId(3), 7);
        assert_eq!(name, "t3-m7");
        assert_eq!(parse_name(&name), Some((TurnId(3), 7)));
        for bad in [
            "",
            "t",
            "t3",
            "t3-m",
            "t-m7",
            "x3-m7",
            "t3-m7x",
            "t+3-m7",
            "t3-m-7",
            "t3 -m7",
            "t99999999999999999999-m1",
            "t٣-m7",
        ] {
            assert_eq!(parse_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn echoes_advance_heard_unless_cleared() {
        let mut marks = Marks::new();
        let mut sent = Vec::new();
        for (mark, played) in [(1, 100), (2, 200), (3, 300)] {
            marks.wait_for_frame(TurnId(1), mark, at(played));
            marks.release(|t, m| sent.push((t, m)));
        }
        assert_eq!(sent.len(), 3);
        assert_eq!(
            marks.echo("t1-m1"),
            Echo::Heard {
                turn: TurnId(1),
                upto: at(100)
            }
        );
        marks.cleared();
        assert_eq!(marks.echo("t1-m2"), Echo::Cleared);
        assert_eq!(marks.echo("t1-m3"), Echo::Cleared);
        assert_eq!(marks.echo("t1-m3"), Echo::Unknown, "echoed twice");
        assert_eq!(marks.heard(TurnId(1)), Some(at(100)));
        assert_eq!(marks.heard(TurnId(2)), None);
        assert_eq!(marks.outstanding(), 0);
    }

    #[test]
    fn a_later_echo_drops_lost_marks_and_memory_stays_bounded() {
        let mut marks = Marks::new();
        for mark in 0..1_000 {
            marks.wait_for_frame(TurnId(mark / 10), mark, at(mark));
            marks.release(|_, _| {});
        }
        assert_eq!(marks.outstanding(), MAX_OUTSTANDING);
        assert_eq!(marks.echo("t0-m0"), Echo::Unknown, "forgotten");
        assert!(matches!(marks.echo("t95-m950"), Echo::Heard { .. }));
        assert_eq!(marks.outstanding(), 49);
        assert_eq!(marks.heard.len(), 1);
        for turn in 96..100 {
            marks.echo(&format!("t{turn}-m{}", turn * 10));
        }
        assert_eq!(marks.heard(TurnId(99)), Some(at(990)));
        assert!(marks.heard.len() <= HEARD_TURNS);
    }
}
