//! RSA signing keys and raw compact JWS (RFC 7515 §7.1) minting.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, RsaEncoding};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// An RSA-2048 key pair with a `kid`, generated in memory.
pub struct TestKey {
    pair: KeyPair,
    /// The key id published in the JWKS and put in token headers.
    pub kid: String,
}

/// base64url without padding, as JWS uses (RFC 7515 §2).
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TestKey {
    /// A fresh key named `kid`.
    pub fn generate(kid: &str) -> Self {
        Self {
            pair: KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"),
            kid: kid.to_owned(),
        }
    }

    /// The public key as a JWK: `{"kty": "RSA", "kid", "use": "sig", "alg": "RS256", "n", "e"}`.
    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// PKCS#8 DER of the private key (for libraries that sign from DER).
    pub fn pkcs8_der(&self) -> Vec<u8> {
        self.pair
            .as_der()
            .expect("PKCS#8 encoding")
            .as_ref()
            .to_vec()
    }

    /// Signs `header.payload` (both given as JSON text, used byte for byte) with RS256.
    pub fn sign_raw(&self, header_json: &str, payload_json: &str) -> String {
        self.sign_segments(
            &b64(header_json),
            &b64(payload_json),
            &signature::RSA_PKCS1_SHA256,
        )
    }

    /// Signs already-encoded segments with `padding` (RS256/384/512, PS256/...).
    pub fn sign_segments(
        &self,
        header_b64: &str,
        payload_b64: &str,
        padding: &'static dyn RsaEncoding,
    ) -> String {
        let message = format!("{header_b64}.{payload_b64}");
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                padding,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing");
        format!("{message}.{}", b64(signature))
    }

    /// An RS256 token with header `{"alg": "RS256", "typ": "JWT", "kid": <kid>}` and `claims`.
    pub fn mint(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        self.sign_raw(&header.to_string(), &claims.to_string())
    }
}

/// Seconds since the Unix epoch, for `exp`/`iat`/`nbf`.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// `{"keys": [...]}` for the given keys.
pub fn jwk_set(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>()})
}
