//! A server-sent-events reader for streamed completions: bytes in, `data` payloads out.
//!
//! Chunks may split a line, or a UTF-8 character, anywhere; only complete lines are decoded. Garbage is
//! skipped, never a panic, and a line longer than [`MAX_LINE`] is dropped so a broken server cannot grow
//! the buffer without bound.

/// Longest line kept, in bytes; longer ones are discarded.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// Incremental SSE parser.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    /// The line being read is over [`MAX_LINE`]: skip to its end.
    skipping: bool,
    /// `data` lines of the event being read.
    data: Option<String>,
}

impl SseParser {
    /// Feeds bytes; returns the data of every event they complete, in order.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut events = Vec::new();
        let mut rest = bytes;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            rest = &tail[1..];
            if self.skipping {
                self.skipping = false;
                self.line.clear();
                continue;
            }
            self.line.extend_from_slice(head);
            let line = std::mem::take(&mut self.line);
            self.on_line(&line, &mut events);
        }
        if !self.skipping {
            self.line.extend_from_slice(rest);
            if self.line.len() > MAX_LINE {
                self.line = Vec::new();
                self.skipping = true;
            }
        }
        events
    }

    /// The stream ended: the data of an event left without its blank line, if any.
    pub(crate) fn finish(&mut self) -> Option<String> {
        let mut events = Vec::new();
        if !self.skipping && !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.on_line(&line, &mut events);
        }
        self.skipping = false;
        events.extend(self.data.take());
        events.pop()
    }

    fn on_line(&mut self, line: &[u8], events: &mut Vec<String>) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            events.extend(self.data.take());
            return;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        if field != "data" {
            // Comments (`: keep-alive`), `event`, `id` and `retry` carry nothing a completion needs.
            return;
        }
        match &mut self.data {
            Some(data) => {
                if data.len() + value.len() <= MAX_LINE {
                    data.push('\n');
                    data.push_str(value);
                }
            }
            None => self.data = Some(value.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(input: &[u8], splits: &[usize]) -> Vec<String> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        let mut at = 0;
        for &s in splits {
            let s = s.clamp(at, input.len());
            out.extend(p.push(&input[at..s]));
            at = s;
        }
        out.extend(p.push(&input[at..]));
        out.extend(p.finish());
        out
    }

    #[test]
    fn reads_data_lines_and_ignores_the_rest() {
        let input = b": keep-alive\r\nevent: x\r\ndata: {\"a\":1}\r\n\r\ndata:two\ndata: lines\n\nid: 3\n\ndata: [DONE]";
        assert_eq!(all(input, &[]), vec!["{\"a\":1}", "two\nlines", "[DONE]"]);
    }

    #[test]
    fn a_line_split_inside_a_character_decodes_whole() {
        let input = "data: caf\u{e9} \u{1f600}\n\n".as_bytes();
        for split in 0..input.len() {
            assert_eq!(all(input, &[split]), vec!["caf\u{e9} \u{1f600}"], "{split}");
        }
    }

    #[test]
    fn an_overlong_line_is_dropped() {
        let mut input = b"data: ".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        input.extend_from_slice(b"\n\ndata: ok\n\n");
        assert_eq!(all(&input, &[1000, MAX_LINE / 2, MAX_LINE + 5]), vec!["ok"]);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(input in proptest::collection::vec(any::<u8>(), 0..512),
                                splits in proptest::collection::vec(0usize..512, 0..8)) {
            let mut splits = splits;
            splits.sort_unstable();
            let _ = all(&input, &splits);
        }

        #[test]
        fn splitting_does_not_change_the_events(
            payloads in proptest::collection::vec("[^\r\n]{0,40}", 1..6),
            splits in proptest::collection::vec(0usize..400, 0..8),
        ) {
            let input: String = payloads.iter().map(|p| format!("data: {p}\r\n\r\n")).collect();
            let mut splits = splits;
            splits.sort_unstable();
            prop_assert_eq!(all(input.as_bytes(), &splits), all(input.as_bytes(), &[]));
        }
    }
}
