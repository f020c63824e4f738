//! The claims rules of an access token (RFC 7519 §4.1, RFC 9068 §4, RFC 8725 §3.8–3.9), in two
//! steps around the signature check: [`decode`] reads a JSON object without `null` claims,
//! whose `iss` picks the issuer's keys; [`check`], once the signature verified, wants `exp`,
//! `iss`, `aud` present, `exp`, `nbf`, `iat` in time, `iss` and `aud` as configured, then the
//! claims of the configured [`TokenProfile`].

use serde::Deserialize;
use serde_json::{Map, Value};

use super::jose;
use super::profile::{ProfileClaims, TokenProfile};
use super::rejection::TokenRejection;
use super::scope::ScopeClaim;

/// The claims read here, in this order; any other member is checked (unique names) and
/// dropped unread. All but `jti` (read by the RFC 9068 profile only) are refused when `null`.
const READ_CLAIMS: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "azp",
    "client_id",
    "scope",
    "scp",
    "permissions",
    "cnf",
    "jti",
];

/// The claims the API uses, typed so that a claim of the wrong type (an array `iss`) fails.
#[derive(Debug)]
pub(crate) struct Claims {
    // Typed so a non-string `iss` is `claims`; it picks the issuer before the signature check.
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
    /// `scp` (Okta, Microsoft Entra ID): scopes in the same two forms as `scope`.
    pub scp: Option<ScopeClaim>,
    /// Auth0's RBAC `permissions`.
    pub permissions: Option<Vec<String>>,
    /// `cnf` (RFC 7800 §3.1): the key the token is bound to.
    pub cnf: Option<Confirmation>,
}

/// The confirmation claim's members read here.
#[derive(Debug, Deserialize)]
pub(crate) struct Confirmation {
    /// `jkt`: the RFC 7638 thumbprint of the DPoP key (RFC 9449 §6.1).
    pub jkt: Option<String>,
}

/// What the claims are checked against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClaimsPolicy<'a> {
    /// `iss` must equal this exactly.
    pub issuer: &'a str,
    /// `aud` must hold one of these.
    pub audiences: &'a [String],
    /// Tolerance for `exp`, `nbf` and `iat`, in seconds.
    pub leeway: u64,
    /// The claims required beyond these rules.
    pub profile: TokenProfile,
}

/// Claims that passed, with `exp` as the whole second at which the token stops being valid
/// without any leeway (a fractional `exp` rounded down).
#[derive(Debug)]
pub(crate) struct Checked {
    /// The claims the API uses.
    pub claims: Claims,
    /// `exp` rounded down, in seconds since the epoch.
    pub expires_at: u64,
}

/// Claims read from the payload but not yet checked: the `iss` picks the issuer whose keys
/// verify the signature (RFC 8725 §3.8), then [`check`] applies the rules.
#[derive(Debug)]
pub(crate) struct Decoded {
    claims: Claims,
    /// Read as jsonwebtoken reads them, from the JSON values.
    exp: Option<Value>,
    nbf: Option<Value>,
    aud: Option<Value>,
    jti: Option<Value>,
}

impl Decoded {
    /// `iss`, when present (a string: any other type is refused by [`decode`]).
    pub(crate) fn issuer(&self) -> Option<&str> {
        self.claims.iss.as_deref()
    }
}

/// Decodes the base64url claims `payload` once: a JSON object with unique member names, no
/// claim the API reads set to `null`, each of its type.
///
/// # Errors
/// [`TokenRejection::ClaimsNotObject`], [`TokenRejection::NullClaim`] or
/// [`TokenRejection::Claims`].
pub(crate) fn decode(payload: &str) -> Result<Decoded, TokenRejection> {
    let bytes = jose::decode_segment(payload).ok_or(TokenRejection::ClaimsNotObject)?;
    let members = crate::strict_json::object_members(&bytes, &READ_CLAIMS)
        .map_err(|_| TokenRejection::ClaimsNotObject)?
        .named;
    // A claim set to null is present, not absent: a null `iat` must not skip its check,
    // nor a null `azp` pick another client id. `jti`, last, is the profile's to judge.
    if members[..READ_CLAIMS.len() - 1]
        .iter()
        .any(|claim| claim.as_ref().is_some_and(Value::is_null))
    {
        return Err(TokenRejection::NullClaim);
    }
    let [
        iss,
        sub,
        aud,
        exp,
        nbf,
        iat,
        azp,
        client_id,
        scope,
        scp,
        permissions,
        cnf,
        jti,
    ] = members;
    let claims = Claims {
        iss: typed(iss)?,
        sub: typed(sub)?,
        azp: typed(azp)?,
        client_id: typed(client_id)?,
        iat: typed(iat)?,
        scope: typed(scope)?,
        scp: typed(scp)?,
        permissions: typed(permissions)?,
        cnf: typed(cnf)?,
    };
    Ok(Decoded {
        claims,
        exp,
        nbf,
        aud,
        jti,
    })
}

