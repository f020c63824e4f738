//! An [`AuthorizeError`] as the HTTP answer a `lambda_http` handler returns.

use http::HeaderValue;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use lambda_http::{Body, Response};
use serde_json::json;

use super::AuthorizeError;

impl AuthorizeError {
    /// The answer: [`status`](Self::status), the JSON body
    /// `{"error": code, "error_description": description}` and the
    /// [`challenge`](Self::challenge) for `realm` in `WWW-Authenticate` (RFC 6750 §3,
    /// RFC 9449 §7.1).
    pub fn into_response(self, realm: &str) -> Response<Body> {
        let body = json!({"error": self.code(), "error_description": self.description()});
        let mut response = Response::new(Body::Text(body.to_string()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(challenge) = self
            .challenge(realm)
            .and_then(|value| HeaderValue::from_str(&value).ok())
        {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenRejection;

    #[test]
    fn the_answer_carries_status_body_and_challenge() {
        let response = AuthorizeError::InvalidToken(TokenRejection::Expired).into_response("api");
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="api", error="invalid_token", error_description="the access token expired""#
        );
        let Body::Text(text) = response.body() else {
            panic!("a text body")
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text).unwrap(),
            json!({"error": "invalid_token", "error_description": "the access token expired"})
        );
    }
}
