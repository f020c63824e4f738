//! One run of the scheduled job: credentials → access token → upload the entries in batches of
//! at most [`MAX_BATCH_ENTRIES`], each with an idempotency key derived from the run.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;
use timesheets::discovery::{EndpointKind, IssuerEndpoint};
use timesheets::telemetry::metric;
use timesheets::{CreatedBatch, CreatedTimesheet, MAX_BATCH_ENTRIES, TimesheetEntry};

use crate::api_client::{UploadClient, UploadError, Uploaded};
use crate::batch::{self, BatchReport};
use crate::config::JobConfig;
use crate::credentials::{CredentialsError, SecretsManagerCredentials};
use crate::input::{self, InputError};
use crate::retry::{Budget, Deadline, RetryPolicy};
use crate::token_client::{AccessToken, TokenClient, TokenRequestError};

/// Time assumed left when the runtime's deadline is missing or already past, which Lambda never
/// sends but local emulators do (`cargo lambda watch` sends 600000 ms after the epoch): the
/// template's timeout.
const DEADLINE_WHEN_UNSET: Duration = Duration::from_secs(60);
/// Batch errors quoted in a failed invocation's message; the rest are in the log.
const ERRORS_QUOTED: usize = 3;

/// What Lambda tells one invocation.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Lambda's request id, the same on Lambda's asynchronous retries of one event: names the
    /// run when the event has no `id`.
    pub request_id: String,
    /// When the invocation must have answered; retries stop before it.
    pub deadline: Deadline,
}

impl RunContext {
    /// A run named `request_id` with `remaining` time (tests, local runs).
    pub fn new(request_id: impl Into<String>, remaining: Duration) -> Self {
        Self {
            request_id: request_id.into(),
            deadline: Deadline::after(remaining),
        }
    }

    /// The invocation's request id and deadline; a deadline already past when the invocation
    /// starts is not a real one (local emulators send such), and 60 s from now is used instead.
    pub fn from_lambda(context: &lambda_runtime::Context) -> Self {
        let deadline = if context.deadline() > SystemTime::now() {
            Deadline::at(context.deadline())
        } else {
            tracing::warn!(
                deadline_epoch_ms = context.deadline,
                "the runtime's deadline is already past: assuming {}s",
                DEADLINE_WHEN_UNSET.as_secs()
            );
            Deadline::after(DEADLINE_WHEN_UNSET)
        };
        Self {
            request_id: context.request_id.clone(),
            deadline,
        }
    }
}

/// What a run did; the invocation's result:
/// `{"uploaded": 250, "timesheets": [{"id", "message"}, ...], "run_id": "...", "batches": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    /// Timesheets of this run now in the table (those of replayed batches included).
    pub uploaded: usize,
    /// The API's answer for each, in input order.
    pub timesheets: Vec<CreatedTimesheet>,
    /// The run's id: the event's `id`, else the invocation's request id.
    pub run_id: String,
    /// One report per batch, in order.
    pub batches: Vec<BatchReport>,
}

impl JobReport {
    /// How many batches failed.
    pub fn failed(&self) -> usize {
        self.batches
            .iter()
            .filter(|batch| batch.error.is_some())
            .count()
    }
}

/// Why a run failed. Any of these fails the invocation so Lambda/EventBridge retry it; the
/// retry derives the same idempotency keys, so batches already stored are not stored again.
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
    /// Some batches failed after every batch was tried; the others are stored.
    #[error("{}", describe_failure(.0))]
    Upload(Box<JobReport>),
}

fn describe_failure(report: &JobReport) -> String {
    let mut text = format!(
        "{} of {} batches of run {} failed ({} timesheets stored)",
        report.failed(),
        report.batches.len(),
        report.run_id,
        report.uploaded
    );
    let failed = report.batches.iter().filter_map(|batch| {
        let error = batch.error.as_ref()?;
        Some((batch.index, error))
    });
    for (index, error) in failed.take(ERRORS_QUOTED) {
        let _ = write!(text, "; batch {index}: {error}");
    }
    text
}

