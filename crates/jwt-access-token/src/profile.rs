//! Claim profiles: which JWT access tokens are taken beyond the base rules. By default any JWT
//! access token (Auth0's `typ: JWT` ones included); under [`TokenProfile::AtJwt`] only those of
//! the JWT profile for OAuth 2.0 access tokens (RFC 9068): typed `at+jwt` (§2.1) and carrying
//! `sub`, `client_id`, `iat` and `jti` (§2.2).

use serde_json::Value;

use super::rejection::TokenRejection;

/// The claim profile access tokens must follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenProfile {
    /// The base rules only: `typ` absent, `JWT` or `at+jwt` (Auth0's default tokens).
    #[default]
    Jwt,
    /// RFC 9068: `typ` `at+jwt` and the claims of §2.2 required.
    AtJwt,
}

/// What the RFC 9068 profile reads of claims past the base rules, which refused a `null` or
/// mistyped `sub`, `client_id` or `iat`: whether each is present, and `jti` as it is.
#[derive(Debug, Clone, Copy)]
pub struct ProfileClaims<'a> {
    /// `sub` is present.
    pub sub: bool,
    /// `client_id` is present.
    pub client_id: bool,
    /// `iat` is present.
    pub iat: bool,
    /// `jti`, of any JSON type.
    pub jti: Option<&'a Value>,
}

impl TokenProfile {
    /// The profile a "require RFC 9068 access tokens" flag names: `true` is [`Self::AtJwt`].
    pub fn from_require_at_jwt(require: bool) -> Self {
        if require { Self::AtJwt } else { Self::Jwt }
    }

    /// Checks the JOSE header's `typ` as a media type (past the base header rules: `jwt`,
    /// `at+jwt` or `None`), before any key is looked up: under [`Self::AtJwt`] it must be
    /// `at+jwt` (RFC 9068 §2.1, §4 step 1).
    ///
    /// # Errors
    /// [`TokenRejection::NotAtJwt`] for a `typ` of `JWT` or none.
    pub fn check_header(self, typ: Option<&str>) -> Result<(), TokenRejection> {
        match self {
            Self::AtJwt if typ != Some("at+jwt") => Err(TokenRejection::NotAtJwt),
            _ => Ok(()),
        }
    }

    /// Checks the claims of a token past the base claims rules: under [`Self::AtJwt`], `sub`,
    /// `client_id`, `iat` and `jti` are present, in that order (RFC 9068 §2.2), and `jti` is
    /// a string (RFC 7519 §4.1.7).
    ///
    /// # Errors
    /// The `No*` [`TokenRejection`] of the first missing claim, [`TokenRejection::NullClaim`]
    /// for a `null` `jti`, [`TokenRejection::Claims`] for a `jti` of another type.
    pub fn check_claims(self, claims: ProfileClaims) -> Result<(), TokenRejection> {
        if self == Self::Jwt {
            return Ok(());
        }
        let required = [
            (claims.sub, TokenRejection::NoSub),
            (claims.client_id, TokenRejection::NoClientId),
            (claims.iat, TokenRejection::NoIat),
            (claims.jti.is_some(), TokenRejection::NoJti),
        ];
        if let Some((_, missing)) = required.into_iter().find(|(present, _)| !present) {
            return Err(missing);
        }
        match claims.jti {
            Some(Value::String(_)) => Ok(()),
            Some(Value::Null) => Err(TokenRejection::NullClaim),
            _ => Err(TokenRejection::Claims),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn at_jwt_requires_its_typ() {
        assert_eq!(TokenProfile::AtJwt.check_header(Some("at+jwt")), Ok(()));
        for typ in [Some("jwt"), None] {
            assert_eq!(
                TokenProfile::AtJwt.check_header(typ),
                Err(TokenRejection::NotAtJwt),
                "{typ:?}"
            );
            assert_eq!(TokenProfile::Jwt.check_header(typ), Ok(()));
        }
    }

    #[test]
    fn at_jwt_requires_its_claims() {
        let jti = json!("j");
        let full = ProfileClaims {
            sub: true,
            client_id: true,
            iat: true,
            jti: Some(&jti),
        };
        assert_eq!(TokenProfile::AtJwt.check_claims(full), Ok(()));
        let without = [
            (ProfileClaims { sub: false, ..full }, TokenRejection::NoSub),
            (
                ProfileClaims {
                    client_id: false,
                    ..full
                },
                TokenRejection::NoClientId,
            ),
            (ProfileClaims { iat: false, ..full }, TokenRejection::NoIat),
            (ProfileClaims { jti: None, ..full }, TokenRejection::NoJti),
        ];
        for (claims, missing) in without {
            assert_eq!(TokenProfile::AtJwt.check_claims(claims), Err(missing));
            assert_eq!(TokenProfile::Jwt.check_claims(claims), Ok(()));
        }
        let null = Value::Null;
        assert_eq!(
            TokenProfile::AtJwt.check_claims(ProfileClaims {
                jti: Some(&null),
                ..full
            }),
            Err(TokenRejection::NullClaim)
        );
        let number = json!(7);
        assert_eq!(
            TokenProfile::AtJwt.check_claims(ProfileClaims {
                jti: Some(&number),
                ..full
            }),
            Err(TokenRejection::Claims)
        );
    }
}
