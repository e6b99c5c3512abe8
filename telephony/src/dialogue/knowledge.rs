//! Retrieval over the business's own documents: a small BM25 over sentence-sized passages.
//!
//! A caller's question that no intent covers may still be answered by the site's FAQ or policy pages. The
//! policy reads back the best sentence as the business wrote it, and only when the match is clear: a
//! weak match would turn "do you do free consultations?" into a sentence about free parking.

use std::collections::BTreeMap;

use super::text::{is_stopword, stem, tokenize};
use crate::agent::Document;

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalisation.
const B: f32 = 0.75;

/// One sentence of a document, scored on its words and its document's title.
#[derive(Debug, Clone)]
struct Passage {
    text: String,
    doc: usize,
    terms: BTreeMap<String, u32>,
    len: u32,
}

/// The index, built once per call from the profile's documents.
#[derive(Debug, Clone, Default)]
pub(crate) struct KnowledgeIndex {
    passages: Vec<Passage>,
    doc_freq: BTreeMap<String, u32>,
    avg_len: f32,
}

/// A passage that matched a query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit<'a> {
    /// The sentence as written.
    pub text: &'a str,
    /// Which document it came from.
    pub doc: usize,
    /// BM25 score.
    pub score: f32,
    /// Share of the query's weight (IDF) that the passage matched, 0 to 1.
    pub coverage: f32,
    /// How many distinct query terms the passage contains.
    pub matched: usize,
}

impl KnowledgeIndex {
    /// Splits every document into sentences and indexes them with their title's words.
    pub fn build(docs: &[Document]) -> Self {
        let mut passages = Vec::new();
        for (d, doc) in docs.iter().enumerate() {
            let title_terms = terms(&doc.title);
            for sentence in sentences(&doc.text) {
                let mut bag: BTreeMap<String, u32> = BTreeMap::new();
                for t in terms(&sentence)
                    .into_iter()
                    .chain(title_terms.iter().cloned())
                {
                    *bag.entry(t).or_default() += 1;
                }
                let len = bag.values().sum();
                if len > 0 {
                    passages.push(Passage {
                        text: sentence,
                        doc: d,
                        terms: bag,
                        len,
                    });
                }
            }
        }
        let mut doc_freq: BTreeMap<String, u32> = BTreeMap::new();
        for p in &passages {
            for t in p.terms.keys() {
                *doc_freq.entry(t.clone()).or_default() += 1;
            }
        }
        let total: u32 = passages.iter().map(|p| p.len).sum();
        let avg_len = if passages.is_empty() {
            1.0
        } else {
            total as f32 / passages.len() as f32
        };
        Self {
            passages,
            doc_freq,
            avg_len,
        }
    }

