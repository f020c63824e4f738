//! `private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect Core §9): a client
//! assertion JWT per token request, signed by an AWS KMS asymmetric key through `kms:Sign`, so
//! the job holds no client secret and the private key never leaves KMS.
//!
//! The assertion: header `{"alg", "typ": "JWT", "kid"}`; claims `iss` = `sub` = the client id,
//! `aud` (Auth0: `https://{domain}/`), a fresh UUID `jti`, `iat`, and `exp` [`LIFETIME`] later
//! (Auth0 refuses more than 5 minutes). A new one is signed for every attempt, retries included,
//! since the issuer refuses a `jti` it has seen.

mod public_key;

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use tokio::sync::OnceCell;

pub use public_key::{fixed_ecdsa_signature, thumbprint};

/// `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// From `iat` to `exp`: long enough for clock skew and a slow token endpoint, far below
/// Auth0's 5-minute limit.
pub const LIFETIME: Duration = Duration::from_secs(120);

/// The assertion's JWS `alg` (`AUTH_ASSERTION_ALG`) and the KMS key it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssertionAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256; an `RSA_2048` key (Auth0's default credential).
    #[default]
    RS256,
    /// RSASSA-PSS with SHA-256 and a 32-byte salt (RFC 7518 §3.5); an `RSA_2048` key.
    PS256,
    /// ECDSA P-256 with SHA-256; an `ECC_NIST_P256` key.
    ES256,
}

impl FromStr for AssertionAlgorithm {
    type Err = &'static str;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "RS256" => Ok(Self::RS256),
            "PS256" => Ok(Self::PS256),
            "ES256" => Ok(Self::ES256),
            _ => Err("the job signs assertions with RS256, PS256 or ES256"),
        }
    }
}

impl AssertionAlgorithm {
    /// The JWS `alg` name (RFC 7518 §3.1).
    pub fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
        }
    }

    /// The `kms:Sign` algorithm that makes this JWS signature (AWS KMS key spec reference).
    fn kms(self) -> SigningAlgorithmSpec {
        match self {
            Self::RS256 => SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
            Self::PS256 => SigningAlgorithmSpec::RsassaPssSha256,
            Self::ES256 => SigningAlgorithmSpec::EcdsaSha256,
        }
    }
}

/// What the job signs with, from `AUTH_SIGNING_KEY_ID`, `AUTH_ASSERTION_ALG`,
/// `AUTH_ASSERTION_KID` and `AUTH_ASSERTION_AUDIENCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionConfig {
    /// The KMS key id, ARN or alias (`KeyUsage` `SIGN_VERIFY`).
    pub key_id: String,
    /// The JWS algorithm.
    pub alg: AssertionAlgorithm,
    /// The `kid` header; `None`: the RFC 7638 thumbprint of the key, as `make public-jwk`
    /// prints it.
    pub kid: Option<String>,
    /// The `aud` claim.
    pub audience: String,
}

/// Why no assertion was signed. No variant carries key material or the assertion.
#[derive(Debug, thiserror::Error)]
pub enum AssertionError {
    /// `kms:Sign` or `kms:GetPublicKey` failed (permissions, a disabled key, throttling past
    /// the SDK's retries, the network).
    #[error("KMS {operation} on key {key_id} failed: {reason}")]
    Kms {
        /// `Sign` or `GetPublicKey`.
        operation: &'static str,
        /// The key as configured.
        key_id: String,
        /// The SDK's message.
        reason: String,
    },
    /// The key is not of the kind `AUTH_ASSERTION_ALG` needs.
    #[error("KMS key {key_id} cannot make {alg} signatures: it needs {needs}")]
    WrongKey {
        /// The key as configured.
        key_id: String,
        /// The configured algorithm.
        alg: &'static str,
        /// The key spec that would.
        needs: &'static str,
    },
}

/// Signs client assertions with one KMS key; built once per sandbox.
#[derive(Debug)]
pub struct AssertionSigner {
    kms: aws_sdk_kms::Client,
    config: AssertionConfig,
    kid: OnceCell<String>,
}

impl AssertionSigner {
    /// A signer using `kms` with `config`.
    pub fn new(kms: aws_sdk_kms::Client, config: AssertionConfig) -> Self {
        let kid = OnceCell::new_with(config.kid.clone());
        Self { kms, config, kid }
    }

    /// A new compact JWS client assertion for `client_id`, issued at `now`.
    ///
    /// # Errors
    /// [`AssertionError`] when KMS does not sign or the key does not fit the algorithm.
    pub async fn assertion(
        &self,
        client_id: &str,
        now: SystemTime,
    ) -> Result<String, AssertionError> {
        let alg = self.config.alg;
        let kid = self.kid().await?;
        let signing_input = signing_input(alg, kid, client_id, &self.config.audience, now);
        let signed = self
            .kms
            .sign()
            .key_id(&self.config.key_id)
            .message(Blob::new(signing_input.as_bytes()))
            .message_type(MessageType::Raw)
            .signing_algorithm(alg.kms())
            .send()
            .await
            .map_err(|error| self.kms_error("Sign", error))?;
        let signature = signed.signature.map(Blob::into_inner).unwrap_or_default();
        compact(signing_input, alg, &signature).ok_or_else(|| self.wrong_key())
    }

