//! The JOSE header rules (RFC 7515 §4.1, RFC 8725 §3.1, §3.10–3.11, RFC 9068 §2.1): `alg` from
//! the allow-list, `kid` present, `typ` a JWT type, no `crit`. `jku`, `x5u`, `x5c` and `jwk`
//! are never read: the key comes from the issuer's JWKS only.

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::jose;
use super::rejection::TokenRejection;

/// What a header that passed the rules says: how the token is signed and with which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AcceptedHeader {
    /// One of the configured algorithms, never HMAC.
    pub alg: Algorithm,
    /// The key's `kid` in the issuer's JWKS, not empty.
    pub kid: String,
    /// `typ` as a media type ([`media_type`]): `jwt` or `at+jwt`, `None` when absent.
    pub typ: Option<String>,
    /// Every member, for the type checks made once the signature verified, when the header has
    /// more than `alg`, `kid` and `typ`; `None` for a header of those only (Auth0's).
    pub members: Option<Map<String, Value>>,
}

/// The members the rules read.
const READ: [&str; 4] = ["alg", "kid", "typ", "crit"];

/// Checks the base64url header segment `encoded` against the rules, `alg` against `algorithms`.
///
/// # Errors
/// The [`TokenRejection`] of the first rule broken.
pub(crate) fn check(
    encoded: &str,
    algorithms: &[Algorithm],
) -> Result<AcceptedHeader, TokenRejection> {
    let bytes = jose::decode_segment(encoded).ok_or(TokenRejection::HeaderNotObject)?;
    let header = crate::strict_json::object_members(&bytes, &READ)
        .map_err(|_| TokenRejection::HeaderNotObject)?;
    // Read from the members themselves, not through `Option` fields: a member set to `null` is
    // present and malformed, not absent (`"crit": null` must not pass as no `crit`).
    let [alg, kid, typ, crit] = header.named;
    let alg = alg
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|name| name.parse::<Algorithm>().ok())
        .filter(|alg| algorithms.contains(alg) && !is_symmetric(*alg))
        .ok_or(TokenRejection::AlgNotAllowed)?;
    if crit.is_some() {
        return Err(TokenRejection::Crit);
    }
    let typ = match typ {
        None => None,
        Some(typ) => match media_type(&typ) {
            Some(typ) if matches!(typ.as_str(), "jwt" | "at+jwt") => Some(typ),
            _ => return Err(TokenRejection::Typ),
        },
    };
    let kid = match kid {
        Some(Value::String(kid)) if !kid.is_empty() => kid,
        _ => return Err(TokenRejection::NoKid),
    };
    // Other members are rare (none in Auth0's tokens): only then is the header read whole.
    let members = match header.others {
        0 => None,
        _ => Some(jose::decode_object(encoded).map_err(|_| TokenRejection::HeaderNotObject)?),
    };
    Ok(AcceptedHeader {
        alg,
        kid,
        typ,
        members,
    })
}

/// `typ` in lower case without an `application/` prefix (RFC 7515 §4.1.9: media types
/// compare case-insensitively, the prefix may be omitted); `None` when not a string.
fn media_type(typ: &Value) -> Option<String> {
    let typ = typ.as_str()?.to_ascii_lowercase();
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typ_compares_as_a_media_type() {
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert_eq!(media_type(&json!(typ)).as_deref(), Some("at+jwt"), "{typ}");
        }
        assert_eq!(
            media_type(&json!("application/JWT")).as_deref(),
            Some("jwt")
        );
        assert_eq!(media_type(&json!(7)), None);
        assert_eq!(media_type(&Value::Null), None);
    }
}
