//! Why a request's access token was not accepted, and how to answer it: the status, the
//! `error` code and `error_description` (RFC 6750 §3, RFC 9449 §7.1) and the one
//! `WWW-Authenticate` value.

use http::StatusCode;

use crate::dpop::rejection::ProofRejection;
use crate::dpop::{self, DpopMode};
use crate::rejection::TokenRejection;

/// Why [`TokenVerifier::authorize`](crate::TokenVerifier::authorize) or
/// [`VerifiedToken::require_scope`](crate::VerifiedToken::require_scope) refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.description())]
pub enum AuthorizeError {
    /// No credentials of a scheme the mode accepts: `401` with a bare challenge per scheme and
    /// no error code (RFC 6750 §3.1, RFC 9449 §7.1).
    MissingToken(DpopMode),
    /// Malformed credentials (several `Authorization` headers, a token in the query, a token
    /// that is no `b64token`): `400 invalid_request` (RFC 6750 §3.1).
    InvalidRequest(String),
    /// A token sent as `Bearer` that is not acceptable: `401 invalid_token` (RFC 6750 §3.1).
    InvalidToken(TokenRejection),
    /// A token sent as `DPoP`, or a DPoP-bound one sent as `Bearer`, that is not acceptable:
    /// `401 invalid_token` with a `DPoP` challenge (RFC 9449 §7.1).
    InvalidDpopToken(TokenRejection),
    /// The DPoP proof is not acceptable: `401 invalid_dpop_proof` (RFC 9449 §7.1).
    InvalidDpopProof(ProofRejection),
    /// A `Bearer` token lacks this scope: `403 insufficient_scope` (RFC 6750 §3.1).
    InsufficientScope(String),
    /// A DPoP-bound token lacks this scope: `403 insufficient_scope` with a `DPoP` challenge,
    /// which takes RFC 6750's error codes (RFC 9449 §7.1).
    InsufficientDpopScope(String),
    /// The JWKS of the token's issuer cannot be had: `503`, the client may retry.
    KeysUnavailable,
    /// The DPoP replay store failed: `503`, the client may retry with a new proof.
    ReplayUnavailable,
}

