//! The usable keys of the issuer's JWK Set (RFC 7517 §5), by `kid`: what the JWKS cache holds
//! and the verifier picks a token's key from.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::jwk::Jwk;
use serde_json::Value;

use super::key_policy;
use super::verifying_key::VerifyingKey;

/// Private key members (RFC 7518 §6.2.2, §6.3.2, §6.4.1): a published key carrying them can
/// be used by anyone to sign, so it proves nothing and is not used.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The usable keys of a JWK Set, by `kid`.
///
/// A key is skipped, one by one so a single odd key does not hide the rest, when it does not
/// parse as a JWK, has no `kid`, or carries private members. A `kid` held by two keys is
/// dropped altogether: which key a token means would be a guess. Each key is held prepared
/// (a verifying key): its policy decided and its material parsed once, here.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
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
    pub(super) fn from_keys(values: &[Value]) -> Self {
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
                keys.insert(kid, Arc::new(VerifyingKey::new(jwk)));
            }
        }
        Self { keys }
    }

    /// The key named `kid`.
    pub(crate) fn get(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.keys.get(kid).cloned()
    }

    /// Whether `kid` still names exactly `key` (the same prepared key, not a new one).
    pub(crate) fn holds(&self, kid: &str, key: &Arc<VerifyingKey>) -> bool {
        self.keys
            .get(kid)
            .is_some_and(|held| Arc::ptr_eq(held, key))
    }

    /// Keeps the prepared keys of `previous` whose `kid` and JWK are unchanged here, so a
    /// refetch of the same JWKS neither parses them again nor looks like a rotation.
    pub(super) fn adopt_unchanged(&mut self, previous: &KeySet) {
        for (kid, key) in &mut self.keys {
            if let Some(old) = previous.keys.get(kid)
                && old.jwk() == key.jwk()
            {
                *key = old.clone();
            }
        }
    }

    /// How many keys are usable.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
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
