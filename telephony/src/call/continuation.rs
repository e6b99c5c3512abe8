//! Turn continuation: a caller who pauses mid-sentence ("What time do you open... on Saturday?") gets
//! answered after the first half. When they go on talking right away and cut that early answer short, the
//! two halves are one request: the next answer is to both, not a second answer to the tail alone.

use std::time::{Duration, Instant};

use dialtone_media::{MediaTime, TurnId};

/// The caller must resume within this long of the end of their last speech for it to count as the same
/// sentence; longer pauses are a new request.
const RESUME_WITHIN: Duration = Duration::from_millis(1500);
/// If the caller heard this much of the early answer, they interrupted an answer, not a misunderstanding.
const HEARD_AT_MOST: Duration = Duration::from_millis(1000);

/// Tracks the last answered caller turn and whether the next one continues it.
#[derive(Debug, Default)]
pub(super) struct Continuation {
    /// The caller turn that was last answered, and when its speech ended.
    last: Option<(String, Option<Instant>)>,
    /// The agent turn answering it.
    answer: Option<TurnId>,
    /// When the caller's current speech began.
    speech_started: Option<Instant>,
    /// Text the next caller turn continues.
    carry: Option<String>,
}

impl Continuation {
    /// The caller's turn `text`, whose speech ended at `speech_end`, is about to be answered by `answer`.
    pub(super) fn answering(&mut self, text: &str, speech_end: Option<Instant>, answer: TurnId) {
        self.last = Some((text.to_owned(), speech_end));
        self.answer = Some(answer);
    }

    /// The caller started speaking at `at`.
    pub(super) fn speech_started(&mut self, at: Instant) {
        self.speech_started = Some(at);
    }

    /// The caller cut agent turn `turn` short after hearing `heard` of it. Returns whether the next caller
    /// turn continues the last one.
    pub(super) fn barge_in(&mut self, turn: TurnId, heard: MediaTime) -> bool {
        let continues = self.answer == Some(turn)
            && heard.as_duration() <= HEARD_AT_MOST
            && match (&self.last, self.speech_started) {
                (Some((_, Some(end))), Some(start)) => {
                    start.saturating_duration_since(*end) <= RESUME_WITHIN
                }
                _ => false,
            };
        if continues {
            self.carry = self.last.take().map(|(text, _)| text);
        }
        self.answer = None;
        continues
    }

    /// The caller's next turn: `text` with the interrupted turn it continues in front, if any.
    pub(super) fn join(&mut self, text: String) -> String {
        match self.carry.take() {
            Some(before) => format!("{} {}", before.trim_end(), text.trim_start()),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use dialtone_media::SampleRate;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn heard(d: Duration) -> MediaTime {
        MediaTime::new(SampleRate::HZ_8000.samples_in(d), SampleRate::HZ_8000)
    }

    #[test]
    fn a_quick_resume_over_an_early_answer_joins_the_halves() {
        let t0 = Instant::now();
        let mut c = Continuation::default();
        c.answering("What time do you open", Some(t0), TurnId(2));
        c.speech_started(t0 + ms(900));
        assert!(c.barge_in(TurnId(2), heard(ms(300))));
        assert_eq!(
            c.join("on Saturday?".into()),
            "What time do you open on Saturday?"
        );
        // Only once.
        assert_eq!(c.join("Thanks".into()), "Thanks");
    }

    #[test]
    fn a_late_resume_or_a_long_hearing_is_a_new_request() {
        let t0 = Instant::now();
        let mut c = Continuation::default();
        c.answering("What time do you open", Some(t0), TurnId(2));
        c.speech_started(t0 + ms(2500));
        assert!(!c.barge_in(TurnId(2), heard(ms(300))));
        assert_eq!(c.join("Sunday?".into()), "Sunday?");

        c.answering("What time do you open", Some(t0), TurnId(3));
        c.speech_started(t0 + ms(500));
        assert!(!c.barge_in(TurnId(3), heard(ms(1500))));
    }

    #[test]
    fn interrupting_the_greeting_continues_nothing() {
        let t0 = Instant::now();
        let mut c = Continuation::default();
        c.speech_started(t0);
        assert!(!c.barge_in(TurnId(1), heard(ms(100))));
        assert_eq!(c.join("Hi".into()), "Hi");
    }
}
