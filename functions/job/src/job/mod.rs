//! The scheduled job: credentials → access token → upload the entries in batches of at most
//! [`timesheets::MAX_BATCH_ENTRIES`], each with an idempotency key derived from the run.
//!
//! [`TimesheetsJob`] is built once per sandbox; each invocation is one run (`run.rs`) with its
//! [`RunContext`] (`context.rs`) and its access token (`token.rs`, a rotated secret waited
//! out in `rotation.rs`), ending in a [`JobReport`] (`report.rs`) or a [`JobError`]
//! (`error.rs`).

mod context;
mod error;
mod report;
mod rotation;
mod run;
mod token;

use std::sync::Arc;
use std::time::Duration;

use timesheets::discovery::{EndpointKind, IssuerEndpoint};

use crate::client_assertion::AssertionSigner;
use crate::config::JobConfig;
use crate::credentials::SecretsManagerCredentials;
use crate::dpop::{DpopClientMode, DpopSigner};
use crate::retry::RetryPolicy;
use crate::token_client::TokenClient;
use crate::upload_client::UploadClient;

pub use context::RunContext;
pub use error::JobError;
pub use report::{BatchReport, JobReport};

/// The job's shared state: built once per sandbox, borrowed by each invocation.
#[derive(Debug)]
pub struct TimesheetsJob {
    credentials: SecretsManagerCredentials,
    tokens: TokenClient,
    api: UploadClient,
    retry: RetryPolicy,
    http_timeout: Duration,
}

impl TimesheetsJob {
    /// Builds the job from its configuration, the AWS SDK configuration and the HTTP client
    /// for the issuer and the API ([`timesheets::http_client::build`] with
    /// `config.http_timeout`).
    ///
    /// With `AUTH_DPOP=on` the sandbox's DPoP key is generated here, in memory only.
    ///
    /// # Errors
    /// When no DPoP key can be generated.
    pub async fn from_config(
        config: &JobConfig,
        sdk_config: &aws_config::SdkConfig,
        http: reqwest::Client,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let endpoint = IssuerEndpoint::new(
            &config.issuer,
            EndpointKind::Token,
            config.token_url.clone(),
        );
        let mut tokens = TokenClient::new(
            http.clone(),
            endpoint,
            config.token_request.clone(),
            config.client_auth,
        );
        if let Some(assertion) = &config.assertion {
            let kms = aws_sdk_kms::Client::new(sdk_config);
            tokens = tokens.with_signer(AssertionSigner::new(kms, assertion.clone()));
        }
        if config.dpop == DpopClientMode::On {
            let signer = DpopSigner::generate()?;
            // The thumbprint is public: it names the key in the tokens' cnf.jkt.
            tracing::info!(jkt = signer.key().thumbprint(), "DPoP key generated");
            tokens = tokens.with_dpop(Arc::new(signer));
        }
        Ok(Self {
            credentials: SecretsManagerCredentials::new(
                sdk_config,
                &config.secret_id,
                config.secret_ttl,
                config.http_timeout,
            )
            .requiring_client_secret(config.client_auth.needs_client_secret()),
            tokens,
            api: UploadClient::new(http, &config.api_url),
            retry: config.retry,
            http_timeout: config.http_timeout,
        })
    }
}
