//! The site's voice, from simple lexical cues in its main copy: contractions, exclamation marks, second
//! person and warm phrases read Friendly; slang and emoji Casual; legal and ceremonial vocabulary without
//! contractions Formal; and competence vocabulary, or nothing distinctive, Professional.

use serde::{Deserialize, Serialize};

use super::doc::Doc;
use super::evidence::round2;
use super::text::Region;

/// The four tones agents are built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tone {
    /// Competent and neutral.
    Professional,
    /// Warm and personal.
    Friendly,
    /// Relaxed and informal.
    Casual,
    /// Ceremonious and precise.
    Formal,
}

/// A tone and how sure the guess is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ToneGuess {
    /// The tone.
    pub tone: Tone,
    /// 0..1.
    pub confidence: f32,
}

const FRIENDLY: &[&str] = &[
    "we'd love",
    "we’d love",
    "love to",
    "can't wait",
    "can’t wait",
    "feel free",
    "come see",
    "stop by",
    "say hi",
    "say hello",
    "welcome",
    "friendly",
    "happy to",
    "smile",
    "warm",
    "glad",
    "treat yourself",
    "pamper",
    "relax",
    "cozy",
    "like family",
    "our family",
    "your family",
    "we love",
    "see you soon",
    "you'll love",
    "you’ll love",
];
const CASUAL: &[&str] = &[
    "hey",
    "awesome",
    "super ",
    "cool",
    "gonna",
    "wanna",
    "y'all",
    "folks",
    "stuff",
    "no worries",
    "grab ",
    "chill",
    "vibe",
    "yummy",
    "bucks",
    "kinda",
    "lol",
    "hang out",
    "hangout",
    "no biggie",
    "dude",
    "legit",
    "crazy good",
];
const FORMAL: &[&str] = &[
    "shall",
    "pursuant",
    "hereby",
    "herein",
    "thereof",
    "whereas",
    "accordingly",
    "furthermore",
    "moreover",
    "counsel",
    "esteemed",
    "endeavor",
    "endeavour",
    "prospective",
    "inquiries",
    "inquiry",
    "kindly",
    "please be advised",
    "retain",
    "engagement",
    "jurisdiction",
    "matters",
    "representation",
    "diligent",
    "discretion",
    "confidential",
    "litigation",
    "respectfully",
    "in accordance",
    "the firm",
    "our firm",
    "clients",
    "regarding",
];
const PROFESSIONAL: &[&str] = &[
    "professional",
    "experienced",
    "expertise",
    "quality",
    "comprehensive",
    "committed",
    "state-of-the-art",
    "solutions",
    "reliable",
    "licensed",
    "certified",
    "trusted",
    "efficient",
    "years of experience",
    "dedicated",
    "advanced",
    "evidence-based",
    "accredited",
    "board-certified",
    "standards",
];

/// Contractions other than possessives.
const CONTRACTION_TAILS: &[&str] = &[
    "'re", "'ll", "'ve", "'d", "n't", "'m", "’re", "’ll", "’ve", "’d", "n’t", "’m",
];
const CONTRACTED_S: &[&str] = &[
    "it's",
    "that's",
    "let's",
    "what's",
    "there's",
    "here's",
    "he's",
    "she's",
    "who's",
    "it’s",
    "that’s",
    "let’s",
    "what’s",
    "there’s",
    "here’s",
];

fn count(hay: &str, needles: &[&str]) -> f32 {
    needles.iter().map(|n| hay.matches(n).count() as f32).sum()
}

fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F300..=0x1FAFF | 0x2600..=0x27BF)
}

/// Guesses the tone of the main copy of all pages.
pub(crate) fn guess(docs: &[Doc]) -> ToneGuess {
    let mut text = String::new();
    // Boilerplate repeated on every post is one statement, not thirty.
    let mut seen = std::collections::HashSet::new();
    for d in docs {
        for b in &d.text.blocks {
            if b.region == Region::Main && !b.quoted && seen.insert(b.text.as_str()) {
                text.push_str(&b.text);
                text.push('\n');
            }
        }
    }
    score(&text)
}

/// Scores a text; exposed for tests and for callers with copy of their own.
pub fn score(text: &str) -> ToneGuess {
    let lower = format!(" {} ", text.to_lowercase());
    let words = lower.split_whitespace().count().max(1) as f32;
    let sentences = text.matches(['.', '!', '?']).count().max(1) as f32;
    let per100 = |n: f32| n * 100.0 / words;
    let word_list: Vec<&str> = lower
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '(' | ')' | '"')
        })
        .collect();
    let contractions = word_list
        .iter()
        .filter(|w| CONTRACTION_TAILS.iter().any(|t| w.ends_with(t)) || CONTRACTED_S.contains(w))
        .count() as f32;
    let you = word_list
        .iter()
        .filter(|w| matches!(**w, "you" | "your" | "yours" | "you're" | "you’re"))
        .count() as f32;
    let exclaim = text.matches('!').count() as f32 * 10.0 / sentences;
    let emoji = text.chars().filter(|c| is_emoji(*c)).count() as f32;
    let c = per100(contractions);
    let scores = [
        (
            Tone::Friendly,
            2.0 * per100(count(&lower, FRIENDLY)) + 0.6 * c + 0.8 * exclaim + 0.15 * per100(you),
        ),
        (
            Tone::Casual,
            4.0 * per100(count(&lower, CASUAL) + 2.0 * emoji) + 0.3 * exclaim + 0.2 * c,
        ),
        (
            Tone::Formal,
            3.0 * per100(count(&lower, FORMAL)) - 1.0 * c - 1.0 * exclaim,
        ),
        // Professional is also the fallback when nothing stands out, hence its base.
        (
            Tone::Professional,
            0.6 + 2.0 * per100(count(&lower, PROFESSIONAL)),
        ),
    ];
    let mut sorted = scores;
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (tone, best) = sorted[0];
    let margin = (best - sorted[1].1) / (best.abs() + 1.0);
    // Little copy means little evidence.
    let support = (words / 300.0).min(1.0);
    let confidence = round2((0.35 + margin) * (0.4 + 0.6 * support));
    ToneGuess { tone, confidence }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_copy() {
        let g = score(
            "Welcome to Willow & Fern! We'd love to pamper you. Stop by and say hi — you'll leave relaxed and glowing! \
             Our friendly stylists can't wait to see you. Treat yourself today!",
        );
        assert_eq!(g.tone, Tone::Friendly);
    }

    #[test]
    fn formal_copy() {
        let g = score(
            "Hale & Ward LLP provides counsel to clients in matters of estate planning and litigation. \
             Prospective clients are kindly requested to submit inquiries in writing. All consultations are \
             confidential and conducted in accordance with the rules of professional conduct.",
        );
        assert_eq!(g.tone, Tone::Formal);
    }

    #[test]
    fn casual_copy() {
        let g = score(
            "Hey folks! Grab a slice and hang out — our pizza is crazy good, no worries if you're running late 🍕",
        );
        assert_eq!(g.tone, Tone::Casual);
    }

    #[test]
    fn plain_competent_copy_is_professional() {
        let g = score(
            "Our experienced, licensed technicians deliver reliable heating and cooling solutions. \
             We are committed to quality workmanship on every project.",
        );
        assert_eq!(g.tone, Tone::Professional);
        assert_eq!(score("").tone, Tone::Professional);
        assert!(score("").confidence < 0.5);
    }
}
