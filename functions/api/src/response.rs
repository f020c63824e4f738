//! Every answer of the API as an HTTP response: JSON bodies, RFC 6750 challenges, the
//! headers an [`ApiError`] calls for.

use http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use timesheets::{CreatedBatch, CreatedTimesheet, ErrorBody, IDEMPOTENT_REPLAYED_HEADER};

use crate::body::Upload;
use crate::error::{ApiError, ErrorKind};

/// The realm of the `WWW-Authenticate` challenges (RFC 6750 §3).
pub const REALM: &str = "timesheets";

/// Seconds a client should wait before retrying a `503`.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl ApiError {
    /// The `WWW-Authenticate` value of a refused access token, in this API's [`REALM`].
    fn challenge(&self) -> Option<String> {
        match self {
            Self::Refused(refused) => refused.challenge(REALM),
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
        // By kind, so a `503` the verifier answers says when to retry too.
        match self.kind() {
            ErrorKind::MethodNotAllowed => {
                headers.insert(ALLOW, HeaderValue::from_static("POST"));
            }
            ErrorKind::Unavailable => {
                headers.insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
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
    use jwt_access_token::{AuthorizeError, DpopMode};

    fn header(response: &Response<Body>, name: http::header::HeaderName) -> Option<&str> {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap())
    }

    #[test]
    fn a_refused_token_is_answered_with_its_challenge_in_one_value_and_its_error() {
        let refused = AuthorizeError::InsufficientScope(crate::UPLOAD_SCOPE.to_owned());
        let response = ApiError::Refused(refused).into_response();
        assert_eq!(response.status(), 403);
        let challenges: Vec<&str> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect();
        assert_eq!(
            challenges,
            [
                r#"Bearer realm="timesheets", error="insufficient_scope", error_description="the access token lacks the scope batch:upload", scope="batch:upload""#
            ]
        );
        let Body::Text(body) = response.body() else {
            panic!("a JSON text body")
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(body).unwrap(),
            serde_json::json!({
                "error": "insufficient_scope",
                "error_description": "the access token lacks the scope batch:upload"
            })
        );
        let missing = ApiError::Refused(AuthorizeError::MissingToken(DpopMode::Allowed));
        assert_eq!(
            header(&missing.into_response(), WWW_AUTHENTICATE),
            Some(r#"Bearer realm="timesheets", DPoP algs="ES256 PS256 RS256""#)
        );
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        for error in [
            ApiError::Unavailable("the timesheet store"),
            ApiError::Refused(AuthorizeError::KeysUnavailable),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), 503);
            assert_eq!(header(&response, RETRY_AFTER), Some("5"));
            assert_eq!(header(&response, CONTENT_TYPE), Some("application/json"));
        }
    }
}
