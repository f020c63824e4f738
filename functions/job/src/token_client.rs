//! Access tokens by the OAuth 2.0 client-credentials grant (RFC 6749 §4.4), with Auth0's
//! `audience` parameter, kept until shortly before they expire so warm runs reuse them.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use timesheets::discovery::IssuerEndpoint;
use timesheets::http_client::{self, FetchError};
use timesheets::telemetry::metric;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::client_assertion::{AssertionError, AssertionSigner};
use crate::client_auth::ClientAuthentication;
use crate::credentials::ClientCredentials;
use crate::retry::{self, Budget, Classify, OutOfTime, Verdict};

/// Largest token response read, in bytes.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;
/// A token is renewed this long before it expires, so it cannot lapse in flight.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);
/// Lifetime assumed when the issuer omits `expires_in` (RFC 6749 §5.1 makes it optional).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Longest lifetime believed, so an absurd `expires_in` cannot overflow the clock (Auth0 issues
/// 24 h tokens by default).
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// An access token the issuer granted the job (RFC 6749 §5.1), sent as a bearer token
/// (RFC 6750 §2.1). It has no `Display`, and `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken(String);

impl IssuedToken {
    pub(crate) fn new(token: String) -> Self {
        Self(token)
    }

    /// The token text, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuedToken(<redacted>)")
    }
}

