//! The issuer's signing keys (JWKS, RFC 7517 §5), kept in memory across warm invocations.
//!
//! Policy: keys are served for `ttl` after a successful fetch; when a refetch fails the keys
//! already held keep serving (stale on error). Fetches are at least `cooldown` apart, with one
//! exception, the unknown-`kid` probe: after a key set fetched for another reason (the first
//! fetch, the prefetch, a TTL refresh), the first unknown `kid` refetches at once, so a key
//! the issuer published just after that fetch verifies its first token. A fetch caused by an
//! unknown `kid` spends the probe and starts the cooldown, so random `kid`s cost at most one
//! fetch per `cooldown` (plus one per other fetch) and cannot turn the API into a JWKS
//! amplifier.

use std::sync::Arc;
use std::time::Duration;

use crate::discovery::IssuerEndpoint;
use crate::http_client::{self, FetchError};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use super::key_set::KeySet;
use super::verifying_key::VerifyingKey;

/// Timings and limits of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksPolicy {
    /// How long fetched keys are trusted before a refetch (default 10 min).
    pub ttl: Duration,
    /// Least time between two fetches, counted from the end of the last attempt (default
    /// 30 s); only the unknown-`kid` probe may fetch sooner.
    pub cooldown: Duration,
    /// Largest JWKS document read, in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Bound on each exchange with the issuer, the JWKS and discovery (connection included),
    /// whatever the HTTP client's own; `None` (default): the client's alone. One client can
    /// then serve this cache and callers with other bounds (e.g. the AWS SDK's).
    pub timeout: Option<Duration>,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            cooldown: Duration::from_secs(30),
            max_bytes: 1024 * 1024,
            timeout: None,
        }
    }
}

/// Why no key could be given for a `kid`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JwksError {
    /// The issuer's JWKS has no key with this `kid` (a `401 invalid_token`).
    #[error("no key of the issuer has this kid")]
    UnknownKid,
    /// No keys are held and the JWKS cannot be fetched (a `503`, not the client's fault).
    #[error("the issuer's keys are unavailable: {0}")]
    Unavailable(JwksUnavailable),
}

/// Why no key of the issuer is held.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JwksUnavailable {
    /// The JWKS could not be fetched or is not a JWK Set document.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The JWKS holds no key that may verify signatures (an issuer's bad deploy,
    /// `{"keys": []}`), counted as a failed fetch so the keys held keep serving.
    #[error("the JWKS has no usable signing key")]
    NoUsableKey,
    /// No fetch has succeeded yet and this request may not start one (cooldown), or the one
    /// it waited for failed.
    #[error("no keys fetched from the issuer yet")]
    NotFetched,
}

#[derive(Debug, Default)]
struct Held {
    keys: KeySet,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// Fetch attempts started, so a waiter can tell that another task fetched meanwhile.
    attempts: u64,
    /// Successful fetches, so holders of keys (the verified-token cache) can tell the set
    /// may have changed.
    generation: u64,
    /// The unknown-`kid` probe: an unknown `kid` may refetch before the cooldown ends. Set by
    /// a successful fetch not caused by an unknown `kid`, spent by one that is, cleared by a
    /// failed fetch (a failing issuer is asked once per cooldown).
    probe: bool,
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
    /// A cache reading the JWKS from `endpoint` with `client`; each exchange is bounded by
    /// `policy.timeout` when set, else by the client's own timeout.
    pub fn new(client: reqwest::Client, endpoint: IssuerEndpoint, policy: JwksPolicy) -> Self {
        Self {
            client,
            endpoint,
            policy,
            held: RwLock::new(Held::default()),
            fetching: Mutex::new(()),
        }
    }

    /// The issuer these keys are of: the `iss` of the tokens they verify.
    pub(crate) fn issuer(&self) -> &str {
        self.endpoint.issuer()
    }

