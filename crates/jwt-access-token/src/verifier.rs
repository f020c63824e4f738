//! Access token verification: the JWT profile of RFC 9068 §4 with the RFC 8725 best current
//! practices. Everything that decides trust is configuration or the issuer's JWKS, never the
//! token itself. The steps, in order: the compact form (`jose`), the header rules (`header`),
//! the claim profile's `typ` (`profile`), the claims decoded once (`claims`), whose `iss` picks
//! the trusted issuer (`trusted_issuer`; one not trusted is refused without any fetch), the key
//! named by `kid` in that issuer's JWKS (`jwks`, `key_policy`), the signature, then the claims
//! rules (`claims`, with the profile's).
//! A token that passed them all is cached (the verified-token cache, one per issuer) and
//! accepted again without them until its `exp`, while its key is still the issuer's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::join_all;
use jsonwebtoken::Algorithm;

use super::claims::{self, Checked, ClaimsPolicy, Decoded};
use super::clock::{Clock, SystemClock};
use super::dpop::DpopPolicy;
use super::dpop::replay::MemoryReplay;
use super::header::{self, AcceptedHeader};
use super::jose::CompactJws;
use super::jwks::JwksCache;
use super::key_set::KeySet;
use super::profile::TokenProfile;
pub(crate) use super::rejection::{TokenError, TokenRejection};
use super::token_cache::{self, Entry};
use super::trusted_issuer::TrustedIssuer;
pub(crate) use super::verified_token::VerifiedToken;

/// Longest token looked at, in bytes; anything longer is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What the verifier checks a token against, whichever trusted issuer signed it: the
/// audiences name this API, the algorithms and leeway are its own. Each issuer's `iss` and
/// keys come with its JWKS cache ([`TokenVerifier::new`], [`TokenVerifier::with_issuer`]).
#[derive(Debug, Clone)]
pub struct VerifierPolicy {
    /// `aud` (string or array) must contain one of these (RFC 9068 §4 step 4).
    pub audiences: Vec<String>,
    /// Accepted `alg` values; asymmetric only (RFC 8725 §3.1, RFC 9068 §4 step 5).
    pub algorithms: Vec<Algorithm>,
    /// Clock tolerance for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: u64,
}

/// Verifies the signature of the compact JWS `token` the way [`TokenVerifier::verify`] does,
/// without the claims: the header rules (`alg` from `algorithms`, `kid`, `typ`, no
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

/// Verifies access tokens from the issuers it trusts, one or more.
#[derive(Debug)]
pub struct TokenVerifier {
    policy: VerifierPolicy,
    profile: TokenProfile,
    issuers: Vec<TrustedIssuer>,
    clock: Arc<dyn Clock>,
    signature_checks: AtomicU64,
    dpop: DpopPolicy,
    /// The proofs [`TokenVerifier::authorize`] saw, when no shared store is given.
    replay: MemoryReplay,
}

impl TokenVerifier {
    /// A verifier for `policy` trusting the issuer whose keys `jwks` fetches (its `iss` is the
    /// one `jwks` was made for), on the system clock.
    pub fn new(policy: VerifierPolicy, jwks: JwksCache) -> Self {
        Self::with_clock(policy, jwks, Arc::new(SystemClock))
    }

    /// A verifier reading the time from `clock` (tests of `exp`, `nbf` and the cache).
    pub fn with_clock(policy: VerifierPolicy, jwks: JwksCache, clock: Arc<dyn Clock>) -> Self {
        Self {
            policy,
            profile: TokenProfile::default(),
            issuers: vec![TrustedIssuer::new(jwks)],
            clock,
            signature_checks: AtomicU64::new(0),
            dpop: DpopPolicy::default(),
            replay: MemoryReplay::default(),
        }
    }

    /// This verifier also trusting the issuer whose keys `jwks` fetches, under the same
    /// policy, with keys and a verified-token cache of its own. Tokens go to the first issuer of
    /// their `iss`: give each issuer once.
    pub fn with_issuer(mut self, jwks: JwksCache) -> Self {
        self.issuers.push(TrustedIssuer::new(jwks));
        self
    }

    /// This verifier under the claim `profile`. The verified tokens
    /// cached so far are dropped: each cached token passed the profile it is served under.
    pub fn with_profile(mut self, profile: TokenProfile) -> Self {
        self.profile = profile;
        self.issuers
            .iter_mut()
            .for_each(TrustedIssuer::clear_cached_tokens);
        self
    }