/// A claim of its type, moved out of its JSON value; a claim of another type is
/// [`TokenRejection::Claims`].
fn typed<T: serde::de::DeserializeOwned>(
    claim: Option<Value>,
) -> Result<Option<T>, TokenRejection> {
    claim
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| TokenRejection::Claims)
}

/// Checks the `decoded` claims of a token whose signature verified, and the JOSE `header`
/// members, at `now` (seconds since the epoch). The rules and their order are jsonwebtoken's
/// `decode` with `exp`, `iss` and `aud` required, `exp` and `nbf` validated with the leeway,
/// then `iat` no later than `now` plus the leeway, then the claims of `policy.profile`
/// ([`TokenProfile::check_claims`]).
///
/// # Errors
/// The [`TokenRejection`] of the first rule broken.
pub(crate) fn check(
    decoded: Decoded,
    header: Option<Map<String, Value>>,
    policy: ClaimsPolicy,
    now: u64,
) -> Result<Checked, TokenRejection> {
    let Decoded {
        claims,
        exp: exp_claim,
        nbf,
        aud,
        jti,
    } = decoded;
    check_header_types(header)?;
    let exp = numeric_date(exp_claim.as_ref());
    let nbf = numeric_date(nbf.as_ref());
    let NumericDate::Parsed(expires) = exp else {
        return Err(TokenRejection::NoExp);
    };
    let Some(iss) = claims.iss.as_deref() else {
        return Err(TokenRejection::NoIss);
    };
    let Some(aud) = audience(aud.as_ref()) else {
        return Err(TokenRejection::NoAud);
    };
    if nbf == NumericDate::Malformed {
        return Err(TokenRejection::Claims);
    }
    if expires < now.saturating_sub(policy.leeway) {
        return Err(TokenRejection::Expired);
    }
    if matches!(nbf, NumericDate::Parsed(nbf) if nbf > now + policy.leeway) {
        return Err(TokenRejection::NotYetValid);
    }
    if iss != policy.issuer {
        return Err(TokenRejection::Issuer);
    }
    if !aud
        .iter()
        .any(|aud| policy.audiences.iter().any(|ours| ours == aud))
    {
        return Err(TokenRejection::Audience);
    }
    if claims
        .iat
        .is_some_and(|iat| iat > (now + policy.leeway) as f64)
    {
        return Err(TokenRejection::IssuedInFuture);
    }
    policy.profile.check_claims(ProfileClaims {
        sub: claims.sub.is_some(),
        client_id: claims.client_id.is_some(),
        iat: claims.iat.is_some(),
        jti: jti.as_ref(),
    })?;
    // `exp` rounded down, not to the nearest second: never a moment past the token's own.
    let expires_at = match exp_claim {
        Some(exp) if exp.is_f64() => exp.as_f64().map_or(expires, |exp| exp.floor() as u64),
        _ => expires,
    };
    Ok(Checked { claims, expires_at })
}

/// The header members jsonwebtoken's `Header` types (`jku`, `jwk`, `x5c`, `cty`, ...) must
/// have those types, and `b64` must not be `false` (RFC 7797 §3): tokens that jsonwebtoken
/// could not read stay refused, though nothing here reads those members. `None` is a header
/// of `alg`, `kid` and `typ` only (Auth0's), which the header rules read, as strings.
fn check_header_types(header: Option<Map<String, Value>>) -> Result<(), TokenRejection> {
    let Some(header) = header else {
        return Ok(());
    };
    let b64 = header.get("b64").cloned();
    jsonwebtoken::Header::deserialize(&Value::Object(header))
        .map_err(|_| TokenRejection::Claims)?;
    match b64 {
        None | Some(Value::Bool(true)) => Ok(()),
        Some(_) => Err(TokenRejection::Malformed),
    }
}

/// A NumericDate claim (RFC 7519 §2) read as jsonwebtoken reads `exp` and `nbf`: a
/// non-negative integer, or a finite non-negative number rounded to the nearest second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumericDate {
    Absent,
    Malformed,
    Parsed(u64),
}

fn numeric_date(value: Option<&Value>) -> NumericDate {
    let Some(value) = value else {
        return NumericDate::Absent;
    };
    match value.as_u64() {
        Some(seconds) => NumericDate::Parsed(seconds),
        None => match value.as_f64() {
            Some(seconds)
                if value.is_f64()
                    && seconds.is_finite()
                    && seconds >= 0.0
                    && seconds < u64::MAX as f64 =>
            {
                NumericDate::Parsed(seconds.round() as u64)
            }
            _ => NumericDate::Malformed,
        },
    }
}

/// `aud`: one string or an array of strings (RFC 7519 §4.1.3); `None` when it is neither or
/// absent.
fn audience(value: Option<&Value>) -> Option<Vec<&str>> {
    match value? {
        Value::String(aud) => Some(vec![aud.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}
