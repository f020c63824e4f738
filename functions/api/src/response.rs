//! Every answer of the API as an HTTP response: JSON bodies, RFC 6750 challenges.

use http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use timesheets::{CreatedBatch, CreatedTimesheet, ErrorBody, IDEMPOTENT_REPLAYED_HEADER};

use crate::auth::scope::UPLOAD_SCOPE;
use crate::body::Upload;

/// The realm of the `WWW-Authenticate` challenges (RFC 6750 §3).
pub const REALM: &str = "timesheets";

/// Seconds a client should wait before retrying a `503`.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Why a request was not served, each mapped to one status and error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No bearer credentials: `401`, bare challenge (RFC 6750 §3.1).
    MissingToken,
    /// Malformed credentials: `400 invalid_request` (RFC 6750 §3.1).
    InvalidRequest(String),
    /// Token not acceptable: `401 invalid_token` (RFC 6750 §3.1).
    InvalidToken(String),
    /// Token lacks `batch:upload`: `403 insufficient_scope` (RFC 6750 §3.1).
    InsufficientScope,
    /// Body is not a valid entry: `400 invalid_body`, the description names the field.
    InvalidBody(String),
    /// `Content-Type` is not JSON: `415 unsupported_media_type`.
    UnsupportedMediaType,
    /// Body over the limit: `413 payload_too_large`.
    PayloadTooLarge(usize),
    /// Unknown path: `404 not_found`.
    NotFound,
    /// Known path, other method: `405 method_not_allowed` with `Allow: POST`.
    MethodNotAllowed,
    /// `Idempotency-Key` repeated, empty, too long or not visible ASCII: `400 invalid_idempotency_key`.
    InvalidIdempotencyKey,
    /// The first request with this key is still running: `409 idempotency_key_in_use` with `Retry-After`.
    IdempotencyKeyInUse,
    /// The key was used with another body: `422 idempotency_key_reused`.
    IdempotencyKeyReused,
    /// A dependency (issuer keys, DynamoDB) failed: `503 temporarily_unavailable` with `Retry-After`.
    Unavailable(&'static str),
}

impl ApiError {
    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) | Self::InvalidBody(_) | Self::InvalidIdempotencyKey => {
                StatusCode::BAD_REQUEST
            }
            Self::IdempotencyKeyInUse => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Whether this is an authentication or authorization refusal (RFC 6750 §3.1 errors).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Self::MissingToken
                | Self::InvalidRequest(_)
                | Self::InvalidToken(_)
                | Self::InsufficientScope
        )
    }

    /// The `error` code of the body, e.g. `invalid_token`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidToken(_) => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidBody(_) => "invalid_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::Unavailable(_) => "temporarily_unavailable",
        }
    }

    /// The `error_description`: one sentence, never a token, a secret or an internal detail.
    pub fn description(&self) -> String {
        match self {
            Self::MissingToken => "send an access token: Authorization: Bearer <token>".to_owned(),
            Self::InvalidRequest(text) | Self::InvalidToken(text) | Self::InvalidBody(text) => {
                text.clone()
            }
            Self::InsufficientScope => format!("the access token lacks the scope {UPLOAD_SCOPE}"),
            Self::UnsupportedMediaType => {
                "send the entry as Content-Type: application/json".to_owned()
            }
            Self::PayloadTooLarge(limit) => format!("the body is larger than {limit} bytes"),
            Self::NotFound => "no such resource; use POST /timesheets/upload".to_owned(),
            Self::MethodNotAllowed => "use POST on /timesheets/upload".to_owned(),
            Self::InvalidIdempotencyKey => {
                "send one Idempotency-Key of 1 to 255 visible ASCII characters, no comma".to_owned()
            }
            Self::IdempotencyKeyInUse => {
                "a request with this Idempotency-Key is still being processed; retry later"
                    .to_owned()
            }
            Self::IdempotencyKeyReused => {
                "this Idempotency-Key was used with a different body".to_owned()
            }
            Self::Unavailable(what) => format!("{what} is unavailable; retry later"),
        }
    }

    /// The `WWW-Authenticate` challenge for auth errors (RFC 6750 §3).
    fn challenge(&self) -> Option<String> {
        let with_error = |code: &str, description: &str| {
            format!(
                r#"Bearer realm="{REALM}", error="{code}", error_description="{}""#,
                quoted_safe(description)
            )
        };
        match self {
            Self::MissingToken => Some(format!(r#"Bearer realm="{REALM}""#)),
            Self::InvalidRequest(text) | Self::InvalidToken(text) => {
                Some(with_error(self.code(), text))
            }
            Self::InsufficientScope => Some(format!(
                r#"{}, scope="{UPLOAD_SCOPE}""#,
                with_error(self.code(), &self.description())
            )),
            _ => None,
        }
    }

    /// This error as the API's JSON response.
    pub fn into_response(self) -> Response<Body> {
        let body = ErrorBody {
            error: self.code().to_owned(),
            error_description: Some(self.description()),
        };
        let mut response = json_response(self.status(), &body);
        let headers = response.headers_mut();
        if let Some(challenge) = self
            .challenge()
            .and_then(|value| HeaderValue::from_str(&value).ok())
        {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        match self {
            Self::MethodNotAllowed => {
                headers.insert(ALLOW, HeaderValue::from_static("POST"));
            }
            Self::Unavailable(_) | Self::IdempotencyKeyInUse => {
                headers.insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

/// RFC 6750 §3: `error_description` uses %x20-21 / %x23-5B / %x5D-7E only.
fn quoted_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => '\'',
        })
        .collect()
}

/// `201 Created` for timesheets stored under ids from `first_id`, one per entry of `upload`:
/// the single-entry shape for an object body, the batch shape for an array. `replayed` marks
/// an answer repeated for an idempotency key.
pub fn created(first_id: u64, upload: &Upload, replayed: bool) -> Response<Body> {
    let mut timesheets: Vec<CreatedTimesheet> = (first_id..)
        .zip(&upload.entries)
        .map(|(id, entry)| CreatedTimesheet::new(id, &entry.user_id))
        .collect();
    let mut response = if upload.is_batch {
        json_response(StatusCode::CREATED, &CreatedBatch::new(timesheets))
    } else {
        json_response(StatusCode::CREATED, &timesheets.remove(0))
    };
    if replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).expect("response bodies serialise");
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(response: &Response<Body>, name: http::header::HeaderName) -> Option<&str> {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap())
    }

    #[test]
    fn missing_token_has_a_bare_challenge() {
        let response = ApiError::MissingToken.into_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            header(&response, WWW_AUTHENTICATE),
            Some(r#"Bearer realm="timesheets""#)
        );
    }

    #[test]
    fn insufficient_scope_names_the_scope() {
        let response = ApiError::InsufficientScope.into_response();
        assert_eq!(response.status(), 403);
        assert_eq!(
            header(&response, WWW_AUTHENTICATE),
            Some(
                r#"Bearer realm="timesheets", error="insufficient_scope", error_description="the access token lacks the scope batch:upload", scope="batch:upload""#
            )
        );
    }

    #[test]
    fn descriptions_cannot_break_the_header() {
        let response = ApiError::InvalidToken("a \"quoted\" \\ text\n".into()).into_response();
        assert_eq!(
            header(&response, WWW_AUTHENTICATE),
            Some(
                r#"Bearer realm="timesheets", error="invalid_token", error_description="a 'quoted' ' text'""#
            )
        );
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        let response = ApiError::Unavailable("the timesheet store").into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(header(&response, RETRY_AFTER), Some("5"));
        assert_eq!(header(&response, CONTENT_TYPE), Some("application/json"));
    }
}