    fn idf(&self, term: &str) -> f32 {
        let n = self.passages.len() as f32;
        let df = self.doc_freq.get(term).copied().unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Passages ranked by BM25 for the query's content words, best first; ties keep document order.
    pub fn search(&self, query: &str) -> Vec<Hit<'_>> {
        let mut q = terms(query);
        q.sort();
        q.dedup();
        if q.is_empty() || self.passages.is_empty() {
            return Vec::new();
        }
        let total_weight: f32 = q.iter().map(|t| self.idf(t)).sum();
        let mut hits: Vec<Hit<'_>> = self
            .passages
            .iter()
            .filter_map(|p| {
                let mut score = 0.0;
                let mut matched = 0.0;
                let mut count = 0;
                for t in &q {
                    let Some(&tf) = p.terms.get(t) else { continue };
                    let idf = self.idf(t);
                    let tf = tf as f32;
                    let norm = K1 * (1.0 - B + B * p.len as f32 / self.avg_len);
                    score += idf * tf * (K1 + 1.0) / (tf + norm);
                    matched += idf;
                    count += 1;
                }
                (score > 0.0).then(|| Hit {
                    text: &p.text,
                    doc: p.doc,
                    score,
                    coverage: if total_weight > 0.0 {
                        matched / total_weight
                    } else {
                        0.0
                    },
                    matched: count,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits
    }

    /// The sentences worth saying for a question: the best passage when it clears both thresholds, and
    /// the runner-up from the same document when it scores nearly as well. Empty when nothing is clear.
    pub fn answer(&self, query: &str) -> Vec<&str> {
        let hits = self.search(query);
        let Some(best) = hits.first() else {
            return Vec::new();
        };
        // Half the question's weight, or a third of it in two separate words: one shared word among
        // several unknown ones ("free" in "free consultations") is a coincidence, two are a topic.
        let covered = best.coverage >= MIN_COVERAGE || (best.matched >= 2 && best.coverage >= 0.3);
        if best.score < MIN_SCORE || !covered {
            tracing::trace!(
                score = best.score,
                coverage = best.coverage,
                "knowledge match too weak"
            );
            return Vec::new();
        }
        let mut out = vec![best.text];
        if let Some(second) = hits.iter().skip(1).find(|h| h.doc == best.doc)
            && second.score >= 0.4 * best.score
            && second.coverage >= MIN_COVERAGE / 2.0
        {
            out.push(second.text);
        }
        out
    }
}

/// Lowest BM25 score that is read out.
const MIN_SCORE: f32 = 0.5;
/// Lowest share of the question's weight a passage must match.
const MIN_COVERAGE: f32 = 0.5;

/// Content terms: tokens that are not stop words, stemmed.
fn terms(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .filter(|t| !is_stopword(t) && !QUESTION_NOISE.contains(&t.as_str()))
        .map(|t| stem(&t))
        .collect()
}

/// Words common in questions that would otherwise match documents by accident.
#[rustfmt::skip]
const QUESTION_NOISE: &[&str] = &[
    "take", "takes", "accept", "make", "give", "ask", "question", "info", "information", "kind",
    "sort", "there", "tell", "somewhere", "anywhere", "option", "options", "place", "way", "thing",
    "things", "something", "possible", "able", "details", "curious", "wanted", "find", "out",
    "happen", "happens", "usually", "normally", "really", "actually", "also", "still", "guys",
    "mean", "say", "okay", "ok", "exactly", "whether",
];

/// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "st", "ave", "blvd", "no", "e.g", "i.e", "etc", "vs", "jr", "sr",
    "approx", "min", "hr", "hrs", "ste", "inc",
];

/// Splits text into sentences on `.`, `?`, `!` and line breaks, sparing "Dr." and decimal numbers.
pub(crate) fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '\n' || c == '\r' {
            push_sentence(&mut out, &mut cur);
            continue;
        }
        cur.push(c);
        if matches!(c, '.' | '?' | '!') {
            let next = chars.get(i + 1).copied();
            let ends = next.is_none_or(char::is_whitespace);
            let last_word = cur
                .trim_end_matches(['.', '?', '!'])
                .rsplit(|ch: char| ch.is_whitespace())
                .next()
                .unwrap_or("")
                .to_lowercase();
            if ends && !(c == '.' && ABBREVIATIONS.contains(&last_word.as_str())) {
                push_sentence(&mut out, &mut cur);
            }
        }
    }
    push_sentence(&mut out, &mut cur);
    out
}

fn push_sentence(out: &mut Vec<String>, cur: &mut String) {
    let s = cur.trim();
    if s.chars().any(char::is_alphanumeric) {
        out.push(s.to_owned());
    }
    cur.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, text: &str) -> Document {
        Document {
            title: title.to_owned(),
            text: text.to_owned(),
            source: None,
        }
    }

    fn index() -> KnowledgeIndex {
        KnowledgeIndex::build(&[
            doc(
                "Parking and access",
                "Free parking is in the garage on Lovejoy Street. Bring your ticket for validation. \
                 The office is wheelchair accessible.",
            ),
            doc(
                "Cancellation policy",
                "Please give us 24 hours notice to cancel. Missed appointments may be charged a fee.",
            ),
            doc("Children", "We see children from their first birthday."),
        ])
    }

    #[test]
    fn sentences_split_but_spare_titles_and_decimals() {
        assert_eq!(
            sentences("Dr. Lopez sees kids. Fees are $49.50 each!\nCall us"),
            ["Dr. Lopez sees kids.", "Fees are $49.50 each!", "Call us"]
        );
    }

    #[test]
    fn bm25_ranks_the_passage_that_shares_rare_words() {
        let idx = index();
        let hits = idx.search("Do you validate parking?");
        assert_eq!(hits[0].text, "Bring your ticket for validation.");
        assert!(hits[0].score > hits[1].score);
        assert_eq!(
            idx.answer("where do I park")[0],
            "Free parking is in the garage on Lovejoy Street."
        );
        assert_eq!(
            idx.answer("do you see kids")[0],
            "We see children from their first birthday."
        );
        let cancel = idx.answer("what's your cancellation policy");
        assert_eq!(cancel[0], "Please give us 24 hours notice to cancel.");
    }

    #[test]
    fn weak_matches_are_not_answers() {
        let idx = index();
        assert!(
            idx.answer("do you do free consultations and implants")
                .is_empty()
        );
        assert!(idx.answer("what's the wifi password").is_empty());
        assert!(idx.answer("").is_empty());
        assert!(KnowledgeIndex::build(&[]).answer("parking").is_empty());
    }
}
