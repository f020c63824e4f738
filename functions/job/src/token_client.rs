//! Access tokens by the OAuth 2.0 client-credentials grant (RFC 6749 §4.4), with Auth0's
//! `audience`, or an RFC 8707 `resource` and a `scope` (`token_request.rs`), kept until
//! shortly before they expire so warm runs reuse them; with DPoP (RFC 9449) each request
//! carries a proof and the token may come bound to the job's key.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::RequestBuilder;
use serde::Deserialize;
use timesheets::discovery::IssuerEndpoint;
use timesheets::http_client::{self, FetchError};
use timesheets::telemetry::metric;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::client_assertion::{AssertionError, AssertionSigner};
use crate::client_auth::ClientAuthentication;
use crate::credentials::ClientCredentials;
use crate::dpop::{self, DpopSigner, ProofError, challenge};
use crate::retry::{self, Budget, Classify, OutOfTime, Verdict};
use crate::token_request::TokenParameters;

/// Largest token response read, in bytes.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;
/// A token is renewed this long before it expires, so it cannot lapse in flight.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);
/// Lifetime assumed when the issuer omits `expires_in` (RFC 6749 §5.1 makes it optional).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Longest lifetime believed, so an absurd `expires_in` cannot overflow the clock (Auth0 issues
/// 24 h tokens by default).
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// An access token the issuer granted the job (RFC 6749 §5.1): a bearer token (RFC 6750 §2.1),
/// or a DPoP-bound one (RFC 9449 §5, `token_type: "DPoP"`) that holds the signer of its key.
/// It has no `Display`, and `Debug` never shows it.
#[derive(Clone)]
pub struct IssuedToken {
    token: String,
    /// The key the token is bound to, for DPoP-bound tokens.
    dpop: Option<Arc<DpopSigner>>,
}

impl IssuedToken {
    pub(crate) fn new(token: String) -> Self {
        Self { token, dpop: None }
    }

    pub(crate) fn dpop_bound(token: String, signer: Arc<DpopSigner>) -> Self {
        Self {
            token,
            dpop: Some(signer),
        }
    }

    /// The token text, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        &self.token
    }

    /// The `token_type` it is sent as: `Bearer` or `DPoP`.
    pub fn token_type(&self) -> &'static str {
        if self.dpop.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }

    /// The signer of the key a DPoP-bound token is bound to.
    pub fn dpop(&self) -> Option<&DpopSigner> {
        self.dpop.as_deref()
    }

    /// `request` (method `htm`, to `url`) with the token: `Authorization: Bearer <token>`, or
    /// `Authorization: DPoP <token>` and a new proof with `ath` (RFC 9449 §7.1).
    ///
    /// # Errors
    /// [`ProofError`] when the proof cannot be signed.
    pub(crate) fn authorize(
        &self,
        request: RequestBuilder,
        htm: &str,
        url: &Url,
    ) -> Result<RequestBuilder, ProofError> {
        let Some(signer) = &self.dpop else {
            return Ok(request.bearer_auth(&self.token));
        };
        let proof = signer.proof(htm, url, Some(&self.token))?;
        Ok(request
            .header(
                reqwest::header::AUTHORIZATION,
                format!("DPoP {}", self.token),
            )
            .header(dpop::DPOP_HEADER, proof))
    }
}

impl PartialEq for IssuedToken {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token
            && match (&self.dpop, &other.dpop) {
                (None, None) => true,
                (Some(mine), Some(theirs)) => Arc::ptr_eq(mine, theirs),
                _ => false,
            }
    }
}

