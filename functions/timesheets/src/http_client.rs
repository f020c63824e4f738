//! The one outbound HTTP client setup both functions use, and bounded reads of answers.

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

/// Bound on setting up a connection (TCP and TLS) in every client of [`build`] and
/// [`build_for_sdk`]: a reachable endpoint connects in well under a second.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A client with `timeout` for a whole exchange (connection, request and answer), no
/// redirects (a token or a client secret must never follow a redirect elsewhere), HTTP/1.1 and
/// the TLS of [`crate::tls`]. Built once per sandbox: the API's for the issuers' discovery and
/// keys (`AUTH_JWKS_TIMEOUT_SECONDS`); the job's for the issuer, the API and its AWS SDK
/// clients (`HTTP_TIMEOUT_SECONDS`, [`crate::sdk_http`]).
///
/// # Errors
/// When reqwest refuses the TLS configuration (a rustls version other than reqwest's).
pub fn build(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(CONNECT_TIMEOUT))
        .build()
}

/// A client as [`build`]'s with no whole-exchange timeout, for AWS SDK clients that bound
/// their calls themselves (`TimeoutConfig`'s attempt and operation timeouts, e.g. the API's
/// DynamoDB client): only connecting is bounded, by [`CONNECT_TIMEOUT`].
///
/// # Errors
/// As [`build`].
pub fn build_for_sdk() -> Result<reqwest::Client, reqwest::Error> {
    builder().connect_timeout(CONNECT_TIMEOUT).build()
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::tls::client_config())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("timesheets/", env!("CARGO_PKG_VERSION")))
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

/// GETs `url` and parses its 2xx answer of at most `max_bytes` as `T`.
///
/// # Errors
/// Any [`FetchError`].
pub async fn get_json<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &url::Url,
    max_bytes: usize,
) -> Result<T, FetchError> {
    let response = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    let body = read_limited(response, max_bytes).await?;
    Ok(serde_json::from_slice(&body)?)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    type Fetched = Result<Result<serde_json::Value, FetchError>, tokio::time::error::Elapsed>;

    /// What `client` makes of a GET to a server that accepts and never answers, given up after
    /// `wait`; and how long it took.
    async fn fetch_from_silent_server(
        client: &reqwest::Client,
        wait: Duration,
    ) -> (Fetched, Duration) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let held = tokio::spawn(async move { listener.accept().await });
        let started = Instant::now();
        let fetched = tokio::time::timeout(wait, get_json(client, &url, 1024)).await;
        held.abort();
        (fetched, started.elapsed())
    }

    #[tokio::test]
    async fn the_timeout_bounds_a_whole_exchange() {
        let client = build(Duration::from_millis(300)).unwrap();
        let (fetched, elapsed) = fetch_from_silent_server(&client, Duration::from_secs(5)).await;
        assert!(
            matches!(&fetched, Ok(Err(FetchError::Transport(error))) if error.is_timeout()),
            "{fetched:?}"
        );
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }

    #[tokio::test]
    async fn the_sdk_client_leaves_the_exchange_to_its_caller() {
        let client = build_for_sdk().unwrap();
        // Past CONNECT_TIMEOUT, the only bound of this client, which a connected exchange is past.
        let wait = CONNECT_TIMEOUT + Duration::from_millis(500);
        let (fetched, _) = fetch_from_silent_server(&client, wait).await;
        assert!(fetched.is_err(), "{fetched:?}");
    }
}
