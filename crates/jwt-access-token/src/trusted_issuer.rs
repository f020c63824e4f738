//! One issuer the API trusts: its signing keys (the JWKS cache, with its own discovery,
//! cooldown and unknown-`kid` probe) and the tokens it signed that were verified (its
//! verified-token cache), both kept apart from every other issuer's, so one issuer's rotation,
//! outage or flood of tokens never touches another's.

use std::sync::Arc;

use super::jwks::{JwksCache, JwksError};
use super::rejection::{TokenError, TokenRejection};
use super::token_cache::{Entry, TokenCache, TokenDigest};
use super::verified_token::VerifiedToken;
use super::verifying_key::VerifyingKey;

/// An issuer, named by its `iss`, and what the API keeps of it across warm invocations.
#[derive(Debug)]
pub(super) struct TrustedIssuer {
    jwks: JwksCache,
    verified: TokenCache<VerifiedToken>,
}

impl TrustedIssuer {
    /// The issuer whose keys `jwks` fetches; its `iss` is the one `jwks` was made for.
    pub(super) fn new(jwks: JwksCache) -> Self {
        Self {
            jwks,
            verified: TokenCache::default(),
        }
    }

    /// `iss` of this issuer's tokens, compared exactly (RFC 9068 §4 step 3).
    pub(super) fn issuer(&self) -> &str {
        self.jwks.issuer()
    }

    /// The cached token of `digest` and `signature` if it is still valid at `now` and the
    /// `kid` that verified it still names the same key: past the JWKS TTL this refreshes the
    /// keys as any token does, and a `kid` gone from the JWKS is refused as it would be.
    ///
    /// # Errors
    /// As [`Self::key`], for the cached token's `kid`.
    pub(super) async fn cached(
        &self,
        digest: &TokenDigest,
        signature: &str,
        now: u64,
    ) -> Result<Option<VerifiedToken>, TokenError> {
        self.forget_rotated_keys().await;
        let Some(entry) = self.verified.get(digest, signature, now) else {
            return Ok(None);
        };
        let key = self
            .key(&entry.kid)
            .await
            .inspect_err(|_| self.verified.remove(digest))?;
        if Arc::ptr_eq(&key, &entry.key) {
            return Ok(Some(VerifiedToken::clone(&entry.token)));
        }
        self.verified.remove(digest);
        Ok(None)
    }

    /// Caches a token this issuer's `key` just verified; see [`TokenCache::insert`].
    pub(super) fn cache_token(
        &self,
        digest: TokenDigest,
        signature: &str,
        entry: Entry<VerifiedToken>,
        now: u64,
    ) {
        let text_len = entry.token.text_len();
        self.verified
            .insert(digest, signature, entry, text_len, now);
    }

    /// The issuer's key named `kid`.
    ///
    /// # Errors
    /// [`TokenRejection::UnknownKid`] when the issuer has no such key;
    /// [`TokenError::KeysUnavailable`] when its JWKS cannot be had at all.
    pub(super) async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, TokenError> {
        match self.jwks.key(kid).await {
            Ok(key) => Ok(key),
            Err(JwksError::UnknownKid) => Err(TokenRejection::UnknownKid.into()),
            Err(JwksError::Unavailable(reason)) => {
                tracing::error!(issuer = self.issuer(), %reason, "cannot verify access tokens: no issuer keys");
                Err(TokenError::KeysUnavailable)
            }
        }
    }

    /// Fetches the keys now if none are held ([`JwksCache::prefetch`]).
    pub(super) async fn prefetch_keys(&self) {
        self.jwks.prefetch().await;
    }

    /// Drops every cached token, e.g. when the rules they passed change.
    pub(super) fn clear_cached_tokens(&mut self) {
        self.verified = TokenCache::default();
    }

    /// How many verified tokens are cached.
    pub(super) fn cached_tokens(&self) -> usize {
        self.verified.len()
    }

    /// Whether the token of `digest` and `signature` is cached.
    pub(super) fn has_cached(&self, digest: &TokenDigest, signature: &str) -> bool {
        self.verified.contains(digest, signature)
    }

    /// After the JWKS changed, drops the cached tokens whose `kid` no longer names their key.
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
}
