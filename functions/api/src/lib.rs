//! The API function of ExampleCo Timesheets: `POST /timesheets/upload` behind an OAuth 2.0
//! bearer access token with scope `batch:upload` (Auth0 "server application + API" scenario).

pub mod app;
pub mod auth;
pub mod body;
pub mod config;
pub mod error;
pub mod event;
pub mod idempotency;
pub mod response;
pub mod store;

use auth::jwks::JwksCache;
use auth::verifier::TokenVerifier;
use timesheets::discovery::{EndpointKind, IssuerEndpoint};

pub use app::UploadApi;
pub use config::ApiConfig;

/// Builds the token verifier for `config`; keys are fetched by
/// [`TokenVerifier::prefetch_keys`] during init, or else on the first token.
///
/// # Errors
/// When the HTTP client cannot be built.
pub fn verifier(config: &ApiConfig) -> Result<TokenVerifier, reqwest::Error> {
    let client = timesheets::http_client::build(config.jwks_timeout)?;
    let endpoint = IssuerEndpoint::new(
        &config.verifier.issuer,
        EndpointKind::Jwks,
        config.jwks_uri.clone(),
    );
    let jwks = JwksCache::new(client, endpoint, config.jwks);
    Ok(TokenVerifier::new(config.verifier.clone(), jwks))
}