impl Eq for IssuedToken {}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dpop {
            None => f.write_str("IssuedToken(<redacted>)"),
            Some(_) => f.write_str("IssuedToken(DPoP, <redacted>)"),
        }
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
    /// A 2xx answer that is not a bearer token response (RFC 6749 §5.1), nor with DPoP on a
    /// `DPoP` one (RFC 9449 §5).
    #[error("token endpoint answer is not a bearer token response")]
    BadResponse,
    /// The client assertion could not be signed (`private_key_jwt`); the SDK has already
    /// retried KMS's transient failures.
    #[error("cannot sign the client assertion: {0}")]
    Assertion(#[from] AssertionError),
    /// The DPoP proof could not be signed.
    #[error(transparent)]
    Proof(#[from] ProofError),
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
            } => retry::status_verdict(*status, *retry_after),
            Self::BadResponse | Self::Assertion(_) | Self::Proof(_) | Self::OutOfTime(_) => {
                Verdict::Permanent
            }
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

/// Gets and keeps access tokens for one API.
#[derive(Debug)]
pub struct TokenClient {
    http: reqwest::Client,
    endpoint: IssuerEndpoint,
    parameters: TokenParameters,
    client_auth: ClientAuthentication,
    signer: Option<AssertionSigner>,
    dpop: Option<Arc<DpopSigner>>,
    cached: Mutex<Option<CachedToken>>,
}

impl TokenClient {
    /// A client asking `endpoint` for tokens with `parameters` (an API identifier alone is
    /// Auth0's `audience`), authenticating by `client_auth`.
    pub fn new(
        http: reqwest::Client,
        endpoint: IssuerEndpoint,
        parameters: impl Into<TokenParameters>,
        client_auth: ClientAuthentication,
    ) -> Self {
        Self {
            http,
            endpoint,
            parameters: parameters.into(),
            client_auth,
            signer: None,
            dpop: None,
            cached: Mutex::new(None),
        }
    }

    /// Signs a client assertion with `signer` for every request (`private_key_jwt`).
    pub fn with_signer(mut self, signer: AssertionSigner) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Sends a DPoP proof of `signer`'s key with every request (`AUTH_DPOP=on`): a `DPoP`
    /// answer is a token bound to that key.
    pub fn with_dpop(mut self, signer: Arc<DpopSigner>) -> Self {
        self.dpop = Some(signer);
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

    /// One attempt: a token request, and with DPoP one more at once when the issuer asks for
    /// the nonce it has just given (RFC 9449 §8), within the same `timeout`.
    async fn request(
        &self,
        credentials: &ClientCredentials,
        timeout: Duration,
    ) -> Result<(IssuedToken, Duration), TokenRequestError> {
        // The client's own timeout bounds discovery (HTTP_TIMEOUT_SECONDS).
        let url = &self.endpoint.url(&self.http, None).await;
        challenge::retry_once_for_nonce(self.dpop.is_some(), timeout, |timeout| async move {
            let response = match self.send(url, credentials, timeout).await {
                Ok(response) => response,
                Err(error) => return (Err(error), false),
            };
            let new_nonce = self
                .dpop
                .as_ref()
                .is_some_and(|signer| signer.remember_nonce(url, response.headers()));
            let answer = self.answer(response).await;
            let asked_for_nonce = new_nonce
                && matches!(&answer, Err(TokenRequestError::Rejected { status, error, .. })
                    if challenge::issuer_asks_for_nonce(*status, error));
            (answer, asked_for_nonce)
        })
        .await
    }

    /// Sends one token request with a new assertion and, with DPoP, a new proof: the issuer
    /// refuses a `jti` it has seen (RFC 7523 §3, RFC 9449 §11.1).
    async fn send(
        &self,
        url: &Url,
        credentials: &ClientCredentials,
        timeout: Duration,
    ) -> Result<reqwest::Response, TokenRequestError> {
        metrics::counter!(metric::TOKEN_REQUESTS).increment(1);
        let assertion = match &self.signer {
            Some(signer) => Some(
                signer
                    .assertion(&credentials.client_id, SystemTime::now())
                    .await?,
            ),
            None => None,
        };
        let mut request = self.token_request(url, credentials, assertion.as_deref());
        if let Some(signer) = &self.dpop {
            request = request.header(dpop::DPOP_HEADER, signer.proof("POST", url, None)?);
        }
        Ok(request
            .timeout(timeout)
            .send()
            .await
            .map_err(FetchError::from)?)
    }

    /// The token request to `url`: the form of [`TokenParameters::form`] with the client's
    /// credentials where `client_auth` puts them (and the `assertion`, for `private_key_jwt`).
    fn token_request(
        &self,
        url: &Url,
        credentials: &ClientCredentials,
        assertion: Option<&str>,
    ) -> RequestBuilder {
        self.client_auth.authenticate(
            self.http.post(url.clone()),
            credentials,
            assertion,
            &self.parameters.form(),
        )
    }

    /// The token of a 2xx answer, or the issuer's refusal. With DPoP, `token_type` `DPoP`
    /// (case-insensitive, RFC 9449 §5) is a token bound to the job's key; `Bearer` is sent as
    /// a bearer token.
    async fn answer(
        &self,
        response: reqwest::Response,
    ) -> Result<(IssuedToken, Duration), TokenRequestError> {
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
        if answer.access_token.is_empty() {
            return Err(TokenRequestError::BadResponse);
        }
        let token = match &self.dpop {
            _ if answer.token_type.eq_ignore_ascii_case("bearer") => {
                IssuedToken::new(answer.access_token)
            }
            Some(signer) if answer.token_type.eq_ignore_ascii_case("dpop") => {
                IssuedToken::dpop_bound(answer.access_token, signer.clone())
            }
            _ => return Err(TokenRequestError::BadResponse),
        };
        Ok((token, lifetime(answer.expires_in)))
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
impl TokenRequestError {
    /// The issuer's refusal with `status` and `error` alone (RFC 6749 §5.2), for tests.
    pub(crate) fn refusal(status: u16, error: &str) -> Self {
        Self::Rejected {
            status,
            error: error.to_owned(),
            description: None,
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_and_server_errors_are_retried_refusals_are_not() {
        for status in [429, 500, 503] {
            assert!(
                matches!(
                    TokenRequestError::refusal(status, "too_many_requests").verdict(),
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
            assert_eq!(
                TokenRequestError::refusal(status, error).verdict(),
                Verdict::Permanent
            );
        }
        assert_eq!(TokenRequestError::BadResponse.verdict(), Verdict::Permanent);
    }

    #[test]
    fn a_wrong_secret_is_recognised_as_rfc_6749_and_auth0_answer_it() {
        assert!(TokenRequestError::refusal(401, "invalid_client").refuses_credentials());
        assert!(TokenRequestError::refusal(400, "invalid_client").refuses_credentials());
        assert!(TokenRequestError::refusal(401, "access_denied").refuses_credentials());
        for (status, error) in [(403, "unauthorized_client"), (429, "too_many_requests")] {
            assert!(
                !TokenRequestError::refusal(status, error).refuses_credentials(),
                "{status}"
            );
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

    /// What the issuer reads of the token request `client_auth` sends with `parameters`: the
    /// form's pairs, decoded, and the `Authorization` header.
    fn sent(
        parameters: TokenParameters,
        client_auth: ClientAuthentication,
    ) -> (Vec<(String, String)>, Option<String>) {
        let url = Url::parse("https://issuer.example/oauth/token").unwrap();
        let endpoint = IssuerEndpoint::new(
            "https://issuer.example",
            timesheets::discovery::EndpointKind::Token,
            Some(url.clone()),
        );
        let client = TokenClient::new(reqwest::Client::new(), endpoint, parameters, client_auth);
        let credentials = ClientCredentials {
            client_id: "timesheets-job".to_owned(),
            client_secret: Some("placeholder".to_owned()),
        };
        let request = client
            .token_request(&url, &credentials, None)
            .build()
            .unwrap();
        let body = request.body().and_then(|body| body.as_bytes()).unwrap();
        let form = url::form_urlencoded::parse(body)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        let authorization = request
            .headers()
            .get(reqwest::header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap().to_owned());
        (form, authorization)
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    const API: &str = "https://api.exampleco.com/timesheets";

    #[test]
    fn auth0s_request_sends_the_audience_and_no_resource_or_scope() {
        let (form, authorization) = sent(API.into(), ClientAuthentication::ClientSecretPost);
        assert_eq!(
            form,
            pairs(&[
                ("grant_type", "client_credentials"),
                ("audience", API),
                ("client_id", "timesheets-job"),
                ("client_secret", "placeholder"),
            ])
        );
        assert_eq!(authorization, None);
    }

    #[test]
    fn an_rfc_8707_request_sends_resource_and_scope_and_may_leave_out_the_audience() {
        let parameters = TokenParameters {
            audience: None,
            resource: Some(API.parse().unwrap()),
            scope: Some("batch:upload".parse().unwrap()),
        };
        let (form, _) = sent(parameters.clone(), ClientAuthentication::ClientSecretPost);
        assert_eq!(
            form,
            pairs(&[
                ("grant_type", "client_credentials"),
                ("resource", API),
                ("scope", "batch:upload"),
                ("client_id", "timesheets-job"),
                ("client_secret", "placeholder"),
            ])
        );
        // With HTTP Basic the credentials leave the form, the request's parameters stay.
        let (form, authorization) = sent(parameters, ClientAuthentication::ClientSecretBasic);
        assert_eq!(
            form,
            pairs(&[
                ("grant_type", "client_credentials"),
                ("resource", API),
                ("scope", "batch:upload"),
            ])
        );
        assert!(authorization.is_some_and(|value| value.starts_with("Basic ")));
    }

    #[test]
    fn the_token_never_shows() {
        let token = IssuedToken::new("eyJ.secret.sig".to_owned());
        assert_eq!(format!("{token:?}"), "IssuedToken(<redacted>)");
    }
}
