//! Why a run failed, as Lambda shows it (`errorType`, `errorMessage`), and the text of one
//! batch's failure.

use std::fmt::Write as _;

use crate::credentials::CredentialsError;
use crate::input::InputError;
use crate::retry::GaveUp;
use crate::token_client::TokenRequestError;
use crate::upload_client::UploadError;

use super::JobReport;

/// Batch errors quoted in a failed invocation's message; the rest are in the log.
const ERRORS_QUOTED: usize = 3;

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

/// A batch's failed upload as text: the error with its causes, and why retries stopped when a
/// transient failure was the last (no such note when no attempt could start in time).
pub(super) fn upload_failure(error: &UploadError, gave_up: Option<GaveUp>) -> String {
    match (error, gave_up) {
        (UploadError::OutOfTime(_), _) | (_, None) => with_causes(error),
        (_, Some(gave_up)) => format!("{} (gave up: {gave_up})", with_causes(error)),
    }
}

/// `error` followed by its sources not already in the text, so a transport failure says why
/// ("operation timed out", "connection closed before message completed"). Sources are
/// transport and parse errors, which never hold a header, a token or a secret.
pub(super) fn with_causes(error: &dyn std::error::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::report::BatchOutcome;
    use crate::upload_client::Uploaded;
    use timesheets::{CreatedTimesheet, TimesheetEntry};

    /// A run of full batches, each stored or failed with the given error.
    fn run_of(run_id: &str, errors: &[Option<&str>]) -> JobReport {
        let entries = vec![TimesheetEntry::sample(); timesheets::MAX_BATCH_ENTRIES * errors.len()];
        let mut report = JobReport::new(run_id.to_owned());
        for (batch, error) in crate::batch::batches(run_id, &entries).zip(errors) {
            let result = match error {
                None => Ok(Uploaded {
                    timesheets: (1..=timesheets::MAX_BATCH_ENTRIES as u64)
                        .map(|id| CreatedTimesheet::new(id, "007"))
                        .collect(),
                    replayed: false,
                }),
                Some(error) => Err((*error).to_owned()),
            };
            report.record(
                &batch,
                BatchOutcome {
                    attempts: 1,
                    result,
                },
            );
        }
        report
    }

    #[test]
    fn a_failed_run_names_the_failed_batches() {
        let report = run_of(
            "2017-05-10T17:00:00Z",
            &[
                None,
                Some("API answered HTTP 400 invalid_body: `hours` ..."),
                Some("API answered HTTP 503 (gave up: attempts used up)"),
            ],
        );
        let error = JobError::Upload(Box::new(report));
        assert_eq!(error.kind(), "UploadFailed");
        assert_eq!(
            error.to_string(),
            "2 of 3 batches of run 2017-05-10T17:00:00Z failed (98 timesheets stored); \
             batch 1: API answered HTTP 400 invalid_body: `hours` ...; \
             batch 2: API answered HTTP 503 (gave up: attempts used up)"
        );
        let diagnostic = lambda_runtime::Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "UploadFailed");
        assert!(diagnostic.error_message.starts_with("2 of 3 batches"));
    }

    #[test]
    fn at_most_three_batch_errors_are_quoted() {
        let errors = [Some("a"), Some("b"), None, Some("c"), Some("d")];
        let message = JobError::Upload(Box::new(run_of("r", &errors))).to_string();
        assert_eq!(
            message,
            "4 of 5 batches of run r failed (98 timesheets stored); \
             batch 0: a; batch 1: b; batch 3: c"
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
        assert_eq!(
            upload_failure(&error, Some(GaveUp::Attempts)),
            format!("{text} (gave up: attempts used up)")
        );
    }

    #[test]
    fn running_out_of_time_needs_no_gave_up_note() {
        let error = UploadError::OutOfTime(crate::retry::OutOfTime);
        assert_eq!(
            upload_failure(&error, Some(GaveUp::Deadline)),
            "not attempted: the invocation's deadline is too near"
        );
        let refused = UploadError::BadAnswer(201);
        assert_eq!(
            upload_failure(&refused, None),
            "API answered HTTP 201 without a created timesheet for each entry"
        );
    }
}