/// Why no access token was obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenRequestError {
    /// The token endpoint could not be reached or its answer not read.
    #[error("token endpoint unreachable: {0}")]
    Transport(#[from] FetchError),
    /// The issuer refused (RFC 6749 §5.2), e.g. `invalid_client` for a wrong secret.
    #[error("token endpoint answered HTTP {status} {error}{}", description.as_deref().map(|text| format!(": {text}")).unwrap_or_default())]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The `error` code, or `unknown_error` when the body had none.
        error: String,
        /// The issuer's `error_description`, if any.
        description: Option<String>,
        /// The answer's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// A 2xx answer that is not a bearer token response (RFC 6749 §5.1).
    #[error("token endpoint answer is not a bearer token response")]
    BadResponse,
    /// The client assertion could not be signed (`private_key_jwt`); the SDK has already
    /// retried KMS's transient failures.
    #[error("cannot sign the client assertion: {0}")]
    Assertion(#[from] AssertionError),
    /// No attempt could start before the invocation's deadline.
    #[error(transparent)]
    OutOfTime(#[from] OutOfTime),
}

impl Classify for TokenRequestError {
    /// 429 (Auth0's rate limit) and 5xx, timeouts and connection failures are transient;
    /// every RFC 6749 §5.2 refusal (`invalid_client`, ...) is permanent.
    fn verdict(&self) -> Verdict {
        match self {
            Self::Transport(error) => retry::transport_verdict(error),
            Self::Rejected {
                status,
                retry_after,
                ..
            } => retry::status_verdict(*status, None, *retry_after),
            Self::BadResponse | Self::Assertion(_) | Self::OutOfTime(_) => Verdict::Permanent,
        }
    }
}

impl TokenRequestError {
    /// The RFC 6749 §5.2 error code, if the issuer gave one.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            Self::Rejected { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether the issuer refused the client's credentials: `invalid_client` (RFC 6749 §5.2),
    /// or any 401, since Auth0 answers a wrong secret with `401 access_denied "Unauthorized"`.
    pub fn refuses_credentials(&self) -> bool {
        matches!(self, Self::Rejected { status: 401, .. })
            || self.oauth_error() == Some("invalid_client")
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct OAuthErrorResponse {
    error: String,
    error_description: Option<String>,
}

#[derive(Debug)]
struct CachedToken {
    token: IssuedToken,
    client_id: String,
    renew_at: Instant,
}

/// Gets and keeps access tokens for one audience.
#[derive(Debug)]
pub struct TokenClient {
    http: reqwest::Client,
    endpoint: IssuerEndpoint,
    audience: String,
    client_auth: ClientAuthentication,
    signer: Option<AssertionSigner>,
    cached: Mutex<Option<CachedToken>>,
}

impl TokenClient {
    /// A client asking `endpoint` for tokens for `audience`, authenticating by `client_auth`.
    pub fn new(
        http: reqwest::Client,
        endpoint: IssuerEndpoint,
        audience: impl Into<String>,
        client_auth: ClientAuthentication,
    ) -> Self {
        Self {
            http,
            endpoint,
            audience: audience.into(),
            client_auth,
            signer: None,
            cached: Mutex::new(None),
        }
    }

    /// Signs a client assertion with `signer` for every request (`private_key_jwt`).
    pub fn with_signer(mut self, signer: AssertionSigner) -> Self {
        self.signer = Some(signer);
        self
    }

    /// A valid access token for `credentials`: the kept one, or a new one requested with
    /// retries within `budget` (see [`crate::retry`]).
    ///
    /// # Errors
    /// [`TokenRequestError`] when the issuer cannot be reached or refuses.
    pub async fn access_token(
        &self,
        credentials: &ClientCredentials,
        budget: &Budget,
    ) -> Result<IssuedToken, TokenRequestError> {
        let mut cached = self.cached.lock().await;
        if let Some(kept) = cached.as_ref().filter(|kept| {
            kept.client_id == credentials.client_id && Instant::now() < kept.renew_at
        }) {
            return Ok(kept.token.clone());
        }
        let (token, lifetime) = budget
            .call("token", |timeout| self.request(credentials, timeout))
            .await
            .result?;
        let margin = RENEW_BEFORE_EXPIRY.min(lifetime / 2);
        *cached = Some(CachedToken {
            token: token.clone(),
            client_id: credentials.client_id.clone(),
            renew_at: Instant::now() + lifetime - margin,
        });
        Ok(token)
    }

    /// Drops the kept token, e.g. after the API refused it.
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }

    async fn request(
        &self,
        credentials: &ClientCredentials,
        timeout: Duration,
    ) -> Result<(IssuedToken, Duration), TokenRequestError> {
        let url = self.endpoint.url(&self.http).await;
        metrics::counter!(metric::TOKEN_REQUESTS).increment(1);
        let form = [
            ("grant_type", "client_credentials"),
            ("audience", self.audience.as_str()),
        ];
        // A new assertion per attempt: the issuer refuses a jti it has seen (RFC 7523 §3).
        let assertion = match &self.signer {
            Some(signer) => Some(
                signer
                    .assertion(&credentials.client_id, SystemTime::now())
                    .await?,
            ),
            None => None,
        };
        let response = self
            .client_auth
            .authenticate(
                self.http.post(url),
                credentials,
                assertion.as_deref(),
                &form,
            )
            .timeout(timeout)
            .send()
            .await
            .map_err(FetchError::from)?;
        let status = response.status();
        let retry_after = retry::retry_after(response.headers(), SystemTime::now());
        let body = http_client::read_limited(response, MAX_TOKEN_RESPONSE_BYTES).await?;
        if !status.is_success() {
            let refusal = serde_json::from_slice::<OAuthErrorResponse>(&body).ok();
            return Err(TokenRequestError::Rejected {
                status: status.as_u16(),
                error: refusal
                    .as_ref()
                    .map_or_else(|| "unknown_error".to_owned(), |r| r.error.clone()),
                description: refusal.and_then(|r| r.error_description),
                retry_after,
            });
        }
        let answer: TokenResponse =
            serde_json::from_slice(&body).map_err(|_| TokenRequestError::BadResponse)?;
        if !answer.token_type.eq_ignore_ascii_case("bearer") || answer.access_token.is_empty() {
            return Err(TokenRequestError::BadResponse);
        }
        Ok((
            IssuedToken::new(answer.access_token),
            lifetime(answer.expires_in),
        ))
    }
}

/// How long a token with `expires_in` seconds is kept: [`DEFAULT_LIFETIME`] without one,
/// at most [`MAX_LIFETIME`].
fn lifetime(expires_in: Option<u64>) -> Duration {
    expires_in
        .map_or(DEFAULT_LIFETIME, Duration::from_secs)
        .min(MAX_LIFETIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(status: u16, error: &str) -> TokenRequestError {
        TokenRequestError::Rejected {
            status,
            error: error.to_owned(),
            description: None,
            retry_after: None,
        }
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried_refusals_are_not() {
        for status in [429, 500, 503] {
            assert!(
                matches!(
                    rejected(status, "too_many_requests").verdict(),
                    Verdict::Transient { .. }
                ),
                "{status}"
            );
        }
        for (status, error) in [
            (401, "invalid_client"),
            (400, "invalid_request"),
            (403, "unauthorized_client"),
        ] {
            assert_eq!(rejected(status, error).verdict(), Verdict::Permanent);
        }
        assert_eq!(TokenRequestError::BadResponse.verdict(), Verdict::Permanent);
    }

    #[test]
    fn a_wrong_secret_is_recognised_as_rfc_6749_and_auth0_answer_it() {
        assert!(rejected(401, "invalid_client").refuses_credentials());
        assert!(rejected(400, "invalid_client").refuses_credentials());
        assert!(rejected(401, "access_denied").refuses_credentials());
        for (status, error) in [(403, "unauthorized_client"), (429, "too_many_requests")] {
            assert!(!rejected(status, error).refuses_credentials(), "{status}");
        }
        assert!(!TokenRequestError::BadResponse.refuses_credentials());
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(lifetime(Some(86_400)), Duration::from_secs(86_400));
        assert_eq!(lifetime(None), DEFAULT_LIFETIME);
        assert_eq!(lifetime(Some(u64::MAX)), MAX_LIFETIME);
        // What the cache adds to the clock must not overflow.
        let _ = Instant::now() + lifetime(Some(u64::MAX));
    }

    #[test]
    fn the_token_never_shows() {
        let token = IssuedToken::new("eyJ.secret.sig".to_owned());
        assert_eq!(format!("{token:?}"), "IssuedToken(<redacted>)");
    }
}