    /// The configured `kid`, else the key's thumbprint, read once with `kms:GetPublicKey`.
    async fn kid(&self) -> Result<&str, AssertionError> {
        let kid = self
            .kid
            .get_or_try_init(|| async {
                let public = self
                    .kms
                    .get_public_key()
                    .key_id(&self.config.key_id)
                    .send()
                    .await
                    .map_err(|error| self.kms_error("GetPublicKey", error))?;
                let spki = public.public_key.map(Blob::into_inner).unwrap_or_default();
                thumbprint(&spki, self.config.alg).ok_or_else(|| self.wrong_key())
            })
            .await?;
        Ok(kid)
    }

    fn kms_error(
        &self,
        operation: &'static str,
        error: impl std::error::Error + 'static,
    ) -> AssertionError {
        AssertionError::Kms {
            operation,
            key_id: self.config.key_id.clone(),
            reason: aws_sdk_kms::error::DisplayErrorContext(error).to_string(),
        }
    }

    fn wrong_key(&self) -> AssertionError {
        AssertionError::WrongKey {
            key_id: self.config.key_id.clone(),
            alg: self.config.alg.name(),
            needs: match self.config.alg {
                AssertionAlgorithm::ES256 => "ECC_NIST_P256",
                AssertionAlgorithm::RS256 | AssertionAlgorithm::PS256 => "an RSA key spec",
            },
        }
    }
}

/// The ASCII signing input `base64url(header).base64url(claims)` of a new assertion for
/// `client_id` to `audience`, issued at `now`: what `kms:Sign` signs (`MessageType=RAW`).
pub fn signing_input(
    alg: AssertionAlgorithm,
    kid: &str,
    client_id: &str,
    audience: &str,
    now: SystemTime,
) -> String {
    let header = json!({"alg": alg.name(), "typ": "JWT", "kid": kid});
    let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": iat,
        "exp": iat + LIFETIME.as_secs(),
    });
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// The compact JWS of `signing_input` and the `signature` `kms:Sign` returned for `alg`: RSA
/// signatures as they are, ECDSA ones from DER to `r || s` (RFC 7518 §3.4); `None` when an
/// ES256 signature is not a P-256 DER signature.
pub fn compact(signing_input: String, alg: AssertionAlgorithm, signature: &[u8]) -> Option<String> {
    let encoded = match alg {
        AssertionAlgorithm::ES256 => URL_SAFE_NO_PAD.encode(fixed_ecdsa_signature(signature)?),
        AssertionAlgorithm::RS256 | AssertionAlgorithm::PS256 => URL_SAFE_NO_PAD.encode(signature),
    };
    Some(format!("{signing_input}.{encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(segment: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    }

    #[test]
    fn the_signing_input_is_the_header_and_claims_the_issuer_reads() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let aud = "https://tenant.example/";
        let input = signing_input(AssertionAlgorithm::PS256, "kid-1", "client-1", aud, now);
        let (header, claims) = input.split_once('.').unwrap();
        assert_eq!(
            decoded(header),
            json!({"alg": "PS256", "typ": "JWT", "kid": "kid-1"})
        );
        let claims = decoded(claims);
        let jti = claims["jti"].as_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&jti).is_ok(), "{jti}");
        assert_eq!(
            claims,
            json!({
                "iss": "client-1", "sub": "client-1", "aud": aud, "jti": jti,
                "iat": 1_700_000_000, "exp": 1_700_000_120,
            })
        );
        let again = signing_input(AssertionAlgorithm::PS256, "kid-1", "client-1", aud, now);
        assert_ne!(decoded(again.split_once('.').unwrap().1)["jti"], jti);
    }

    #[test]
    fn kms_signatures_become_the_jws_signature_of_their_algorithm() {
        let rsa = [0x5a; 256];
        let jws = compact("h.c".to_owned(), AssertionAlgorithm::RS256, &rsa).unwrap();
        assert_eq!(jws, format!("h.c.{}", URL_SAFE_NO_PAD.encode(rsa)));
        // DER ECDSA-Sig-Value: r with a sign byte, s a single byte.
        let mut der = vec![0x30, 0x26, 0x02, 0x21, 0x00];
        der.extend([0x80; 32]);
        der.extend([0x02, 0x01, 0x01]);
        let jws = compact("h.c".to_owned(), AssertionAlgorithm::ES256, &der).unwrap();
        let signature = URL_SAFE_NO_PAD
            .decode(jws.strip_prefix("h.c.").unwrap())
            .unwrap();
        let mut fixed = [0; 64];
        fixed[..32].copy_from_slice(&[0x80; 32]);
        fixed[63] = 1;
        assert_eq!(signature, fixed);
        assert_eq!(
            compact("h.c".to_owned(), AssertionAlgorithm::ES256, &rsa),
            None
        );
    }
}
