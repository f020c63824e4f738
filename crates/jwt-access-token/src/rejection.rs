//! Why an access token was refused: one [`TokenRejection`] per rule, answered
//! `401 invalid_token` (RFC 6750 §3.1). The `error_description` and the `AuthFailures` metric
//! reason (`invalid_token:<cause>`) both come from it.

/// The first rule a token breaks, in the order the verifier checks them.
///
/// Several rules share a [`cause`](Self::cause) (`malformed`), so the metric keeps few values,
/// while each has its own [`description`](Self::description) for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.description())]
pub enum TokenRejection {
    /// Not three base64url segments with a non-empty header and signature: the JWS Compact
    /// Serialization (RFC 7515 §7.1; JWE, JSON serialisation and `alg: none` are not it).
    NotCompact,
    /// Longer than `MAX_TOKEN_BYTES`: this API's bound on what it parses for a caller not yet
    /// authenticated, not an RFC rule.
    TooLarge,
    /// The JOSE header is not a JSON object with unique member names (RFC 7515 §4, §5.2).
    HeaderNotObject,
    /// `alg` is not one of the configured asymmetric algorithms: the token never chooses
    /// (RFC 8725 §2.1, §3.1; RFC 9068 §4 step 5, which also refuses `none`).
    AlgNotAllowed,
    /// `crit` is present; no extension is understood here (RFC 7515 §4.1.11).
    Crit,
    /// `typ` is neither `JWT` (Auth0) nor `at+jwt` (RFC 9068 §2.1, §4 step 1; explicit typing,
    /// RFC 8725 §3.11).
    Typ,
    /// `typ` is not `at+jwt` (a plain `JWT`, or none) where `TokenProfile::AtJwt` takes
    /// RFC 9068 access tokens only (RFC 9068 §2.1, §4 step 1).
    NotAtJwt,
    /// No `kid`: the key must be picked from the issuer's JWKS by name (RFC 7515 §4.1.4), never
    /// guessed or taken from the token (RFC 8725 §3.10).
    NoKid,
    /// No key of the issuer's JWKS has this `kid`: only the authorization server's keys verify
    /// (RFC 9068 §4 step 5, RFC 7517 §5).
    UnknownKid,
    /// The key named by `kid` is bound to another `alg` (RFC 7517 §4.4) or its `kty`/`crv` do
    /// not fit the token's `alg` (RFC 7518 §3.1, RFC 8037 §3.1; RFC 8725 §3.1).
    KeyMismatch,
    /// The signature does not verify with the issuer's key (RFC 7515 §5.2 step 8).
    Signature,
    /// The claims are not a JSON object with unique member names (RFC 7519 §4, §7.2 step 10).
    ClaimsNotObject,
    /// A claim the API reads is `null`: present but of no claim type (RFC 7519 §4.1), so it may
    /// not pass as absent.
    NullClaim,
    /// `exp` is past, beyond the leeway (RFC 7519 §4.1.4, RFC 9068 §4 step 6).
    Expired,
    /// `nbf` is in the future, beyond the leeway (RFC 7519 §4.1.5).
    NotYetValid,
    /// `iat` is in the future, beyond the leeway: no issuer could have issued it yet
    /// (RFC 7519 §4.1.6).
    IssuedInFuture,
    /// `iss` is not the configured issuer, compared exactly (RFC 9068 §4 step 3,
    /// RFC 8725 §3.8).
    Issuer,
    /// `aud` holds none of the configured audiences (RFC 9068 §4 step 4, RFC 8725 §3.9).
    Audience,
    /// No `exp`, or one that is not a NumericDate; it is required (RFC 9068 §2.2).
    NoExp,
    /// No `iss`; it is required (RFC 9068 §2.2).
    NoIss,
    /// No `aud`; it is required (RFC 9068 §2.2).
    NoAud,
    /// No `sub` under `TokenProfile::AtJwt`, which requires it (RFC 9068 §2.2).
    NoSub,
    /// No `client_id` under `TokenProfile::AtJwt`, which requires it (RFC 9068 §2.2);
    /// Auth0's `azp` does not stand in for it.
    NoClientId,
    /// No `iat` under `TokenProfile::AtJwt`, which requires it (RFC 9068 §2.2).
    NoIat,
    /// No `jti` under `TokenProfile::AtJwt`, which requires it (RFC 9068 §2.2).
    NoJti,
    /// None of `azp`, `client_id` and `sub` names the client (each absent or empty): what an
    /// API keeps per client would be shared (this crate's rule; RFC 9068 §2.2 requires `sub`
    /// and `client_id`).
    NoClient,
    /// A claim has the wrong type, e.g. `aud` a number, `scope` or `scp` an object, a `jti`
    /// that is not a string (RFC 7519 §4.1, RFC 9068 §2.2).
    Claims,
    /// Any other failure to read the token as a JWT (RFC 7519 §7.2).
    Malformed,
    /// A DPoP-bound token (`cnf.jkt`) sent with the `Bearer` scheme (RFC 9449 §7.2).
    DpopBound,
    /// A token sent with the `DPoP` scheme that is not bound to a key (no `cnf.jkt`,
    /// RFC 9449 §6.1).
    NotDpopBound,
    /// A bearer token where [`DpopMode::Required`](crate::DpopMode::Required) takes DPoP-bound
    /// tokens only (RFC 9449 §7.1).
    DpopRequired,
}

