//! The run's access token: got with the client credentials (after a refusal of the client, the
//! secret re-read and, when it changed, waited on: `rotation.rs`), kept across the run's
//! batches, and replaced once per run after the API refused it.

use crate::credentials::ClientCredentials;
use crate::retry::Budget;
use crate::token_client::{IssuedToken, TokenRequestError};
use crate::upload_client::UploadError;

use super::error::with_causes;
use super::{JobError, TimesheetsJob, rotation};

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
    /// access_denied`) re-reads the secret, bypassing the cache: when it changed (a rotation),
    /// the new value is tried with backoff until the issuer accepts it or the deadline nears;
    /// when it did not, the run fails at once (a wrong secret is not a rotation).
    pub(super) async fn access_token(&self, budget: &Budget) -> Result<IssuedToken, JobError> {
        budget
            .within(self.access_token_unbounded(budget))
            .await
            .map_err(|out_of_time| JobError::Token(out_of_time.into()))?
    }

    /// [`Self::access_token`] without the deadline on the secret read and discovery.
    async fn access_token_unbounded(&self, budget: &Budget) -> Result<IssuedToken, JobError> {
        let credentials = self.credentials.get().await?;
        let error = match self.tokens.access_token(&credentials, budget).await {
            Ok(token) => return Ok(token),
            Err(error) if error.refuses_credentials() => error,
            Err(error) => return Err(refused(error, &credentials)),
        };
        let fresh = match self.credentials.refresh().await {
            Ok(fresh) => fresh,
            Err(read_error) => {
                log_refusal(&error, &credentials);
                return Err(read_error.into());
            }
        };
        if fresh == credentials {
            tracing::warn!(
                client_id = %credentials.client_id,
                "Secrets Manager holds the refused client secret: not a rotation, not asked again"
            );
            return Err(refused(error, &credentials));
        }
        tracing::warn!(
            client_id = %fresh.client_id,
            "the issuer refused the cached client secret and Secrets Manager holds a new one: \
             asking with it until the issuer accepts it"
        );
        Box::pin(rotation::token_after_rotation(&self.tokens, &fresh, budget))
            .await
            .map_err(|error| refused(error, &fresh))
    }
}

/// Logs a failed token request (its error and the client id, never the secret) and makes it
/// the run's error.
fn refused(error: TokenRequestError, credentials: &ClientCredentials) -> JobError {
    log_refusal(&error, credentials);
    error.into()
}

fn log_refusal(error: &TokenRequestError, credentials: &ClientCredentials) {
    tracing::error!(error = with_causes(error), client_id = %credentials.client_id, "token request refused");
}
