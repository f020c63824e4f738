//! Access token verification: the JWT profile of RFC 9068 §4 with the RFC 8725 best current
//! practices. Everything that decides trust is configuration or the issuer's JWKS, never the
//! token itself.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;
use serde_json::Value;

use super::jose;
use super::jwks::{JwksCache, JwksError, KeySet};
use super::key_policy;
use super::scope::{self, ScopeClaim};

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
pub struct VerifiedToken {
    /// `sub`: Auth0 sets `{client_id}@clients` for the client-credentials grant.
    pub subject: Option<String>,
    /// `azp` (Auth0, OIDC) or `client_id` (RFC 9068 §2.2).
    pub client_id: Option<String>,
    scope: Option<ScopeClaim>,
    permissions: Option<Vec<String>>,
}

impl VerifiedToken {
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

#[derive(Deserialize)]
struct Claims {
    // Presence and value are checked by jsonwebtoken; typed here so an array fails.
    #[allow(dead_code)]
    iss: Option<String>,
    sub: Option<String>,
    azp: Option<String>,
    client_id: Option<String>,
    // NumericDate may have a fraction (RFC 7519 §2).
    iat: Option<f64>,
    scope: Option<ScopeClaim>,
    permissions: Option<Vec<String>>,
}

/// The three segments of a compact JWS (RFC 7515 §7.1), still base64url-encoded.
struct CompactJws<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'a str,
}

impl<'a> CompactJws<'a> {
    fn split(token: &'a str) -> Result<Self, TokenError> {
        let not_compact = || invalid("malformed", "the access token is not a JWS in compact form");
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("too_large", "the access token is too large"));
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or_else(not_compact)?;
        let (header, payload) = signing_input.split_once('.').ok_or_else(not_compact)?;
        // An empty payload is a valid JWS (RFC 7515 §7.1) but never valid claims: the claims
        // check refuses it. An empty signature is `alg: none`, refused here.
        if header.is_empty() || signature.is_empty() || payload.contains('.') {
            return Err(not_compact());
        }
        Ok(Self {
            header,
            payload,
            signature,
            signing_input,
        })
    }
}

/// Verifies the signature of the compact JWS `token` the way [`TokenVerifier::verify`] does
/// before it reads any claim: the header rules (`alg` from `algorithms`, `kid`, `typ`, no
/// `crit`), the key named by `kid` in `keys`, the key policy (`use`, `key_ops`, `alg`,
/// `kty`/`crv`, RSA key soundness) and the signature itself. Returns the verified `alg`.
///
/// # Errors
/// [`TokenError::Invalid`] naming the first rule the token breaks.
pub fn verify_signature(
    token: &str,
    algorithms: &[Algorithm],
    keys: &KeySet,
) -> Result<Algorithm, TokenError> {
    let jws = CompactJws::split(token)?;
    let (alg, kid) = check_header(jws.header, algorithms)?;
    let key = keys.get(&kid).ok_or_else(unknown_kid)?;
    check_signature(&jws, alg, &key)?;
    Ok(alg)
}

fn unknown_kid() -> TokenError {
    invalid(
        "unknown_kid",
        "the access token was signed with an unknown key",
    )
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
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let jws = CompactJws::split(token)?;
        let (alg, kid) = check_header(jws.header, &self.policy.algorithms)?;
        let key = match self.jwks.key(&kid).await {
            Ok(key) => key,
            Err(JwksError::UnknownKid) => return Err(unknown_kid()),
            Err(JwksError::Unavailable(reason)) => {
                tracing::error!(%reason, "cannot verify access tokens: no issuer keys");
                return Err(TokenError::KeysUnavailable);
            }
        };
        let decoding_key = check_signature(&jws, alg, &key)?;
        let payload = jose::decode_object(jws.payload).map_err(|_| {
            invalid(
                "malformed",
                "the access token's claims are not a JSON object",
            )
        })?;
        // A claim set to null is present, not absent: a null `iat` must not skip its check,
        // nor a null `azp` pick another client id.
        if READ_CLAIMS
            .iter()
            .any(|name| payload.get(*name).is_some_and(Value::is_null))
        {
            return Err(invalid(
                "malformed",
                "the access token has a claim set to null",
            ));
        }
        // jsonwebtoken checks exp/nbf/iss/aud. Its `decode` cannot skip its own signature
        // check: a second verification of microseconds, on a key that already passed.
        let claims = jsonwebtoken::decode::<Claims>(token, &decoding_key, &self.validation(alg))
            .map_err(|error| map_jwt_error(error.kind()))?
            .claims;
        let latest_iat = jsonwebtoken::get_current_timestamp() + self.policy.leeway_seconds;
        if claims.iat.is_some_and(|iat| iat > latest_iat as f64) {
            return Err(invalid(
                "issued_in_future",
                "the access token was issued in the future",
            ));
        }
        Ok(VerifiedToken {
            subject: claims.sub,
            client_id: claims.azp.or(claims.client_id),
            scope: claims.scope,
            permissions: claims.permissions,
        })
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

/// Header rules: `alg` from the allow-list, `kid` present, `typ` a JWT type, no `crit`.
/// `jku`, `x5u`, `x5c` and `jwk` are never read: the key comes from the JWKS only.
fn check_header(
    encoded: &str,
    algorithms: &[Algorithm],
) -> Result<(Algorithm, String), TokenError> {
    // Read from the object itself, not through `Option` fields: a member set to `null` is
    // present and malformed, not absent (`"crit": null` must not pass as no `crit`).
    let header = jose::decode_object(encoded).map_err(|_| {
        invalid(
            "malformed",
            "the access token's header is not a JSON object",
        )
    })?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|name| name.parse::<Algorithm>().ok())
        .filter(|alg| algorithms.contains(alg) && !is_symmetric(*alg))
        .ok_or(invalid(
            "alg_not_allowed",
            "the access token's signing algorithm is not accepted",
        ))?;
    if header.contains_key("crit") {
        return Err(invalid(
            "crit",
            "the access token has critical header parameters this API does not understand",
        ));
    }
    if let Some(typ) = header.get("typ") {
        let typ = typ.as_str().unwrap_or_default().to_ascii_lowercase();
        let typ = typ.strip_prefix("application/").unwrap_or(&typ);
        if typ != "jwt" && typ != "at+jwt" {
            return Err(invalid("typ", "the token is not an access token (typ)"));
        }
    }
    match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => Ok((alg, kid.clone())),
        _ => Err(invalid(
            "no_kid",
            "the access token does not name its key (kid)",
        )),
    }
}

/// HMAC needs a shared secret, which a JWKS never holds: refused even if configured
/// (RFC 8725 §2.1, §3.1), so a configuration mistake cannot open the key-confusion attack.
fn is_symmetric(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// The key policy, then the signature over the signing input. Returns the key for the claims.
fn check_signature(jws: &CompactJws, alg: Algorithm, jwk: &Jwk) -> Result<DecodingKey, TokenError> {
    let key = usable_key(jwk, alg)?;
    match jsonwebtoken::crypto::verify(jws.signature, jws.signing_input.as_bytes(), &key, alg) {
        Ok(true) => Ok(key),
        // A signature that is not base64url, or a key the backend cannot load, verifies nothing.
        Ok(false) | Err(_) => Err(invalid(
            "signature",
            "the access token's signature does not verify",
        )),
    }
}

fn usable_key(jwk: &Jwk, alg: Algorithm) -> Result<DecodingKey, TokenError> {
    key_policy::decoding_key(jwk, alg).ok_or_else(|| {
        invalid(
            "key_mismatch",
            "the access token's key cannot verify this algorithm",
        )
    })
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
