//! Which of the issuer's keys may verify what (RFC 7517 §4.2–4.4, RFC 8725 §3.1).

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};

use super::rsa_key;

/// Whether `jwk` may verify signatures at all: `use` absent or `sig`, `key_ops` absent or
/// with `verify`, and a sound key of a type the verifier knows (an RSA key by
/// [`rsa_key::is_sound`]; EC P-256/P-384; Ed25519). The JWKS cache keeps only such keys.
pub(crate) fn is_signing_key(jwk: &Jwk) -> bool {
    let for_signatures = jwk
        .common
        .public_key_use
        .as_ref()
        .is_none_or(|usage| *usage == PublicKeyUse::Signature);
    let may_verify = jwk
        .common
        .key_operations
        .as_ref()
        .is_none_or(|ops| ops.contains(&KeyOperations::Verify));
    let sound = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => rsa_key::is_sound(&rsa.n, &rsa.e),
        AlgorithmParameters::EllipticCurve(ec) => {
            matches!(ec.curve, EllipticCurve::P256 | EllipticCurve::P384)
        }
        AlgorithmParameters::OctetKeyPair(okp) => okp.curve == EllipticCurve::Ed25519,
        _ => false,
    };
    for_signatures && may_verify && sound
}

/// Whether `jwk` may verify `alg` signatures: its `alg`, when given, is `alg` and its
/// `kty`/`crv` fit it. When not, the verifier answers `invalid_token` (`key_mismatch`).
/// Decided once per key and algorithm when the JWKS is fetched (`VerifyingKey`), for keys
/// that passed [`is_signing_key`], so no rule is repeated per token.
pub(crate) fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let bound_to_other_alg = jwk
        .common
        .key_algorithm
        .is_some_and(|key_alg| key_alg != KeyAlgorithm::from(alg));
    let kty_fits = match (&jwk.algorithm, alg) {
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => {
            ec.curve == EllipticCurve::P384
        }
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            okp.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    !bound_to_other_alg && kty_fits
}
