//! The JOSE header rules (RFC 7515 §4.1, RFC 8725 §3.1, §3.10–3.11, RFC 9068 §2.1): `alg` from
//! the allow-list, `kid` present, `typ` a JWT type, no `crit`. `jku`, `x5u`, `x5c` and `jwk`
//! are never read: the key comes from the issuer's JWKS only.

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::jose;
use super::rejection::TokenRejection;

/// What a header that passed the rules says: how the token is signed and with which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedHeader {
    /// One of the configured algorithms, never HMAC.
    pub alg: Algorithm,
    /// The key's `kid` in the issuer's JWKS, not empty.
    pub kid: String,
    /// Every member, for the type checks made once the signature verified.
    pub members: Map<String, Value>,
}

/// Checks the base64url header segment `encoded` against the rules, `alg` against `algorithms`.
///
/// # Errors
/// The [`TokenRejection`] of the first rule broken.
pub fn check(encoded: &str, algorithms: &[Algorithm]) -> Result<AcceptedHeader, TokenRejection> {
    // Read from the object itself, not through `Option` fields: a member set to `null` is
    // present and malformed, not absent (`"crit": null` must not pass as no `crit`).
    let header = jose::decode_object(encoded).map_err(|_| TokenRejection::HeaderNotObject)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|name| name.parse::<Algorithm>().ok())
        .filter(|alg| algorithms.contains(alg) && !is_symmetric(*alg))
        .ok_or(TokenRejection::AlgNotAllowed)?;
    if header.contains_key("crit") {
        return Err(TokenRejection::Crit);
    }
    if header.contains_key("typ")
        && !matches!(media_type(&header).as_deref(), Some("jwt" | "at+jwt"))
    {
        return Err(TokenRejection::Typ);
    }
    let kid = match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => kid.clone(),
        _ => return Err(TokenRejection::NoKid),
    };
    Ok(AcceptedHeader {
        alg,
        kid,
        members: header,
    })
}

/// `typ` in lower case without an `application/` prefix (RFC 7515 §4.1.9: media types
/// compare case-insensitively, the prefix may be omitted); `None` when absent or not a string.
pub(super) fn media_type(header: &Map<String, Value>) -> Option<String> {
    let typ = header.get("typ")?.as_str()?.to_ascii_lowercase();
    Some(match typ.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => typ,
    })
}

/// HMAC needs a shared secret, which a JWKS never holds: refused even if configured
/// (RFC 8725 §2.1, §3.1), so a configuration mistake cannot open the key-confusion attack.
fn is_symmetric(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}
