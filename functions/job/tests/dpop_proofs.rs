//! The job's DPoP proofs (RFC 9449 §4.2), read and verified as a server would.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{ath_of, verify_proof};
use reqwest::header::HeaderMap;
use timesheets_job::DpopSigner;
use url::Url;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_proof_verifies_with_its_own_jwk_and_carries_every_claim() {
    let signer = DpopSigner::generate().unwrap();
    let url = Url::parse("https://api.example.com/stage/timesheets/upload?dry=1#frag").unwrap();
    let proof = verify_proof(&signer.proof("POST", &url, Some("at-secret")).unwrap());
    let claims = proof.claims.as_object().unwrap();
    let mut names: Vec<&str> = claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["ath", "htm", "htu", "iat", "jti"]);
    let jti = uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).expect("a UUID jti");
    assert_eq!(jti.get_version_num(), 4);
    assert_eq!(claims["htm"], "POST");
    assert_eq!(
        claims["htu"],
        "https://api.example.com/stage/timesheets/upload"
    );
    let iat = claims["iat"].as_i64().unwrap();
    assert!((now() - iat).abs() <= 2, "iat {iat}");
    assert_eq!(claims["ath"], ath_of("at-secret"));
    // The thumbprint the job names its key by is the one the issuer computes from the jwk.
    assert_eq!(proof.jkt, signer.key().thumbprint());
    assert_eq!(
        serde_json::to_value(signer.key().public_jwk()).unwrap(),
        proof.header["jwk"]
    );
}

#[test]
fn token_request_proofs_have_no_ath_and_each_proof_a_new_jti() {
    let signer = DpopSigner::generate().unwrap();
    let url = Url::parse("http://127.0.0.1:4000/oauth/token").unwrap();
    let first = verify_proof(&signer.proof("POST", &url, None).unwrap());
    let second = verify_proof(&signer.proof("POST", &url, None).unwrap());
    assert_eq!(first.claims.get("ath"), None);
    assert_eq!(first.claims.get("nonce"), None);
    assert_eq!(first.claims["htu"], "http://127.0.0.1:4000/oauth/token");
    assert_ne!(first.claims["jti"], second.claims["jti"]);
    assert_eq!(first.jkt, second.jkt);
}

#[test]
fn a_proof_carries_the_nonce_of_its_own_server_only() {
    let signer = DpopSigner::generate().unwrap();
    let issuer = Url::parse("http://127.0.0.1:4000/oauth/token").unwrap();
    let api = Url::parse("http://127.0.0.1:5000/timesheets/upload").unwrap();
    let mut answer = HeaderMap::new();
    answer.insert("dpop-nonce", "issuer-nonce-1".parse().unwrap());
    assert!(signer.remember_nonce(&issuer, &answer));
    let to_issuer = verify_proof(&signer.proof("POST", &issuer, None).unwrap());
    assert_eq!(to_issuer.claims["nonce"], "issuer-nonce-1");
    let to_api = verify_proof(&signer.proof("POST", &api, Some("t")).unwrap());
    assert_eq!(to_api.claims.get("nonce"), None);
}

#[test]
fn each_sandbox_has_its_own_key() {
    let one = DpopSigner::generate().unwrap();
    let other = DpopSigner::generate().unwrap();
    assert_ne!(one.key().thumbprint(), other.key().thumbprint());
    // 32 bytes of SHA-256, base64url without padding.
    assert_eq!(one.key().thumbprint().len(), 43);
}
