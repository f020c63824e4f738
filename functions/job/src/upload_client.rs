//! Calls to the Timesheets API: `POST {API_URL}/timesheets/upload` with the access token (bearer,
//! or DPoP-bound with a proof per request), a JSON array of entries and an `Idempotency-Key`.

use std::time::{Duration, SystemTime};

use timesheets::http_client::{self, FetchError};
use timesheets::{
    CreatedBatch, CreatedTimesheet, ErrorBody, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER,
    TimesheetEntry,
};
use url::Url;

use crate::dpop::{ProofError, challenge};
use crate::retry::{self, Classify, OutOfTime, Verdict};
use crate::token_client::IssuedToken;

/// Largest API answer read, in bytes (100 created timesheets are about 6 KiB).
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Why an upload did not end in `201`.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The API could not be reached or its answer not read (timeouts, dropped connections).
    #[error("API unreachable: {0}")]
    Transport(#[from] FetchError),
    /// The API answered with an error status.
    #[error("API answered HTTP {status}{}", body.as_ref().map(|b| format!(" {}: {}", b.error, b.error_description.as_deref().unwrap_or(""))).unwrap_or_default())]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The API's error body, when it sent one.
        body: Option<ErrorBody>,
        /// The answer's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The DPoP proof could not be signed.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A 2xx answer without one created timesheet per entry sent.
    #[error("API answered HTTP {0} without a created timesheet for each entry")]
    BadAnswer(u16),
    /// No attempt could start before the invocation's deadline.
    #[error(transparent)]
    OutOfTime(#[from] OutOfTime),
}

impl UploadError {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl Classify for UploadError {
    fn verdict(&self) -> Verdict {
        match self {
            Self::Transport(error) => retry::transport_verdict(error),
            Self::Rejected {
                status,
                retry_after,
                ..
            } => retry::status_verdict(*status, *retry_after),
            Self::BadAnswer(_) | Self::Proof(_) | Self::OutOfTime(_) => Verdict::Permanent,
        }
    }
}

/// A stored batch, as the API answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// One created timesheet per entry, in request order.
    pub timesheets: Vec<CreatedTimesheet>,
    /// The API replayed the answer of an earlier request with the same idempotency key
    /// (`Idempotent-Replayed: true`): nothing new was stored.
    pub replayed: bool,
}

/// Uploads entries to one deployment of the API.
#[derive(Debug)]
pub struct UploadClient {
    http: reqwest::Client,
    upload_url: Url,
}

impl UploadClient {
    /// A client for the API at `api_url` (a base URL, possibly with a stage path).
    pub fn new(http: reqwest::Client, api_url: &Url) -> Self {
        let upload_url = format!(
            "{}/timesheets/upload",
            api_url.as_str().trim_end_matches('/')
        );
        Self {
            http,
            upload_url: Url::parse(&upload_url).expect("a URL with a path appended is a URL"),
        }
    }

    /// Uploads `entries` (1 to [`timesheets::MAX_BATCH_ENTRIES`]) as one JSON array, stored
    /// all-or-nothing by the API, in one attempt bounded by `timeout`. With a DPoP-bound `token`
    /// every request has a new proof, and a `401` asking for the nonce the API has just given
    /// (RFC 9449 §9) is answered at once by one more request within the same attempt.
    ///
    /// # Errors
    /// [`UploadError`] unless the API answers 2xx with one created timesheet per entry.
    pub async fn upload_batch(
        &self,
        token: &IssuedToken,
        entries: &[TimesheetEntry],
        idempotency_key: &str,
        timeout: Duration,
    ) -> Result<Uploaded, UploadError> {
        challenge::retry_once_for_nonce(token.dpop().is_some(), timeout, |timeout| async move {
            let response = match self.send(token, entries, idempotency_key, timeout).await {
                Ok(response) => response,
                Err(error) => return (Err(error), false),
            };
            let new_nonce = token
                .dpop()
                .is_some_and(|signer| signer.remember_nonce(&self.upload_url, response.headers()));
            let status = response.status().as_u16();
            let asked_for_nonce =
                new_nonce && challenge::resource_asks_for_nonce(status, response.headers());
            (Self::answer(response, entries.len()).await, asked_for_nonce)
        })
        .await
    }

    /// Sends one request: the token, with a new DPoP proof when it is DPoP-bound.
    async fn send(
        &self,
        token: &IssuedToken,
        entries: &[TimesheetEntry],
        idempotency_key: &str,
        timeout: Duration,
    ) -> Result<reqwest::Response, UploadError> {
        let request = self.http.post(self.upload_url.clone());
        Ok(token
            .authorize(request, "POST", &self.upload_url)?
            .header(IDEMPOTENCY_KEY_HEADER, idempotency_key)
            .json(entries)
            .timeout(timeout)
            .send()
            .await
            .map_err(FetchError::from)?)
    }

    /// The stored batch of a 2xx answer with `sent` created timesheets, or the refusal.
    async fn answer(response: reqwest::Response, sent: usize) -> Result<Uploaded, UploadError> {
        let status = response.status().as_u16();
        let retry_after = retry::retry_after(response.headers(), SystemTime::now());
        let replayed = response
            .headers()
            .get(IDEMPOTENT_REPLAYED_HEADER)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"));
        let body = http_client::read_limited(response, MAX_ANSWER_BYTES).await?;
        if !(200..300).contains(&status) {
            return Err(UploadError::Rejected {
                status,
                body: serde_json::from_slice(&body).ok(),
                retry_after,
            });
        }
        let batch: CreatedBatch =
            serde_json::from_slice(&body).map_err(|_| UploadError::BadAnswer(status))?;
        if batch.timesheets.len() != sent {
            return Err(UploadError::BadAnswer(status));
        }
        Ok(Uploaded {
            timesheets: batch.timesheets,
            replayed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::{Budget, Deadline, RetryPolicy};
    use serde_json::json;
    use timesheets::CreatedTimesheet;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn rejected(status: u16, error: &str) -> UploadError {
        UploadError::Rejected {
            status,
            body: Some(ErrorBody {
                error: error.to_owned(),
                error_description: None,
            }),
            retry_after: Some(Duration::from_secs(2)),
        }
    }

    #[test]
    fn only_transient_answers_are_retried() {
        assert_eq!(
            rejected(503, "service_unavailable").verdict(),
            Verdict::Transient {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        for (status, error) in [
            (400, "invalid_body"),
            (401, "invalid_token"),
            (403, "insufficient_scope"),
            // Not an answer of today's API (docs/http-api.md): no longer waited out.
            (409, "idempotency_key_in_use"),
            (413, "payload_too_large"),
            (415, "unsupported_media_type"),
            (422, "idempotency_key_reused"),
        ] {
            assert_eq!(rejected(status, error).verdict(), Verdict::Permanent);
        }
        assert_eq!(UploadError::BadAnswer(201).verdict(), Verdict::Permanent);
        assert_eq!(
            UploadError::Transport(FetchError::TooLarge(1)).verdict(),
            Verdict::Permanent
        );
    }

    #[tokio::test]
    async fn refused_connections_are_transient() {
        // A port nobody listens on: bind one, then close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api = Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let client = UploadClient::new(reqwest::Client::new(), &api);
        let error = client
            .upload_batch(
                &IssuedToken::new("t".to_owned()),
                &[TimesheetEntry::sample()],
                "key",
                Duration::from_secs(2),
            )
            .await
            .unwrap_err();
        assert_eq!(error.verdict(), Verdict::Transient { retry_after: None });
    }

    #[test]
    fn the_upload_url_keeps_a_stage_path() {
        let client = UploadClient::new(
            reqwest::Client::new(),
            &Url::parse("http://127.0.0.1:9000/lambda-url/timesheets-api/").unwrap(),
        );
        assert_eq!(
            client.upload_url.as_str(),
            "http://127.0.0.1:9000/lambda-url/timesheets-api/timesheets/upload"
        );
    }

    /// The API's answer when DynamoDB throttles (`functions/api/src/response.rs`), waiting 1 s.
    fn throttled() -> ResponseTemplate {
        ResponseTemplate::new(503)
            .insert_header("retry-after", "1")
            .set_body_json(json!({
                "error": "temporarily_unavailable",
                "error_description": "the timesheet store is unavailable; retry later"
            }))
    }

    /// The API's `503` for a throttled DynamoDB is retried with the same `Idempotency-Key`.
    #[tokio::test]
    async fn a_throttled_upload_is_retried_with_its_key_until_stored() {
        let api = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/timesheets/upload"))
            .respond_with(throttled())
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&api)
            .await;
        Mock::given(method("POST"))
            .and(path("/timesheets/upload"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(CreatedBatch::new(vec![CreatedTimesheet::new(14, "007")])),
            )
            .mount(&api)
            .await;
        let budget = Budget {
            policy: RetryPolicy {
                first_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(1),
                max_attempts: 5,
                ..RetryPolicy::default()
            },
            deadline: Deadline::after(Duration::from_secs(30)),
            attempt_timeout: Duration::from_secs(5),
        };
        let client = UploadClient::new(reqwest::Client::new(), &Url::parse(&api.uri()).unwrap());
        let token = IssuedToken::new("at-1".to_owned());
        let entries = [TimesheetEntry::sample()];
        let attempted = budget
            .call("upload", |timeout| {
                client.upload_batch(&token, &entries, "run-1-batch-0", timeout)
            })
            .await;

        let uploaded = attempted
            .result
            .expect("stored after the throttled answers");
        assert_eq!(uploaded.timesheets, vec![CreatedTimesheet::new(14, "007")]);
        assert_eq!(attempted.attempts, 3);
        let sent = api.received_requests().await.unwrap();
        let keys: Vec<_> = sent
            .iter()
            .map(|request| request.headers.get("idempotency-key").unwrap().clone())
            .collect();
        assert_eq!(keys, vec!["run-1-batch-0"; 3]);
    }
}
