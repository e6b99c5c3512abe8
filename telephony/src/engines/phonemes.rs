//! Text to Piper phoneme ids: clauses split on punctuation, IPA from the `espeak-ng` program, ids from the
//! voice's `phoneme_id_map`.
//!
//! espeak-ng is GPL-3, so it runs as a separate program (Debian `espeak-ng`) and is never linked. Piper's
//! own phonemizer asks the espeak library for IPA clause by clause and appends each clause's punctuation;
//! the program prints one line of IPA per clause but drops the punctuation, so we split the text into
//! clauses ourselves, phonemize each, and put its punctuation back.

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::{Command, Stdio};

/// Why text could not be turned into phonemes.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PhonemeError {
    /// The espeak-ng program could not run.
    #[error("cannot run {program:?} ({detail}); install the Debian package `espeak-ng`")]
    Program {
        /// The program.
        program: String,
        /// What happened.
        detail: String,
    },
    /// espeak-ng ran but failed.
    #[error("espeak-ng failed on {text:?}: {detail}")]
    Failed {
        /// The clause.
        text: String,
        /// Its exit status and error output.
        detail: String,
    },
    /// The voice's phoneme map lacks a symbol Piper always uses.
    #[error("the voice's phoneme_id_map has no {0:?}")]
    MissingSymbol(&'static str),
}

/// One clause of text and the punctuation that ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clause<'a> {
    /// The words, without the ending punctuation.
    pub text: &'a str,
    /// `,` `;` `:` `.` `?` or `!`, when the clause ended with one.
    pub terminator: Option<char>,
}

/// Splits text into clauses at `, ; : . ? !` followed by a space or the end ("9.30" and "1,000" stay
/// whole). Each clause is synthesised on its own, so the first one can play while the rest is made.
pub fn clauses(text: &str) -> Vec<Clause<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        if matches!(c, ',' | ';' | ':' | '.' | '?' | '!') && next.is_none_or(char::is_whitespace) {
            // "Dr." and "St." do not end a clause.
            let abbreviation = c == '.'
                && ["Dr", "St", "Mr", "Ms", "Mrs", "Ste", "No"]
                    .iter()
                    .any(|a| text[start..i].trim_end().ends_with(a));
            if !abbreviation {
                push_clause(&mut out, &text[start..i], Some(c));
                start = i + c.len_utf8();
            }
        }
    }
    push_clause(&mut out, &text[start..], None);
    out
}

fn push_clause<'a>(out: &mut Vec<Clause<'a>>, text: &'a str, terminator: Option<char>) {
    let text = text
        .trim()
        .trim_end_matches(['.', ',', ';', ':', '?', '!'])
        .trim_end();
    // Repeated punctuation ("Wait...") or a lone terminator adds nothing speakable.
    if text.chars().any(char::is_alphanumeric) {
        out.push(Clause { text, terminator });
    } else if let (Some(last), Some(t)) = (out.last_mut(), terminator)
        && last.terminator.is_none()
    {
        last.terminator = Some(t);
    }
}

/// The espeak-ng program, for one voice (Piper's config names it: `en-us`).
#[derive(Debug, Clone)]
pub struct Espeak {
    program: String,
    voice: String,
}

impl Espeak {
    /// espeak-ng (or `$DIALTONE_ESPEAK`) speaking `voice`.
    pub fn new(voice: impl Into<String>) -> Self {
        Self {
            program: std::env::var("DIALTONE_ESPEAK").unwrap_or_else(|_| "espeak-ng".to_owned()),
            voice: voice.into(),
        }
    }

