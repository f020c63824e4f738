//! Access token extraction from the `Authorization` request header: the `Bearer` scheme
//! (RFC 6750 §2.1) and, when DPoP is on, the `DPoP` scheme (RFC 9449 §7.1), whose token has
//! the same `token68`-like syntax.

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Why a request's credentials are malformed: answered `400 invalid_request` (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BearerError {
    /// More than one `Authorization` header.
    #[error("send exactly one Authorization header")]
    SeveralHeaders,
    /// `Bearer` with no token after it.
    #[error("the Bearer scheme needs an access token after it")]
    EmptyToken,
    /// `DPoP` with no token after it.
    #[error("the DPoP scheme needs an access token after it")]
    EmptyDpopToken,
    /// The token is not a `b64token` (RFC 6750 §2.1), e.g. holds spaces or commas.
    #[error("the bearer access token is malformed")]
    MalformedToken,
    /// The token was sent in the header and in the query (RFC 6750 §2: one method only).
    #[error("send the access token in one place only, the Authorization header")]
    SeveralMethods,
    /// Only the `access_token` query parameter (RFC 6750 §2.3), which this API does not accept
    /// because URLs end up in logs.
    #[error("send the access token in the Authorization header, not in the query string")]
    QueryParameter,
}

/// The authorization scheme an access token came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Bearer` (RFC 6750): whoever holds the token may use it.
    Bearer,
    /// `DPoP` (RFC 9449 §7.1): the token with a proof of its key in the `DPoP` header.
    Dpop,
}

/// An access token and its scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credentials<'a> {
    /// How it was sent.
    pub scheme: Scheme,
    /// The access token.
    pub token: &'a str,
}

/// The bearer access token of a request, if any: [`extract_credentials`] without DPoP.
///
/// # Errors
/// [`BearerError`] when the credentials are present but malformed.
#[cfg(test)]
pub(crate) fn extract(
    headers: &HeaderMap,
    token_in_query: bool,
) -> Result<Option<&str>, BearerError> {
    Ok(extract_credentials(headers, token_in_query, false)?.map(|credentials| credentials.token))
}

/// The access token of a request and its scheme, if any; the `DPoP` scheme only when
/// `accept_dpop`.
///
/// `Ok(None)` means no credentials of an accepted scheme, including another scheme such as
/// `Basic`: answered `401` with a bare challenge, no error code (RFC 6750 §3.1). The scheme is
/// matched case-insensitively (RFC 9110 §11.1).
///
/// # Errors
/// [`BearerError`] when the credentials are present but malformed.
pub(crate) fn extract_credentials(
    headers: &HeaderMap,
    token_in_query: bool,
    accept_dpop: bool,
) -> Result<Option<Credentials<'_>>, BearerError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let header = match (values.next(), values.next()) {
        (None, _) => None,
        (Some(value), None) => Some(value),
        (Some(_), Some(_)) => return Err(BearerError::SeveralHeaders),
    };
    let token = match header {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| BearerError::MalformedToken)?;
            parse_credentials(value.trim(), accept_dpop)?
        }
    };
    match (token, token_in_query) {
        (Some(_), true) => Err(BearerError::SeveralMethods),
        (None, true) => Err(BearerError::QueryParameter),
        (token, false) => Ok(token),
    }
}

