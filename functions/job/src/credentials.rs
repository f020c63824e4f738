//! The job's client credentials, read from AWS Secrets Manager and kept in memory with a TTL
//! by the official caching client (`aws_secretsmanager_caching`).

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_secretsmanager_caching::SecretsManagerCachingClient;
use serde::Deserialize;

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

/// Most attempts of one Secrets Manager call (the SDK's standard retry mode, which retries
/// throttling (`ThrottlingException`), 5xx, timeouts and connection errors with exponential
/// backoff and jitter).
pub const SECRETS_MANAGER_MAX_ATTEMPTS: u32 = 4;
/// Upper bound of one wait between Secrets Manager attempts.
const SECRETS_MANAGER_MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Bound on one Secrets Manager call, its retries included.
const SECRETS_MANAGER_OPERATION_TIMEOUT: Duration = Duration::from_secs(15);

/// The retry and timeout settings of the job's Secrets Manager client; `attempt_timeout` bounds
/// one attempt (`HTTP_TIMEOUT_SECONDS`).
fn client_config(
    sdk_config: &aws_config::SdkConfig,
    attempt_timeout: Duration,
) -> aws_sdk_secretsmanager::config::Builder {
    aws_sdk_secretsmanager::config::Builder::from(sdk_config)
        // Explicit rather than inherited from the shared SDK config: the throttling retries
        // must not depend on AWS_MAX_ATTEMPTS / AWS_RETRY_MODE or the SDK's defaults.
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(SECRETS_MANAGER_MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(SECRETS_MANAGER_MAX_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(attempt_timeout)
                .operation_timeout(SECRETS_MANAGER_OPERATION_TIMEOUT.max(attempt_timeout))
                .build(),
        )
}

/// Client credentials from one Secrets Manager secret.
#[derive(Debug)]
pub struct SecretsManagerCredentials {
    cache: SecretsManagerCachingClient,
    secret_id: String,
    needs_client_secret: bool,
}

impl SecretsManagerCredentials {
    /// Reads `secret_id` through `sdk_config`, keeping the value for `ttl`; one Secrets Manager
    /// attempt is bounded by `attempt_timeout`, and throttling is retried
    /// ([`SECRETS_MANAGER_MAX_ATTEMPTS`] attempts in all). Call
    /// [`Self::requiring_client_secret`] after, to set what the secret must hold.
    ///
    /// # Errors
    /// When the caching client cannot be built.
    pub async fn new(
        sdk_config: &aws_config::SdkConfig,
        secret_id: &str,
        ttl: Duration,
        attempt_timeout: Duration,
    ) -> Result<Self, CredentialsError> {
        let builder = client_config(sdk_config, attempt_timeout);
        let cache = SecretsManagerCachingClient::from_builder(
            builder,
            NonZeroUsize::MIN,
            ttl,
            // Serve the cached secret when a refresh fails transiently: a Secrets Manager
            // blip must not stop a job whose credentials are still good.
            true,
        )
        .await
        .map_err(|error| CredentialsError::Read {
            secret_id: secret_id.to_owned(),
            reason: error.to_string(),
        })?;
        Ok(Self {
            cache,
            secret_id: secret_id.to_owned(),
            needs_client_secret: true,
        })
    }

    /// Whether the secret must hold a `client_secret` (`true` unless `private_key_jwt`).
    pub fn requiring_client_secret(mut self, needed: bool) -> Self {
        self.needs_client_secret = needed;
        self
    }

    /// The credentials; `refresh` bypasses the cache (after the issuer refused them, e.g. a rotation).
    ///
    /// # Errors
    /// [`CredentialsError`] when the secret cannot be read or has the wrong shape.
    pub async fn get(&self, refresh: bool) -> Result<ClientCredentials, CredentialsError> {
        let secret_string = self
            .cache
            .get_secret_value(&self.secret_id, None, None, refresh)
            .await
            .map(|output| output.secret_string)
            .map_err(|error| error.to_string());
        let secret_string = secret_string.map_err(|reason| CredentialsError::Read {
            secret_id: self.secret_id.clone(),
            reason,
        })?;
        parse(
            &self.secret_id,
            secret_string.as_deref(),
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
    fn throttling_retries_are_configured_explicitly() {
        let sdk_config = aws_config::SdkConfig::builder()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        let config = client_config(&sdk_config, Duration::from_secs(3)).build();
        let retry = config.retry_config().expect("a retry config");
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
        assert_eq!(retry.max_attempts(), SECRETS_MANAGER_MAX_ATTEMPTS);
        assert_eq!(retry.max_backoff(), SECRETS_MANAGER_MAX_BACKOFF);
        let timeouts = config.timeout_config().expect("a timeout config");
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            timeouts.operation_timeout(),
            Some(SECRETS_MANAGER_OPERATION_TIMEOUT)
        );
    }

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
