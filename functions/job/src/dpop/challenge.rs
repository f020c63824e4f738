//! When a server asks for a nonce: the issuer's `400 {"error": "use_dpop_nonce"}` (RFC 9449
//! §8) and the API's `401` with `WWW-Authenticate: DPoP error="use_dpop_nonce"` (§9).

use std::future::Future;
use std::time::Duration;

use http_auth::ChallengeParser;
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use tokio::time::Instant;

/// The error code of both requests for a nonce.
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";

/// Whether the issuer's refusal (`status`, RFC 6749 §5.2 `error`) asks for a nonce.
pub fn issuer_asks_for_nonce(status: u16, error: &str) -> bool {
    status == 400 && error == USE_DPOP_NONCE
}

/// Whether a resource server's answer (`status`, `headers`) asks for a nonce: a 401 with a
/// `DPoP` challenge (scheme compared case-insensitively, RFC 9110 §11.1) whose `error` is
/// `use_dpop_nonce`. A header value is read up to its first malformed challenge.
pub fn resource_asks_for_nonce(status: u16, headers: &HeaderMap) -> bool {
    status == 401
        && headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| ChallengeParser::new(value).map_while(Result::ok))
            .filter(|challenge| challenge.scheme.eq_ignore_ascii_case("DPoP"))
            .any(|challenge| {
                challenge.params.iter().any(|(name, value)| {
                    name.eq_ignore_ascii_case("error") && value.to_unescaped() == USE_DPOP_NONCE
                })
            })
}

/// One attempt of a request with DPoP: `send` (given its timeout) returns its result and
/// whether the server asked for the nonce it gave in that answer; then, if `may_retry`, it is
/// sent once more at once, within what is left of `timeout`. Once only (§8, §9): a second
/// request for a nonce is the attempt's result.
pub async fn retry_once_for_nonce<T, Fut>(
    may_retry: bool,
    timeout: Duration,
    mut send: impl FnMut(Duration) -> Fut,
) -> T
where
    Fut: Future<Output = (T, bool)>,
{
    let started = Instant::now();
    let (result, asked_for_nonce) = send(timeout).await;
    if !(may_retry && asked_for_nonce) {
        return result;
    }
    send(timeout.saturating_sub(started.elapsed())).await.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(status: u16, challenges: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for challenge in challenges {
            headers.append(WWW_AUTHENTICATE, challenge.parse().unwrap());
        }
        resource_asks_for_nonce(status, &headers)
    }

    #[test]
    fn a_dpop_challenge_with_use_dpop_nonce_asks() {
        let rfc = r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;
        assert!(asks(401, &[rfc]));
        assert!(asks(401, &[r#"dpop algs="ES256", error=use_dpop_nonce"#]));
        assert!(asks(
            401,
            &[r#"Bearer realm="timesheets", DPoP algs="ES256", error="use_dpop_nonce""#]
        ));
        assert!(asks(401, &[r#"Bearer realm="timesheets""#, rfc]));
    }

    #[test]
    fn other_answers_do_not_ask() {
        assert!(!asks(401, &[]));
        assert!(!asks(401, &[r#"DPoP error="invalid_token""#]));
        assert!(!asks(401, &[r#"Bearer error="use_dpop_nonce""#]));
        assert!(!asks(
            403,
            &[r#"DPoP error="use_dpop_nonce", error_description="x""#]
        ));
        assert!(issuer_asks_for_nonce(400, "use_dpop_nonce"));
        assert!(!issuer_asks_for_nonce(401, "use_dpop_nonce"));
        assert!(!issuer_asks_for_nonce(400, "invalid_dpop_proof"));
    }
}
