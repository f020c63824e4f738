//! DPoP proofs as a server reads them: checked here with aws-lc-rs directly, not with the
//! jsonwebtoken code that signed them.

use aws_lc_rs::digest::{self, SHA256};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// A proof whose signature verified with the key of its own `jwk` header.
#[derive(Debug)]
pub struct VerifiedProof {
    /// The protected header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
    /// RFC 7638 SHA-256 thumbprint of the header's `jwk`, computed here.
    pub jkt: String,
}

fn json_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// Verifies `proof` as RFC 9449 §4.3 asks: three parts, `typ` `dpop+jwt`, `alg` ES256, a
/// public P-256 `jwk` of exactly `kty`, `crv`, `x`, `y`, and an ES256 signature by that key.
///
/// # Panics
/// On any of these failing.
pub fn verify_proof(proof: &str) -> VerifiedProof {
    let parts: Vec<&str> = proof.split('.').collect();
    let [header_part, claims_part, signature_part] = parts[..] else {
        panic!("a compact JWS has three parts: {proof}");
    };
    let header = json_part(header_part);
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    let jwk = header["jwk"].as_object().expect("a jwk header");
    let mut members: Vec<&str> = jwk.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["crv", "kty", "x", "y"], "public members only");
    assert_eq!((&jwk["kty"], &jwk["crv"]), (&"EC".into(), &"P-256".into()));
    let coordinate = |name: &str| {
        let bytes = URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect("a string"))
            .expect("base64url");
        assert_eq!(bytes.len(), 32, "{name}");
        bytes
    };
    let mut point = vec![0x04];
    point.extend(coordinate("x"));
    point.extend(coordinate("y"));
    let signature = URL_SAFE_NO_PAD.decode(signature_part).expect("base64url");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(
            format!("{header_part}.{claims_part}").as_bytes(),
            &signature,
        )
        .expect("the signature verifies with the header's jwk");
    let members = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    VerifiedProof {
        header,
        claims: json_part(claims_part),
        jkt: URL_SAFE_NO_PAD.encode(digest::digest(&SHA256, members.as_bytes())),
    }
}

/// `ath` as the API computes it: base64url(SHA-256(token)).
pub fn ath_of(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&SHA256, token.as_bytes()))
}
