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

/// The hash that tells whether a re-crawl changed the knowledge: lowercase hex SHA-256 over every chunk,
/// in order.
pub fn content_hash(chunks: &[KnowledgeChunk]) -> String {
    let mut hasher = Sha256::new();
    for key in keys_of_chunks(chunks) {
        hasher.update(key.as_bytes());
        hasher.update([0x1e]); // record separator: no chunk key contains it unescaped at a boundary
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How many chunks a new version adds and removes compared with the stored `old` one.
pub fn diff(old: &Value, new: &[KnowledgeChunk]) -> (usize, usize) {
    let old: HashSet<String> = keys_of_value(old).into_iter().collect();
    let new: HashSet<String> = keys_of_chunks(new).into_iter().collect();
    (new.difference(&old).count(), old.difference(&new).count())
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
        assert_eq!(diff(&stored, &v1), (0, 0));
        assert_eq!(content_hash(&v1), content_hash(&v1.clone()));

        let v2 = vec![chunk("Hours", "Open 8-6"), chunk("Services", "Cleanings")];
        assert_ne!(content_hash(&v1), content_hash(&v2));
        assert_eq!(diff(&stored, &v2), (1, 1));
        assert_eq!(diff(&Value::Null, &v2), (2, 0));
    }

    #[test]
    fn fields_do_not_run_into_each_other() {
        assert_ne!(
            content_hash(&[chunk("ab", "c")]),
            content_hash(&[chunk("a", "bc")])
        );
    }
}