impl JobError {
    /// A stable name for the failure kind, shown as Lambda's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Input(_) => "InvalidInput",
            Self::Credentials(_) => "CredentialsUnavailable",
            Self::Token(_) => "TokenRequestFailed",
            Self::Upload(_) => "UploadFailed",
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
    retry: RetryPolicy,
    http_timeout: Duration,
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
                config.http_timeout,
            )
            .await?,
            tokens: TokenClient::new(http.clone(), endpoint, config.audience.clone()),
            api: UploadClient::new(http, &config.api_url),
            retry: config.retry,
            http_timeout: config.http_timeout,
        })
    }

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
        let mut token = Box::pin(self.access_token(&budget)).await?;
        // One refresh per run: a second 401 means the new token is refused too.
        let mut may_refresh = true;
        let mut batches = Vec::new();
        let mut timesheets = Vec::with_capacity(input.entries.len());
        for (index, entries) in input.entries.chunks(MAX_BATCH_ENTRIES).enumerate() {
            let key = batch::idempotency_key(&run_id, index);
            let (attempts, outcome) =
                Box::pin(self.send_batch(&mut token, &mut may_refresh, entries, &key, &budget))
                    .await;
            let (report, created) = report_batch(index, key, entries.len(), attempts, outcome);
            batches.push(report);
            timesheets.extend(created);
        }
        let report = JobReport {
            uploaded: timesheets.len(),
            timesheets,
            run_id,
            batches,
        };
        if report.failed() > 0 {
            return Err(JobError::Upload(Box::new(report)));
        }
        Ok(report)
    }

    /// Sends one batch with retries; a 401 gets one new token per run. Returns the attempts
    /// made and the outcome (the error as text, never with a token or secret).
    async fn send_batch(
        &self,
        token: &mut AccessToken,
        may_refresh: &mut bool,
        entries: &[TimesheetEntry],
        key: &str,
        budget: &Budget,
    ) -> (u32, Result<Uploaded, String>) {
        // The kept token, or a new one when it nears expiry: a run can outlive a short-lived one.
        match self.access_token(budget).await {
            Ok(current) => *token = current,
            Err(error) => return (0, Err(with_causes(&error))),
        }
        let mut attempts = 0;
        loop {
            let current = &*token;
            let attempted = budget
                .call("upload", |timeout| {
                    self.api.upload_batch(current, entries, key, timeout)
                })
                .await;
            attempts += attempted.attempts;
            match attempted.result {
                Ok(uploaded) => return (attempts, Ok(uploaded)),
                Err(error) if error.status() == Some(401) && *may_refresh => {
                    *may_refresh = false;
                    tracing::warn!(%error, "the API refused the access token; requesting a new one");
                    self.tokens.forget().await;
                    match self.access_token(budget).await {
                        Ok(fresh) => *token = fresh,
                        Err(error) => return (attempts, Err(with_causes(&error))),
                    }
                }
                Err(error) => {
                    let why = match (&error, attempted.gave_up) {
                        (UploadError::OutOfTime(_), _) | (_, None) => with_causes(&error),
                        (_, Some(gave_up)) => {
                            format!("{} (gave up: {gave_up})", with_causes(&error))
                        }
                    };
                    return (attempts, Err(why));
                }
            }
        }
    }

    /// An access token. A refusal of the credentials (`invalid_client`, or Auth0's `401
    /// access_denied`) re-reads the secret once, bypassing the cache, and asks again if it
    /// changed (the secret was rotated since it was cached).
    async fn access_token(&self, budget: &Budget) -> Result<AccessToken, JobError> {
        budget
            .within(self.access_token_unbounded(budget))
            .await
            .map_err(|out_of_time| JobError::Token(out_of_time.into()))?
    }

    /// [`Self::access_token`] without the deadline on the secret read and discovery.
    async fn access_token_unbounded(&self, budget: &Budget) -> Result<AccessToken, JobError> {
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

/// `error` followed by its sources not already in the text, so a transport failure says why
/// ("operation timed out", "connection closed before message completed"). Sources are
/// transport and parse errors, which never hold a header, a token or a secret.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            let _ = write!(text, ": {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// The batch's report, logged as one line, and its created timesheets.
fn report_batch(
    index: usize,
    idempotency_key: String,
    entries: usize,
    attempts: u32,
    outcome: Result<Uploaded, String>,
) -> (BatchReport, Vec<CreatedTimesheet>) {
    let (replayed, ids, timesheets, error) = match outcome {
        Ok(uploaded) => {
            let ids: Vec<u64> = uploaded.timesheets.iter().map(|t| t.id).collect();
            // The API's own sentence, e.g. "Created timesheet 14 for employee 007.".
            let answer = match uploaded.timesheets.as_slice() {
                [one] => one.message.clone(),
                many => CreatedBatch::new(many.to_vec()).message,
            };
            tracing::info!(
                batch = index,
                %idempotency_key,
                entries,
                attempts,
                replayed = uploaded.replayed,
                ids = ?ids,
                "batch stored: {answer}"
            );
            metrics::counter!(metric::BATCHES_SUCCEEDED).increment(1);
            (uploaded.replayed, ids, uploaded.timesheets, None)
        }
        Err(error) => {
            tracing::error!(batch = index, %idempotency_key, entries, attempts, %error, "batch failed");
            metrics::counter!(metric::BATCHES_FAILED).increment(1);
            (false, Vec::new(), Vec::new(), Some(error))
        }
    };
    let report = BatchReport {
        index,
        idempotency_key,
        entries,
        attempts,
        replayed,
        ids,
        error,
    };
    (report, timesheets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(index: usize, ids: Vec<u64>, error: Option<&str>) -> BatchReport {
        BatchReport {
            index,
            idempotency_key: batch::idempotency_key("run", index),
            entries: 100,
            attempts: 1,
            replayed: false,
            ids,
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn a_failed_run_names_the_failed_batches() {
        let report = JobReport {
            uploaded: 100,
            timesheets: Vec::new(),
            run_id: "2017-05-10T17:00:00Z".to_owned(),
            batches: vec![
                batch(0, vec![1; 100], None),
                batch(
                    1,
                    Vec::new(),
                    Some("API answered HTTP 400 invalid_body: `hours` ..."),
                ),
                batch(
                    2,
                    Vec::new(),
                    Some("API answered HTTP 503 (gave up: attempts used up)"),
                ),
            ],
        };
        let error = JobError::Upload(Box::new(report));
        assert_eq!(error.kind(), "UploadFailed");
        assert_eq!(
            error.to_string(),
            "2 of 3 batches of run 2017-05-10T17:00:00Z failed (100 timesheets stored); \
             batch 1: API answered HTTP 400 invalid_body: `hours` ...; \
             batch 2: API answered HTTP 503 (gave up: attempts used up)"
        );
    }

    #[tokio::test]
    async fn transport_errors_name_their_cause() {
        // A server that accepts and closes at once: the request gets no answer.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        let error = reqwest::get(url).await.unwrap_err();
        let error = UploadError::Transport(timesheets::http_client::FetchError::from(error));
        let text = with_causes(&error);
        assert!(text.starts_with("API unreachable: request failed: error sending request for url"));
        assert!(text.len() > error.to_string().len(), "{text}");
    }

    #[test]
    fn the_result_keeps_uploaded_and_timesheets() {
        let report = JobReport {
            uploaded: 1,
            timesheets: vec![CreatedTimesheet::new(14, "007")],
            run_id: "r".to_owned(),
            batches: vec![batch(0, vec![14], None)],
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["uploaded"], 1);
        assert_eq!(
            json["timesheets"][0]["message"],
            "Created timesheet 14 for employee 007."
        );
        assert_eq!(json["batches"][0]["ids"], serde_json::json!([14]));
        assert_eq!(json["batches"][0].get("error"), None);
    }

    fn time_left(deadline_ms: u64) -> Duration {
        let mut context = lambda_runtime::Context::default();
        context.request_id = "req-1".to_owned();
        context.deadline = deadline_ms;
        let run = RunContext::from_lambda(&context);
        assert_eq!(run.request_id, "req-1");
        run.deadline.remaining(tokio::time::Instant::now())
    }

    #[test]
    fn the_lambda_deadline_bounds_the_run() {
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let left = time_left(now_ms + 30_000);
        assert!(left > Duration::from_secs(29) && left <= Duration::from_secs(30));
    }

    #[test]
    fn a_missing_or_past_deadline_gets_the_default() {
        // 0: no header; 600000: what `cargo lambda watch` sends.
        for deadline_ms in [0, 600_000] {
            let left = time_left(deadline_ms);
            assert!(left > Duration::from_secs(59) && left <= DEADLINE_WHEN_UNSET);
        }
    }
}
