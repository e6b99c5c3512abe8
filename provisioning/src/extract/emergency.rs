//! What to do in an emergency, in the business's own words: the sentence about emergencies (or after-hours
//! calls) that the site states most prominently.

use super::doc::Doc;
use super::evidence::{Ballot, Found, norm_key};
use super::text::{BlockKind, Region};

const MAX_SENTENCE: usize = 240;

/// Sentences of a block; a short question is kept with the answer that follows it ("Dental emergency?
/// Call us right away.").
pub(crate) fn sentences(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(if c == '\n' { ' ' } else { c });
        let end =
            matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        // "Dr." and "St." do not end sentences.
        let last_word = cur
            .split_whitespace()
            .next_back()
            .unwrap_or_default()
            .trim_end_matches('.');
        let abbrev = c == '.'
            && [
                "Dr", "St", "Mr", "Ms", "Mrs", "Ave", "Inc", "a.m", "p.m", "e.g", "i.e", "Ste",
                "Mon", "Tue", "Tues", "Wed", "Thu", "Thur", "Thurs", "Fri", "Sat", "Sun", "No",
                "approx",
            ]
            .contains(&last_word);
        if (end && !abbrev) || c == '\n' {
            let s = cur.trim().to_owned();
            cur.clear();
            if s.is_empty() {
                continue;
            }
            match out.last_mut() {
                Some(prev) if prev.ends_with('?') && prev.len() < 40 => {
                    prev.push(' ');
                    prev.push_str(&s);
                }
                _ => out.push(s),
            }
        }
    }
    let s = cur.trim();
    if !s.is_empty() {
        match out.last_mut() {
            Some(prev) if prev.ends_with('?') && prev.len() < 40 => {
                prev.push(' ');
                prev.push_str(s);
            }
            _ => out.push(s.to_owned()),
        }
    }
    out
}

fn is_emergency(s: &str) -> bool {
    let l = s.to_lowercase();
    l.contains("emergenc")
        || l.contains("after-hours")
        || l.contains("after hours")
        || l.contains("urgent")
}

pub(crate) fn extract(docs: &[Doc]) -> Option<Found<String>> {
    let mut ballot: Ballot<String> = Ballot::default();
    for doc in docs {
        for (i, b) in doc.text.blocks.iter().enumerate() {
            if b.region == Region::Nav || b.quoted {
                continue;
            }
            let under = !matches!(b.kind, BlockKind::Heading(_))
                && doc
                    .text
                    .headings_above(i)
                    .next()
                    .is_some_and(|h| is_emergency(&h.text));
            for s in sentences(&b.text) {
                if s.len() > MAX_SENTENCE || !(is_emergency(&s) || under) {
                    continue;
                }
                let l = s.to_lowercase();
                // A sentence that says what to do is the policy; a heading that merely names it is not.
                // A sentence that says what to do is the policy; one that merely names it is not. Telling the
                // caller to call, dial or go somewhere beats mentioning a line or availability.
                let instructs = ["call", "dial", "text us", "911", "go to", "contact"]
                    .iter()
                    .any(|w| l.contains(w));
                let mentions = ["visit", "available", "24/7", "same-day", "same day", "line"]
                    .iter()
                    .any(|w| l.contains(w));
                if !(instructs || mentions) {
                    continue;
                }
                let mut w = doc.weight(b.region, false);
                if under || doc.url.to_lowercase().contains("emergenc") {
                    w *= 1.5;
                }
                if instructs {
                    w *= 1.2;
                }
                // An emergency is what the field is about; after-hours and urgent-care lines come second.
                if l.contains("emergenc") {
                    w *= 1.5;
                }
                ballot.add(
                    norm_key(&s),
                    s.clone(),
                    w,
                    doc.strong(b.region, false),
                    &doc.url,
                    &s,
                );
            }
        }
    }
    ballot.winner(0.5)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sentences_keep_short_questions_with_their_answers() {
        assert_eq!(
            sentences("Dental emergency? Call us right away. We see Dr. Lee's patients same day!"),
            [
                "Dental emergency? Call us right away.",
                "We see Dr. Lee's patients same day!"
            ]
        );
    }

    #[test]
    fn the_prominent_actionable_sentence_wins() {
        let footer = "<footer><p>24/7 emergency service: call (503) 555-0190.</p></footer>";
        let pages: Vec<Doc> = [
            (
                "http://x.test/",
                format!("<main><h2>Emergency plumbing</h2><p>Burst pipe?</p></main>{footer}"),
            ),
            (
                "http://x.test/about/",
                format!("<main><p>We founded the emergency fund in 2001.</p></main>{footer}"),
            ),
        ]
        .iter()
        .enumerate()
        .map(|(i, (u, h))| Doc::parse(u, u32::from(i > 0), h, i == 0).0)
        .collect();
        let e = extract(&pages).unwrap();
        assert_eq!(e.value, "24/7 emergency service: call (503) 555-0190.");
    }

    #[test]
    fn no_emergency_statement_means_none() {
        let d = Doc::parse("http://x.test/", 0, "<p>We file your taxes.</p>", true).0;
        assert!(extract(&[d]).is_none());
    }
}
