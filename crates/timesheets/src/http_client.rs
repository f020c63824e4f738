//! The one outbound HTTP client setup both functions use; bounded reads of answers are
//! [`jwt_access_token::http_client`]'s.

use std::time::Duration;

pub use jwt_access_token::http_client::{FetchError, get_json, read_limited};

/// Bound on setting up a connection (TCP and TLS) in every client of [`build`] and
/// [`build_bounded_by_caller`]: a reachable endpoint connects in well under a second.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A client with `timeout` for a whole exchange (connection, request and answer), no
/// redirects (a token or a client secret must never follow a redirect elsewhere), HTTP/1.1 and
/// the TLS of [`crate::tls`]. Built once per sandbox: the job's, for the issuer, the API and
/// its AWS SDK clients (`HTTP_TIMEOUT_SECONDS`, [`crate::sdk_http`]).
///
/// # Errors
/// When reqwest refuses the TLS configuration (a rustls version other than reqwest's).
pub fn build(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(CONNECT_TIMEOUT))
        .build()
}

/// A client as [`build`]'s with no whole-exchange timeout, for callers that bound each of
/// their exchanges themselves: only connecting is bounded, by [`CONNECT_TIMEOUT`]. The API's
/// one client: its DynamoDB client bounds each call (`TimeoutConfig`, `DYNAMODB_TIMEOUT_SECONDS`)
/// and its issuers' JWKS and discovery each exchange (`JwksPolicy::timeout`,
/// `AUTH_JWKS_TIMEOUT_SECONDS`), so both share one connection pool and TLS set-up.
///
/// # Errors
/// As [`build`].
pub fn build_bounded_by_caller() -> Result<reqwest::Client, reqwest::Error> {
    builder().connect_timeout(CONNECT_TIMEOUT).build()
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::tls::client_config())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("timesheets/", env!("CARGO_PKG_VERSION")))
}
