//! The sandbox's DPoP key: P-256, generated in memory by aws-lc-rs, never written anywhere.

use std::fmt;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::ProofError;

/// The JWS `typ` of a DPoP proof (RFC 9449 §4.2).
pub const PROOF_TYPE: &str = "dpop+jwt";

/// A P-256 key pair for DPoP proofs (ES256, RFC 7518 §3.4). `Debug` shows its thumbprint only.
pub struct DpopKey {
    /// The PKCS#8 private key, which jsonwebtoken signs with through aws-lc-rs.
    private: EncodingKey,
    /// `{kty, crv, x, y}`: the public members only (RFC 7517 §4, RFC 7518 §6.2.1).
    jwk: Jwk,
    /// RFC 7638 SHA-256 thumbprint of `jwk`: the `cnf.jkt` of the tokens bound to this key.
    jkt: String,
}

impl DpopKey {
    /// A new key from aws-lc-rs's random generator.
    ///
    /// # Errors
    /// [`ProofError::KeyGeneration`] when aws-lc-rs fails.
    pub fn generate() -> Result<Self, ProofError> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| ProofError::KeyGeneration)?;
        let pkcs8 = pair.to_pkcs8v1().map_err(|_| ProofError::KeyGeneration)?;
        // The uncompressed point, 0x04 || x || y (SEC 1 §2.3.3), 32 bytes each.
        let point = pair.public_key().as_ref();
        let (x, y) = match point {
            [0x04, xy @ ..] if xy.len() == 64 => xy.split_at(32),
            _ => return Err(ProofError::KeyGeneration),
        };
        let jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: URL_SAFE_NO_PAD.encode(x),
                y: URL_SAFE_NO_PAD.encode(y),
            }),
        };
        let jkt = jwk.thumbprint(ThumbprintHash::SHA256)?;
        Ok(Self {
            private: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
            jkt,
        })
    }

    /// The public JWK that every proof's header carries.
    pub fn public_jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The RFC 7638 §3 SHA-256 thumbprint, base64url: what the issuer puts in `cnf.jkt`
    /// (RFC 9449 §6.1).
    pub fn thumbprint(&self) -> &str {
        &self.jkt
    }

    /// `claims` as a compact JWS with header `{"typ": "dpop+jwt", "alg": "ES256", "jwk"}`.
    ///
    /// # Errors
    /// [`ProofError::Signing`] when jsonwebtoken cannot serialise or sign.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, ProofError> {
        let header = Header {
            typ: Some(PROOF_TYPE.to_owned()),
            jwk: Some(self.jwk.clone()),
            ..Header::new(Algorithm::ES256)
        };
        Ok(jsonwebtoken::encode(&header, claims, &self.private)?)
    }
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("jkt", &self.jkt)
            .field("private", &"<redacted>")
            .finish()
    }
}
