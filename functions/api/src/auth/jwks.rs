//! The issuer's signing keys (JWKS, RFC 7517 §5), kept in memory across warm invocations.
//!
//! Policy: keys are served for `ttl` after a successful fetch; an unknown `kid` triggers a
//! refetch at most once per `cooldown` (so random `kid`s cannot turn the API into a JWKS
//! amplifier); when a refetch fails the keys already held keep serving (stale on error).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;
use serde_json::Value;
use timesheets::discovery::IssuerEndpoint;
use timesheets::http_client::{self, FetchError};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

/// Timings and limits of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksPolicy {
    /// How long fetched keys are trusted before a refetch (default 10 min).
    pub ttl: Duration,
    /// Least time between two fetches (default 30 s).
    pub cooldown: Duration,
    /// Largest JWKS document read, in bytes (default 1 MiB).
    pub max_bytes: usize,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            cooldown: Duration::from_secs(30),
            max_bytes: 1024 * 1024,
        }
    }
}

/// Why no key could be given for a `kid`.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The issuer's JWKS has no key with this `kid` (a `401 invalid_token`).
    #[error("no key of the issuer has this kid")]
    UnknownKid,
    /// No keys are held and the JWKS cannot be fetched (a `503`, not the client's fault).
    #[error("the issuer's keys are unavailable: {0}")]
    Unavailable(String),
}

#[derive(Debug, Default)]
struct Held {
    keys: HashMap<String, Arc<Jwk>>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

/// The JWKS cache; one per Lambda sandbox, shared by every invocation.
#[derive(Debug)]
pub struct JwksCache {
    client: reqwest::Client,
    endpoint: IssuerEndpoint,
    policy: JwksPolicy,
    held: RwLock<Held>,
    /// One fetch at a time; others wait and then read what it got.
    fetching: Mutex<()>,
}

#[derive(Deserialize)]
struct JwkSetDocument {
    keys: Vec<Value>,
}

impl JwksCache {
    /// A cache reading the JWKS from `endpoint` with `client` (whose timeout bounds a fetch).
    pub fn new(client: reqwest::Client, endpoint: IssuerEndpoint, policy: JwksPolicy) -> Self {
        Self {
            client,
            endpoint,
            policy,
            held: RwLock::new(Held::default()),
            fetching: Mutex::new(()),
        }
    }

    /// The key with this `kid`, fetching the JWKS when needed and allowed.
    ///
    /// # Errors
    /// [`JwksError::UnknownKid`] when the issuer has no such key (or may not be asked again
    /// yet); [`JwksError::Unavailable`] when no keys at all can be had.
    pub async fn key(&self, kid: &str) -> Result<Arc<Jwk>, JwksError> {
        let seen_attempt = {
            let held = self.held.read().await;
            if let Some(key) = held.keys.get(kid).filter(|_| self.is_fresh(&held)) {
                return Ok(key.clone());
            }
            held.attempted_at
        };
        let _turn = self.fetching.lock().await;
        let mut held = self.held.write().await;
        let someone_else_fetched = held.attempted_at != seen_attempt;
        if !someone_else_fetched && self.may_fetch(&held) {
            held.attempted_at = Some(Instant::now());
            // A fetch holds the write lock for at most the client's timeout; invocations are
            // sequential per sandbox, so nothing else is kept waiting in practice.
            match self.fetch().await {
                Ok(keys) => {
                    held.keys = keys;
                    held.fetched_at = held.attempted_at;
                }
                Err(error) => {
                    tracing::warn!(%error, kept_keys = held.keys.len(), "JWKS fetch failed");
                    if held.keys.is_empty() {
                        return Err(JwksError::Unavailable(error.to_string()));
                    }
                }
            }
        }
        match held.keys.get(kid) {
            Some(key) => Ok(key.clone()),
            None if held.keys.is_empty() => Err(JwksError::Unavailable(
                "no keys fetched from the issuer yet".to_owned(),
            )),
            None => Err(JwksError::UnknownKid),
        }
    }

    fn is_fresh(&self, held: &Held) -> bool {
        held.fetched_at
            .is_some_and(|at| at.elapsed() < self.policy.ttl)
    }

    fn may_fetch(&self, held: &Held) -> bool {
        held.attempted_at
            .is_none_or(|at| at.elapsed() >= self.policy.cooldown)
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<Jwk>>, FetchError> {
        let url = self.endpoint.url(&self.client).await;
        let document: JwkSetDocument =
            http_client::get_json(&self.client, &url, self.policy.max_bytes).await?;
        Ok(index_by_kid(document.keys))
    }
}

/// Keys with a `kid` that parse as JWKs; others are skipped one by one so a single odd key
/// (another `kty`, an encryption key) does not hide the rest.
fn index_by_kid(keys: Vec<Value>) -> HashMap<String, Arc<Jwk>> {
    keys.into_iter()
        .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, Arc::new(jwk))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn odd_keys_are_skipped_not_fatal() {
        let keys = vec![
            json!({"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB", "alg": "RS256", "use": "sig"}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "weird", "kid": "b", "alg": "made-up"}),
            json!("not a key"),
        ];
        let mut kids: Vec<String> = index_by_kid(keys).into_keys().collect();
        kids.sort();
        // "b" is kept here and refused later by the verifier's key policy.
        assert_eq!(kids, ["a", "b"]);
    }
}
