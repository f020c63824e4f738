//! DPoP proofs (RFC 9449 §4.2) as a client makes them, and broken ones, with an ES256 key
//! generated in memory.

use aws_lc_rs::digest::{self, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

use crate::keys::{b64, now};

/// A P-256 key pair for `ES256` proofs.
pub struct TestDpopKey {
    pair: EcdsaKeyPair,
}

impl Default for TestDpopKey {
    fn default() -> Self {
        Self::generate()
    }
}

impl TestDpopKey {
    /// A fresh key.
    pub fn generate() -> Self {
        Self {
            pair: EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .expect("EC key generation"),
        }
    }

    /// The public key as a JWK `{"kty": "EC", "crv": "P-256", "x", "y"}`.
    pub fn public_jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
    }

    /// The RFC 7638 thumbprint of [`Self::public_jwk`]: what a bound token's `cnf.jkt` holds.
    pub fn thumbprint(&self) -> String {
        let jwk = self.public_jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
            jwk["x"], jwk["y"]
        );
        b64(digest::digest(&SHA256, canonical.as_bytes()))
    }

    /// The header of a proof: `{"typ": "dpop+jwt", "alg": "ES256", "jwk": <public key>}`.
    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public_jwk()})
    }

    /// Signs `header` and `claims` (used as their JSON text) with ES256, whatever they say.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_text(&header.to_string(), &claims.to_string())
    }

    /// Signs the JSON texts `header` and `claims` byte for byte with ES256.
    pub fn sign_text(&self, header: &str, claims: &str) -> String {
        let message = format!("{}.{}", b64(header), b64(claims));
        let signature = self
            .pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .expect("ECDSA signing");
        format!("{message}.{}", b64(signature.as_ref()))
    }

    /// A valid proof for `htm` `htu` and `access_token`, with a new `jti`, issued now.
    pub fn proof(&self, htm: &str, htu: &str, access_token: &str) -> String {
        self.sign(&self.header(), &proof_claims(htm, htu, access_token))
    }
}

/// The claims of a valid proof: a new `jti`, `htm`, `htu`, `iat` now, `ath` of `access_token`.
pub fn proof_claims(htm: &str, htu: &str, access_token: &str) -> Value {
    let mut claims = token_request_claims(htm, htu);
    claims["ath"] = json!(ath(access_token));
    claims
}

/// The claims of a proof for a token request, which has no access token yet (no `ath`).
pub fn token_request_claims(htm: &str, htu: &str) -> Value {
    json!({"jti": b64(random_jti_bytes()), "htm": htm, "htu": htu, "iat": now()})
}

/// `ath`: base64url(SHA-256(access token)) (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    b64(digest::digest(&SHA256, access_token.as_bytes()))
}

fn random_jti_bytes() -> [u8; 16] {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0; 16];
    SystemRandom::new().fill(&mut bytes).expect("random bytes");
    bytes
}
