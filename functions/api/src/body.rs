//! The upload body: media type, size and JSON shape, before the entry's field rules.

use http::HeaderMap;
use http::header::CONTENT_TYPE;
use lambda_http::Body;
use serde_json::Value;
use timesheets::TimesheetEntry;

use crate::response::ApiError;

/// Largest body accepted, in bytes; one entry is well under 1 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether `Content-Type` is JSON: `application/json` or a `+json` suffix type (RFC 6839 §3.1),
/// parameters such as `charset` allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses and validates the body of `POST /timesheets/upload` into an entry.
///
/// # Errors
/// `415` when not JSON, `413` when over [`MAX_BODY_BYTES`], `400 invalid_body` naming the
/// field (or saying the JSON itself is broken).
pub fn parse_entry(headers: &HeaderMap, body: &Body) -> Result<TimesheetEntry, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes: &[u8] = match body {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidBody(
            "the body is empty; send a timesheet entry".to_owned(),
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::InvalidBody(format!(
            "the body is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    TimesheetEntry::from_json(&value).map_err(|error| ApiError::InvalidBody(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn json_headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        headers
    }

    const SAMPLE: &str = r#"{"user_id": "007", "date": "2017-05-10T17:40:20.095Z", "project": "StoreZero", "hours": 5}"#;

    #[test]
    fn json_media_types_are_accepted() {
        for content_type in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/vnd.timesheet+json",
        ] {
            let entry = parse_entry(&json_headers(content_type), &Body::Text(SAMPLE.into()));
            assert_eq!(entry.unwrap().user_id, "007", "{content_type}");
        }
    }

    #[test]
    fn other_media_types_are_415() {
        for headers in [
            json_headers("text/plain"),
            json_headers("application/x-www-form-urlencoded"),
            HeaderMap::new(),
        ] {
            let error = parse_entry(&headers, &Body::Text(SAMPLE.into())).unwrap_err();
            assert_eq!(error, ApiError::UnsupportedMediaType);
        }
    }

    #[test]
    fn large_bodies_are_413() {
        let big = format!(r#"{{"user_id": "{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        let error = parse_entry(&json_headers("application/json"), &Body::Text(big)).unwrap_err();
        assert_eq!(error, ApiError::PayloadTooLarge(MAX_BODY_BYTES));
    }

    #[test]
    fn broken_json_and_bad_fields_are_400() {
        let headers = json_headers("application/json");
        let error = parse_entry(&headers, &Body::Text("{\"user_id\": ".into())).unwrap_err();
        assert_eq!(error.code(), "invalid_body");
        assert!(
            error
                .description()
                .starts_with("the body is not valid JSON")
        );
        let error = parse_entry(&headers, &Body::Empty).unwrap_err();
        assert_eq!(
            error.description(),
            "the body is empty; send a timesheet entry"
        );
        let body = SAMPLE.replace("5}", "25}");
        let error = parse_entry(&headers, &Body::Text(body)).unwrap_err();
        assert_eq!(
            error.description(),
            "`hours` must be a number greater than 0 and at most 24"
        );
    }
}
