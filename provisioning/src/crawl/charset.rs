//! Decoding HTML bytes to text: byte-order mark, then the Content-Type charset, then `<meta charset>`,
//! then UTF-8; and telling HTML from other content.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// How far into a document a `<meta charset>` is looked for; the HTML standard's prescan reads 1024 bytes.
const PRESCAN_BYTES: usize = 1024;

/// Decodes a page. Malformed sequences become U+FFFD; never fails.
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> String {
    let declared = Encoding::for_bom(body)
        .map(|(enc, _)| enc)
        .or_else(|| {
            content_type
                .and_then(charset_param)
                .and_then(Encoding::for_label)
        })
        // A page cannot declare UTF-16 from inside itself (its ASCII would not read as such):
        // output_encoding maps that to UTF-8 as browsers do.
        .or_else(|| meta_charset(body).map(Encoding::output_encoding));
    let encoding = match declared {
        Some(enc) => enc,
        // Undeclared and not UTF-8: legacy Western sites are the common case, and browsers in those
        // locales read such pages as windows-1252, which maps every byte to a character.
        None if std::str::from_utf8(body).is_err() => WINDOWS_1252,
        None => UTF_8,
    };
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

/// The `charset` parameter of a Content-Type value, unquoted.
pub fn charset_param(content_type: &str) -> Option<&[u8]> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// The charset a `<meta charset=...>` or `<meta http-equiv=Content-Type content="...; charset=...">`
/// declares within the first [`PRESCAN_BYTES`].
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = body[..body.len().min(PRESCAN_BYTES)].to_ascii_lowercase();
    let mut rest = head.as_slice();
    while let Some(start) = find(rest, b"<meta") {
        let tag = &rest[start..];
        let end = tag.iter().position(|&b| b == b'>').unwrap_or(tag.len());
        let tag = &tag[..end];
        if let Some(label) = charset_in_tag(tag)
            && let Some(enc) = Encoding::for_label(label)
        {
            return Some(enc);
        }
        rest = &rest[start + 5..];
    }
    None
}

/// The value after `charset=` inside one meta tag, without quotes.
fn charset_in_tag(tag: &[u8]) -> Option<&[u8]> {
    let at = find(tag, b"charset")?;
    let after = &tag[at + 7..];
    let after = trim_start(after);
    let after = trim_start(after.strip_prefix(b"=")?);
    let after = after
        .strip_prefix(b"\"")
        .or_else(|| after.strip_prefix(b"'"))
        .unwrap_or(after);
    let len = after
        .iter()
        .position(|&b| matches!(b, b'"' | b'\'' | b';' | b'/' | b'>') || b.is_ascii_whitespace())
        .unwrap_or(after.len());
    (len > 0).then(|| &after[..len])
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether a response is an HTML page: by its Content-Type, or, when it has none, by how it starts.
pub fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(ct) => {
            let essence = ct.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("text/html")
                || essence.eq_ignore_ascii_case("application/xhtml+xml")
        }
        None => {
            let head = body[..body.len().min(512)].to_ascii_lowercase();
            find(&head, b"<!doctype html").is_some() || find(&head, b"<html").is_some()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn content_type_charset_wins_over_meta() {
        let body = b"<meta charset=\"utf-8\"><p>Caf\xe9</p>";
        assert_eq!(
            decode_html(body, Some("text/html; charset=ISO-8859-1")),
            "<meta charset=\"utf-8\"><p>Café</p>"
        );
    }

    #[test]
    fn meta_charset_forms() {
        let sjis = b"<html><head><meta charset='Shift_JIS'></head>\x89\x63\x8b\xc6\x8e\x9e\x8a\xd4";
        assert!(decode_html(sjis, Some("text/html")).ends_with("営業時間"));
        let equiv = b"<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=windows-1252\">\x93hi\x94";
        assert!(decode_html(equiv, None).ends_with("\u{201c}hi\u{201d}"));
        let utf16 = b"<meta charset=\"utf-16\"><p>caf\xc3\xa9</p>";
        assert!(decode_html(utf16, None).contains("café"));
    }

    #[test]
    fn bom_wins_and_is_removed() {
        let body = b"\xef\xbb\xbf<p>\xc3\xa9</p>";
        assert_eq!(
            decode_html(body, Some("text/html; charset=windows-1252")),
            "<p>é</p>"
        );
    }

    #[test]
    fn undeclared_bytes() {
        assert_eq!(decode_html("<p>naïve</p>".as_bytes(), None), "<p>naïve</p>");
        assert_eq!(decode_html(b"<p>na\xefve</p>", None), "<p>naïve</p>");
        assert_eq!(
            decode_html(b"<p>\xff</p>", Some("text/html; charset=utf-8")),
            "<p>\u{fffd}</p>"
        );
        assert_eq!(decode_html(b"", None), "");
    }

    #[test]
    fn charset_param_variants() {
        assert_eq!(
            charset_param("text/html; Charset=\"UTF-8\""),
            Some(&b"UTF-8"[..])
        );
        assert_eq!(
            charset_param("text/html;charset=shift_jis;q=1"),
            Some(&b"shift_jis"[..])
        );
        assert_eq!(charset_param("text/html"), None);
        assert_eq!(charset_param("charset=x"), None);
    }

    #[test]
    fn html_detection() {
        assert!(is_html(Some("text/html; charset=utf-8"), b""));
        assert!(is_html(Some("Application/XHTML+XML"), b""));
        assert!(!is_html(Some("application/pdf"), b"<html>"));
        assert!(!is_html(Some("text/plain"), b"<html>"));
        assert!(is_html(None, b"\n <!DOCTYPE html><title>x</title>"));
        assert!(!is_html(None, b"%PDF-1.7"));
    }
}
