//! Access token verification: the JWT profile of RFC 9068 §4 with the RFC 8725 best current
//! practices. Everything that decides trust is configuration or the issuer's JWKS, never the
//! token itself. The steps, in order: the compact form (`jose`), the header rules (`header`),
//! the key named by `kid` (JWKS and `key_policy`), the signature, the claims (`claims`).

use std::sync::Arc;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::claims::{self, Claims};
use super::header::{self, AcceptedHeader};
use super::jose::CompactJws;
use super::jwks::{JwksCache, JwksError};
use super::key_policy;
use super::key_set::KeySet;
use super::rejection::TokenRejection;
use super::scope::{self, ScopeClaim};

/// Longest token looked at, in bytes; anything longer is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What the verifier checks a token against.
#[derive(Debug, Clone)]
pub struct VerifierPolicy {
    /// `iss` must equal this exactly (RFC 9068 §4 step 3; Auth0: `https://{domain}/`).
    pub issuer: String,
    /// `aud` (string or array) must contain one of these (RFC 9068 §4 step 4).
    pub audiences: Vec<String>,
    /// Accepted `alg` values; asymmetric only (RFC 8725 §3.1, RFC 9068 §4 step 5).
    pub algorithms: Vec<Algorithm>,
    /// Clock tolerance for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: u64,
}

/// A verified access token: who the client is and what it was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `sub`: Auth0 sets `{client_id}@clients` for the client-credentials grant.
    pub subject: Option<String>,
    /// `azp` (Auth0, OIDC) or `client_id` (RFC 9068 §2.2).
    pub client_id: Option<String>,
    scope: Option<ScopeClaim>,
    permissions: Option<Vec<String>>,
}

impl VerifiedToken {
    fn from_claims(claims: Claims) -> Self {
        Self {
            subject: claims.sub,
            client_id: claims.azp.or(claims.client_id),
            scope: claims.scope,
            permissions: claims.permissions,
        }
    }

    /// Whether the token grants `wanted` through `scope` or Auth0's `permissions`.
    pub fn grants(&self, wanted: &str) -> bool {
        scope::grants(self.scope.as_ref(), self.permissions.as_deref(), wanted)
    }

    /// The client, for logs and idempotency: `azp`/`client_id`, else `sub`.
    pub fn client(&self) -> &str {
        self.client_id
            .as_deref()
            .or(self.subject.as_deref())
            .unwrap_or("unknown")
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is not acceptable: `401 invalid_token` (RFC 6750 §3.1).
    #[error(transparent)]
    Invalid(#[from] TokenRejection),
    /// The issuer's keys cannot be had: `503`, the client may retry.
    #[error("the issuer's signing keys are unavailable")]
    KeysUnavailable,
}

/// Verifies the signature of the compact JWS `token` the way [`TokenVerifier::verify`] does
/// before it reads any claim: the header rules (`alg` from `algorithms`, `kid`, `typ`, no
/// `crit`), the key named by `kid` in `keys`, the key policy (`use`, `key_ops`, `alg`,
/// `kty`/`crv`, RSA key soundness) and the signature itself. Returns the verified `alg`.
///
/// # Errors
/// [`TokenError::Invalid`] naming the first rule the token breaks.
pub fn verify_signature(
    token: &str,
    algorithms: &[Algorithm],
    keys: &KeySet,
) -> Result<Algorithm, TokenError> {
    let jws = split(token)?;
    let AcceptedHeader { alg, kid } = header::check(jws.header, algorithms)?;
    let key = keys.get(&kid).ok_or(TokenRejection::UnknownKid)?;
    check_signature(&jws, alg, &key)?;
    Ok(alg)
}

/// Verifies bearer access tokens against one issuer.
#[derive(Debug)]
pub struct TokenVerifier {
    policy: VerifierPolicy,
    jwks: JwksCache,
}

impl TokenVerifier {
    /// A verifier for `policy` taking keys from `jwks`.
    pub fn new(policy: VerifierPolicy, jwks: JwksCache) -> Self {
        Self { policy, jwks }
    }

    /// Verifies `token` (the compact JWS from the `Authorization` header).
    ///
    /// # Errors
    /// [`TokenError::Invalid`] naming the first rule the token breaks;
    /// [`TokenError::KeysUnavailable`] when the issuer's JWKS cannot be had at all.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let jws = split(token)?;
        let AcceptedHeader { alg, kid } = header::check(jws.header, &self.policy.algorithms)?;
        let key = self.key(&kid).await?;
        let decoding_key = check_signature(&jws, alg, &key)?;
        let claims = claims::check(&jws, &decoding_key, &self.validation(alg))?;
        Ok(VerifiedToken::from_claims(claims))
    }

    /// The issuer's key named `kid`.
    async fn key(&self, kid: &str) -> Result<Arc<Jwk>, TokenError> {
        match self.jwks.key(kid).await {
            Ok(key) => Ok(key),
            Err(JwksError::UnknownKid) => Err(TokenRejection::UnknownKid.into()),
            Err(JwksError::Unavailable(reason)) => {
                tracing::error!(%reason, "cannot verify access tokens: no issuer keys");
                Err(TokenError::KeysUnavailable)
            }
        }
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.policy.issuer]);
        validation.set_audience(&self.policy.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.policy.leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation
    }
}

/// The compact JWS of a token no longer than [`MAX_TOKEN_BYTES`].
fn split(token: &str) -> Result<CompactJws<'_>, TokenRejection> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenRejection::TooLarge);
    }
    CompactJws::split(token).ok_or(TokenRejection::NotCompact)
}

/// The key policy, then the signature over the signing input. Returns the key for the claims.
fn check_signature(
    jws: &CompactJws,
    alg: Algorithm,
    jwk: &Jwk,
) -> Result<DecodingKey, TokenRejection> {
    let key = key_policy::decoding_key(jwk, alg).ok_or(TokenRejection::KeyMismatch)?;
    match jsonwebtoken::crypto::verify(jws.signature, jws.signing_input.as_bytes(), &key, alg) {
        Ok(true) => Ok(key),
        // A signature that is not base64url, or a key the backend cannot load, verifies nothing.
        Ok(false) | Err(_) => Err(TokenRejection::Signature),
    }
}
