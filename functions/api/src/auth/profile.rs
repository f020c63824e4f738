//! Claim profiles: which JWT access tokens the API takes beyond the base rules. By default
//! any JWT access token (Auth0's `typ: JWT` ones included); with `AUTH_REQUIRE_AT_JWT=true`
//! only those of the JWT profile for OAuth 2.0 access tokens (RFC 9068): typed `at+jwt`
//! (§2.1) and carrying `sub`, `client_id`, `iat` and `jti` (§2.2).

use serde_json::{Map, Value};

use super::header;
use super::rejection::TokenRejection;

/// The claim profile access tokens must follow, from `AUTH_REQUIRE_AT_JWT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenProfile {
    /// The base rules only: `typ` absent, `JWT` or `at+jwt` (Auth0's default tokens).
    #[default]
    Jwt,
    /// RFC 9068: `typ` `at+jwt` and the claims of §2.2 required.
    AtJwt,
}

/// Claims RFC 9068 §2.2 requires beyond `iss`, `exp` and `aud` (which every token needs),
/// each with the refusal of its absence.
const AT_JWT_CLAIMS: [(&str, TokenRejection); 4] = [
    ("sub", TokenRejection::NoSub),
    ("client_id", TokenRejection::NoClientId),
    ("iat", TokenRejection::NoIat),
    ("jti", TokenRejection::NoJti),
];

impl TokenProfile {
    /// The profile `AUTH_REQUIRE_AT_JWT` names: `true` is [`Self::AtJwt`].
    pub fn from_require_at_jwt(require: bool) -> Self {
        if require { Self::AtJwt } else { Self::Jwt }
    }

    /// Checks the JOSE header `members` (already past the base header rules), before any key
    /// is looked up: under [`Self::AtJwt`] `typ` must be `at+jwt` (RFC 9068 §2.1, §4 step 1).
    ///
    /// # Errors
    /// [`TokenRejection::NotAtJwt`] for a `typ` of `JWT` or none.
    pub fn check_header(self, members: &Map<String, Value>) -> Result<(), TokenRejection> {
        match self {
            Self::AtJwt if header::media_type(members).as_deref() != Some("at+jwt") => {
                Err(TokenRejection::NotAtJwt)
            }
            _ => Ok(()),
        }
    }

    /// Checks the claims `payload` (a JSON object) of a token past the base claims rules: under
    /// [`Self::AtJwt`], `sub`, `client_id`, `iat` and `jti` are present (RFC 9068 §2.2) and
    /// `jti` is a string (RFC 7519 §4.1.7); the others were typed by the base rules.
    ///
    /// # Errors
    /// The `No*` [`TokenRejection`] of the first missing claim, [`TokenRejection::NullClaim`]
    /// for a `null` `jti`, [`TokenRejection::Claims`] for a `jti` of another type.
    pub fn check_claims(self, payload: &Value) -> Result<(), TokenRejection> {
        if self == Self::Jwt {
            return Ok(());
        }
        for (name, missing) in AT_JWT_CLAIMS {
            match payload.get(name) {
                None => return Err(missing),
                Some(Value::Null) => return Err(TokenRejection::NullClaim),
                Some(_) => {}
            }
        }
        if !payload.get("jti").is_some_and(Value::is_string) {
            return Err(TokenRejection::Claims);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn at_jwt_requires_its_typ() {
        let profile = TokenProfile::AtJwt;
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert_eq!(profile.check_header(&object(json!({"typ": typ}))), Ok(()));
        }
        for header in [
            json!({"typ": "JWT"}),
            json!({"typ": "application/jwt"}),
            json!({}),
        ] {
            assert_eq!(
                profile.check_header(&object(header.clone())),
                Err(TokenRejection::NotAtJwt),
                "{header}"
            );
            assert_eq!(TokenProfile::Jwt.check_header(&object(header)), Ok(()));
        }
    }

    #[test]
    fn at_jwt_requires_its_claims() {
        let full = json!({"sub": "s", "client_id": "c", "iat": 1, "jti": "j"});
        assert_eq!(TokenProfile::AtJwt.check_claims(&full), Ok(()));
        for (name, missing) in AT_JWT_CLAIMS {
            let mut claims = full.clone();
            claims.as_object_mut().unwrap().remove(name);
            assert_eq!(TokenProfile::AtJwt.check_claims(&claims), Err(missing));
            assert_eq!(TokenProfile::Jwt.check_claims(&claims), Ok(()));
        }
        let mut claims = full;
        claims["jti"] = Value::Null;
        assert_eq!(
            TokenProfile::AtJwt.check_claims(&claims),
            Err(TokenRejection::NullClaim)
        );
        claims["jti"] = json!(7);
        assert_eq!(
            TokenProfile::AtJwt.check_claims(&claims),
            Err(TokenRejection::Claims)
        );
    }
}
