//! The checks of one DPoP proof at a resource server (RFC 9449 §4.3 and §7.1), in order; the
//! token binding (`cnf.jkt`) and the `jti` replay check come after, in `dpop/mod.rs`.

use aws_lc_rs::digest::{self, SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::rejection::ProofRejection;
use super::{ALGORITHMS, MAX_PROOF_BYTES, PROOF_MAX_AGE_SECONDS};
use crate::jose::{self, CompactJws};
use crate::key_policy;
use crate::rejection::TokenRejection;
use crate::verifying_key::VerifyingKey;

/// JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// Longest `jti` accepted; a UUID is 36 characters.
const MAX_JTI_CHARS: usize = 256;

/// The request a proof must be for.
#[derive(Debug, Clone, Copy)]
pub struct ProofTarget<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The request URL as the client called it; query and fragment are ignored.
    pub url: &'a Url,
    /// The access token of the `Authorization: DPoP` header.
    pub access_token: &'a str,
}

/// A proof that passed §4.3: its key's RFC 7638 thumbprint, its `jti` and `iat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedProof {
    /// base64url SHA-256 thumbprint of the proof's `jwk` (RFC 7638 §3).
    pub jkt: String,
    /// The proof's unique identifier.
    pub jti: String,
    /// `iat`, whole seconds since the epoch.
    pub iat: u64,
}

/// Checks the compact JWS `proof` for `target` at `now` (seconds since the epoch), with
/// `leeway` seconds of clock skew allowed ahead.
///
/// # Errors
/// The [`ProofRejection`] of the first rule broken.
pub(crate) fn check(
    proof: &str,
    target: ProofTarget,
    now: u64,
    leeway: u64,
) -> Result<CheckedProof, ProofRejection> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(ProofRejection::TooLarge);
    }
    let jws = CompactJws::split(proof).ok_or(ProofRejection::NotCompact)?;
    let header = jose::decode_object(jws.header).map_err(|_| ProofRejection::HeaderNotObject)?;
    // A media type: case-insensitive, `application/` optional (RFC 7515 §4.1.9).
    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    if typ
        .as_deref()
        .map(|typ| typ.strip_prefix("application/").unwrap_or(typ))
        != Some("dpop+jwt")
    {
        return Err(ProofRejection::Typ);
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|name| name.parse::<Algorithm>().ok())
        .filter(|alg| ALGORITHMS.contains(alg))
        .ok_or(ProofRejection::AlgNotAllowed)?;
    if header.contains_key("crit") {
        return Err(ProofRejection::Crit);
    }
    let Some(jwk_value @ Value::Object(jwk_members)) = header.get("jwk") else {
        return Err(ProofRejection::NoJwk);
    };
    if PRIVATE_MEMBERS
        .iter()
        .any(|member| jwk_members.contains_key(*member))
    {
        return Err(ProofRejection::PrivateKey);
    }
    let jwk = Jwk::deserialize(jwk_value)
        .ok()
        .filter(key_policy::is_signing_key)
        .ok_or(ProofRejection::NoJwk)?;
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| ProofRejection::NoJwk)?;
    let message_sha256 = digest::digest(&SHA256, jws.signing_input.as_bytes());
    VerifyingKey::for_algorithms(jwk, &[alg])
        .verify(
            alg,
            jws.signing_input.as_bytes(),
            &message_sha256,
            jws.signature,
        )
        .map_err(|rejection| match rejection {
            TokenRejection::KeyMismatch => ProofRejection::KeyMismatch,
            _ => ProofRejection::Signature,
        })?;
    let claims = jose::decode_object(jws.payload).map_err(|_| ProofRejection::ClaimsNotObject)?;
    let jti = match claims.get("jti") {
        Some(Value::String(jti)) if !jti.is_empty() && jti.chars().count() <= MAX_JTI_CHARS => {
            jti.clone()
        }
        _ => return Err(ProofRejection::Jti),
    };
    if claims.get("htm").and_then(Value::as_str) != Some(target.method) {
        return Err(ProofRejection::Htm);
    }
    let htu = claims.get("htu").and_then(Value::as_str);
    if !htu.is_some_and(|htu| same_target_uri(htu, target.url)) {
        return Err(ProofRejection::Htu);
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .filter(|iat| iat.is_finite() && *iat >= 0.0)
        .ok_or(ProofRejection::NoIat)? as u64;
    if iat + PROOF_MAX_AGE_SECONDS < now {
        return Err(ProofRejection::Stale);
    }
    if iat > now + leeway {
        return Err(ProofRejection::IssuedInFuture);
    }
    if claims.get("ath").and_then(Value::as_str) != Some(&access_token_hash(target.access_token)) {
        return Err(ProofRejection::Ath);
    }
    Ok(CheckedProof { jkt, jti, iat })
}

/// `ath`: base64url(SHA-256(ASCII access token)) (RFC 9449 §4.2).
pub(crate) fn access_token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&SHA256, access_token.as_bytes()))
}

/// Whether `htu` names `url` once both drop query and fragment, after RFC 3986 §6.2.2–6.2.3
/// normalisation (case of scheme and host, default port, dot segments), as §4.3 check 9 asks.
fn same_target_uri(htu: &str, url: &Url) -> bool {
    let Ok(htu) = Url::parse(htu) else {
        return false;
    };
    htu.scheme() == url.scheme()
        && htu.host_str() == url.host_str()
        && htu.port_or_known_default() == url.port_or_known_default()
        && htu.path() == url.path()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1's example key and thumbprint, through the `cnf.jkt` computation used.
    #[test]
    fn the_rfc_7638_example_has_the_rfc_thumbprint() {
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let jwk: Jwk = serde_json::from_value(jwk).unwrap();
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn htu_ignores_query_fragment_case_and_default_port() {
        let url = Url::parse("https://api.example.com/timesheets/upload").unwrap();
        for same in [
            "https://api.example.com/timesheets/upload",
            "https://API.example.com:443/timesheets/upload?x=1#f",
            "HTTPS://api.example.com/timesheets/./upload",
        ] {
            assert!(same_target_uri(same, &url), "{same}");
        }
        for other in [
            "http://api.example.com/timesheets/upload",
            "https://api.example.com:8443/timesheets/upload",
            "https://api.example.com/timesheets/upload/",
            "https://evil.example.com/timesheets/upload",
            "/timesheets/upload",
        ] {
            assert!(!same_target_uri(other, &url), "{other}");
        }
    }
}
