//! Access token verification: the JWT profile of RFC 9068 §4 with the RFC 8725 best current
//! practices. Everything that decides trust is configuration or the issuer's JWKS, never the
//! token itself.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;

use super::jwks::{JwksCache, JwksError};
use super::scope::{self, ScopeClaim};
use super::strict_json;

/// Longest token looked at, in bytes; anything longer is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What the verifier checks a token against.
#[derive(Debug, Clone)]
pub struct VerifierPolicy {
    /// `iss` must equal this exactly (RFC 9068 §4 step 3; Auth0: `https://{domain}/`).
    pub issuer: String,
    /// `aud` (string or array) must contain one of these (RFC 9068 §4 step 4).
    pub audiences: Vec<String>,
    /// Accepted `alg` values; asymmetric only (RFC 8725 §3.1, RFC 9068 §4 step 5).
    pub algorithms: Vec<Algorithm>,
    /// Clock tolerance for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: u64,
}

/// A verified access token: who the client is and what it was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// `sub`: Auth0 sets `{client_id}@clients` for the client-credentials grant.
    pub subject: Option<String>,
    /// `azp` (Auth0, OIDC) or `client_id` (RFC 9068 §2.2).
    pub client_id: Option<String>,
    scope: Option<ScopeClaim>,
    permissions: Option<Vec<String>>,
}

impl AccessToken {
    /// Whether the token grants `wanted` through `scope` or Auth0's `permissions`.
    pub fn grants(&self, wanted: &str) -> bool {
        scope::grants(self.scope.as_ref(), self.permissions.as_deref(), wanted)
    }

    /// The client, for logs and idempotency: `azp`/`client_id`, else `sub`.
    pub fn client(&self) -> &str {
        self.client_id
            .as_deref()
            .or(self.subject.as_deref())
            .unwrap_or("unknown")
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is not acceptable: `401 invalid_token` (RFC 6750 §3.1).
    #[error("{description}")]
    Invalid {
        /// Short stable cause for logs and metrics, e.g. `expired`.
        cause: &'static str,
        /// One sentence for the client; never echoes the token.
        description: &'static str,
    },
    /// The issuer's keys cannot be had: `503`, the client may retry.
    #[error("the issuer's signing keys are unavailable")]
    KeysUnavailable,
}

fn invalid(cause: &'static str, description: &'static str) -> TokenError {
    TokenError::Invalid { cause, description }
}

#[derive(Deserialize)]
struct HeaderPolicyView {
    alg: Option<serde_json::Value>,
    kid: Option<serde_json::Value>,
    typ: Option<serde_json::Value>,
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Claims {
    #[allow(dead_code)]
    // presence and value are checked by jsonwebtoken; typed here so an array fails
    iss: String,
    sub: Option<String>,
    azp: Option<String>,
    client_id: Option<String>,
    iat: Option<i64>,
    scope: Option<ScopeClaim>,
    permissions: Option<Vec<String>>,
}

/// Verifies bearer access tokens against one issuer.
#[derive(Debug)]
pub struct TokenVerifier {
    policy: VerifierPolicy,
    jwks: JwksCache,
}

impl TokenVerifier {
    /// A verifier for `policy` taking keys from `jwks`.
    pub fn new(policy: VerifierPolicy, jwks: JwksCache) -> Self {
        Self { policy, jwks }
    }

