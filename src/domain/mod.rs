//! Validated input: each parser answers the clean value or a `bad_request` naming the field.

pub mod ids;
// moderation (issue 17)
pub mod moderation;
pub mod role;
pub mod time;
// Issue 14: webhooks' URL rules, event types and signatures.
pub mod webhook;
// Issue 20: media (the scanner's address).
pub mod link;
pub mod media;

use crate::error::{AppError, AppResult};

/// 3–32 of `[a-z0-9_.-]`; capitals are folded to lower case first.
pub fn username(field: &str, raw: &str) -> AppResult<String> {
    let v = raw.trim().to_lowercase();
    let len = v.chars().count();
    if !(3..=32).contains(&len) {
        return Err(AppError::bad_request(
            field,
            "username must be 3 to 32 characters",
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
    {
        return Err(AppError::bad_request(
            field,
            "username may contain only a-z, 0-9, '_', '.' and '-'",
        ));
    }
    Ok(v)
}

/// 8–256 characters, kept exactly as typed.
pub fn password(field: &str, raw: &str) -> AppResult<String> {
    let len = raw.chars().count();
    if !(8..=256).contains(&len) {
        return Err(AppError::bad_request(
            field,
            "password must be 8 to 256 characters",
        ));
    }
    Ok(raw.to_owned())
}

/// Trimmed text of `min..=max` characters with no control characters (newlines too, unless allowed).
pub fn text(field: &str, raw: &str, min: usize, max: usize, multiline: bool) -> AppResult<String> {
    let v = raw.trim();
    let len = v.chars().count();
    if len < min || len > max {
        return Err(AppError::bad_request(
            field,
            format!("{field} must be {min} to {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t')))
    {
        return Err(AppError::bad_request(
            field,
            format!("{field} contains control characters"),
        ));
    }
    Ok(v.to_owned())
}

pub fn display_name(field: &str, raw: &str) -> AppResult<String> {
    text(field, raw, 1, 64, false)
}

/// A plausible address: one '@' with text on both sides, no white space, at most 254 characters.
pub fn email(field: &str, raw: &str) -> AppResult<String> {
    let v = raw.trim();
    let ok = v.len() <= 254
        && !v.chars().any(char::is_whitespace)
        && matches!(v.split_once('@'), Some((a, b)) if !a.is_empty() && b.contains('.') && !b.contains('@'));
    if !ok {
        return Err(AppError::bad_request(field, "email is not a valid address"));
    }
    Ok(v.to_owned())
}

/// An http(s) URL of at most 2048 characters.
pub fn url(field: &str, raw: &str) -> AppResult<String> {
    let v = raw.trim();
    if v.len() > 2048
        || !(v.starts_with("https://") || v.starts_with("http://"))
        || v.chars().any(char::is_whitespace)
    {
        return Err(AppError::bad_request(
            field,
            format!("{field} must be an http(s) URL of at most 2048 characters"),
        ));
    }
    Ok(v.to_owned())
}

pub const MESSAGE_TYPES: [&str; 8] = [
    "text", "emoji", "image", "file", "audio", "video", "location", "system",
];

pub fn message_type(field: &str, raw: &str) -> AppResult<&'static str> {
    MESSAGE_TYPES
        .iter()
        .find(|t| **t == raw)
        .copied()
        .ok_or_else(|| {
            AppError::bad_request(
                field,
                format!("{field} must be one of {}", MESSAGE_TYPES.join(", ")),
            )
        })
}

/// Message text: trimmed, at most `max` characters (`too_large` past it), and not empty unless a
/// file comes with it.
pub fn message_content(
    field: &str,
    raw: &str,
    max: usize,
    has_attachment: bool,
) -> AppResult<String> {
    let v = raw.trim();
    if v.chars().count() > max {
        return Err(AppError::TooLarge(format!(
            "{field} is longer than {max} characters"
        )));
    }
    if v.is_empty() && !has_attachment {
        return Err(AppError::bad_request(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(AppError::bad_request(
            field,
            format!("{field} contains control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// An emoji (or short reaction code): 1–32 characters, no white space or control characters.
pub fn emoji(field: &str, raw: &str) -> AppResult<String> {
    let len = raw.chars().count();
    if len == 0 || len > 32 {
        return Err(AppError::bad_request(
            field,
            "emoji must be 1 to 32 characters",
        ));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::bad_request(
            field,
            "emoji must not contain white space",
        ));
    }
    Ok(raw.to_owned())
}

pub fn client_id(field: &str, raw: &str) -> AppResult<String> {
    let len = raw.chars().count();
    if len == 0 || len > 64 || raw.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            field,
            "client_id must be 1 to 64 characters",
        ));
    }
    Ok(raw.to_owned())
}

/// Metadata: a JSON object of at most 4 KiB; `location` messages need numeric `lat` and `lon`.
pub fn metadata(
    field: &str,
    value: Option<&serde_json::Value>,
    message_type: &str,
) -> AppResult<Option<serde_json::Value>> {
    let value = match value {
        None | Some(serde_json::Value::Null) => None,
        Some(v) if v.is_object() => Some(v.clone()),
        Some(_) => {
            return Err(AppError::bad_request(
                field,
                "metadata must be a JSON object",
            ))
        }
    };
    if value.as_ref().is_some_and(|v| !numbers_within(v, 1e300)) {
        // Larger ones do not come back out of PostgreSQL's jsonb as JSON numbers.
        return Err(AppError::bad_request(
            field,
            "numbers in metadata must be within -1e300..1e300",
        ));
    }
    if let Some(v) = &value {
        if v.to_string().len() > 4096 {
            return Err(AppError::TooLarge(
                "metadata is larger than 4096 bytes".into(),
            ));
        }
    }
    if message_type == "location" {
        let v = value
            .as_ref()
            .ok_or_else(|| AppError::bad_request(field, "a location needs metadata {lat, lon}"))?;
        let lat = v.get("lat").and_then(serde_json::Value::as_f64);
        let lon = v.get("lon").and_then(serde_json::Value::as_f64);
        match (lat, lon) {
            (Some(lat), Some(lon))
                if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => {}
            _ => {
                return Err(AppError::bad_request(
                    field,
                    "lat must be in -90..90 and lon in -180..180",
                ))
            }
        }
        if let Some(label) = v.get("label") {
            if label.as_str().is_none_or(|l| l.chars().count() > 200) {
                return Err(AppError::bad_request(
                    field,
                    "label must be a string of at most 200 characters",
                ));
            }
        }
    }
    Ok(value)
}

/// Whether every number in `v` lies within `-max..=max`.
fn numbers_within(v: &serde_json::Value, max: f64) -> bool {
    match v {
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|f| f.abs() <= max),
        serde_json::Value::Array(items) => items.iter().all(|x| numbers_within(x, max)),
        serde_json::Value::Object(map) => map.values().all(|x| numbers_within(x, max)),
        _ => true,
    }
}

/// The usernames `@mentioned` in a text, lower-cased, each once.
pub fn mentioned_usernames(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let mut i = 0;
    while i < chars.len() {
        let starts =
            chars[i] == '@' && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'));
        if starts {
            let mut j = i + 1;
            while j < chars.len() && is_name(chars[j]) {
                j += 1;
            }
            // A trailing dot ends a sentence, not a name.
            let mut end = j;
            while end > i + 1 && chars[end - 1] == '.' {
                end -= 1;
            }
            let name: String = chars[i + 1..end].iter().collect::<String>().to_lowercase();
            if (3..=32).contains(&name.len()) && !out.contains(&name) {
                out.push(name);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// `type/subtype` or `type/*` (or `*/*`): what the allow and deny lists hold.
pub fn is_type_pattern(pattern: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    match pattern.split_once('/') {
        Some(("*", "*")) => true,
        Some((t, "*")) => ok(t),
        Some((t, s)) => ok(t) && ok(s),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_folded_and_checked() {
        assert_eq!(username("u", " Alice_1 ").ok().as_deref(), Some("alice_1"));
        assert!(username("u", "ab").is_err());
        assert!(username("u", "has space").is_err());
        assert!(username("u", &"a".repeat(33)).is_err());
        assert!(username("u", "ünï").is_err());
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(password("p", "short").is_err());
        assert!(password("p", "ééééééé").is_err());
        assert!(password("p", "éééééééé").is_ok());
        assert!(password("p", &"x".repeat(257)).is_err());
    }

    #[test]
    fn mentions_are_found_at_word_starts() {
        assert_eq!(
            mentioned_usernames("hi @Bob and @carol. mail a@b.com @bob"),
            vec!["bob", "carol"]
        );
        assert!(mentioned_usernames("@x @ab").is_empty());
    }

    #[test]
    fn content_over_the_limit_is_too_large_and_empty_needs_a_file() {
        assert!(matches!(
            message_content("content", &"x".repeat(11), 10, false),
            Err(AppError::TooLarge(_))
        ));
        assert!(message_content("content", "   ", 10, false).is_err());
        assert_eq!(
            message_content("content", "  ", 10, true).ok().as_deref(),
            Some("")
        );
    }

    #[test]
    fn locations_need_valid_coordinates() {
        let ok = serde_json::json!({"lat": 48.1, "lon": 11.5, "label": "Munich"});
        assert!(metadata("metadata", Some(&ok), "location").is_ok());
        let bad = serde_json::json!({"lat": 91, "lon": 0});
        assert!(metadata("metadata", Some(&bad), "location").is_err());
        assert!(metadata("metadata", None, "location").is_err());
        assert!(metadata("metadata", Some(&serde_json::json!([1])), "text").is_err());
        let huge = serde_json::json!({"a": [-1.7976931348623157e308]});
        assert!(metadata("metadata", Some(&huge), "text").is_err());
    }

    #[test]
    fn emails_need_an_at_and_a_domain() {
        assert!(email("e", "a@b.co").is_ok());
        assert!(email("e", "a@b").is_err());
        assert!(email("e", "a b@c.d").is_err());
        assert!(email("e", "@c.d").is_err());
    }
}
