//! One run: the input read, a first access token, then every batch sent with retries until
//! the invocation's deadline.

use serde_json::Value;

use crate::batch::{self, Batch};
use crate::input;
use crate::retry::Budget;

use super::error::{upload_failure, with_causes};
use super::report::BatchOutcome;
use super::token::RunToken;
use super::{JobError, JobReport, RunContext, TimesheetsJob};

impl TimesheetsJob {
    /// Runs once for `event` (the schedule's Input, or a Scheduled Event): every batch is
    /// tried, each with retries (see [`crate::retry`]) until the context's deadline.
    ///
    /// # Errors
    /// [`JobError::Upload`] when any batch failed, after trying the others; the input,
    /// credential and token errors before any upload.
    pub async fn run(&self, event: &Value, context: RunContext) -> Result<JobReport, JobError> {
        let input = input::parse(event)?;
        let run_id = input.run_id.unwrap_or(context.request_id);
        let budget = Budget {
            policy: self.retry,
            deadline: context.deadline,
            attempt_timeout: self.http_timeout,
        };
        // Boxed: the nested retry, HTTP and SDK futures are otherwise too deep for the
        // compiler's layout query in the binary's handler.
        let first = Box::pin(self.access_token(&budget)).await?;
        let mut run = Run {
            job: self,
            budget,
            token: RunToken::new(first),
        };
        let mut report = JobReport::new(run_id.clone());
        for batch in batch::batches(&run_id, &input.entries) {
            let outcome = Box::pin(run.send(&batch)).await;
            report.record(&batch, outcome);
        }
        if report.failed() > 0 {
            return Err(JobError::Upload(Box::new(report)));
        }
        Ok(report)
    }
}

/// A run in progress: what its batches share.
struct Run<'a> {
    job: &'a TimesheetsJob,
    budget: Budget,
    token: RunToken,
}

impl Run<'_> {
    /// Sends `batch` with retries; a 401 gets one new token per run. The outcome's error is
    /// text, never with a token or secret.
    async fn send(&mut self, batch: &Batch<'_>) -> BatchOutcome {
        if let Err(error) = self.token.renew(self.job, &self.budget).await {
            return BatchOutcome {
                attempts: 0,
                result: Err(with_causes(&error)),
            };
        }
        let mut attempts = 0;
        loop {
            let token = self.token.current();
            let attempted = self
                .budget
                .call("upload", |timeout| {
                    let api = &self.job.api;
                    api.upload_batch(token, batch.entries, &batch.idempotency_key, timeout)
                })
                .await;
            attempts += attempted.attempts;
            let error = match attempted.result {
                Ok(uploaded) => {
                    return BatchOutcome {
                        attempts,
                        result: Ok(uploaded),
                    };
                }
                Err(error) => error,
            };
            let replaced = if error.status() == Some(401) {
                let (job, budget) = (self.job, &self.budget);
                self.token.replace_refused(&error, job, budget).await
            } else {
                None
            };
            let failure = match replaced {
                Some(Ok(())) => continue,
                Some(Err(error)) => with_causes(&error),
                None => upload_failure(&error, attempted.gave_up),
            };
            return BatchOutcome {
                attempts,
                result: Err(failure),
            };
        }
    }
}
