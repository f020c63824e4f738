//! RSA signing keys and raw compact JWS (RFC 7515 §7.1) minting.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaEncoding};
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

    /// [`TestKey::jwk`] with `changes` merged in; a `null` value removes the member.
    pub fn jwk_with(&self, changes: &Value) -> Value {
        merged(self.jwk(), changes)
    }

    /// The public key as SubjectPublicKeyInfo PEM, the text an HS256 key-confusion attacker
    /// would use as the HMAC secret.
    pub fn public_key_pem(&self) -> String {
        let der = self
            .pair
            .public_key()
            .as_der()
            .expect("SPKI encoding")
            .as_ref()
            .to_vec();
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER (RFC 8017 §A.1.1), for verifying with the
    /// crypto backend directly.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
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

    /// Signs `header.payload` (JSON text, used byte for byte) with the RSA algorithm named
    /// `alg` (`RS256`..`RS512`, `PS256`..`PS512`), whatever the header says.
    pub fn sign_as(&self, alg: &str, header_json: &str, payload_json: &str) -> String {
        let padding: &'static dyn RsaEncoding = match alg {
            "RS256" => &signature::RSA_PKCS1_SHA256,
            "RS384" => &signature::RSA_PKCS1_SHA384,
            "RS512" => &signature::RSA_PKCS1_SHA512,
            "PS256" => &signature::RSA_PSS_SHA256,
            "PS384" => &signature::RSA_PSS_SHA384,
            "PS512" => &signature::RSA_PSS_SHA512,
            other => panic!("not an RSA JWS algorithm: {other}"),
        };
        self.sign_segments(&b64(header_json), &b64(payload_json), padding)
    }

    /// An RS256 token with header `{"alg": "RS256", "typ": "JWT", "kid": <kid>}` and `claims`.
    pub fn mint(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        self.sign_raw(&header.to_string(), &claims.to_string())
    }
}

/// A compact JWS over `header_json` and `payload_json` with HMAC-SHA256 keyed by `secret`:
/// how an attacker forges a token when a verifier lets the header pick HS256.
pub fn hs256(secret: &[u8], header_json: &str, payload_json: &str) -> String {
    let message = format!("{}.{}", b64(header_json), b64(payload_json));
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, message.as_bytes());
    format!("{message}.{}", b64(tag.as_ref()))
}

/// A fresh P-256 public key as a JWK `{"kty": "EC", "crv": "P-256", "kid", "use": "sig",
/// "alg": "ES256", "x", "y"}` (its private half is dropped).
pub fn ec_p256_jwk(kid: &str) -> Value {
    let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
        .expect("EC key generation");
    // Uncompressed point: 0x04 || x || y, 32 bytes each.
    let point = pair.public_key().as_ref();
    json!({
        "kty": "EC",
        "crv": "P-256",
        "kid": kid,
        "use": "sig",
        "alg": "ES256",
        "x": b64(&point[1..33]),
        "y": b64(&point[33..65]),
    })
}

/// `base` with `changes` merged in at the top level; a `null` value removes the member.
pub fn merged(mut base: Value, changes: &Value) -> Value {
    let object = base.as_object_mut().expect("a JSON object");
    for (name, value) in changes.as_object().expect("changes are a JSON object") {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    base
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