    /// This verifier taking DPoP-bound tokens as `dpop` says (RFC 9449; default: bearer tokens
    /// only, [`DpopMode::Off`](super::DpopMode::Off)).
    pub fn with_dpop(mut self, dpop: DpopPolicy) -> Self {
        self.dpop = dpop;
        self
    }

    /// How DPoP proofs are checked.
    pub fn dpop(&self) -> &DpopPolicy {
        &self.dpop
    }

    /// The proof records of this verifier, for [`TokenVerifier::authorize`].
    pub(crate) fn own_replay(&self) -> &MemoryReplay {
        &self.replay
    }

    /// Now, in seconds since the epoch, by this verifier's clock.
    pub(crate) fn now(&self) -> u64 {
        self.clock.now()
    }

    /// `iss` of each trusted issuer, in the configured order.
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.issuers.iter().map(TrustedIssuer::issuer)
    }

    /// Fetches each issuer's keys now if none are held (discovery included), all at once, so
    /// the first token does not wait for them; a failure only logs, and that issuer's first
    /// token fetches as usual.
    pub async fn prefetch_keys(&self) {
        join_all(self.issuers.iter().map(TrustedIssuer::prefetch_keys)).await;
    }

    /// Verifies `token` (the compact JWS from the `Authorization` header).
    ///
    /// # Errors
    /// [`TokenError::Invalid`] naming the first rule the token breaks;
    /// [`TokenError::KeysUnavailable`] when the JWKS of the token's issuer cannot be had.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let jws = split(token)?;
        let digest = token_cache::digest(jws.signing_input);
        let cache_key = token_cache::key(&digest);
        let now = self.clock.now();
        for issuer in &self.issuers {
            if let Some(verified) = issuer.cached(&cache_key, jws.signature, now).await? {
                return Ok(verified);
            }
        }
        let AcceptedHeader {
            alg,
            kid,
            typ,
            members,
        } = header::check(jws.header, &self.policy.algorithms)?;
        // Before the key lookup: a token of another profile or of an issuer not trusted costs
        // no JWKS fetch.
        self.profile.check_header(typ.as_deref())?;
        let decoded = claims::decode(jws.payload)?;
        let issuer = self.issuer_of(&decoded)?;
        let key = issuer.key(&kid).await?;
        self.signature_checks.fetch_add(1, Ordering::Relaxed);
        key.verify(alg, jws.signing_input.as_bytes(), &digest, jws.signature)?;
        let policy = self.claims_policy(issuer.issuer());
        let Checked { claims, expires_at } = claims::check(decoded, members, policy, now)?;
        let verified = VerifiedToken::from_claims(claims)?;
        let entry = Entry {
            token: Arc::new(verified.clone()),
            kid,
            key,
            expires_at,
        };
        issuer.cache_token(cache_key, jws.signature, entry, now);
        Ok(verified)
    }

    /// Signature checks made so far: one per token verified in full, none for a token
    /// accepted from the cache.
    pub fn signature_checks(&self) -> u64 {
        self.signature_checks.load(Ordering::Relaxed)
    }

    /// How many verified tokens are cached, over all issuers.
    pub fn cached_tokens(&self) -> usize {
        self.issuers.iter().map(TrustedIssuer::cached_tokens).sum()
    }

    /// Whether `token` is in the verified-token cache.
    pub fn is_cached(&self, token: &str) -> bool {
        CompactJws::split(token).is_some_and(|jws| {
            let digest = token_cache::key(&token_cache::digest(jws.signing_input));
            self.issuers
                .iter()
                .any(|issuer| issuer.has_cached(&digest, jws.signature))
        })
    }

    /// The trusted issuer named by the token's `iss`, picked before any key is looked up
    /// (RFC 8725 §3.8: the keys must be that issuer's). Without an `iss` a lone issuer is
    /// still the one: the claims check then refuses the token as it would any other.
    fn issuer_of(&self, decoded: &Decoded) -> Result<&TrustedIssuer, TokenRejection> {
        match (decoded.issuer(), self.issuers.as_slice()) {
            (Some(iss), issuers) => issuers
                .iter()
                .find(|issuer| issuer.issuer() == iss)
                .ok_or(TokenRejection::Issuer),
            (None, [only]) => Ok(only),
            (None, _) => Err(TokenRejection::NoIss),
        }
    }

    fn claims_policy<'a>(&'a self, issuer: &'a str) -> ClaimsPolicy<'a> {
        ClaimsPolicy {
            issuer,
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
