//! Calls to the Timesheets API: `POST {API_URL}/timesheets/upload` with the bearer token.

use timesheets::http_client::{self, FetchError};
use timesheets::{CreatedTimesheet, ErrorBody, TimesheetEntry};
use url::Url;

use crate::token_client::AccessToken;

/// Largest API answer read, in bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why an upload did not end in `201`.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The API could not be reached or its answer not read.
    #[error("API unreachable: {0}")]
    Transport(#[from] FetchError),
    /// The API answered with an error status.
    #[error("API answered HTTP {status}{}", body.as_ref().map(|b| format!(" {}: {}", b.error, b.error_description.as_deref().unwrap_or(""))).unwrap_or_default())]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The API's error body, when it sent one.
        body: Option<ErrorBody>,
    },
    /// A 2xx answer without the `{"message", "id"}` body.
    #[error("API answered HTTP {0} without a timesheet in the body")]
    BadAnswer(u16),
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

    /// Uploads one entry.
    ///
    /// # Errors
    /// [`UploadError`] unless the API answers 2xx with a created timesheet.
    pub async fn upload(
        &self,
        token: &AccessToken,
        entry: &TimesheetEntry,
    ) -> Result<CreatedTimesheet, UploadError> {
        let response = self
            .http
            .post(self.upload_url.clone())
            .bearer_auth(token.secret())
            .json(entry)
            .send()
            .await
            .map_err(FetchError::from)?;
        let status = response.status().as_u16();
        let body = http_client::read_limited(response, MAX_ANSWER_BYTES).await?;
        if !(200..300).contains(&status) {
            return Err(UploadError::Rejected {
                status,
                body: serde_json::from_slice(&body).ok(),
            });
        }
        serde_json::from_slice(&body).map_err(|_| UploadError::BadAnswer(status))
    }
}
