//! The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header §2): its
//! syntax as this API accepts it.

use http::HeaderMap;
use timesheets::IDEMPOTENCY_KEY_HEADER;

use crate::error::ApiError;

/// Longest key accepted, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// The request's idempotency key, if any: 1 to 255 visible ASCII characters but the comma,
/// one header. No comma, because API Gateway HTTP APIs join repeated headers with commas: two
/// keys `a` and `b` must not pass as the one key `a,b`.
///
/// # Errors
/// `400 invalid_idempotency_key` when repeated, empty, too long, not visible ASCII or with a
/// comma.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY_HEADER).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return match headers.contains_key(IDEMPOTENCY_KEY_HEADER) {
            true => Err(ApiError::InvalidIdempotencyKey),
            false => Ok(None),
        };
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::InvalidIdempotencyKey)?
        .trim();
    let key = key
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(key);
    let allowed = |b: u8| b.is_ascii_graphic() && b != b',';
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(allowed) {
        return Err(ApiError::InvalidIdempotencyKey);
    }
    Ok(Some(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn keys_are_validated() {
        let mut headers = HeaderMap::new();
        assert_eq!(key(&headers), Ok(None));
        headers.insert(
            IDEMPOTENCY_KEY_HEADER,
            HeaderValue::from_static("\"8e03978e-40d5-43e8\""),
        );
        assert_eq!(key(&headers), Ok(Some("8e03978e-40d5-43e8".to_owned())));
        headers.insert(
            IDEMPOTENCY_KEY_HEADER,
            HeaderValue::from_static("has space"),
        );
        assert_eq!(key(&headers), Err(ApiError::InvalidIdempotencyKey));
        headers.insert(
            IDEMPOTENCY_KEY_HEADER,
            HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        );
        assert_eq!(key(&headers), Err(ApiError::InvalidIdempotencyKey));
        headers.insert(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_static("a"));
        headers.append(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_static("b"));
        assert_eq!(key(&headers), Err(ApiError::InvalidIdempotencyKey));
        // The same two keys as an HTTP API delivers them, joined into one header.
        headers.insert(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_static("a,b"));
        assert_eq!(key(&headers), Err(ApiError::InvalidIdempotencyKey));
    }
}
