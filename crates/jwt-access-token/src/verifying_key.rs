//! An issuer key made ready to verify when the JWKS is fetched, not per token: the key policy
//! decided for each algorithm once, and the public key parsed once into the crypto backend's
//! own form (aws-lc-rs `ParsedPublicKey`), so a token costs one signature check and nothing
//! else of the key.

use std::fmt;

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};

use super::jose;
use super::key_policy;
use super::rejection::TokenRejection;

/// The asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) a key may be prepared for.
const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// One JWKS key, ready to verify each algorithm its policy allows.
pub(crate) struct VerifyingKey {
    jwk: Jwk,
    /// Per allowed algorithm, the parsed key; `None` where the backend refused the key
    /// material (a signature with it verifies nothing).
    by_alg: Vec<(Algorithm, Option<ParsedPublicKey>)>,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algs: Vec<Algorithm> = self.by_alg.iter().map(|(alg, _)| *alg).collect();
        f.debug_struct("VerifyingKey")
            .field("kid", &self.jwk.common.key_id)
            .field("algorithms", &algs)
            .finish()
    }
}

impl VerifyingKey {
    /// Prepares `jwk` (already a signing key, [`key_policy::is_signing_key`]) for every
    /// algorithm [`key_policy::fits`] allows it.
    pub(crate) fn new(jwk: Jwk) -> Self {
        Self::for_algorithms(jwk, &ASYMMETRIC)
    }

    /// [`Self::new`] for `algorithms` only: a DPoP proof's key verifies the one `alg` its
    /// header names, so an RSA `jwk` is parsed once, not once per RSA algorithm.
    pub(crate) fn for_algorithms(jwk: Jwk, algorithms: &[Algorithm]) -> Self {
        let by_alg = algorithms
            .iter()
            .copied()
            .filter(|alg| key_policy::fits(&jwk, *alg))
            .filter_map(|alg| Some((alg, parse(&jwk, alg)?)))
            .collect();
        Self { jwk, by_alg }
    }

    /// The JWK this key was prepared from.
    pub(crate) fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Checks the base64url `signature` of `message` for `alg` (RFC 7515 §5.2 steps 7–8).
    /// `message_sha256` is SHA-256 of `message`, already computed for the verified-token
    /// cache: RS256, PS256 and ES256 verify that digest instead of hashing `message` again.
    ///
    /// # Errors
    /// [`TokenRejection::KeyMismatch`] when the key may not verify `alg`;
    /// [`TokenRejection::Signature`] when the signature is not base64url or does not verify.
    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        message_sha256: &Digest,
        signature: &str,
    ) -> Result<(), TokenRejection> {
        let (_, parsed) = self
            .by_alg
            .iter()
            .find(|(allowed, _)| *allowed == alg)
            .ok_or(TokenRejection::KeyMismatch)?;
        let signature = jose::decode_segment(signature).ok_or(TokenRejection::Signature)?;
        let Some(key) = parsed else {
            return Err(TokenRejection::Signature);
        };
        let verified = if hashes_with_sha256(alg) && message_sha256.algorithm() == &digest::SHA256 {
            key.verify_digest_sig(message_sha256, &signature)
        } else {
            key.verify_sig(message, &signature)
        };
        verified.map_err(|_| TokenRejection::Signature)
    }
}

/// Whether `alg` signs the SHA-256 digest of the signing input (RFC 7518 §3.1).
fn hashes_with_sha256(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256)
}

/// The backend's verification algorithm for `alg`: the ones jsonwebtoken's aws-lc-rs backend
/// uses (RSA 2048–8192 bits, fixed-size ECDSA signatures as JWS has them, RFC 7518 §3.4).
fn backend_algorithm(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    if let Some(rsa) = rsa_parameters(alg) {
        return Some(rsa);
    }
    Some(match alg {
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        _ => return None,
    })
}

fn rsa_parameters(alg: Algorithm) -> Option<&'static signature::RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// The key material of `jwk` parsed for `alg`, from the same bytes jsonwebtoken's
/// `DecodingKey::from_jwk` takes: RSA `n`/`e`, the uncompressed EC point `04 || x || y`
/// (SEC 1 §2.3.3), the raw Ed25519 `x`. `None` when the members are not base64url (no key
/// for `alg`: `key_mismatch`, as when jsonwebtoken could not make a `DecodingKey`);
/// `Some(None)` when the backend refuses the material (signatures fail to verify).
fn parse(jwk: &Jwk, alg: Algorithm) -> Option<Option<ParsedPublicKey>> {
    let backend = backend_algorithm(alg)?;
    Some(match &jwk.algorithm {
        AlgorithmParameters::RSA(key) => {
            let n = jose::decode_segment(&key.n)?;
            let e = jose::decode_segment(&key.e)?;
            RsaPublicKeyComponents { n: &n, e: &e }
                .to_parsed_public_key(rsa_parameters(alg)?)
                .ok()
        }
        AlgorithmParameters::EllipticCurve(key) => {
            let mut point = vec![0x04];
            point.extend(jose::decode_segment(&key.x)?);
            point.extend(jose::decode_segment(&key.y)?);
            ParsedPublicKey::new(backend, point).ok()
        }
        AlgorithmParameters::OctetKeyPair(key) => {
            ParsedPublicKey::new(backend, jose::decode_segment(&key.x)?).ok()
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest given must be the message's: a key never verifies one message's signature
    /// for another message's digest, on the SHA-256 path (RS256, PS256) or the other (RS384).
    #[test]
    fn a_signature_verifies_only_its_own_message() {
        let issuer = testkit::keys::TestKey::generate("k1");
        let jwk: Jwk =
            serde_json::from_value(issuer.jwk_with(&serde_json::json!({"alg": null}))).unwrap();
        let key = VerifyingKey::new(jwk);
        for (alg, name) in [
            (Algorithm::RS256, "RS256"),
            (Algorithm::PS256, "PS256"),
            (Algorithm::RS384, "RS384"),
        ] {
            let token = issuer.sign_as(name, r#"{"alg":"x"}"#, r#"{"sub":"a"}"#);
            let (message, signature) = token.rsplit_once('.').unwrap();
            let own = digest::digest(&digest::SHA256, message.as_bytes());
            let other = digest::digest(&digest::SHA256, b"header.other");
            assert_eq!(
                key.verify(alg, message.as_bytes(), &own, signature),
                Ok(()),
                "{name}"
            );
            let expected = if name == "RS384" {
                Ok(())
            } else {
                Err(TokenRejection::Signature)
            };
            assert_eq!(
                key.verify(alg, message.as_bytes(), &other, signature),
                expected,
                "{name}: only SHA-256 algorithms verify the digest given"
            );
            let tampered = format!("{message}x");
            assert_eq!(
                key.verify(alg, tampered.as_bytes(), &own, signature),
                if name == "RS384" {
                    Err(TokenRejection::Signature)
                } else {
                    Ok(())
                },
                "{name}: SHA-256 algorithms verify the digest, not the message again"
            );
        }
    }
}
