//! Evidence and voting: every candidate value carries its source and a weight from where it was found;
//! values are grouped by a normalised key and the heaviest group wins.
//!
//! Weights encode the rule that site-wide placement beats a single mention: structured data and the
//! header/footer (which repeat on every page, so they also win on frequency) outweigh body text, and body
//! text outweighs quoted content such as testimonials or partner blurbs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::text::Region;

/// Confidence below which a field is reported in `low_confidence`.
pub const LOW_CONFIDENCE: f32 = 0.5;

/// Votes kept per field; a page of ten thousand phone numbers is not a business's contact page.
const MAX_VOTES: usize = 20_000;

/// Weight of one structured-data statement (JSON-LD, microdata, RDFa): the site stating a fact on purpose.
pub(crate) const STRUCTURED: f32 = 3.0;

/// Where a fact came from and how sure extraction is of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// URL of the page the fact was read from.
    pub source: String,
    /// A short excerpt around the fact.
    pub snippet: String,
    /// 0..1.
    pub confidence: f32,
}

/// A value with the evidence for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found<T> {
    pub value: T,
    pub evidence: Evidence,
}

/// What a page is about, from its URL path; decides how much its body text counts for contact details.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PageRole {
    pub home: bool,
    pub contact: bool,
}

/// Weight of a text mention from its placement.
pub(crate) fn placement_weight(region: Region, quoted: bool, role: PageRole) -> f32 {
    let base = match region {
        Region::Header | Region::Footer => 1.5,
        Region::Main if role.contact => 1.2,
        Region::Main if role.home => 1.0,
        Region::Main => 0.6,
        Region::Aside => 0.5,
        Region::Nav => 0.3,
    };
    if quoted { base * 0.1 } else { base }
}

/// Whether a mention is the kind a business uses for its own details: structured data, header/footer, or
/// the contact page. A lone mention elsewhere may be someone else's.
pub(crate) fn is_strong(region: Region, quoted: bool, role: PageRole) -> bool {
    !quoted && (region.is_chrome() || role.contact)
}

/// One candidate value.
#[derive(Debug, Clone)]
struct Vote<T> {
    key: String,
    value: T,
    weight: f32,
    strong: bool,
    source: String,
    snippet: String,
}

/// The votes for one field.
#[derive(Debug, Clone)]
pub(crate) struct Ballot<T> {
    votes: Vec<Vote<T>>,
}

impl<T> Default for Ballot<T> {
    fn default() -> Self {
        Ballot { votes: Vec::new() }
    }
}

/// A value and its summed support.
#[derive(Debug, Clone)]
pub(crate) struct Tally<T> {
    pub value: T,
    pub weight: f32,
    /// Share of all weight cast for the field.
    pub share: f32,
    /// Any vote came from structured data, chrome or the contact page.
    pub strong: bool,
    /// Evidence of the heaviest vote.
    pub source: String,
    pub snippet: String,
    /// Position of the group's first vote, for lists kept in the order the site gives them.
    pub order: usize,
}

impl<T> Tally<T> {
    /// Confidence of a single-valued field: support, discounted by disagreement.
    pub fn confidence(&self) -> f32 {
        saturate(self.weight) * self.share.sqrt()
    }

    /// Confidence of one item of a list-valued field, where other items are not disagreement.
    pub fn item_confidence(&self) -> f32 {
        saturate(self.weight)
    }

    pub fn into_found(self, confidence: f32) -> Found<T> {
        Found {
            value: self.value,
            evidence: Evidence {
                source: self.source,
                snippet: self.snippet,
                confidence: round2(confidence),
            },
        }
    }
}

/// Maps summed weight to 0..1: one structured statement gives ~0.86, one body mention ~0.3..0.5.
pub(crate) fn saturate(weight: f32) -> f32 {
    1.0 - (-weight / 1.5).exp()
}

/// Two decimals are plenty for a confidence and keep reports stable.
pub(crate) fn round2(x: f32) -> f32 {
    (x.clamp(0.0, 1.0) * 100.0).round() / 100.0
}

impl<T: Clone> Ballot<T> {
    /// Adds a vote; `key` groups equal values written differently.
    pub fn add(
        &mut self,
        key: String,
        value: T,
        weight: f32,
        strong: bool,
        source: &str,
        snippet: &str,
    ) {
        // NaN and non-positive weights carry no support.
        if key.is_empty() || weight.is_nan() || weight <= 0.0 || self.votes.len() >= MAX_VOTES {
            return;
        }
        self.votes.push(Vote {
            key,
            value,
            weight,
            strong,
            source: source.to_owned(),
            snippet: short_snippet(snippet),
        });
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.votes.is_empty()
    }

