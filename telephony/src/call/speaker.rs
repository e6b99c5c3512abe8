//! The agent's side of one turn: reply parts in, sentences through TTS, audio chunks out, and the record
//! of which words sit where in the audio, so an interruption keeps only what the caller heard.

use std::collections::VecDeque;

use dialtone_media::{MediaTime, Pcm, TurnId};

use crate::backend::{ReplyPart, ReplyStream, TtsStream};
use crate::dialogue::Action;

/// A sentence and where its audio sits in the turn (samples at the TTS rate).
#[derive(Debug, Clone)]
struct Spoken {
    text: String,
    start: u64,
    end: Option<u64>,
}

/// One agent turn in progress.
pub(crate) struct Speaker {
    pub(crate) turn: TurnId,
    pub(crate) reply: Option<ReplyStream>,
    pub(crate) tts: Option<TtsStream>,
    queue: VecDeque<String>,
    /// Actions waiting for the sentences before them to be spoken: (sentences before it, action).
    actions: VecDeque<(usize, Action)>,
    spoken: Vec<Spoken>,
    samples: u64,
    next_mark: u64,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("turn", &self.turn)
            .field("queued", &self.queue.len())
            .field("spoken", &self.spoken.len())
            .finish()
    }
}

impl Speaker {
    pub(crate) fn new(turn: TurnId, reply: ReplyStream) -> Self {
        Self {
            turn,
            reply: Some(reply),
            tts: None,
            queue: VecDeque::new(),
            actions: VecDeque::new(),
            spoken: Vec::new(),
            samples: 0,
            next_mark: 0,
        }
    }

    /// Takes a reply part; returns the actions that are due now (nothing left to say before them).
    pub(crate) fn on_part(&mut self, part: ReplyPart) -> Vec<Action> {
        match part {
            ReplyPart::Say(text) => {
                for s in crate::backend::sentences(&text) {
                    self.queue.push_back(s.to_owned());
                }
                Vec::new()
            }
            ReplyPart::Do(action) => {
                let before = self.spoken.len() + self.queue.len();
                self.actions.push_back((before, action));
                self.due_actions()
            }
        }
    }

    /// The next sentence to synthesise, when TTS is idle.
    pub(crate) fn next_sentence(&mut self) -> Option<String> {
        if self.tts.is_some() {
            return None;
        }
        let text = self.queue.pop_front()?;
        self.spoken.push(Spoken {
            text: text.clone(),
            start: self.samples,
            end: None,
        });
        Some(text)
    }

    /// A chunk of the current sentence's audio; returns the mark to tag it with.
    pub(crate) fn on_audio(&mut self, pcm: &Pcm) -> u64 {
        self.samples += pcm.len() as u64;
        self.next_mark += 1;
        self.next_mark
    }

    /// The current sentence's audio is complete; returns actions now due.
    pub(crate) fn sentence_done(&mut self) -> Vec<Action> {
        self.tts = None;
        if let Some(last) = self.spoken.last_mut() {
            last.end = Some(self.samples);
        }
        self.due_actions()
    }

    fn due_actions(&mut self) -> Vec<Action> {
        let said = self.spoken.iter().filter(|s| s.end.is_some()).count();
        let mut due = Vec::new();
        while self
            .actions
            .front()
            .is_some_and(|(before, _)| *before <= said)
        {
            if let Some((_, a)) = self.actions.pop_front() {
                due.push(a);
            }
        }
        due
    }

    /// Nothing more will be said in this turn.
    pub(crate) fn finished(&self) -> bool {
        self.reply.is_none() && self.tts.is_none() && self.queue.is_empty()
    }

    /// Everything said in this turn.
    pub(crate) fn text(&self) -> String {
        self.spoken
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The words the caller heard, given how much audio reached them: whole sentences, plus the share of
    /// the words of a sentence cut off midway.
    pub(crate) fn heard_text(&self, heard: MediaTime) -> String {
        let upto = heard.samples();
        let mut words: Vec<&str> = Vec::new();
        for s in &self.spoken {
            if upto <= s.start {
                break;
            }
            let end = s.end.unwrap_or(self.samples).max(s.start + 1);
            let sentence_words: Vec<&str> = s.text.split_whitespace().collect();
            if upto >= end {
                words.extend(sentence_words);
            } else {
                let share = (upto - s.start) as f64 / (end - s.start) as f64;
                let n = (sentence_words.len() as f64 * share).floor() as usize;
                words.extend(&sentence_words[..n]);
            }
        }
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::backend::ready_reply;
    use dialtone_media::SampleRate;

    #[test]
    fn heard_text_keeps_whole_sentences_and_a_share_of_the_cut_one() {
        let mut s = Speaker::new(TurnId(1), ready_reply(vec![]));
        s.on_part(ReplyPart::Say(
            "One two three four. Five six seven eight.".into(),
        ));
        for _ in 0..2 {
            s.next_sentence().unwrap();
            s.on_audio(&Pcm::new(SampleRate::HZ_8000, vec![0; 800]));
            s.sentence_done();
        }
        let at = |n| MediaTime::new(n, SampleRate::HZ_8000);
        assert_eq!(s.heard_text(at(0)), "");
        assert_eq!(s.heard_text(at(800)), "One two three four.");
        assert_eq!(s.heard_text(at(1200)), "One two three four. Five six");
        assert_eq!(s.heard_text(at(5000)), s.text());
    }

    #[test]
    fn actions_wait_for_the_words_before_them() {
        let mut s = Speaker::new(TurnId(1), ready_reply(vec![]));
        s.on_part(ReplyPart::Say("Goodbye.".into()));
        assert!(s.on_part(ReplyPart::Do(Action::EndCall)).is_empty());
        s.next_sentence().unwrap();
        s.on_audio(&Pcm::new(SampleRate::HZ_8000, vec![0; 80]));
        assert_eq!(s.sentence_done(), vec![Action::EndCall]);
    }
}
