//! Access token verification: the JWT profile of RFC 9068 §4 with the RFC 8725 best current
//! practices. Everything that decides trust is configuration or the issuer's JWKS, never the
//! token itself. The steps, in order: the compact form (`jose`), the header rules (`header`),
//! the claim profile's `typ` (`profile`), the key named by `kid` (JWKS and `key_policy`), the
//! signature, the claims (`claims`, with the profile's).
//! A token that passed them all is kept (`token_cache`) and accepted again without them until
//! its `exp`, while its key is still the issuer's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jsonwebtoken::Algorithm;

use super::claims::{self, Checked, Claims, ClaimsPolicy};
use super::clock::{Clock, SystemClock};
use super::header::{self, AcceptedHeader};
use super::jose::CompactJws;
use super::jwks::{JwksCache, JwksError};
use super::key_set::KeySet;
use super::profile::TokenProfile;
use super::rejection::TokenRejection;
use super::scope::{self, ScopeClaim};
use super::token_cache::{self, Entry, TokenCache};
use super::verifying_key::VerifyingKey;

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
    /// `cnf.jkt`: the thumbprint of the key a DPoP proof must be signed with (RFC 9449 §6.1);
    /// `None` for a bearer token.
    pub jkt: Option<String>,
    scope: Option<ScopeClaim>,
    scp: Option<ScopeClaim>,
    permissions: Option<Vec<String>>,
}

impl VerifiedToken {
    fn from_claims(claims: Claims) -> Self {
        Self {
            subject: claims.sub,
            client_id: claims.azp.or(claims.client_id),
            jkt: claims.cnf.and_then(|cnf| cnf.jkt),
            scope: claims.scope,
            scp: claims.scp,
            permissions: claims.permissions,
        }
    }

    /// Whether the token grants `wanted` through `scope`, `scp` or Auth0's `permissions`.
    pub fn grants(&self, wanted: &str) -> bool {
        scope::grants(
            &[self.scope.as_ref(), self.scp.as_ref()],
            self.permissions.as_deref(),
            wanted,
        )
    }

    /// Bytes of claim text held, to bound what the verified-token cache keeps.
    fn text_len(&self) -> usize {
        let scopes: usize = [&self.scope, &self.scp]
            .into_iter()
            .flatten()
            .map(|claim| match claim {
                ScopeClaim::Delimited(text) => text.len(),
                ScopeClaim::List(items) => items.iter().map(String::len).sum(),
            })
            .sum();
        let permissions: usize = self.permissions.iter().flatten().map(String::len).sum();
        self.subject.as_ref().map_or(0, String::len)
            + self.client_id.as_ref().map_or(0, String::len)
            + self.jkt.as_ref().map_or(0, String::len)
            + scopes
            + permissions
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
    let AcceptedHeader { alg, kid, .. } = header::check(jws.header, algorithms)?;
    let key = keys.get(&kid).ok_or(TokenRejection::UnknownKid)?;
    let digest = token_cache::digest(jws.signing_input);
    key.verify(alg, jws.signing_input.as_bytes(), &digest, jws.signature)?;
    Ok(alg)
}

/// Verifies bearer access tokens against one issuer.
#[derive(Debug)]
pub struct TokenVerifier {
    policy: VerifierPolicy,
    profile: TokenProfile,
    jwks: JwksCache,
    clock: Arc<dyn Clock>,
    verified: TokenCache<VerifiedToken>,
    signature_checks: AtomicU64,
}

impl TokenVerifier {
    /// A verifier for `policy` taking keys from `jwks`, on the system clock.
    pub fn new(policy: VerifierPolicy, jwks: JwksCache) -> Self {
        Self::with_clock(policy, jwks, Arc::new(SystemClock))
    }

    /// A verifier reading the time from `clock` (tests of `exp`, `nbf` and the cache).
    pub fn with_clock(policy: VerifierPolicy, jwks: JwksCache, clock: Arc<dyn Clock>) -> Self {
        Self {
            policy,
            profile: TokenProfile::default(),
            jwks,
            clock,
            verified: TokenCache::default(),
            signature_checks: AtomicU64::new(0),
        }
    }

    /// This verifier under the claim `profile` (`AUTH_REQUIRE_AT_JWT`). The verified tokens
    /// kept so far are dropped: each kept token passed the profile it is served under.
    pub fn with_profile(mut self, profile: TokenProfile) -> Self {
        self.profile = profile;
        self.verified = TokenCache::default();
        self
    }

