//! The run's access token: got with the client credentials (re-reading a rotated secret once),
//! kept across the run's batches, and replaced once per run after the API refused it.

use crate::retry::Budget;
use crate::token_client::IssuedToken;
use crate::upload_client::UploadError;

use super::error::with_causes;
use super::{JobError, TimesheetsJob};

/// The token a run sends, and whether a refusal of it may still be answered with a new one.
#[derive(Debug)]
pub(super) struct RunToken {
    current: IssuedToken,
    /// One new token per run after a 401: a second 401 means the new token is refused too.
    may_replace: bool,
}

impl RunToken {
    /// A run's token, starting with `first`.
    pub(super) fn new(first: IssuedToken) -> Self {
        Self {
            current: first,
            may_replace: true,
        }
    }

    /// What the next request sends.
    pub(super) fn current(&self) -> &IssuedToken {
        &self.current
    }

    /// Before each batch: the kept token, or a new one when it nears expiry (a run can outlive
    /// a short-lived token).
    pub(super) async fn renew(
        &mut self,
        job: &TimesheetsJob,
        budget: &Budget,
    ) -> Result<(), JobError> {
        self.current = job.access_token(budget).await?;
        Ok(())
    }

    /// After the API refused the token (`refusal`, a 401): forgets the kept one and gets a new
    /// one, once per run. `None` when this run already replaced its token.
    pub(super) async fn replace_refused(
        &mut self,
        refusal: &UploadError,
        job: &TimesheetsJob,
        budget: &Budget,
    ) -> Option<Result<(), JobError>> {
        if !std::mem::replace(&mut self.may_replace, false) {
            return None;
        }
        tracing::warn!(error = %refusal, "the API refused the access token; requesting a new one");
        job.tokens.forget().await;
        Some(self.renew(job, budget).await)
    }
}

impl TimesheetsJob {
    /// An access token. A refusal of the credentials (`invalid_client`, or Auth0's `401
    /// access_denied`) re-reads the secret once, bypassing the cache, and asks again if it
    /// changed (the secret was rotated since it was cached).
    pub(super) async fn access_token(&self, budget: &Budget) -> Result<IssuedToken, JobError> {
        budget
            .within(self.access_token_unbounded(budget))
            .await
            .map_err(|out_of_time| JobError::Token(out_of_time.into()))?
    }

    /// [`Self::access_token`] without the deadline on the secret read and discovery.
    async fn access_token_unbounded(&self, budget: &Budget) -> Result<IssuedToken, JobError> {
        let credentials = self.credentials.get(false).await?;
        let error = match self.tokens.access_token(&credentials, budget).await {
            Ok(token) => return Ok(token),
            Err(error) => error,
        };
        let error = if error.refuses_credentials() {
            let fresh = self.credentials.get(true).await?;
            if fresh == credentials {
                error
            } else {
                tracing::warn!(client_id = %fresh.client_id, "the issuer refused the cached secret; retrying with the re-read one");
                match self.tokens.access_token(&fresh, budget).await {
                    Ok(token) => return Ok(token),
                    Err(error) => error,
                }
            }
        } else {
            error
        };
        tracing::error!(error = with_causes(&error), client_id = %credentials.client_id, "token request refused");
        Err(error.into())
    }
}
