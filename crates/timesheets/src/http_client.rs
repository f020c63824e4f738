//! The one outbound HTTP client setup both functions use; bounded reads of answers are
//! [`jwt_access_token::http_client`]'s.

use std::time::Duration;

pub use jwt_access_token::http_client::{FetchError, get_json, read_limited};

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
