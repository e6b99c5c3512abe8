//! Checks on text fields that match what the OpenAPI document declares, exactly: `maxLength` counts the
//! characters as sent (before trimming), and "not blank" (`pattern: \S`) uses JSON Schema's (ECMAScript's)
//! idea of white space, so a value the document allows is never refused and one it forbids is never
//! taken.

use super::error::ApiError;

/// ECMAScript's `\s`: what JSON Schema patterns treat as white space.
pub fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// Refuses `value` if it is longer than `max` characters.
pub fn check_len(field: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::invalid_field(
            field,
            format!("{field} is longer than {max} characters"),
        )),
        _ => Ok(()),
    }
}

/// An optional text: at most `max` characters; blank reads as absent; trimmed.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    check_len(field, value.as_deref(), max)?;
    Ok(value
        .map(|v| v.trim_matches(is_js_space).to_owned())
        .filter(|v| !v.is_empty()))
}

/// A text that, when sent, must not be blank: at most `max` characters; trimmed.
pub fn non_blank(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let present = value.is_some();
    let value = optional_text(field, value, max)?;
    if present && value.is_none() {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must not be blank"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn lengths_count_characters_as_sent_and_blanks_follow_ecmascript() {
        assert!(optional_text("f", Some(format!("{} ", "é".repeat(3))), 3).is_err());
        assert_eq!(
            optional_text("f", Some(" é ".into()), 3)
                .unwrap()
                .as_deref(),
            Some("é")
        );
        assert_eq!(
            optional_text("f", Some("\u{FEFF} ".into()), 9).unwrap(),
            None
        );
        // NEL is not white space to ECMAScript, so it is content.
        assert_eq!(
            optional_text("f", Some("\u{85}".into()), 9)
                .unwrap()
                .as_deref(),
            Some("\u{85}")
        );
        assert!(non_blank("f", Some("\t".into()), 9).is_err());
        assert_eq!(non_blank("f", None, 9).unwrap(), None);
    }
}
