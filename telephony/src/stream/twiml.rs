//! TwiML that connects a Twilio call to our media-stream endpoint: the answer to Twilio's voice webhook.
//!
//! `<Connect><Stream>` makes the stream bidirectional (we send audio back, marks and clears work) and
//! holds the call for as long as the socket is open. `<Parameter>`s arrive in the stream's `start` as
//! `customParameters`, which is how the dialled number and the caller reach the session.

/// `<Response><Connect><Stream url=..>` with one `<Parameter>` per `(name, value)`, everything
/// XML-escaped: parameters carry caller-controlled text (numbers, names) that must not break the document.
pub fn connect_stream(ws_url: &str, parameters: &[(&str, &str)]) -> String {
    let mut xml = String::with_capacity(128 + ws_url.len() + 48 * parameters.len());
    xml.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url=""#);
    escape_into(&mut xml, ws_url);
    if parameters.is_empty() {
        xml.push_str(r#""/>"#);
    } else {
        xml.push_str(r#"">"#);
        for (name, value) in parameters {
            xml.push_str(r#"<Parameter name=""#);
            escape_into(&mut xml, name);
            xml.push_str(r#"" value=""#);
            escape_into(&mut xml, value);
            xml.push_str(r#""/>"#);
        }
        xml.push_str("</Stream>");
    }
    xml.push_str("</Connect></Response>");
    xml
}

/// Escapes `text` for an attribute value. Whitespace that attribute normalisation would turn into spaces
/// is written as character references; other control characters cannot appear in XML 1.0 at all and are
/// dropped.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{FFFE}' | '\u{FFFF}' => {}
            c if c.is_control() && c < '\u{80}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_with_parameters() {
        let xml = connect_stream(
            "wss://dialtone.example/streams/twilio",
            &[("to", "+15035550142"), ("from", "+15035550100")],
        );
        assert_eq!(
            xml,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect>"#,
                r#"<Stream url="wss://dialtone.example/streams/twilio">"#,
                r#"<Parameter name="to" value="+15035550142"/>"#,
                r#"<Parameter name="from" value="+15035550100"/>"#,
                r#"</Stream></Connect></Response>"#
            )
        );
    }

    #[test]
    fn without_parameters_the_stream_is_empty() {
        assert_eq!(
            connect_stream("wss://h/s", &[]),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://h/s"/></Connect></Response>"#
        );
    }

    #[test]
    fn markup_in_urls_and_parameters_is_escaped() {
        let xml = connect_stream(
            "wss://h/s?a=1&b=\"2\"",
            &[("agent_id", "<x>&'y'"), ("note", "line\none\u{1}")],
        );
        assert!(
            xml.contains(r#"url="wss://h/s?a=1&amp;b=&quot;2&quot;""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"name="agent_id" value="&lt;x&gt;&amp;&apos;y&apos;""#),
            "{xml}"
        );
        assert!(xml.contains(r#"value="line&#10;one""#), "{xml}");
        // Nothing but the markup we wrote: the declaration, three elements opened and closed, two parameters.
        assert_eq!(xml.matches('<').count(), 9);
        let quotes = xml.matches('"').count();
        assert_eq!(quotes % 2, 0);
    }
}
