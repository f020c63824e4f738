//! The job's client credentials, read from AWS Secrets Manager and kept in memory across warm
//! invocations: the cache's rules are in `cache.rs`, the read and its failures in
//! `secrets_manager.rs`.

mod cache;
mod secrets_manager;

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::retry::{Classify, Verdict};
use cache::TtlCache;
use secrets_manager::SecretReader;

pub use secrets_manager::SECRETS_MANAGER_MAX_ATTEMPTS;

/// OAuth 2.0 client credentials (RFC 6749 §2.3.1). `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct ClientCredentials {
    /// The application's client id.
    pub client_id: String,
    /// The application's client secret; absent with `private_key_jwt`, where a KMS key signs
    /// instead.
    pub client_secret: Option<String>,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// The secret could not be had or is not `{"client_id": "...", "client_secret": "..."}`
/// (`{"client_id": "..."}` with `private_key_jwt`).
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Secrets Manager failed (permissions, missing secret, throttling, network).
    #[error("reading secret {secret_id} from Secrets Manager failed: {reason}")]
    Read {
        /// The secret's id or ARN.
        secret_id: String,
        /// The SDK's message (never contains the value).
        reason: String,
        /// Whether a later read may succeed (throttling, 5xx, timeouts, the network): then a
        /// cached value is served instead. Not for a deleted or denied secret.
        transient: bool,
    },
    /// The value is not the expected JSON; the value itself is never shown.
    #[error("secret {secret_id} is not a JSON object with string fields {fields}")]
    Shape {
        /// The secret's id or ARN.
        secret_id: String,
        /// The fields the client authentication method needs.
        fields: &'static str,
    },
}

impl Classify for CredentialsError {
    /// [`Self::Read`] as Secrets Manager's failure was judged; a wrong shape is permanent.
    fn verdict(&self) -> Verdict {
        match self {
            Self::Read {
                transient: true, ..
            } => Verdict::Transient { retry_after: None },
            _ => Verdict::Permanent,
        }
    }
}

/// Client credentials from one Secrets Manager secret, kept for a TTL.
#[derive(Debug)]
pub struct SecretsManagerCredentials {
    reader: SecretReader,
    cache: TtlCache<ClientCredentials>,
    needs_client_secret: bool,
}

impl SecretsManagerCredentials {
    /// Reads `secret_id` through `sdk_config` (its HTTP client: the functions' one), keeping
    /// the value for `ttl`; one Secrets Manager attempt is bounded by `attempt_timeout`, and
    /// throttling is retried ([`SECRETS_MANAGER_MAX_ATTEMPTS`] attempts in all). Call
    /// [`Self::requiring_client_secret`] after, to set what the secret must hold.
    pub fn new(
        sdk_config: &aws_config::SdkConfig,
        secret_id: &str,
        ttl: Duration,
        attempt_timeout: Duration,
    ) -> Self {
        Self {
            reader: SecretReader::new(sdk_config, secret_id, attempt_timeout),
            cache: TtlCache::new(ttl),
            needs_client_secret: true,
        }
    }

    /// Whether the secret must hold a `client_secret` (`true` unless `private_key_jwt`).
    pub fn requiring_client_secret(mut self, needed: bool) -> Self {
        self.needs_client_secret = needed;
        self
    }

    /// The credentials: the kept ones while younger than the TTL, else read again; when that
    /// read fails transiently (throttling, 5xx, timeout, network) the kept ones are served
    /// and kept for another TTL.
    ///
    /// # Errors
    /// [`CredentialsError`] when the secret cannot be read and nothing is kept, when the read
    /// fails permanently (deleted, scheduled for deletion, access or KMS key denied), or when
    /// the value has the wrong shape.
    pub async fn get(&self) -> Result<ClientCredentials, CredentialsError> {
        self.cache.get(|| self.read()).await
    }

    /// The credentials read now, bypassing the kept ones: after the issuer refused them
    /// (`invalid_client`, a rotated secret). The new value is kept for the TTL.
    ///
    /// # Errors
    /// As [`Self::get`], but a failed read is never answered with the kept (refused) value.
    pub async fn refresh(&self) -> Result<ClientCredentials, CredentialsError> {
        self.cache.refresh(|| self.read()).await
    }

    async fn read(&self) -> Result<ClientCredentials, CredentialsError> {
        let value = self.reader.read().await?;
        parse(
            self.reader.secret_id(),
            value.as_deref(),
            self.needs_client_secret,
        )
    }
}

/// Parses the secret's JSON value; `needs_client_secret` when the method sends one.
///
/// # Errors
/// [`CredentialsError::Shape`] when absent, not JSON, or lacking a non-empty field it needs.
pub fn parse(
    secret_id: &str,
    value: Option<&str>,
    needs_client_secret: bool,
) -> Result<ClientCredentials, CredentialsError> {
    let shape = || CredentialsError::Shape {
        secret_id: secret_id.to_owned(),
        fields: if needs_client_secret {
            "client_id and client_secret"
        } else {
            "client_id"
        },
    };
    let credentials: ClientCredentials =
        serde_json::from_str(value.ok_or_else(shape)?).map_err(|_| shape())?;
    let secret_ok = match credentials.client_secret.as_deref() {
        Some(secret) => !secret.is_empty(),
        None => !needs_client_secret,
    };
    if credentials.client_id.is_empty() || !secret_ok {
        return Err(shape());
    }
    Ok(credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let credentials = parse(
            "s",
            Some(r#"{"client_id": "abc", "client_secret": "xyz"}"#),
            true,
        )
        .unwrap();
        assert_eq!(credentials.client_id, "abc");
        assert_eq!(credentials.client_secret.as_deref(), Some("xyz"));
    }

    #[test]
    fn with_private_key_jwt_the_client_id_alone_is_enough() {
        let credentials = parse("s", Some(r#"{"client_id": "abc"}"#), false).unwrap();
        assert_eq!(credentials.client_id, "abc");
        assert_eq!(credentials.client_secret, None);
        for value in [r#"{"client_secret": "x"}"#, r#"{"client_id": ""}"#] {
            assert_eq!(
                parse("timesheets/job", Some(value), false)
                    .unwrap_err()
                    .to_string(),
                "secret timesheets/job is not a JSON object with string fields client_id"
            );
        }
    }

    #[test]
    fn wrong_shapes_never_echo_the_value() {
        for value in [
            None,
            Some("not json sekrit"),
            Some(r#"{"client_id": "abc"}"#),
            Some(r#"{"client_id": "", "client_secret": "sekrit"}"#),
        ] {
            let message = parse("timesheets/job", value, true)
                .unwrap_err()
                .to_string();
            assert_eq!(
                message,
                "secret timesheets/job is not a JSON object with string fields client_id and client_secret"
            );
        }
    }

    #[test]
    fn debug_redacts_the_secret() {
        let credentials = parse(
            "s",
            Some(r#"{"client_id": "abc", "client_secret": "sekrit"}"#),
            true,
        )
        .unwrap();
        let shown = format!("{credentials:?}");
        assert!(shown.contains("abc"));
        assert!(!shown.contains("sekrit"));
    }
}