impl TokenRejection {
    /// Short stable cause for logs and the metric, e.g. `expired`.
    pub fn cause(self) -> &'static str {
        match self {
            Self::NotCompact
            | Self::HeaderNotObject
            | Self::ClaimsNotObject
            | Self::NullClaim
            | Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::AlgNotAllowed => "alg_not_allowed",
            Self::Crit => "crit",
            Self::Typ => "typ",
            Self::NotAtJwt => "not_at_jwt",
            Self::NoKid => "no_kid",
            Self::UnknownKid => "unknown_kid",
            Self::KeyMismatch => "key_mismatch",
            Self::Signature => "signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::NoExp => "no_exp",
            Self::NoIss => "no_iss",
            Self::NoAud => "no_aud",
            Self::NoSub => "no_sub",
            Self::NoClientId => "no_client_id",
            Self::NoIat => "no_iat",
            Self::NoJti => "no_jti",
            Self::NoClient => "no_client",
            Self::Claims => "claims",
            Self::DpopBound => "dpop_bound",
            Self::NotDpopBound => "not_dpop_bound",
            Self::DpopRequired => "dpop_required",
        }
    }

    /// The `error_description` (RFC 6750 §3): one sentence, never echoing the token.
    pub fn description(self) -> &'static str {
        match self {
            Self::NotCompact => "the access token is not a JWS in compact form",
            Self::TooLarge => "the access token is too large",
            Self::HeaderNotObject => "the access token's header is not a JSON object",
            Self::AlgNotAllowed => "the access token's signing algorithm is not accepted",
            Self::Crit => {
                "the access token has critical header parameters this API does not understand"
            }
            Self::Typ => "the token is not an access token (typ)",
            Self::NotAtJwt => "the access token is not typed at+jwt (RFC 9068)",
            Self::NoKid => "the access token does not name its key (kid)",
            Self::UnknownKid => "the access token was signed with an unknown key",
            Self::KeyMismatch => "the access token's key cannot verify this algorithm",
            Self::Signature => "the access token's signature does not verify",
            Self::ClaimsNotObject => "the access token's claims are not a JSON object",
            Self::NullClaim => "the access token has a claim set to null",
            Self::Expired => "the access token expired",
            Self::NotYetValid => "the access token is not valid yet (nbf)",
            Self::IssuedInFuture => "the access token was issued in the future",
            Self::Issuer => "the access token comes from another issuer",
            Self::Audience => "the access token is not meant for this API (aud)",
            Self::NoExp => "the access token has no valid exp claim",
            Self::NoIss => "the access token has no iss claim",
            Self::NoAud => "the access token has no aud claim",
            Self::NoSub => "the access token has no sub claim",
            Self::NoClientId => "the access token has no client_id claim",
            Self::NoIat => "the access token has no iat claim",
            Self::NoJti => "the access token has no jti claim",
            Self::NoClient => "the access token names no client (azp, client_id or sub)",
            Self::Claims => "the access token's claims are malformed",
            Self::Malformed => "the access token is malformed",
            Self::DpopBound => {
                "the access token is bound to a key: send it as Authorization: DPoP with a DPoP proof"
            }
            Self::NotDpopBound => {
                "the access token is not bound to a key (cnf.jkt): it is no DPoP token"
            }
            Self::DpopRequired => {
                "this API accepts DPoP-bound access tokens only: Authorization: DPoP with a DPoP proof"
            }
        }
    }

    /// The `Reason` dimension of the `AuthFailures` metric: `invalid_token:<cause>`.
    pub fn metric_reason(self) -> String {
        format!("invalid_token:{}", self.cause())
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is not acceptable: `401 invalid_token` (RFC 6750 §3.1).
    #[error(transparent)]
    Invalid(#[from] TokenRejection),
    /// The issuer's keys cannot be had: `503`, the client may retry.
    #[error("the issuer's signing keys are unavailable")]
    KeysUnavailable,
}
