//! The knowledge base: a site's clean text cut into overlapping chunks that each keep their page and
//! heading. Chunks serialise as the agent file's `documents` (`title`, `text`, `source`), which the
//! dialogue indexes with BM25 at load, so retrieval at call time reads exactly what was built here.

use serde::{Deserialize, Serialize};

/// Target chunk length in characters: a few sentences, enough for one answer.
pub const CHUNK_CHARS: usize = 900;
/// Characters repeated from the end of one chunk at the start of the next, so a fact cut at a boundary
/// is whole in one of them.
pub const OVERLAP_CHARS: usize = 150;

/// A titled block of clean text from one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Page URL.
    pub url: String,
    /// The nearest heading, or the page title.
    pub heading: String,
    /// Visible text, boilerplate removed; paragraphs separated by blank lines.
    pub text: String,
}

/// One retrievable piece of knowledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeChunk {
    /// Heading it sits under.
    pub title: String,
    /// The text.
    pub text: String,
    /// Page it came from.
    pub source: Option<String>,
}

/// Cuts sections into chunks at paragraph, then sentence, then word boundaries; identical chunks (the
/// same paragraph on several pages) are kept once.
pub fn chunk(sections: &[Section]) -> Vec<KnowledgeChunk> {
    let mut out: Vec<KnowledgeChunk> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in sections {
        for text in split(&s.text) {
            if seen.insert(text.clone()) {
                out.push(KnowledgeChunk {
                    title: s.heading.clone(),
                    text,
                    source: Some(s.url.clone()),
                });
            }
        }
    }
    out
}

/// The pieces of one text: whole sentences packed up to [`CHUNK_CHARS`], each chunk starting with the
/// last sentences of the one before (up to [`OVERLAP_CHARS`]).
fn split(text: &str) -> Vec<String> {
    let units: Vec<&str> = text
        .split("\n\n")
        .flat_map(sentences)
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .flat_map(hard_wrap)
        .collect();
    let mut chunks = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut len = 0;
    // Units in `cur` that are new (not carried over as overlap); a chunk of overlap alone is not emitted.
    let mut fresh = 0;
    for unit in units {
        if fresh > 0 && len + 1 + unit.len() > CHUNK_CHARS {
            chunks.push(cur.join(" "));
            let keep = overlap_units(&cur);
            cur.drain(..cur.len() - keep);
            len = cur.iter().map(|u| u.len() + 1).sum();
            fresh = 0;
        }
        len += unit.len() + 1;
        cur.push(unit);
        fresh += 1;
    }
    if fresh > 0 {
        chunks.push(cur.join(" "));
    }
    chunks
}

/// How many trailing units fit in the overlap.
fn overlap_units(units: &[&str]) -> usize {
    let mut total = 0;
    units
        .iter()
        .rev()
        .take_while(|u| {
            total += u.len() + 1;
            total <= OVERLAP_CHARS
        })
        .count()
        .min(units.len().saturating_sub(1))
}

/// Sentences of a paragraph, each with its closing punctuation.
fn sentences(paragraph: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let bytes = paragraph.as_bytes();
    let mut ends = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(b, b'.' | b'!' | b'?')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace())
        {
            ends.push(i + 1);
        }
    }
    ends.push(paragraph.len());
    ends.into_iter().filter_map(move |end| {
        let s = paragraph.get(start..end)?;
        start = end;
        Some(s)
    })
}

/// A sentence longer than a chunk, cut at word boundaries.
fn hard_wrap(unit: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = unit;
    while rest.len() > CHUNK_CHARS {
        let cut = floor_char_boundary(rest, CHUNK_CHARS);
        let cut = rest[..cut]
            .rfind(char::is_whitespace)
            .filter(|&i| i > 0)
            .unwrap_or(cut);
        pieces.push(rest[..cut].trim());
        rest = rest[cut..].trim_start();
    }
    pieces.push(rest);
    pieces
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn section(text: &str) -> Section {
        Section {
            url: "http://fixture.test/faq".into(),
            heading: "FAQ".into(),
            text: text.into(),
        }
    }

    #[test]
    fn short_text_is_one_chunk_with_its_source() {
        let c = chunk(&[section("We offer free parking. Call us anytime.")]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].text, "We offer free parking. Call us anytime.");
        assert_eq!(c[0].source.as_deref(), Some("http://fixture.test/faq"));
        assert_eq!(c[0].title, "FAQ");
    }

    #[test]
    fn long_text_overlaps_and_never_cuts_a_sentence() {
        let text: String = (0..40)
            .map(|i| {
                format!("Sentence {i} says our hygienists clean gently and explain each step. ")
            })
            .collect();
        let c = chunk(&[section(&text)]);
        assert!(c.len() > 2, "{c:#?}");
        for w in c.windows(2) {
            // The next chunk opens with the previous one's last sentences.
            let last = w[0].text.rsplit(". ").next().unwrap();
            let first = w[1].text.split(". ").next().unwrap();
            assert!(
                w[1].text.contains(last) && w[0].text.contains(first),
                "{w:?}"
            );
            assert_ne!(w[0].text.split(". ").next(), Some(first));
        }
        for piece in &c {
            assert!(piece.text.len() <= CHUNK_CHARS);
            assert!(
                piece.text.starts_with("Sentence") && piece.text.ends_with('.'),
                "{:?}",
                piece.text
            );
        }
    }

    #[test]
    fn the_same_paragraph_on_two_pages_is_kept_once() {
        let c = chunk(&[section("Same words here."), section("Same words here.")]);
        assert_eq!(c.len(), 1);
    }

    proptest! {
        #[test]
        fn any_text_chunks_without_panics_and_keeps_every_word(text in "\\PC{0,3000}") {
            let c = chunk(&[section(&text)]);
            let joined: String = c.iter().map(|k| k.text.as_str()).collect::<Vec<_>>().join(" ");
            // Words longer than a chunk are cut, so look for each word's start.
            for word in text.split_whitespace().take(50) {
                let start: String = word.chars().take(20).collect();
                prop_assert!(joined.contains(&start), "lost {word:?}");
            }
        }
    }
}
