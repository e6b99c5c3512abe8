//! Pages of a list: newest first, keyset pagination on `(time, id)`, and the total for the same filters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::StoreError;

/// The largest page a list returns; larger limits are cut to it.
pub const MAX_PAGE_LIMIT: u32 = 200;

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// Pass this back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// How many rows match the filters, over all pages.
    pub total: i64,
}

/// Where a page starts: strictly after (older than) this row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) at: i64,
    pub(crate) id: String,
}

impl Cursor {
    /// The opaque text handed to API users. It is not a secret, only a position; the rows it leads to
    /// are still filtered by tenant.
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.at, self.id))
    }

    pub(crate) fn decode(text: &str) -> Result<Cursor, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| StoreError::InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
        let (at, id) = text.split_once(':').ok_or(StoreError::InvalidCursor)?;
        Ok(Cursor {
            at: at.parse().map_err(|_| StoreError::InvalidCursor)?,
            id: id.to_owned(),
        })
    }
}

/// The decoded cursor as the `(at, id)` binds of a keyset query; `(None, None)` for the first page.
pub(crate) fn cursor_binds(
    cursor: Option<&str>,
) -> Result<(Option<i64>, Option<String>), StoreError> {
    match cursor {
        None => Ok((None, None)),
        Some(text) => {
            let c = Cursor::decode(text)?;
            Ok((Some(c.at), Some(c.id)))
        }
    }
}

/// The limit to ask the database for: one more than the page, to know whether another page follows.
pub(crate) fn fetch_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_PAGE_LIMIT)) + 1
}

/// Cuts the fetched rows to the page and makes the cursor of the next page from its last row.
pub(crate) fn make_page<T>(
    mut items: Vec<T>,
    limit: u32,
    total: i64,
    key: impl Fn(&T) -> Cursor,
) -> Page<T> {
    let limit = limit.clamp(1, MAX_PAGE_LIMIT) as usize;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| key(last).encode())
    } else {
        None
    };
    Page {
        items,
        next_cursor,
        total,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            at: 1_700_000_000_123,
            id: "agt_abc".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(matches!(
            Cursor::decode("%%%"),
            Err(StoreError::InvalidCursor)
        ));
        assert!(matches!(
            Cursor::decode(&URL_SAFE_NO_PAD.encode("nocolon")),
            Err(StoreError::InvalidCursor)
        ));
    }
}