impl AuthorizeError {
    /// The HTTP status to answer: `400`, `401`, `403` or `503`.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::MissingToken(_)
            | Self::InvalidToken(_)
            | Self::InvalidDpopToken(_)
            | Self::InvalidDpopProof(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) | Self::InsufficientDpopScope(_) => StatusCode::FORBIDDEN,
            Self::KeysUnavailable | Self::ReplayUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `error` code, e.g. `invalid_token` (RFC 6750 §3.1, RFC 9449 §7.1);
    /// `missing_token` where RFC 6750 §3.1 sends none in the challenge, and
    /// `temporarily_unavailable` for a `503`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken(_) => "missing_token",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidToken(_) | Self::InvalidDpopToken(_) => "invalid_token",
            Self::InvalidDpopProof(_) => "invalid_dpop_proof",
            Self::InsufficientScope(_) | Self::InsufficientDpopScope(_) => "insufficient_scope",
            Self::KeysUnavailable | Self::ReplayUnavailable => "temporarily_unavailable",
        }
    }

    /// The `error_description`: one sentence, never echoing the token or the proof.
    pub fn description(&self) -> String {
        match self {
            Self::MissingToken(DpopMode::Off) => {
                "send an access token: Authorization: Bearer <token>".to_owned()
            }
            Self::MissingToken(DpopMode::Allowed) => {
                "send an access token: Authorization: Bearer <token>, or DPoP <token> with a DPoP proof"
                    .to_owned()
            }
            Self::MissingToken(DpopMode::Required) => {
                "send a DPoP-bound access token: Authorization: DPoP <token> with a DPoP proof"
                    .to_owned()
            }
            Self::InvalidRequest(text) => text.clone(),
            Self::InvalidToken(rejection) | Self::InvalidDpopToken(rejection) => {
                rejection.description().to_owned()
            }
            Self::InvalidDpopProof(rejection) => rejection.description().to_owned(),
            Self::InsufficientScope(scope) | Self::InsufficientDpopScope(scope) => {
                format!("the access token lacks the scope {scope}")
            }
            Self::KeysUnavailable => {
                "the issuer's signing keys are unavailable; retry later".to_owned()
            }
            Self::ReplayUnavailable => {
                "the DPoP replay store is unavailable; retry later".to_owned()
            }
        }
    }

    /// The `Reason` of a refusal for metrics and logs, e.g. `invalid_token:expired`,
    /// `invalid_dpop_proof:replayed`, `missing_token`; never token text.
    pub fn reason(&self) -> String {
        match self {
            Self::InvalidToken(rejection) | Self::InvalidDpopToken(rejection) => {
                rejection.metric_reason()
            }
            Self::InvalidDpopProof(rejection) => rejection.metric_reason(),
            other => other.code().to_owned(),
        }
    }

    /// The `WWW-Authenticate` value for `realm`, `None` for a `503` (RFC 6750 §3; RFC 9449 §7.1
    /// for `DPoP`, whose challenge lists the accepted proof algorithms). Two challenges share
    /// one value, comma-separated (RFC 9110 §11.6.1): API Gateway's HTTP API (payload 2.0)
    /// keeps only the first of repeated response headers.
    pub fn challenge(&self, realm: &str) -> Option<String> {
        let bearer = || format!(r#"Bearer realm="{}""#, quoted_safe(realm));
        let bare_dpop = || format!(r#"DPoP algs="{}""#, dpop::algs());
        let with_error = |scheme: String| {
            format!(
                r#"{scheme}, error="{}", error_description="{}""#,
                self.code(),
                quoted_safe(&self.description())
            )
        };
        let challenge = match self {
            Self::MissingToken(DpopMode::Off) => bearer(),
            Self::MissingToken(DpopMode::Allowed) => format!("{}, {}", bearer(), bare_dpop()),
            Self::MissingToken(DpopMode::Required) => bare_dpop(),
            Self::InvalidRequest(_) | Self::InvalidToken(_) => with_error(bearer()),
            Self::InvalidDpopToken(_) | Self::InvalidDpopProof(_) => with_error(bare_dpop()),
            Self::InsufficientScope(scope) => {
                format!(
                    r#"{}, scope="{}""#,
                    with_error(bearer()),
                    quoted_safe(scope)
                )
            }
            Self::InsufficientDpopScope(scope) => {
                format!(
                    r#"{}, scope="{}""#,
                    with_error(bare_dpop()),
                    quoted_safe(scope)
                )
            }
            Self::KeysUnavailable | Self::ReplayUnavailable => return None,
        };
        Some(challenge)
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

#[cfg(test)]
mod tests {
    use super::*;

    const REALM: &str = "timesheets";

    #[test]
    fn missing_token_has_a_bare_challenge_per_accepted_scheme() {
        let off = AuthorizeError::MissingToken(DpopMode::Off);
        assert_eq!(off.status(), 401);
        assert_eq!(
            off.challenge(REALM).as_deref(),
            Some(r#"Bearer realm="timesheets""#)
        );
        assert_eq!(
            AuthorizeError::MissingToken(DpopMode::Allowed)
                .challenge(REALM)
                .as_deref(),
            Some(r#"Bearer realm="timesheets", DPoP algs="ES256 PS256 RS256""#)
        );
        assert_eq!(
            AuthorizeError::MissingToken(DpopMode::Required)
                .challenge(REALM)
                .as_deref(),
            Some(r#"DPoP algs="ES256 PS256 RS256""#)
        );
    }

    #[test]
    fn an_invalid_proof_gets_a_dpop_challenge_with_its_error() {
        let error = AuthorizeError::InvalidDpopProof(ProofRejection::Replayed);
        assert_eq!(error.status(), 401);
        assert_eq!(error.reason(), "invalid_dpop_proof:replayed");
        assert_eq!(
            error.challenge(REALM).as_deref(),
            Some(
                r#"DPoP algs="ES256 PS256 RS256", error="invalid_dpop_proof", error_description="the DPoP proof was used before (jti)""#
            )
        );
    }

    #[test]
    fn insufficient_scope_names_the_scope() {
        let error = AuthorizeError::InsufficientScope("batch:upload".to_owned());
        assert_eq!(error.status(), 403);
        assert_eq!(
            error.challenge(REALM).as_deref(),
            Some(
                r#"Bearer realm="timesheets", error="insufficient_scope", error_description="the access token lacks the scope batch:upload", scope="batch:upload""#
            )
        );
    }

    #[test]
    fn descriptions_cannot_break_the_header() {
        let error = AuthorizeError::InvalidRequest("a \"quoted\" \\ text\n".into());
        assert_eq!(
            error.challenge(REALM).as_deref(),
            Some(
                r#"Bearer realm="timesheets", error="invalid_request", error_description="a 'quoted' ' text'""#
            )
        );
    }

    #[test]
    fn unavailable_is_a_retry_without_a_challenge() {
        for error in [
            AuthorizeError::KeysUnavailable,
            AuthorizeError::ReplayUnavailable,
        ] {
            assert_eq!(error.status(), 503);
            assert_eq!(error.code(), "temporarily_unavailable");
            assert_eq!(error.challenge(REALM), None);
        }
    }
}
