//! Validated input: each parser answers the clean value or a `bad_request` naming the field.

pub mod time;

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
    fn emails_need_an_at_and_a_domain() {
        assert!(email("e", "a@b.co").is_ok());
        assert!(email("e", "a@b").is_err());
        assert!(email("e", "a b@c.d").is_err());
        assert!(email("e", "@c.d").is_err());
    }
}