    /// The IPA of one clause, as espeak-ng prints it (stress marks included, language-switch marks such
    /// as `(fr)` removed). The text goes through standard input, so nothing in it is read as an option.
    pub fn ipa(&self, text: &str) -> Result<String, PhonemeError> {
        let program_err = |e: io::Error| PhonemeError::Program {
            program: self.program.clone(),
            detail: e.to_string(),
        };
        let mut child = Command::new(&self.program)
            .args(["-q", "--ipa", "--stdin", "-v", &self.voice])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(program_err)?;
        {
            let mut stdin = child.stdin.take().expect("stdin was piped");
            stdin.write_all(text.as_bytes()).map_err(program_err)?;
        }
        let out = child.wait_with_output().map_err(program_err)?;
        if !out.status.success() {
            return Err(PhonemeError::Failed {
                text: text.to_owned(),
                detail: format!(
                    "{}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            });
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        Ok(strip_language_flags(
            &stdout.split_whitespace().collect::<Vec<_>>().join(" "),
        ))
    }
}

/// Removes espeak's language-switch marks, `(fr)` ... `(en)`, which are not phonemes.
fn strip_language_flags(ipa: &str) -> String {
    let mut out = String::with_capacity(ipa.len());
    let mut rest = ipa;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(')') {
            Some(close)
                if after[..close]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                rest = &after[close + 1..];
            }
            _ => {
                out.push('(');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Piper's phoneme-to-id table, with its pad, begin and end symbols.
#[derive(Debug, Clone)]
pub struct PhonemeIds {
    map: HashMap<char, Vec<i64>>,
    pad: Vec<i64>,
    bos: Vec<i64>,
    eos: Vec<i64>,
}

impl PhonemeIds {
    /// From the config's `phoneme_id_map` (each key one character).
    pub fn new(map: HashMap<String, Vec<i64>>) -> Result<Self, PhonemeError> {
        let map: HashMap<char, Vec<i64>> = map
            .into_iter()
            .filter_map(|(k, v)| {
                let mut chars = k.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some((c, v)),
                    _ => None,
                }
            })
            .collect();
        let get = |sym: &'static str, c: char| {
            map.get(&c).cloned().ok_or(PhonemeError::MissingSymbol(sym))
        };
        Ok(Self {
            pad: get("_", '_')?,
            bos: get("^", '^')?,
            eos: get("$", '$')?,
            map,
        })
    }

    /// Ids for one utterance as Piper builds them: BOS, pad, then each phoneme followed by pad, then
    /// EOS. Characters outside the map are skipped (and logged), as Piper does.
    pub fn ids(&self, phonemes: &str, into: &mut Vec<i64>) {
        into.clear();
        into.extend_from_slice(&self.bos);
        into.extend_from_slice(&self.pad);
        for c in phonemes.chars() {
            match self.map.get(&c) {
                Some(ids) => {
                    into.extend_from_slice(ids);
                    into.extend_from_slice(&self.pad);
                }
                None => tracing::debug!(phoneme = %c, "phoneme not in the voice's map; skipped"),
            }
        }
        into.extend_from_slice(&self.eos);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn engines_phonemes_clauses_split_on_punctuation_not_numbers() {
        let c = clauses("On Saturday, we open at 9.30; Dr. Lopez sees 1,000 people! Ok?");
        let texts: Vec<(&str, Option<char>)> = c.iter().map(|c| (c.text, c.terminator)).collect();
        assert_eq!(
            texts,
            vec![
                ("On Saturday", Some(',')),
                ("we open at 9.30", Some(';')),
                ("Dr. Lopez sees 1,000 people", Some('!')),
                ("Ok", Some('?')),
            ]
        );
        let tail: Vec<_> = clauses("Wait ... what").iter().map(|c| c.text).collect();
        assert_eq!(tail, vec!["Wait", "what"]);
        assert!(clauses("  ").is_empty());
        assert_eq!(clauses("Hi").first().unwrap().terminator, None);
    }

    #[test]
    fn engines_phonemes_language_flags_are_dropped() {
        assert_eq!(strip_language_flags("kæfˈeɪ (fr)ʁɛ(en) ok"), "kæfˈeɪ ʁɛ ok");
        assert_eq!(strip_language_flags("a (b c"), "a (b c");
    }

    #[test]
    fn engines_phonemes_ids_intersperse_pad() {
        let map: HashMap<String, Vec<i64>> = [("_", 0), ("^", 1), ("$", 2), (" ", 3), ("a", 14)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), vec![v]))
            .collect();
        let ids = PhonemeIds::new(map).unwrap();
        let mut out = Vec::new();
        ids.ids("a a\u{2603}", &mut out);
        assert_eq!(out, vec![1, 0, 14, 0, 3, 0, 14, 0, 2]);
    }

    #[test]
    fn engines_phonemes_espeak_gives_ipa() {
        match Espeak::new("en-us").ipa("-open") {
            Ok(ipa) => assert!(ipa.contains("oʊpən"), "{ipa}"),
            Err(e @ PhonemeError::Program { .. }) => eprintln!("skipping: {e}"),
            Err(e) => panic!("{e}"),
        }
    }
}
