//! The upload body: media type, size and JSON shape, before the entry's field rules.

use http::HeaderMap;
use http::header::CONTENT_TYPE;
use lambda_http::Body;
use serde_json::Value;
use timesheets::{MAX_BATCH_ENTRIES, TimesheetEntry};

use crate::error::ApiError;

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

/// A validated upload: one entry (a JSON object) or a batch (a JSON array of 1 to
/// [`MAX_BATCH_ENTRIES`] entries), which is answered in the batch shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// The entries, in request order.
    pub entries: Vec<TimesheetEntry>,
    /// Whether the body was an array.
    pub is_batch: bool,
}

/// The raw bytes of a request body.
pub fn bytes(body: &Body) -> &[u8] {
    match body {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// Parses and validates the body of `POST /timesheets/upload`.
///
/// # Errors
/// `415` when not JSON, `413` when over [`MAX_BODY_BYTES`], `400 invalid_body` naming the
/// field (and for a batch the entry's index, from 0), or saying the JSON itself is broken.
pub fn parse_upload(headers: &HeaderMap, body: &Body) -> Result<Upload, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = bytes(body);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidBody(
            "the body is empty; send a timesheet entry".to_owned(),
        ));
    }
    let value: Value = timesheets::strict_json::from_slice(bytes).map_err(|error| {
        ApiError::InvalidBody(if error.is_data() {
            // A repeated member: "duplicate member `user_id` at line 1 column 40".
            format!("the body is ambiguous: {error}")
        } else {
            format!(
                "the body is not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            )
        })
    })?;
    let Value::Array(items) = value else {
        let entry = TimesheetEntry::from_json(&value)
            .map_err(|error| ApiError::InvalidBody(error.to_string()))?;
        return Ok(Upload {
            entries: vec![entry],
            is_batch: false,
        });
    };
    if items.is_empty() || items.len() > MAX_BATCH_ENTRIES {
        return Err(ApiError::InvalidBody(format!(
            "a batch holds 1 to {MAX_BATCH_ENTRIES} entries, not {}",
            items.len()
        )));
    }
    let entries = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            TimesheetEntry::from_json(item)
                .map_err(|error| ApiError::InvalidBody(format!("entry [{index}]: {error}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Upload {
        entries,
        is_batch: true,
    })
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

    const SAMPLE: &str = timesheets::entry::SAMPLE_ENTRY;

    #[test]
    fn json_media_types_are_accepted() {
        for content_type in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/vnd.timesheet+json",
        ] {
            let upload = parse_upload(&json_headers(content_type), &Body::Text(SAMPLE.into()));
            assert_eq!(upload.unwrap().entries[0].user_id, "007", "{content_type}");
        }
    }

    #[test]
    fn other_media_types_are_415() {
        for headers in [
            json_headers("text/plain"),
            json_headers("application/x-www-form-urlencoded"),
            HeaderMap::new(),
        ] {
            let error = parse_upload(&headers, &Body::Text(SAMPLE.into())).unwrap_err();
            assert_eq!(error, ApiError::UnsupportedMediaType);
        }
    }

    #[test]
    fn large_bodies_are_413() {
        let big = format!(r#"{{"user_id": "{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        let error = parse_upload(&json_headers("application/json"), &Body::Text(big)).unwrap_err();
        assert_eq!(error, ApiError::PayloadTooLarge(MAX_BODY_BYTES));
    }

    #[test]
    fn broken_json_and_bad_fields_are_400() {
        let headers = json_headers("application/json");
        let error = parse_upload(&headers, &Body::Text("{\"user_id\": ".into())).unwrap_err();
        assert_eq!(error.code(), "invalid_body");
        assert!(
            error
                .description()
                .starts_with("the body is not valid JSON")
        );
        let error = parse_upload(&headers, &Body::Empty).unwrap_err();
        assert_eq!(
            error.description(),
            "the body is empty; send a timesheet entry"
        );
        let body = SAMPLE.replace("5}", "25}");
        let error = parse_upload(&headers, &Body::Text(body)).unwrap_err();
        assert_eq!(
            error.description(),
            "`hours` must be a number greater than 0 and at most 24"
        );
    }

    #[test]
    fn repeated_members_are_refused_not_resolved() {
        let body = SAMPLE.replace(
            r#""user_id": "007","#,
            r#""user_id": "007", "user_id": "008","#,
        );
        let error = parse_upload(&json_headers("application/json"), &Body::Text(body)).unwrap_err();
        assert_eq!(error.code(), "invalid_body");
        assert!(
            error
                .description()
                .starts_with("the body is ambiguous: duplicate member `user_id`"),
            "{}",
            error.description()
        );
    }

    #[test]
    fn arrays_are_batches_validated_whole() {
        let headers = json_headers("application/json");
        let upload = parse_upload(&headers, &Body::Text(format!("[{SAMPLE}, {SAMPLE}]"))).unwrap();
        assert!(upload.is_batch);
        assert_eq!(upload.entries.len(), 2);

        let bad = SAMPLE.replace("StoreZero", "");
        let error = parse_upload(&headers, &Body::Text(format!("[{SAMPLE}, {bad}]"))).unwrap_err();
        assert_eq!(
            error.description(),
            "entry [1]: `project` must not be empty"
        );

        let error = parse_upload(&headers, &Body::Text("[]".into())).unwrap_err();
        assert_eq!(error.description(), "a batch holds 1 to 98 entries, not 0");
        let many = vec![SAMPLE; 99].join(",");
        let error = parse_upload(&headers, &Body::Text(format!("[{many}]"))).unwrap_err();
        assert_eq!(error.description(), "a batch holds 1 to 98 entries, not 99");
    }
}