    /// Verifies `token` (the compact JWS from the `Authorization` header).
    ///
    /// # Errors
    /// [`TokenError::Invalid`] naming the first rule the token breaks;
    /// [`TokenError::KeysUnavailable`] when the issuer's JWKS cannot be had at all.
    pub async fn verify(&self, token: &str) -> Result<AccessToken, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("too_large", "the access token is too large"));
        }
        let segments: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = segments[..] else {
            return Err(invalid(
                "malformed",
                "the access token is not a JWS in compact form",
            ));
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(invalid(
                "malformed",
                "the access token is not a JWS in compact form",
            ));
        }
        let (alg, kid) = self.check_header(header)?;
        let key = match self.jwks.key(&kid).await {
            Ok(key) => key,
            Err(JwksError::UnknownKid) => {
                return Err(invalid(
                    "unknown_kid",
                    "the access token was signed with an unknown key",
                ));
            }
            Err(JwksError::Unavailable(reason)) => {
                tracing::error!(%reason, "cannot verify access tokens: no issuer keys");
                return Err(TokenError::KeysUnavailable);
            }
        };
        let decoding_key = usable_key(&key, alg)?;
        strict_json::decode_object(payload).map_err(|_| {
            invalid(
                "malformed",
                "the access token's claims are not a JSON object",
            )
        })?;
        let claims = jsonwebtoken::decode::<Claims>(token, &decoding_key, &self.validation(alg))
            .map_err(|error| map_jwt_error(error.kind()))?
            .claims;
        let now = jsonwebtoken::get_current_timestamp() as i64;
        if claims
            .iat
            .is_some_and(|iat| iat > now + self.policy.leeway_seconds as i64)
        {
            return Err(invalid(
                "issued_in_future",
                "the access token was issued in the future",
            ));
        }
        Ok(AccessToken {
            subject: claims.sub,
            client_id: claims.azp.or(claims.client_id),
            scope: claims.scope,
            permissions: claims.permissions,
        })
    }

    /// Header rules: `alg` from the allow-list, `kid` present, `typ` a JWT type, no `crit`.
    /// `jku`, `x5u`, `x5c` and `jwk` are never read: the key comes from the JWKS only.
    fn check_header(&self, encoded: &str) -> Result<(Algorithm, String), TokenError> {
        let object = strict_json::decode_object(encoded).map_err(|_| {
            invalid(
                "malformed",
                "the access token's header is not a JSON object",
            )
        })?;
        let view: HeaderPolicyView = serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|_| invalid("malformed", "the access token's header is malformed"))?;
        let alg = view
            .alg
            .as_ref()
            .and_then(|alg| alg.as_str())
            .and_then(|name| name.parse::<Algorithm>().ok())
            .filter(|alg| self.policy.algorithms.contains(alg))
            .ok_or(invalid(
                "alg_not_allowed",
                "the access token's signing algorithm is not accepted",
            ))?;
        if view.crit.is_some() {
            return Err(invalid(
                "crit",
                "the access token has critical header parameters this API does not understand",
            ));
        }
        if let Some(typ) = &view.typ {
            let typ = typ.as_str().unwrap_or_default().to_ascii_lowercase();
            let typ = typ.strip_prefix("application/").unwrap_or(&typ);
            if typ != "jwt" && typ != "at+jwt" {
                return Err(invalid("typ", "the token is not an access token (typ)"));
            }
        }
        let kid = match view.kid {
            Some(serde_json::Value::String(kid)) if !kid.is_empty() => kid,
            _ => {
                return Err(invalid(
                    "no_kid",
                    "the access token does not name its key (kid)",
                ));
            }
        };
        Ok((alg, kid))
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.policy.issuer]);
        validation.set_audience(&self.policy.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.policy.leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation
    }
}

/// The JWK may verify `alg` only if its `use`, `key_ops`, `alg` and `kty`/`crv` all agree
/// (RFC 7517 §4.2–4.4, RFC 8725 §3.1).
fn usable_key(jwk: &Arc<Jwk>, alg: Algorithm) -> Result<DecodingKey, TokenError> {
    let wrong = || {
        invalid(
            "key_mismatch",
            "the access token's key cannot verify this algorithm",
        )
    };
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|usage| *usage != PublicKeyUse::Signature)
    {
        return Err(wrong());
    }
    if jwk
        .common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return Err(wrong());
    }
    if jwk
        .common
        .key_algorithm
        .is_some_and(|key_alg| key_alg != KeyAlgorithm::from(alg))
    {
        return Err(wrong());
    }
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
    if !kty_fits {
        return Err(wrong());
    }
    DecodingKey::from_jwk(jwk).map_err(|_| wrong())
}

fn map_jwt_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::ExpiredSignature => invalid("expired", "the access token expired"),
        ErrorKind::ImmatureSignature => {
            invalid("not_yet_valid", "the access token is not valid yet (nbf)")
        }
        ErrorKind::InvalidIssuer => invalid("issuer", "the access token comes from another issuer"),
        ErrorKind::InvalidAudience => invalid(
            "audience",
            "the access token is not meant for this API (aud)",
        ),
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => invalid("no_exp", "the access token has no valid exp claim"),
            "iss" => invalid("no_iss", "the access token has no iss claim"),
            _ => invalid("no_aud", "the access token has no aud claim"),
        },
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => {
            invalid("claims", "the access token's claims are malformed")
        }
        ErrorKind::InvalidSignature => {
            invalid("signature", "the access token's signature does not verify")
        }
        _ => invalid("malformed", "the access token is malformed"),
    }
}

/// Decodes a base64url segment without padding (RFC 7515 §2), for the header and payload checks.
pub(crate) fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(segment).ok()
}
