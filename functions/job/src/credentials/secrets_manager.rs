//! One read of the secret from AWS Secrets Manager (`GetSecretValue`), through the functions'
//! shared HTTP client, and whether a failed read is worth serving a cached value over.

use std::time::Duration;

use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::CredentialsError;

/// Most attempts of one Secrets Manager call (the SDK's standard retry mode, which retries
/// throttling (`ThrottlingException`), 5xx, timeouts and connection errors with exponential
/// backoff and jitter).
pub const SECRETS_MANAGER_MAX_ATTEMPTS: u32 = 4;
/// Upper bound of one wait between Secrets Manager attempts.
const SECRETS_MANAGER_MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Bound on one Secrets Manager call, its retries included.
const SECRETS_MANAGER_OPERATION_TIMEOUT: Duration = Duration::from_secs(15);

/// The retry and timeout settings of the job's Secrets Manager client; `attempt_timeout` bounds
/// one attempt (`HTTP_TIMEOUT_SECONDS`). The HTTP client is `sdk_config`'s, the functions' one
/// reqwest client (`timesheets::sdk_http`).
pub(super) fn client_config(
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

/// Reads one secret's current value (`AWSCURRENT`).
#[derive(Debug)]
pub(super) struct SecretReader {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretReader {
    /// A reader of `secret_id` (name or ARN) with [`client_config`].
    pub(super) fn new(
        sdk_config: &aws_config::SdkConfig,
        secret_id: &str,
        attempt_timeout: Duration,
    ) -> Self {
        let config = client_config(sdk_config, attempt_timeout).build();
        Self {
            client: aws_sdk_secretsmanager::Client::from_conf(config),
            secret_id: secret_id.to_owned(),
        }
    }

    /// The secret's id or ARN.
    pub(super) fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// `SecretString` of the current version (`None` for a binary secret), after the SDK's
    /// retries.
    ///
    /// # Errors
    /// [`CredentialsError::Read`], `transient` as [`is_transient`] judges the failure.
    pub(super) async fn read(&self) -> Result<Option<String>, CredentialsError> {
        match self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
        {
            Ok(output) => Ok(output.secret_string),
            Err(error) => Err(CredentialsError::Read {
                secret_id: self.secret_id.clone(),
                // The SDK's error and its causes: codes, messages and transport errors, which
                // never hold the secret's value.
                reason: DisplayErrorContext(&error).to_string(),
                transient: is_transient(&error),
            }),
        }
    }
}

/// Whether a failed read may succeed later, so a cached value may stand in for it.
///
/// Transient, as AWS's own caching client (`aws_secretsmanager_caching`, `is_transient_error`)
/// judges it: timeouts, connection failures, unreadable answers and 5xx
/// (`InternalServiceError`); and throttling (`ThrottlingException` or 429, AWS "Common
/// Errors"), which that client leaves out but which is the most likely failure of a read.
/// Everything else is permanent: the secret is deleted or scheduled for deletion
/// (`ResourceNotFoundException`, `InvalidRequestException`), access to it or to its KMS key is
/// denied (`AccessDeniedException`, `DecryptionFailure`), the request is malformed. Those are
/// an operator's decisions, and serving the old value would override them.
pub(super) fn is_transient<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_timeout() || failure.is_io(),
        SdkError::ServiceError(service) => {
            let status = service.raw().status();
            status.is_server_error()
                || status.as_u16() == 429
                || service.err().code() == Some("ThrottlingException")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::error::ErrorMetadata;
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
    use aws_sdk_secretsmanager::types::error::{InternalServiceError, ResourceNotFoundException};
    use aws_smithy_types::body::SdkBody;

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

    fn answered(status: u16, error: GetSecretValueError) -> SdkError<GetSecretValueError> {
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(error, raw)
    }

    fn generic(code: &str) -> GetSecretValueError {
        GetSecretValueError::generic(ErrorMetadata::builder().code(code).build())
    }

    #[test]
    fn outages_and_throttling_are_transient() {
        let internal = GetSecretValueError::InternalServiceError(
            InternalServiceError::builder().message("boom").build(),
        );
        assert!(is_transient(&answered(500, internal)));
        assert!(is_transient(&answered(400, generic("ThrottlingException"))));
        assert!(is_transient(&answered(429, generic("TooManyRequests"))));
        assert!(is_transient(
            &SdkError::<GetSecretValueError>::timeout_error("operation timed out")
        ));
    }

    #[test]
    fn deleted_or_denied_secrets_are_permanent() {
        let missing = GetSecretValueError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("Secrets Manager can't find the specified secret.")
                .build(),
        );
        assert!(!is_transient(&answered(400, missing)));
        for code in [
            "AccessDeniedException",
            "DecryptionFailure",
            "InvalidRequestException",
        ] {
            assert!(!is_transient(&answered(400, generic(code))), "{code}");
        }
    }
}