    /// The key with this `kid`, fetching the JWKS when needed and allowed (the cooldown, or
    /// the unknown-`kid` probe of the module docs).
    ///
    /// # Errors
    /// [`JwksError::UnknownKid`] when the issuer has no such key (or may not be asked again
    /// yet); [`JwksError::Unavailable`] when no keys at all can be had.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, JwksError> {
        let (seen_attempts, stale) = {
            let held = self.held.read().await;
            let key = held.keys.get(kid);
            if self.is_fresh(&held)
                && let Some(key) = key
            {
                return Ok(key);
            }
            (held.attempts, key)
        };
        let _turn = match stale {
            // Past the TTL with the key held: refresh unless another request already is, and
            // meanwhile keep verifying with the held key rather than waiting for the issuer.
            Some(key) => match self.fetching.try_lock() {
                Ok(turn) => turn,
                Err(_) => return Ok(key),
            },
            None => self.fetching.lock().await,
        };
        let (fetch_now, unknown_kid) = {
            let mut held = self.held.write().await;
            // Keys are held, just not this one: a rotation, or a made-up `kid`.
            let unknown_kid = !held.keys.is_empty() && held.keys.get(kid).is_none();
            // Another task fetched while this one waited: use its answer, do not ask again.
            let fetch_now = held.attempts == seen_attempts
                && (self.may_fetch(&held) || (unknown_kid && held.probe));
            if fetch_now {
                held.attempts += 1;
                if unknown_kid {
                    held.probe = false;
                }
            }
            (fetch_now, unknown_kid)
        };
        if fetch_now {
            // No lock on the keys during the fetch: tokens whose key is held verify meanwhile.
            let fetched = self.fetch().await;
            let mut held = self.held.write().await;
            // The cooldown runs from the end of an attempt, so a slow issuer is not asked
            // again the moment its timeout ends.
            let now = Instant::now();
            held.attempted_at = Some(now);
            match fetched {
                Ok(mut keys) => {
                    keys.adopt_unchanged(&held.keys);
                    held.keys = keys;
                    held.fetched_at = Some(now);
                    held.generation += 1;
                    held.probe = !unknown_kid;
                }
                Err(error) => {
                    held.probe = false;
                    tracing::warn!(%error, kept_keys = held.keys.len(), "JWKS fetch failed");
                    if held.keys.is_empty() {
                        return Err(JwksError::Unavailable(error));
                    }
                }
            }
        }
        let held = self.held.read().await;
        match held.keys.get(kid) {
            Some(key) => Ok(key),
            None if held.keys.is_empty() => {
                Err(JwksError::Unavailable(JwksUnavailable::NotFetched))
            }
            None => Err(JwksError::UnknownKid),
        }
    }

    /// Fetches the keys once if none are held, e.g. during the Lambda init phase so the first
    /// request does not wait for the issuer. A failure is logged and leaves no trace: no
    /// cooldown starts, so the first request fetches exactly as it would have.
    pub(crate) async fn prefetch(&self) {
        let _turn = self.fetching.lock().await;
        if !self.held.read().await.keys.is_empty() {
            return;
        }
        match self.fetch().await {
            Ok(keys) => {
                let mut held = self.held.write().await;
                let now = Instant::now();
                held.keys = keys;
                held.fetched_at = Some(now);
                held.attempted_at = Some(now);
                held.attempts += 1;
                held.generation += 1;
                held.probe = true;
            }
            Err(error) => tracing::warn!(%error, "JWKS prefetch failed; the first token fetches"),
        }
    }

    /// How many fetches have succeeded: changes whenever the held keys may have.
    pub(crate) async fn generation(&self) -> u64 {
        self.held.read().await.generation
    }

    /// Runs `f` on the held keys, without fetching.
    pub(crate) async fn with_keys<R>(&self, f: impl FnOnce(&KeySet) -> R) -> R {
        f(&self.held.read().await.keys)
    }

    fn is_fresh(&self, held: &Held) -> bool {
        held.fetched_at
            .is_some_and(|at| at.elapsed() < self.policy.ttl)
    }

    fn may_fetch(&self, held: &Held) -> bool {
        held.attempted_at
            .is_none_or(|at| at.elapsed() >= self.policy.cooldown)
    }

    /// The issuer's usable keys. A document without any is treated as a failed fetch, so an
    /// issuer's bad deploy (`{"keys": []}`) does not drop the keys held.
    async fn fetch(&self) -> Result<KeySet, JwksUnavailable> {
        // Discovering the JWKS URL is one of this cache's exchanges too.
        let url = self.endpoint.url(&self.client, self.policy.timeout).await;
        let document: JwkSetDocument = http_client::get_json(
            &self.client,
            &url,
            self.policy.max_bytes,
            self.policy.timeout,
        )
        .await?;
        let keys = KeySet::from_keys(&document.keys);
        if keys.is_empty() {
            return Err(JwksUnavailable::NoUsableKey);
        }
        Ok(keys)
    }
}
