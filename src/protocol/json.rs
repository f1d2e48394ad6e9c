//! JSON in: bodies and frames parsed with errors that name the field (`bad_request`).

use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Deserializes JSON, turning serde's complaint into `bad_request` with the field's path.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    with_field(serde_path_to_error::deserialize(de))
}

/// serde's complaint as `bad_request` naming the field.
pub fn with_field<T>(
    result: Result<T, serde_path_to_error::Error<serde_json::Error>>,
) -> Result<T, AppError> {
    result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        let field =
            missing_field(&message).or_else(|| (path != "." && !path.is_empty()).then_some(path));
        AppError::BadRequest {
            message: format!("invalid JSON: {message}"),
            field,
        }
    })
}

/// serde reports a missing field in its message only: "missing field `x` at …".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(f, _)| f.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"name": "a", "count": "x"}"#).unwrap_err();
        assert!(matches!(e, AppError::BadRequest { field: Some(ref f), .. } if f == "count"));
        let e = parse_json::<Body>(br#"{"count": 1}"#).unwrap_err();
        assert!(matches!(e, AppError::BadRequest { field: Some(ref f), .. } if f == "name"));
        let e = parse_json::<Body>(b"{not json").unwrap_err();
        assert!(matches!(e, AppError::BadRequest { .. }));
    }
}
