//! Every answer of the API as an HTTP response: JSON bodies, RFC 6750 challenges, the
//! headers an [`ApiError`] calls for.

use http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use timesheets::{CreatedBatch, CreatedTimesheet, ErrorBody, IDEMPOTENT_REPLAYED_HEADER};

use crate::auth::dpop::{self, DpopMode};
use crate::auth::scope::UPLOAD_SCOPE;
use crate::body::Upload;
use crate::error::ApiError;

/// The realm of the `WWW-Authenticate` challenges (RFC 6750 §3).
pub const REALM: &str = "timesheets";

/// Seconds a client should wait before retrying a `503`.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl ApiError {
    /// The `WWW-Authenticate` value of an auth error (RFC 6750 §3; RFC 9449 §7.1 for `DPoP`,
    /// whose challenge lists the accepted proof algorithms). Two challenges share one value,
    /// comma-separated (RFC 9110 §11.6.1): API Gateway's HTTP API (payload 2.0) keeps only the
    /// first of repeated response headers.
    fn challenge(&self) -> Option<String> {
        let with_error = |code: &str, description: &str| {
            format!(
                r#"Bearer realm="{REALM}", error="{code}", error_description="{}""#,
                quoted_safe(description)
            )
        };
        let bare_dpop = || format!(r#"DPoP algs="{}""#, dpop::algs());
        let dpop_with_error = || {
            format!(
                r#"DPoP algs="{}", error="{}", error_description="{}""#,
                dpop::algs(),
                self.code(),
                quoted_safe(&self.description())
            )
        };
        let challenge = match self {
            Self::MissingToken(DpopMode::Off) => format!(r#"Bearer realm="{REALM}""#),
            Self::MissingToken(DpopMode::Allowed) => {
                format!(r#"Bearer realm="{REALM}", {}"#, bare_dpop())
            }
            Self::MissingToken(DpopMode::Required) => bare_dpop(),
            Self::InvalidRequest(_) | Self::InvalidToken(_) => {
                with_error(self.code(), &self.description())
            }
            Self::InvalidDpopToken(_) | Self::InvalidDpopProof(_) => dpop_with_error(),
            Self::InsufficientScope => format!(
                r#"{}, scope="{UPLOAD_SCOPE}""#,
                with_error(self.code(), &self.description())
            ),
            _ => return None,
        };
        Some(challenge)
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
            Self::Unavailable(_) => {
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
    use crate::auth::dpop::rejection::ProofRejection;

    fn header(response: &Response<Body>, name: http::header::HeaderName) -> Option<&str> {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap())
    }

    #[test]
    fn missing_token_has_a_bare_challenge() {
        let response = ApiError::MissingToken(DpopMode::Off).into_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            header(&response, WWW_AUTHENTICATE),
            Some(r#"Bearer realm="timesheets""#)
        );
    }

    #[test]
    fn with_dpop_allowed_a_missing_token_gets_both_challenges_in_one_value() {
        let response = ApiError::MissingToken(DpopMode::Allowed).into_response();
        let challenges: Vec<&str> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect();
        assert_eq!(
            challenges,
            [r#"Bearer realm="timesheets", DPoP algs="ES256 PS256 RS256""#]
        );
        let required = ApiError::MissingToken(DpopMode::Required).into_response();
        assert_eq!(
            header(&required, WWW_AUTHENTICATE),
            Some(r#"DPoP algs="ES256 PS256 RS256""#)
        );
    }

    #[test]
    fn an_invalid_proof_gets_a_dpop_challenge_with_its_error() {
        let response = ApiError::InvalidDpopProof(ProofRejection::Replayed).into_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            header(&response, WWW_AUTHENTICATE),
            Some(
                r#"DPoP algs="ES256 PS256 RS256", error="invalid_dpop_proof", error_description="the DPoP proof was used before (jti)""#
            )
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
        let response = ApiError::InvalidRequest("a \"quoted\" \\ text\n".into()).into_response();
        assert_eq!(
            header(&response, WWW_AUTHENTICATE),
            Some(
                r#"Bearer realm="timesheets", error="invalid_request", error_description="a 'quoted' ' text'""#
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
