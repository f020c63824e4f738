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

/// Builds the token verifier for `config`, fetching discovery and the JWKS through `http`
/// (the function's one client, [`timesheets::http_client::build`] with
/// `AUTH_JWKS_TIMEOUT_SECONDS`); keys are fetched by [`TokenVerifier::prefetch_keys`] during
/// init, or else on the first token.
pub fn verifier(config: &ApiConfig, http: reqwest::Client) -> TokenVerifier {
    let endpoint = IssuerEndpoint::new(
        &config.verifier.issuer,
        EndpointKind::Jwks,
        config.jwks_uri.clone(),
    );
    let jwks = JwksCache::new(http, endpoint, config.jwks);
    TokenVerifier::new(config.verifier.clone(), jwks).with_profile(config.profile)
}
