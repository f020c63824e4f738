//! The one outbound HTTP client setup both functions use; bounded reads of answers are
//! [`jwt_access_token::http_client`]'s.

use std::time::Duration;

pub use jwt_access_token::http_client::{FetchError, get_json, read_limited};

/// A client with `timeout` for a whole exchange, no redirects (a token or a client secret
/// must never follow a redirect elsewhere), HTTP/1.1 and the TLS of [`crate::tls`]. Built once
/// per sandbox and shared by the function's own calls and its AWS SDK clients
/// ([`crate::sdk_http`]).
///
/// # Errors
/// When reqwest refuses the TLS configuration (a rustls version other than reqwest's).
pub fn build(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::tls::client_config())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("timesheets/", env!("CARGO_PKG_VERSION")))
        .build()
}