    /// Fetches the issuer's keys now if none are held (discovery included), so the first
    /// token does not wait for them; a failure only logs, and that token fetches as usual.
    pub async fn prefetch_keys(&self) {
        self.jwks.prefetch().await;
    }

    /// Verifies `token` (the compact JWS from the `Authorization` header).
    ///
    /// # Errors
    /// [`TokenError::Invalid`] naming the first rule the token breaks;
    /// [`TokenError::KeysUnavailable`] when the issuer's JWKS cannot be had at all.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let jws = split(token)?;
        let digest = token_cache::digest(jws.signing_input);
        let cache_key = token_cache::key(&digest);
        let now = self.clock.now();
        self.forget_rotated_keys().await;
        if let Some(entry) = self.verified.get(&cache_key, jws.signature, now) {
            // Its key must still be the issuer's: past the JWKS TTL this refreshes the keys
            // as any token does, and a kid gone from the JWKS is refused as it would be.
            let key = self
                .key(&entry.kid)
                .await
                .inspect_err(|_| self.verified.remove(&cache_key))?;
            if Arc::ptr_eq(&key, &entry.key) {
                return Ok(VerifiedToken::clone(&entry.token));
            }
            self.verified.remove(&cache_key);
        }
        let AcceptedHeader { alg, kid, members } =
            header::check(jws.header, &self.policy.algorithms)?;
        // Before the key lookup: a token of another profile costs no JWKS fetch.
        self.profile.check_header(&members)?;
        let key = self.key(&kid).await?;
        self.signature_checks.fetch_add(1, Ordering::Relaxed);
        key.verify(alg, jws.signing_input.as_bytes(), &digest, jws.signature)?;
        let Checked { claims, expires_at } =
            claims::check(jws.payload, members, self.claims_policy(), now)?;
        let verified = VerifiedToken::from_claims(claims);
        let text_len = verified.text_len();
        let entry = Entry {
            token: Arc::new(verified.clone()),
            kid,
            key,
            expires_at,
        };
        self.verified
            .insert(cache_key, jws.signature, entry, text_len, now);
        Ok(verified)
    }

    /// Signature checks made so far: one per token verified in full, none for a token
    /// accepted from the cache.
    pub fn signature_checks(&self) -> u64 {
        self.signature_checks.load(Ordering::Relaxed)
    }

    /// How many verified tokens are kept.
    pub fn cached_tokens(&self) -> usize {
        self.verified.len()
    }

    /// Whether `token` is kept as verified.
    pub fn is_cached(&self, token: &str) -> bool {
        CompactJws::split(token).is_some_and(|jws| {
            let digest = token_cache::digest(jws.signing_input);
            self.verified
                .contains(&token_cache::key(&digest), jws.signature)
        })
    }

    /// After the JWKS changed, drops the kept tokens whose `kid` no longer names their key.
    async fn forget_rotated_keys(&self) {
        let generation = self.jwks.generation().await;
        if generation != self.verified.generation() {
            self.jwks
                .with_keys(|keys| {
                    self.verified
                        .sync_keys(generation, |kid, key| keys.holds(kid, key));
                })
                .await;
        }
    }

    /// The issuer's key named `kid`.
    async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, TokenError> {
        match self.jwks.key(kid).await {
            Ok(key) => Ok(key),
            Err(JwksError::UnknownKid) => Err(TokenRejection::UnknownKid.into()),
            Err(JwksError::Unavailable(reason)) => {
                tracing::error!(%reason, "cannot verify access tokens: no issuer keys");
                Err(TokenError::KeysUnavailable)
            }
        }
    }

    fn claims_policy(&self) -> ClaimsPolicy<'_> {
        ClaimsPolicy {
            issuer: &self.policy.issuer,
            audiences: &self.policy.audiences,
            leeway: self.policy.leeway_seconds,
            profile: self.profile,
        }
    }
}

/// The compact JWS of a token no longer than [`MAX_TOKEN_BYTES`].
fn split(token: &str) -> Result<CompactJws<'_>, TokenRejection> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenRejection::TooLarge);
    }
    CompactJws::split(token).ok_or(TokenRejection::NotCompact)
}