    /// Groups by key, heaviest first; ties go to the value seen first (the home page and header come first).
    pub fn tally(&self) -> Vec<Tally<T>> {
        let total: f32 = self.votes.iter().map(|v| v.weight).sum();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut groups: Vec<(usize, Tally<T>, f32)> = Vec::new();
        for (i, v) in self.votes.iter().enumerate() {
            if let Some(&g) = index.get(v.key.as_str()) {
                let (_, t, best) = &mut groups[g];
                t.weight += v.weight;
                t.strong |= v.strong;
                if v.weight > *best {
                    *best = v.weight;
                    t.value = v.value.clone();
                    t.source.clone_from(&v.source);
                    t.snippet.clone_from(&v.snippet);
                }
                continue;
            }
            index.insert(v.key.as_str(), groups.len());
            groups.push((
                i,
                Tally {
                    value: v.value.clone(),
                    weight: v.weight,
                    share: 0.0,
                    strong: v.strong,
                    source: v.source.clone(),
                    snippet: v.snippet.clone(),
                    order: i,
                },
                v.weight,
            ));
        }
        let mut out: Vec<(usize, Tally<T>)> = groups
            .into_iter()
            .map(|(i, mut t, _)| {
                t.share = if total > 0.0 { t.weight / total } else { 0.0 };
                (i, t)
            })
            .collect();
        out.sort_by(|(ia, a), (ib, b)| b.weight.total_cmp(&a.weight).then(ia.cmp(ib)));
        out.into_iter().map(|(_, t)| t).collect()
    }

    /// Every value voted for under `key`, heaviest first: other votes may hold details the winner lacks.
    pub fn values_for<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a T> + 'a {
        let mut votes: Vec<&Vote<T>> = self.votes.iter().filter(|v| v.key == key).collect();
        votes.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        votes.into_iter().map(|v| &v.value)
    }

    /// Every value with at least `min_weight`, in the order first seen, with per-item confidence.
    pub fn items(&self, min_weight: f32, max: usize) -> Vec<Found<T>> {
        let mut t: Vec<Tally<T>> = self
            .tally()
            .into_iter()
            .filter(|t| t.weight >= min_weight)
            .collect();
        t.truncate(max);
        t.sort_by_key(|t| t.order);
        t.into_iter()
            .map(|t| {
                let c = t.item_confidence();
                t.into_found(c)
            })
            .collect()
    }

    /// The winner of a single-valued field, if it has any support worth reporting.
    pub fn winner(&self, min_weight: f32) -> Option<Found<T>> {
        let top = self.tally().into_iter().next()?;
        if top.weight < min_weight {
            return None;
        }
        let c = top.confidence();
        Some(top.into_found(c))
    }
}

/// Trims a snippet to about 160 characters on a char boundary, whitespace collapsed.
pub(crate) fn short_snippet(s: &str) -> String {
    const MAX: usize = 160;
    let s = super::text::collapse(s);
    if s.len() <= MAX {
        return s;
    }
    let mut cut = MAX;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

/// The part of `text` around byte range `start..end`, for a snippet.
pub(crate) fn around(text: &str, start: usize, end: usize) -> String {
    const PAD: usize = 60;
    let mut a = start.saturating_sub(PAD);
    while a > 0 && !text.is_char_boundary(a) {
        a -= 1;
    }
    let mut b = (end + PAD).min(text.len());
    while b < text.len() && !text.is_char_boundary(b) {
        b += 1;
    }
    short_snippet(&text[a..b])
}

/// Lower-case letters and digits only: the grouping key for names and phrases.
pub(crate) fn norm_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn heavier_groups_win_and_ties_go_to_the_first_seen() {
        let mut b = Ballot::default();
        b.add("a".into(), "A", 1.0, false, "u1", "s");
        b.add("b".into(), "B", 1.0, false, "u2", "s");
        assert_eq!(b.winner(0.0).unwrap().value, "A");
        b.add("b".into(), "B2", 1.5, true, "u3", "s3");
        let t = b.tally();
        assert_eq!(
            t[0].value, "B2",
            "the heaviest vote names the group's value"
        );
        assert_eq!(t[0].source, "u3");
        assert!(t[0].strong);
        assert!((t[0].share - 2.5 / 3.5).abs() < 1e-6);
    }

    #[test]
    fn confidence_grows_with_support_and_falls_with_disagreement() {
        let mut one = Ballot::default();
        one.add("a".into(), 1, 3.0, true, "u", "s");
        let alone = one.winner(0.0).unwrap().evidence.confidence;
        one.add("b".into(), 2, 2.0, true, "u", "s");
        let contested = one.winner(0.0).unwrap().evidence.confidence;
        assert!(alone > 0.8 && contested < alone, "{alone} {contested}");
    }

    #[test]
    fn empty_keys_and_weightless_votes_are_ignored() {
        let mut b = Ballot::default();
        b.add(String::new(), 1, 1.0, false, "u", "s");
        b.add("k".into(), 1, 0.0, false, "u", "s");
        b.add("k".into(), 1, f32::NAN, false, "u", "s");
        assert!(b.is_empty());
    }

    #[test]
    fn snippets_are_short_and_cut_on_char_boundaries() {
        let s = "é".repeat(200);
        let snip = short_snippet(&s);
        assert!(snip.len() <= 164);
        assert_eq!(
            around("abc Call 555 now xyz", 9, 12),
            "abc Call 555 now xyz"
        );
    }
}
