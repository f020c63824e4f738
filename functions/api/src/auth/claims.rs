//! The claims rules of an access token whose signature verified (RFC 7519 §4.1, RFC 9068 §4,
//! RFC 8725 §3.8–3.9): a JSON object without `null` claims; `exp`, `iss`, `aud` present;
//! `exp`, `nbf`, `iat` in time; `iss` and `aud` as configured.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::jose::{self, CompactJws};
use super::rejection::TokenRejection;
use super::scope::ScopeClaim;

/// The claims read here or by jsonwebtoken.
const READ_CLAIMS: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "azp",
    "client_id",
    "scope",
    "permissions",
];

/// The claims the API uses, typed so that a claim of the wrong type (an array `iss`) fails.
#[derive(Debug, Deserialize)]
pub struct Claims {
    // Presence and value are checked by jsonwebtoken.
    #[allow(dead_code)]
    iss: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// `azp` (Auth0, OIDC).
    pub azp: Option<String>,
    /// `client_id` (RFC 9068 §2.2).
    pub client_id: Option<String>,
    // NumericDate may have a fraction (RFC 7519 §2).
    iat: Option<f64>,
    /// `scope`.
    pub scope: Option<ScopeClaim>,
    /// Auth0's RBAC `permissions`.
    pub permissions: Option<Vec<String>>,
}

/// Checks the claims of `jws`, whose signature `key` already verified, against `validation`
/// (issuer, audiences, `alg`, leeway in seconds); `exp`, `iss` and `aud` are required.
///
/// # Errors
/// The [`TokenRejection`] of the first rule broken.
pub fn check(
    jws: &CompactJws,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<Claims, TokenRejection> {
    let payload = jose::decode_object(jws.payload).map_err(|_| TokenRejection::ClaimsNotObject)?;
    // A claim set to null is present, not absent: a null `iat` must not skip its check,
    // nor a null `azp` pick another client id.
    if READ_CLAIMS
        .iter()
        .any(|name| payload.get(*name).is_some_and(Value::is_null))
    {
        return Err(TokenRejection::NullClaim);
    }
    // jsonwebtoken checks exp/nbf/iss/aud. Its `decode` cannot skip its own signature
    // check: a second verification of microseconds, on a key that already passed.
    let claims = jsonwebtoken::decode::<Claims>(jws.token, key, validation)
        .map_err(|error| rejection(error.kind()))?
        .claims;
    let latest_iat = jsonwebtoken::get_current_timestamp() + validation.leeway;
    if claims.iat.is_some_and(|iat| iat > latest_iat as f64) {
        return Err(TokenRejection::IssuedInFuture);
    }
    Ok(claims)
}

fn rejection(kind: &ErrorKind) -> TokenRejection {
    match kind {
        ErrorKind::ExpiredSignature => TokenRejection::Expired,
        ErrorKind::ImmatureSignature => TokenRejection::NotYetValid,
        ErrorKind::InvalidIssuer => TokenRejection::Issuer,
        ErrorKind::InvalidAudience => TokenRejection::Audience,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => TokenRejection::NoExp,
            "iss" => TokenRejection::NoIss,
            _ => TokenRejection::NoAud,
        },
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => TokenRejection::Claims,
        ErrorKind::InvalidSignature => TokenRejection::Signature,
        _ => TokenRejection::Malformed,
    }
}
