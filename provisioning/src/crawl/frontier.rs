//! The queue of pages to fetch, most useful first: a business's contact, about, services, team, hours
//! and insurance pages before anything else, then breadth-first.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use url::Url;

use super::url::dedupe_key;

/// Kinds of page, most useful first, and the path words that name them.
const KINDS: &[&[&str]] = &[
    &["contact"],
    &["about", "who-we-are", "our-story"],
    &[
        "service",
        "treatment",
        "what-we-do",
        "practice-area",
        "specialt",
        "procedure",
    ],
    &[
        "team",
        "staff",
        "doctor",
        "provider",
        "dentist",
        "physician",
        "people",
        "attorney",
        "meet",
    ],
    &["hours", "opening", "schedule"],
    &[
        "insurance",
        "payment",
        "billing",
        "financ",
        "pricing",
        "price",
        "fees",
        "rates",
        "cost",
    ],
    &["location", "direction", "find-us", "visit"],
    &["faq", "question"],
    &["appointment", "booking", "book-", "reserv", "new-patient"],
    &["menu"],
];

/// Paths tried on every site that does not link a page of that kind, with the kind each stands for.
pub const COMMON_PATHS: &[(&str, usize)] = &[
    ("/contact", 0),
    ("/about", 1),
    ("/services", 2),
    ("/team", 3),
    ("/hours", 4),
    ("/insurance", 5),
    ("/locations", 6),
    ("/faq", 7),
];

/// How useful a page probably is, from its path: the index of its kind in [`KINDS`], or `KINDS.len()`.
pub fn rank(url: &Url) -> usize {
    let path = url.path().to_ascii_lowercase();
    KINDS
        .iter()
        .position(|words| words.iter().any(|w| path.contains(w)))
        .unwrap_or(KINDS.len())
}

/// A page waiting to be fetched. Ordered by usefulness, then depth, then path length, then discovery.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// See [`rank`].
    pub rank: usize,
    /// Link depth from the home page.
    pub depth: u32,
    /// Path segments: `/team` before `/blog/2019/our-team-party`.
    pub segments: usize,
    /// Discovery order, which makes the order total and breadth-first.
    pub seq: u64,
    /// The URL to fetch.
    pub url: Url,
    /// A common path tried without a link to it: its absence is normal, not a broken link.
    pub guessed: bool,
}

/// Queue plus the set of URLs already seen (queued, fetched or skipped), by de-duplication key.
#[derive(Debug)]
pub struct Frontier {
    heap: BinaryHeap<Reverse<Entry>>,
    seen: HashSet<String>,
    kinds_seen: Vec<bool>,
    next_seq: u64,
    max_queued: usize,
}

impl Frontier {
    /// An empty frontier holding at most `max_queued` waiting pages.
    pub fn new(max_queued: usize) -> Self {
        Self {
            heap: BinaryHeap::new(),
            seen: HashSet::new(),
            kinds_seen: vec![false; KINDS.len() + 1],
            next_seq: 0,
            max_queued,
        }
    }

    /// Records the URL as seen; false when it (or a variant of it) was seen before.
    pub fn see(&mut self, url: &Url) -> bool {
        self.seen.insert(dedupe_key(url))
    }

    /// Queues a seen URL; false when the queue is full.
    pub fn push(&mut self, url: Url, depth: u32, guessed: bool) -> bool {
        if self.heap.len() >= self.max_queued {
            return false;
        }
        let rank = rank(&url);
        self.kinds_seen[rank] = true;
        let segments = url
            .path_segments()
            .map_or(0, |s| s.filter(|s| !s.is_empty()).count());
        self.heap.push(Reverse(Entry {
            rank,
            depth,
            segments,
            seq: self.next_seq,
            url,
            guessed,
        }));
        self.next_seq += 1;
        true
    }

    /// Whether a page of this kind was queued already (so guessing its common path is needless).
    pub fn has_kind(&self, kind: usize) -> bool {
        self.kinds_seen.get(kind).copied().unwrap_or(false)
    }

    /// The most useful waiting page.
    pub fn pop(&mut self) -> Option<Entry> {
        self.heap.pop().map(|Reverse(e)| e)
    }

    /// Every waiting page, most useful first.
    pub fn drain(&mut self) -> Vec<Entry> {
        let mut rest: Vec<Entry> = std::mem::take(&mut self.heap)
            .into_iter()
            .map(|Reverse(e)| e)
            .collect();
        rest.sort();
        rest
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn url(path: &str) -> Url {
        Url::parse("https://a.com").unwrap().join(path).unwrap()
    }

    #[test]
    fn business_pages_come_first_then_breadth_first() {
        let mut f = Frontier::new(100);
        for (path, depth) in [
            ("/blog/post-1", 1),
            ("/gallery", 1),
            ("/insurance-we-accept", 1),
            ("/about-us", 2),
            ("/contact", 1),
            ("/news", 1),
            ("/our-team/dr-smith", 1),
            ("/our-team", 1),
            ("/blog/post-2", 2),
        ] {
            assert!(f.see(&url(path)));
            f.push(url(path), depth, false);
        }
        let order: Vec<String> = std::iter::from_fn(|| f.pop())
            .map(|e| e.url.path().to_owned())
            .collect();
        assert_eq!(
            order,
            [
                "/contact",
                "/about-us",
                "/our-team",
                "/our-team/dr-smith",
                "/insurance-we-accept",
                "/gallery",
                "/news",
                "/blog/post-1",
                "/blog/post-2",
            ]
        );
    }

    #[test]
    fn variants_are_seen_once_and_the_queue_is_bounded() {
        let mut f = Frontier::new(1);
        assert!(f.see(&url("/about")));
        assert!(!f.see(&url("/about/#x")));
        assert!(f.push(url("/about"), 1, false));
        assert!(!f.push(url("/contact"), 1, true));
        assert!(f.has_kind(1));
        assert!(!f.has_kind(0));
        assert_eq!(f.drain().len(), 1);
        assert!(f.pop().is_none());
    }
}
