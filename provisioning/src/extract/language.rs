//! Languages the business works in: the language its pages are written in (`<html lang>`), languages
//! structured data lists (`availableLanguage`, `knowsLanguage`), and languages the copy says staff speak.

use super::doc::Doc;
use super::evidence::{Ballot, Found, STRUCTURED, norm_key};
use super::jsonld::{self, Graph};
use super::text::Region;

const NAMES: &[(&str, &str)] = &[
    ("en", "English"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("de", "German"),
    ("zh", "Chinese"),
    ("vi", "Vietnamese"),
    ("ko", "Korean"),
    ("ru", "Russian"),
    ("pt", "Portuguese"),
    ("ar", "Arabic"),
    ("ja", "Japanese"),
    ("it", "Italian"),
    ("tl", "Tagalog"),
    ("hi", "Hindi"),
    ("pl", "Polish"),
    ("uk", "Ukrainian"),
    ("fa", "Farsi"),
    ("so", "Somali"),
    ("ro", "Romanian"),
    ("nl", "Dutch"),
];

/// Spellings in copy, with the canonical name.
const SPELLINGS: &[(&str, &str)] = &[
    ("english", "English"),
    ("spanish", "Spanish"),
    ("español", "Spanish"),
    ("espanol", "Spanish"),
    ("french", "French"),
    ("german", "German"),
    ("mandarin", "Mandarin"),
    ("cantonese", "Cantonese"),
    ("chinese", "Chinese"),
    ("vietnamese", "Vietnamese"),
    ("korean", "Korean"),
    ("russian", "Russian"),
    ("portuguese", "Portuguese"),
    ("arabic", "Arabic"),
    ("japanese", "Japanese"),
    ("italian", "Italian"),
    ("tagalog", "Tagalog"),
    ("hindi", "Hindi"),
    ("punjabi", "Punjabi"),
    ("polish", "Polish"),
    ("ukrainian", "Ukrainian"),
    ("farsi", "Farsi"),
    ("somali", "Somali"),
    ("romanian", "Romanian"),
    ("american sign language", "American Sign Language"),
    ("asl", "American Sign Language"),
];

/// Phrases that make a sentence about languages spoken rather than, say, "French toast".
const CUES: &[&str] = &[
    "speak",
    "spoken",
    "language",
    "fluent",
    "bilingual",
    "multilingual",
    "habla",
    "hablamos",
    "available in",
    "interpret",
    "translat",
];

fn name_of_code(code: &str) -> Option<&'static str> {
    let primary = code.split(['-', '_']).next()?.to_ascii_lowercase();
    NAMES.iter().find(|(c, _)| *c == primary).map(|(_, n)| *n)
}

fn spelled(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != 'ñ')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (spelling, name) in SPELLINGS {
        let parts: Vec<&str> = spelling.split(' ').collect();
        if words.windows(parts.len()).any(|w| w == parts.as_slice()) && !out.contains(name) {
            out.push(*name);
        }
    }
    out
}

pub(crate) fn extract(docs: &[Doc], graph: &Graph) -> Vec<Found<String>> {
    let mut ballot: Ballot<String> = Ballot::default();
    for doc in docs {
        if let Some(name) = doc.lang.as_deref().and_then(name_of_code) {
            let snippet = format!(
                "<html lang=\"{}\">",
                doc.lang.as_deref().unwrap_or_default()
            );
            ballot.add(
                norm_key(name),
                name.to_owned(),
                1.0,
                true,
                &doc.url,
                &snippet,
            );
        }
    }
    for (page, node) in graph.businesses() {
        let url = docs.get(page).map_or("", |d| d.url.as_str());
        for key in ["availableLanguage", "knowsLanguage"] {
            for v in graph.prop(node, key) {
                let Some(t) = jsonld::text(v) else { continue };
                let names: Vec<&str> = name_of_code(&t)
                    .map(|n| vec![n])
                    .unwrap_or_else(|| spelled(&t));
                for n in names {
                    ballot.add(
                        norm_key(n),
                        n.to_owned(),
                        STRUCTURED,
                        true,
                        url,
                        &format!("{key} {t}"),
                    );
                }
            }
        }
    }
    for doc in docs {
        for b in &doc.text.blocks {
            if b.region == Region::Nav || b.quoted {
                continue;
            }
            for s in super::emergency::sentences(&b.text) {
                let l = s.to_lowercase();
                if !CUES.iter().any(|c| l.contains(c)) {
                    continue;
                }
                for n in spelled(&s) {
                    ballot.add(
                        norm_key(n),
                        n.to_owned(),
                        doc.weight(b.region, false).max(0.6),
                        true,
                        &doc.url,
                        &s,
                    );
                }
            }
        }
    }
    ballot.items(0.5, 12)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn page_language_and_spoken_languages() {
        let (d, _) = Doc::parse(
            "http://x.test/",
            0,
            "<html lang='en-US'><body><p>Se habla español.</p><p>Our staff also speak Vietnamese and ASL.</p>\
             <p>Try our French toast!</p></body></html>",
            true,
        );
        let got: Vec<String> = extract(&[d], &Graph::default())
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert_eq!(
            got,
            ["English", "Spanish", "Vietnamese", "American Sign Language"]
        );
    }
}
