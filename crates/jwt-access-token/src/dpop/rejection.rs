//! Why a DPoP proof was refused: one [`ProofRejection`] per rule of RFC 9449 §4.3, answered
//! `401` with `WWW-Authenticate: DPoP error="invalid_dpop_proof"` (§7.1). The
//! `error_description` and the `AuthFailures` metric reason (`invalid_dpop_proof:<cause>`)
//! both come from it.

/// The first rule a proof breaks, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.description())]
pub enum ProofRejection {
    /// `Authorization: DPoP` without a `DPoP` header (§7.1).
    Missing,
    /// More than one `DPoP` header (§4.3 check 1).
    Several,
    /// Longer than [`MAX_PROOF_BYTES`](crate::MAX_PROOF_BYTES): a bound on what is parsed,
    /// not an RFC rule.
    TooLarge,
    /// Not a JWS in compact form with a header and a signature (§4.3 check 2).
    NotCompact,
    /// The header is not a JSON object with unique member names (§4.3 check 3).
    HeaderNotObject,
    /// `typ` is not `dpop+jwt` (§4.2, §4.3 check 4).
    Typ,
    /// `alg` is not one of the accepted asymmetric algorithms (§4.3 check 5).
    AlgNotAllowed,
    /// `crit` is present; no extension is understood here (RFC 7515 §4.1.11).
    Crit,
    /// No `jwk` header, or it is not a JWK of a kind this API verifies (§4.3 check 7).
    NoJwk,
    /// The `jwk` holds private key members (`d`, `p`, `k`, ...): §4.3 check 7.
    PrivateKey,
    /// The `jwk` cannot verify `alg` (its `kty`/`crv`, or an `alg` member of its own).
    KeyMismatch,
    /// The signature does not verify with the `jwk` (§4.3 check 6).
    Signature,
    /// The claims are not a JSON object with unique member names (§4.3 check 3).
    ClaimsNotObject,
    /// No `jti`, or it is not a non-empty string of at most 256 characters (§4.2).
    Jti,
    /// `htm` is missing or not the request's method (§4.3 check 8).
    Htm,
    /// `htu` is missing or not the request's URL without query and fragment (§4.3 check 9).
    Htu,
    /// `iat` is missing or not a number (§4.2).
    NoIat,
    /// `iat` is older than [`PROOF_MAX_AGE_SECONDS`](crate::PROOF_MAX_AGE_SECONDS)
    /// (§4.3 check 11, §11.1).
    Stale,
    /// `iat` is later than now plus the leeway (§4.3 check 11).
    IssuedInFuture,
    /// `ath` is missing or not base64url(SHA-256(access token)) (§4.3 check 12, §7).
    Ath,
    /// The proof's key is not the one the access token is bound to (`cnf.jkt`, §6.1,
    /// §4.3 check 12).
    KeyNotBound,
    /// This `jti` was already used with this key within the proof lifetime (§11.1).
    Replayed,
}

impl ProofRejection {
    /// Short stable cause for logs and the metric, e.g. `replayed`.
    pub fn cause(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Several => "several",
            Self::TooLarge => "too_large",
            Self::NotCompact | Self::HeaderNotObject | Self::ClaimsNotObject => "malformed",
            Self::Typ => "typ",
            Self::AlgNotAllowed => "alg_not_allowed",
            Self::Crit => "crit",
            Self::NoJwk => "no_jwk",
            Self::PrivateKey => "private_key",
            Self::KeyMismatch => "key_mismatch",
            Self::Signature => "signature",
            Self::Jti => "jti",
            Self::Htm => "htm",
            Self::Htu => "htu",
            Self::NoIat => "no_iat",
            Self::Stale => "stale",
            Self::IssuedInFuture => "issued_in_future",
            Self::Ath => "ath",
            Self::KeyNotBound => "key_not_bound",
            Self::Replayed => "replayed",
        }
    }

    /// The `error_description` (RFC 6750 §3 syntax): one sentence, never echoing the proof.
    pub fn description(self) -> &'static str {
        match self {
            Self::Missing => "the DPoP scheme needs one DPoP proof header",
            Self::Several => "send exactly one DPoP proof header",
            Self::TooLarge => "the DPoP proof is too large",
            Self::NotCompact => "the DPoP proof is not a JWS in compact form",
            Self::HeaderNotObject => "the DPoP proof's header is not a JSON object",
            Self::Typ => "the DPoP proof's typ is not dpop+jwt",
            Self::AlgNotAllowed => "the DPoP proof's signing algorithm is not accepted",
            Self::Crit => "the DPoP proof has critical header parameters",
            Self::NoJwk => "the DPoP proof has no usable public jwk",
            Self::PrivateKey => "the DPoP proof's jwk holds private key material",
            Self::KeyMismatch => "the DPoP proof's jwk cannot verify its algorithm",
            Self::Signature => "the DPoP proof's signature does not verify",
            Self::ClaimsNotObject => "the DPoP proof's claims are not a JSON object",
            Self::Jti => "the DPoP proof has no valid jti",
            Self::Htm => "the DPoP proof is for another HTTP method (htm)",
            Self::Htu => "the DPoP proof is for another URL (htu)",
            Self::NoIat => "the DPoP proof has no valid iat",
            Self::Stale => "the DPoP proof is too old (iat)",
            Self::IssuedInFuture => "the DPoP proof was issued in the future (iat)",
            Self::Ath => "the DPoP proof is for another access token (ath)",
            Self::KeyNotBound => "the access token is bound to another key than the DPoP proof's",
            Self::Replayed => "the DPoP proof was used before (jti)",
        }
    }

    /// The `Reason` dimension of the `AuthFailures` metric: `invalid_dpop_proof:<cause>`.
    pub fn metric_reason(self) -> String {
        format!("invalid_dpop_proof:{}", self.cause())
    }
}
