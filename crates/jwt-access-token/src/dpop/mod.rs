//! DPoP at the resource server (RFC 9449): which credentials a request may bring
//! ([`DpopMode`]), the proof rules (`proof.rs`), the token binding (`cnf.jkt`, §6.1) and the
//! `jti` replay check (`replay.rs`: a store every instance shares, or this process's memory).

pub(crate) mod proof;
pub(crate) mod rejection;
pub(crate) mod replay;
pub(crate) mod target;

use std::str::FromStr;

use jsonwebtoken::Algorithm;
use url::Url;

use self::proof::{CheckedProof, ProofTarget};
use self::rejection::ProofRejection;

/// The proof algorithms accepted, as the challenge's `algs` lists them (§7.1): asymmetric only,
/// the ones the issuer stand-in and Auth0 accept for DPoP.
pub(crate) const ALGORITHMS: [Algorithm; 3] =
    [Algorithm::ES256, Algorithm::PS256, Algorithm::RS256];
/// Largest proof parsed, in bytes (an RSA-4096 proof with its `jwk` is under 2 KiB).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// How old a proof's `iat` may be (§11.1 leaves the window to the server); also how long its
/// `jti` is remembered, since an older proof is refused by `iat` alone.
pub const PROOF_MAX_AGE_SECONDS: u64 = 300;

/// Which access tokens a resource server takes (RFC 9449 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// Bearer tokens only, `cnf` not read: the API as without DPoP (RFC 6750).
    #[default]
    Off,
    /// Bearer tokens without `cnf.jkt`, and DPoP-bound tokens with a valid proof.
    Allowed,
    /// DPoP-bound tokens with a valid proof only; a bearer token is refused.
    Required,
}

impl FromStr for DpopMode {
    type Err = &'static str;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "off" => Ok(Self::Off),
            "allowed" => Ok(Self::Allowed),
            "required" => Ok(Self::Required),
            _ => Err("the DPoP mode is off, allowed or required"),
        }
    }
}

/// The `algs` parameter of a `DPoP` challenge: the accepted algorithms, space-separated.
pub(crate) fn algs() -> String {
    let names: Vec<String> = ALGORITHMS.iter().map(|alg| format!("{alg:?}")).collect();
    names.join(" ")
}

/// How DPoP proofs are checked.
#[derive(Debug, Clone, Default)]
pub struct DpopPolicy {
    /// Which tokens are taken.
    pub mode: DpopMode,
    /// The protected resource's URL as clients call it, which proofs must name (`htu`). Unset:
    /// rebuilt per request from `X-Forwarded-Proto`, `Host` and the raw path.
    pub htu: Option<Url>,
    /// Clock skew allowed for a proof's `iat` ahead of now, in seconds.
    pub leeway_seconds: u64,
}

impl DpopPolicy {
    /// Checks the DPoP `proof` (the `DPoP` header's value) for `target` at `now` (seconds since
    /// the epoch) and that its key is `bound_jkt`, the token's `cnf.jkt`: what
    /// [`TokenVerifier::authorize`](crate::TokenVerifier::authorize) checks of a proof, without
    /// its replay record.
    ///
    /// # Errors
    /// The [`ProofRejection`] of the first rule of RFC 9449 §4.3 broken;
    /// [`ProofRejection::KeyNotBound`] when the proof's key is not the token's.
    pub fn check_proof(
        &self,
        proof: &str,
        target: ProofTarget,
        bound_jkt: &str,
        now: u64,
    ) -> Result<(), ProofRejection> {
        check_bound_proof(std::iter::once(proof), target, bound_jkt, self, now).map(drop)
    }
}

/// The replay record of `proof`: an id for its key and `jti` (base64url SHA-256, so no proof
/// text is stored) and when it may be forgotten (Unix seconds), once the proof would be
/// refused as stale anyway.
pub(crate) fn replay_record(proof: &CheckedProof) -> (String, i64) {
    let id = proof::access_token_hash(&format!("{}.{}", proof.jkt, proof.jti));
    let expires_at = proof.iat + PROOF_MAX_AGE_SECONDS + 60;
    (id, expires_at as i64)
}

/// Checks the one proof of `proofs` for `target` and that its key is `bound_jkt`, the
/// token's `cnf.jkt`, at `now`.
///
/// # Errors
/// The [`ProofRejection`] of the first rule broken; [`ProofRejection::KeyNotBound`] when the
/// proof's key is not the token's.
pub(crate) fn check_bound_proof<'a>(
    mut proofs: impl Iterator<Item = &'a str>,
    target: ProofTarget,
    bound_jkt: &str,
    policy: &DpopPolicy,
    now: u64,
) -> Result<CheckedProof, ProofRejection> {
    let proof = match (proofs.next(), proofs.next()) {
        (None, _) => return Err(ProofRejection::Missing),
        (Some(_), Some(_)) => return Err(ProofRejection::Several),
        (Some(proof), None) => proof,
    };
    let checked = proof::check(proof.trim(), target, now, policy.leeway_seconds)?;
    if checked.jkt != bound_jkt {
        return Err(ProofRejection::KeyNotBound);
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_the_refusal_names_them() {
        assert_eq!("off".parse(), Ok(DpopMode::Off));
        assert_eq!("allowed".parse(), Ok(DpopMode::Allowed));
        assert_eq!("required".parse(), Ok(DpopMode::Required));
        assert_eq!(
            "on".parse::<DpopMode>(),
            Err("the DPoP mode is off, allowed or required")
        );
        assert_eq!(algs(), "ES256 PS256 RS256");
    }
}