fn parse_credentials(
    value: &str,
    accept_dpop: bool,
) -> Result<Option<Credentials<'_>>, BearerError> {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if accept_dpop && scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return Ok(None);
    };
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(match scheme {
            Scheme::Bearer => BearerError::EmptyToken,
            Scheme::Dpop => BearerError::EmptyDpopToken,
        });
    }
    if is_b64token(token) {
        Ok(Some(Credentials { scheme, token }))
    } else {
        Err(BearerError::MalformedToken)
    }
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 6750 §2.1).
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn takes_the_token_after_the_scheme_in_any_case() {
        for value in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER  abc.def.ghi",
        ] {
            let map = headers(&[value]);
            assert_eq!(extract(&map, false), Ok(Some("abc.def.ghi")), "{value}");
        }
    }

    #[test]
    fn the_dpop_scheme_is_a_token_only_when_dpop_is_on() {
        let map = headers(&["DPoP abc.def.ghi"]);
        assert_eq!(extract(&map, false), Ok(None));
        assert_eq!(
            extract_credentials(&map, false, true),
            Ok(Some(Credentials {
                scheme: Scheme::Dpop,
                token: "abc.def.ghi"
            }))
        );
        assert_eq!(
            extract_credentials(&headers(&["dpop"]), false, true),
            Err(BearerError::EmptyDpopToken)
        );
    }

    #[test]
    fn no_header_or_another_scheme_is_no_token() {
        assert_eq!(extract(&HeaderMap::new(), false), Ok(None));
        assert_eq!(extract(&headers(&["Basic dXNlcjpwYXNz"]), false), Ok(None));
    }

    #[test]
    fn malformed_credentials_are_invalid_requests() {
        let cases = [
            (vec!["Bearer"], BearerError::EmptyToken),
            (vec!["Bearer    "], BearerError::EmptyToken),
            (vec!["Bearer a b"], BearerError::MalformedToken),
            (vec!["Bearer a,Bearer b"], BearerError::MalformedToken),
            (vec!["Bearer ==="], BearerError::MalformedToken),
            (vec!["Bearer a", "Bearer b"], BearerError::SeveralHeaders),
        ];
        for (values, expected) in cases {
            assert_eq!(
                extract(&headers(&values), false),
                Err(expected),
                "{values:?}"
            );
        }
    }

    #[test]
    fn query_tokens_are_refused() {
        assert_eq!(
            extract(&headers(&["Bearer abc"]), true),
            Err(BearerError::SeveralMethods)
        );
        assert_eq!(
            extract(&HeaderMap::new(), true),
            Err(BearerError::QueryParameter)
        );
    }

    #[test]
    fn padding_is_allowed_at_the_end_only() {
        assert_eq!(
            extract(&headers(&["Bearer abc=="]), false),
            Ok(Some("abc=="))
        );
        assert_eq!(
            extract(&headers(&["Bearer a=bc"]), false),
            Err(BearerError::MalformedToken)
        );
    }

    /// `PROPTEST_CASES` cases (`make fuzz`), default 64; no regression files in the tree.
    fn config() -> Config {
        Config {
            failure_persistence: None,
            ..Config::with_cases(
                std::env::var("PROPTEST_CASES")
                    .ok()
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(64),
            )
        }
    }

    /// A property test standing in for a fuzzer: nothing panics, and what is extracted is one
    /// header's `b64token`.
    #[test]
    fn bearer_extraction_never_panics() {
        let value = prop_oneof![
            vec(any::<u8>(), 0..64),
            ("(?i)(bearer|basic)?[ ]{0,2}", "[A-Za-z0-9._~+/=, -]{0,40}")
                .prop_map(|(scheme, token)| format!("{scheme}{token}").into_bytes()),
        ];
        proptest!(config(), |(values in vec(value, 0..3), in_query in any::<bool>())| {
            let mut headers = HeaderMap::new();
            for value in &values {
                if let Ok(value) = HeaderValue::from_bytes(value) {
                    headers.append(AUTHORIZATION, value);
                }
            }
            if let Ok(Some(token)) = extract(&headers, in_query) {
                prop_assert!(!in_query);
                prop_assert_eq!(headers.get_all(AUTHORIZATION).iter().count(), 1);
                prop_assert!(!token.is_empty());
                prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)));
                let header = headers[AUTHORIZATION].to_str().unwrap();
                // The value may end in whitespace, which the extraction trims (RFC 9110 §5.5).
                prop_assert!(header.trim_end().ends_with(token));
            }
        });
    }
}
