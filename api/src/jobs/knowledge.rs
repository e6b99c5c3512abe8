//! Knowledge chunks as the store keeps them, their content hash, and the difference between two versions.
//!
//! Hashes are taken over each chunk's fields joined with a separator rather than over JSON text, so they
//! do not depend on how a JSON library orders keys: a version stored years ago still compares equal to
//! the same content crawled today.

use std::collections::HashSet;

use dialtone_provisioning::kb::KnowledgeChunk;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One chunk's identity: title, text and source, unit-separated.
fn chunk_key(title: &str, text: &str, source: Option<&str>) -> String {
    format!("{title}\u{1f}{text}\u{1f}{}", source.unwrap_or_default())
}

fn keys_of_chunks(chunks: &[KnowledgeChunk]) -> Vec<String> {
    chunks
        .iter()
        .map(|c| chunk_key(&c.title, &c.text, c.source.as_deref()))
        .collect()
}

/// The keys of a stored version's chunks (a JSON list of `{title, text, source}`); anything else in the
/// list is skipped.
fn keys_of_value(chunks: &Value) -> Vec<String> {
    chunks
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    Some(chunk_key(
                        c.get("title").and_then(Value::as_str).unwrap_or_default(),
                        c.get("text")?.as_str()?,
                        c.get("source").and_then(Value::as_str),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Chunks as the store keeps them.
pub fn chunks_value(chunks: &[KnowledgeChunk]) -> Value {
    Value::Array(
        chunks
            .iter()
            .map(|c| json!({ "title": c.title, "text": c.text, "source": c.source }))
            .collect(),
    )
}

fn hash_keys(keys: Vec<String>) -> String {
    let mut hasher = Sha256::new();
    for key in keys {
        hasher.update(key.as_bytes());
        hasher.update([0x1e]); // record separator: no chunk key contains it unescaped at a boundary
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The hash that tells whether a re-crawl changed the knowledge: lowercase hex SHA-256 over every chunk,
/// in order.
pub fn content_hash(chunks: &[KnowledgeChunk]) -> String {
    hash_keys(keys_of_chunks(chunks))
}

/// [`content_hash`] of chunks as the store keeps them: equal for equal content.
pub fn stored_content_hash(chunks: &Value) -> String {
    hash_keys(keys_of_value(chunks))
}

/// How many chunks a new version adds and removes compared with the stored `old` one.
pub fn diff(old: &Value, new: &Value) -> (usize, usize) {
    let old: HashSet<String> = keys_of_value(old).into_iter().collect();
    let new: HashSet<String> = keys_of_value(new).into_iter().collect();
    (new.difference(&old).count(), old.difference(&new).count())
}

/// A proposal whose chunk is gone: the knowledge moved on since it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleProposal;

/// The chunks with one proposed change applied (`{action: add|replace|remove, text, title?,
/// original_text?, chunk_index?, base_version?}`). The index names the chunk when the KB is still at
/// `base_version` (or the chunk there has the original text); otherwise the chunk is found by its text.
/// `current_version` is `None` for chunks that are no stored version (a fresh crawl).
pub fn apply_proposal(
    change: &Value,
    current: Vec<Value>,
    current_version: Option<i64>,
) -> Result<Vec<Value>, StaleProposal> {
    let text = |key: &str| change.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut chunks = current;
    let action = text("action").unwrap_or_default();
    let text_of = |chunks: &[Value], i: usize| {
        chunks
            .get(i)
            .and_then(|c| c.get("text"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if action == "add" {
        let new_text = text("text").unwrap_or_default();
        // Re-applied after a re-crawl, an addition the site now carries itself is not doubled.
        if !(0..chunks.len()).any(|i| text_of(&chunks, i).as_deref() == Some(&new_text)) {
            chunks.push(
                json!({"title": text("title").unwrap_or_else(|| "Update".into()),
                               "text": new_text, "source": null}),
            );
        }
        return Ok(chunks);
    }
    let original = text("original_text").unwrap_or_default();
    let hinted = change
        .get("chunk_index")
        .and_then(Value::as_u64)
        .and_then(|i| usize::try_from(i).ok());
    let same_text = |i: usize| text_of(&chunks, i).as_deref() == Some(&original);
    let unchanged = current_version.is_some()
        && change.get("base_version").and_then(Value::as_i64) == current_version;
    let index = hinted
        .filter(|i| (unchanged && *i < chunks.len()) || same_text(*i))
        .or_else(|| (0..chunks.len()).find(|i| same_text(*i)))
        .ok_or(StaleProposal)?;
    if action == "remove" {
        chunks.remove(index);
    } else if let Some(Value::Object(chunk)) = chunks.get_mut(index) {
        chunk.insert("text".into(), json!(text("text").unwrap_or_default()));
        if let Some(title) = text("title") {
            chunk.insert("title".into(), json!(title));
        }
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(title: &str, text: &str) -> KnowledgeChunk {
        KnowledgeChunk {
            title: title.into(),
            text: text.into(),
            source: Some("https://example.com/".into()),
        }
    }

    #[test]
    fn a_stored_version_hashes_and_diffs_like_the_chunks_it_came_from() {
        let v1 = vec![chunk("Hours", "Open 9-5"), chunk("Services", "Cleanings")];
        let stored = chunks_value(&v1);
        assert_eq!(diff(&stored, &stored), (0, 0));
        assert_eq!(content_hash(&v1), stored_content_hash(&stored));

        let v2 = vec![chunk("Hours", "Open 8-6"), chunk("Services", "Cleanings")];
        assert_ne!(content_hash(&v1), content_hash(&v2));
        assert_eq!(diff(&stored, &chunks_value(&v2)), (1, 1));
        assert_eq!(diff(&Value::Null, &chunks_value(&v2)), (2, 0));
    }

    fn texts(chunks: &[Value]) -> Vec<&str> {
        chunks.iter().map(|c| c["text"].as_str().unwrap()).collect()
    }

    #[test]
    fn proposals_apply_to_a_fresh_crawl_by_text() {
        let fresh = || {
            chunks_value(&[
                chunk("Hours", "Open 9-5"),
                chunk("Parking", "Street parking"),
            ])
            .as_array()
            .unwrap()
            .clone()
        };
        let replace = json!({"action": "replace", "chunk_index": 0, "base_version": 1,
                             "original_text": "Street parking", "text": "Free lot behind the building"});
        let out = apply_proposal(&replace, fresh(), None).unwrap();
        assert_eq!(texts(&out), ["Open 9-5", "Free lot behind the building"]);
        // Against the version it was made on, the index is enough.
        let out = apply_proposal(&replace, fresh(), Some(1)).unwrap();
        assert_eq!(texts(&out)[0], "Free lot behind the building");

        let add = json!({"action": "add", "text": "We speak Spanish"});
        let once = apply_proposal(&add, fresh(), None).unwrap();
        let twice = apply_proposal(&add, once.clone(), None).unwrap();
        assert_eq!(once, twice);
        assert_eq!(texts(&once)[2], "We speak Spanish");

        let gone = json!({"action": "remove", "original_text": "Valet parking", "chunk_index": 1});
        assert_eq!(apply_proposal(&gone, fresh(), None), Err(StaleProposal));
    }

    #[test]
    fn fields_do_not_run_into_each_other() {
        assert_ne!(
            content_hash(&[chunk("ab", "c")]),
            content_hash(&[chunk("a", "bc")])
        );
    }
}
