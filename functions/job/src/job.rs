//! One run of the scheduled job: credentials → access token → upload each entry.

use serde::Serialize;
use serde_json::Value;
use timesheets::CreatedTimesheet;
use timesheets::discovery::{EndpointKind, IssuerEndpoint};

use crate::api_client::{UploadClient, UploadError};
use crate::config::JobConfig;
use crate::credentials::{CredentialsError, SecretsManagerCredentials};
use crate::input::{self, InputError};
use crate::token_client::{TokenClient, TokenRequestError};

/// What a successful run did; the invocation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    /// How many timesheets were created.
    pub uploaded: usize,
    /// The API's answer for each, in input order.
    pub timesheets: Vec<CreatedTimesheet>,
}

/// Why a run failed. Any of these fails the invocation so Lambda/EventBridge retry it.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The input could not be used.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The client credentials could not be read.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// No access token.
    #[error("getting an access token failed: {0}")]
    Token(#[from] TokenRequestError),
    /// An upload failed after `created` earlier entries had been stored.
    #[error("uploading entry {index} failed after {created} created: {source}")]
    Upload {
        /// Index of the failed entry in the input.
        index: usize,
        /// Entries stored before it.
        created: usize,
        /// The API's refusal or the transport failure.
        source: UploadError,
    },
}

impl JobError {
    /// A stable name for the failure kind, shown as Lambda's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Input(_) => "InvalidInput",
            Self::Credentials(_) => "CredentialsUnavailable",
            Self::Token(_) => "TokenRequestFailed",
            Self::Upload { .. } => "UploadFailed",
        }
    }
}

impl From<JobError> for lambda_runtime::Diagnostic {
    fn from(error: JobError) -> Self {
        Self {
            error_type: error.kind().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The job's shared state: built once per sandbox, borrowed by each invocation.
#[derive(Debug)]
pub struct TimesheetsJob {
    credentials: SecretsManagerCredentials,
    tokens: TokenClient,
    api: UploadClient,
}

impl TimesheetsJob {
    /// Builds the job from its configuration and the AWS SDK configuration.
    ///
    /// # Errors
    /// When the HTTP client or the Secrets Manager caching client cannot be built.
    pub async fn from_config(
        config: &JobConfig,
        sdk_config: &aws_config::SdkConfig,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let http = timesheets::http_client::build(config.http_timeout)?;
        let endpoint = IssuerEndpoint::new(
            &config.issuer,
            EndpointKind::Token,
            config.token_url.clone(),
        );
        Ok(Self {
            credentials: SecretsManagerCredentials::new(
                sdk_config,
                &config.secret_id,
                config.secret_ttl,
            )
            .await?,
            tokens: TokenClient::new(http.clone(), endpoint, config.audience.clone()),
            api: UploadClient::new(http, &config.api_url),
        })
    }

    /// Runs once for `event` (the schedule's Input, or a Scheduled Event).
    ///
    /// # Errors
    /// [`JobError`] for the first failure; entries before it stay stored.
    pub async fn run(&self, event: &Value) -> Result<JobReport, JobError> {
        let entries = input::entries(event)?;
        let credentials = self.credentials.get(false).await?;
        let token = self.tokens.access_token(&credentials).await.inspect_err(|error| {
            tracing::error!(%error, client_id = %credentials.client_id, "token request refused");
        })?;
        let mut timesheets = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let created =
                self.api
                    .upload(&token, entry)
                    .await
                    .map_err(|source| JobError::Upload {
                        index,
                        created: timesheets.len(),
                        source,
                    })?;
            tracing::info!(timesheet_id = created.id, "{}", created.message);
            timesheets.push(created);
        }
        Ok(JobReport {
            uploaded: timesheets.len(),
            timesheets,
        })
    }
}
