//! Bounded reads of an issuer's documents (discovery, JWKS) over the caller's HTTP client: no
//! answer is buffered past the size the caller allows.

use std::time::Duration;

use serde::de::DeserializeOwned;

/// Why an outbound GET of JSON failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection, TLS or timeout failure.
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered with a non-2xx status.
    #[error("answered HTTP {0}")]
    Status(u16),
    /// The answer is larger than the caller allows.
    #[error("answer is larger than {0} bytes")]
    TooLarge(usize),
    /// The answer is not the JSON document expected.
    #[error("answer is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Reads at most `max_bytes` of `response`'s body, failing past that instead of buffering it.
///
/// # Errors
/// [`FetchError::TooLarge`] past the limit; [`FetchError::Transport`] when the body breaks off.
pub async fn read_limited(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|length| length > max_bytes as u64)
    {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// GETs `url` and parses its 2xx answer of at most `max_bytes` as `T`; with `timeout`, the
/// whole exchange (connection, request, answer) ends by then, whatever the client's own bound.
///
/// # Errors
/// Any [`FetchError`]; a timeout is [`FetchError::Transport`].
pub async fn get_json<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &url::Url,
    max_bytes: usize,
    timeout: Option<Duration>,
) -> Result<T, FetchError> {
    let mut request = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(timeout) = timeout {
        request = request.timeout(timeout);
    }
    let response = request.send().await?;
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    let body = read_limited(response, max_bytes).await?;
    Ok(serde_json::from_slice(&body)?)
}
