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

use super::key_policy;

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

/// Private key members (RFC 7518 §6.2.2, §6.3.2, §6.4.1): a published key carrying them can
/// be used by anyone to sign, so it proves nothing and is not used.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The usable keys of a JWK Set, by `kid`.
///
/// A key is skipped, one by one so a single odd key does not hide the rest, when it does not
/// parse as a JWK, has no `kid`, or carries private members. A `kid` held by two keys is
/// dropped altogether: which key a token means would be a guess.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, Arc<Jwk>>,
}

impl KeySet {
    /// The usable keys of a JWKS document `{"keys": [...]}`; anything else gives an empty set.
    pub fn from_document(document: &Value) -> Self {
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        Self::from_keys(keys)
    }

    /// Keys by `kid`. Skipped: keys that are not objects, carry private members, do not parse,
    /// have no `kid`, or may not verify signatures ([`key_policy::is_signing_key`]); and every
    /// key of a `kid` that several entries share, counted before anything is skipped, so a
    /// skipped copy cannot leave its twin in use.
    fn from_keys(values: &[Value]) -> Self {
        let mut kid_counts: HashMap<&str, usize> = HashMap::new();
        for kid in values.iter().filter_map(|value| value.get("kid")?.as_str()) {
            *kid_counts.entry(kid).or_default() += 1;
        }
        let mut keys = HashMap::new();
        for value in values {
            let Some(object) = value.as_object() else {
                continue;
            };
            if PRIVATE_MEMBERS
                .iter()
                .any(|name| object.contains_key(*name))
            {
                tracing::warn!("the issuer's JWKS publishes private key material; key skipped");
                continue;
            }
            let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
                continue;
            };
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            if kid_counts.get(kid.as_str()).copied().unwrap_or_default() > 1 {
                tracing::warn!(%kid, "the issuer's JWKS has several keys with one kid; kid not used");
                continue;
            }
            if key_policy::is_signing_key(&jwk) {
                keys.insert(kid, Arc::new(jwk));
            }
        }
        Self { keys }
    }

    /// The key named `kid`.
    pub fn get(&self, kid: &str) -> Option<Arc<Jwk>> {
        self.keys.get(kid).cloned()
    }

    /// How many keys are usable.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[derive(Debug, Default)]
struct Held {
    keys: KeySet,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// Fetch attempts started, so a waiter can tell that another task fetched meanwhile.
    attempts: u64,
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
        let fetch_now = {
            let mut held = self.held.write().await;
            // Another task fetched while this one waited: use its answer, do not ask again.
            let fetch_now = held.attempts == seen_attempts && self.may_fetch(&held);
            if fetch_now {
                held.attempts += 1;
            }
            fetch_now
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
                Ok(keys) => {
                    held.keys = keys;
                    held.fetched_at = Some(now);
                }
                Err(error) => {
                    tracing::warn!(%error, kept_keys = held.keys.len(), "JWKS fetch failed");
                    if held.keys.is_empty() {
                        return Err(JwksError::Unavailable(error.to_string()));
                    }
                }
            }
        }
        let held = self.held.read().await;
        match held.keys.get(kid) {
            Some(key) => Ok(key),
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

    /// The issuer's usable keys. A document without any is treated as a failed fetch, so an
    /// issuer's bad deploy (`{"keys": []}`) does not drop the keys held.
    async fn fetch(&self) -> Result<KeySet, FetchError> {
        let url = self.endpoint.url(&self.client).await;
        let document: JwkSetDocument =
            http_client::get_json(&self.client, &url, self.policy.max_bytes).await?;
        let keys = KeySet::from_keys(&document.keys);
        if keys.is_empty() {
            return Err(FetchError::Json(serde::de::Error::custom(
                "the JWKS has no usable signing key",
            )));
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kids(set: &KeySet) -> Vec<String> {
        let mut kids: Vec<String> = set.keys.keys().cloned().collect();
        kids.sort();
        kids
    }

    /// A sound RSA signing key named `kid`, with `changes` merged in (`null` removes).
    fn rsa(kid: &str, changes: Value) -> Value {
        testkit::keys::TestKey::generate(kid).jwk_with(&changes)
    }

    #[test]
    fn odd_keys_are_skipped_not_fatal() {
        let document = json!({"keys": [
            rsa("a", json!({})),
            rsa("no-kid", json!({"kid": null})),
            {"kty": "weird", "kid": "b", "alg": "made-up"},
            "not a key",
        ]});
        assert_eq!(kids(&KeySet::from_document(&document)), ["a"]);
    }

    #[test]
    fn keys_that_may_not_verify_signatures_are_not_held() {
        let document = json!({"keys": [
            rsa("sig", json!({})),
            rsa("no-use", json!({"use": null, "alg": null})),
            rsa("verify", json!({"use": null, "key_ops": ["verify"]})),
            rsa("enc", json!({"use": "enc"})),
            rsa("sign-only", json!({"use": null, "key_ops": ["sign"]})),
            rsa("weak", json!({"n": "AQAB"})),
            {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
        ]});
        assert_eq!(
            kids(&KeySet::from_document(&document)),
            ["no-use", "sig", "verify"]
        );
        // A document of such keys only holds nothing: the fetch counts as failed.
        let unusable =
            json!({"keys": [rsa("enc", json!({"use": "enc"})), rsa("weak", json!({"n": "AQAB"}))]});
        assert!(KeySet::from_document(&unusable).is_empty());
    }

    #[test]
    fn private_keys_and_shared_kids_are_not_used() {
        let leaked = rsa("leaked", json!({}));
        let mut leaked_twin = leaked.clone();
        leaked_twin["d"] = json!("AQAB");
        let document = json!({"keys": [
            rsa("public", json!({})),
            rsa("private", json!({"d": "AQAB"})),
            rsa("twice", json!({})),
            rsa("twice", json!({})),
            // The copy with private members is skipped; its twin must not be used either.
            leaked,
            leaked_twin,
        ]});
        assert_eq!(kids(&KeySet::from_document(&document)), ["public"]);
    }

    #[test]
    fn documents_without_a_key_list_are_empty() {
        for document in [json!({}), json!({"keys": {}}), json!([]), json!("keys")] {
            assert!(KeySet::from_document(&document).is_empty(), "{document}");
        }
    }
}
