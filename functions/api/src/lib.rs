//! The API function of ExampleCo Timesheets: `POST /timesheets/upload` behind an OAuth 2.0
//! bearer access token with scope `batch:upload` (Auth0 "server application + API" scenario).

pub mod app;
pub mod body;
pub mod config;
pub mod error;
pub mod event;
pub mod idempotency;
pub mod invocations;
pub mod response;
pub mod store;

use jwt_access_token::JwksCache;
use jwt_access_token::TokenVerifier;
use jwt_access_token::discovery::{EndpointKind, IssuerEndpoint};

pub use app::UploadApi;
pub use config::{ApiConfig, IssuerConfig};

/// The scope an access token must grant to upload (`scope`, `scp` or Auth0's `permissions`).
pub const UPLOAD_SCOPE: &str = "batch:upload";

/// Builds the token verifier for `config`: one JWKS cache per issuer of `AUTH_ISSUER`, each
/// fetching discovery and the JWKS through `http` (the function's one client,
/// [`timesheets::http_client::build_bounded_by_caller`], which bounds connecting only), each
/// exchange within `config.jwks.timeout` (`AUTH_JWKS_TIMEOUT_SECONDS`): a policy without one
/// needs a client with a whole-exchange timeout. Keys are fetched by
/// [`TokenVerifier::prefetch_keys`] during init, or else on each issuer's first token.
///
/// # Panics
/// When `config.issuers` is empty, which [`ApiConfig::from_source`] never gives.
pub fn verifier(config: &ApiConfig, http: reqwest::Client) -> TokenVerifier {
    let jwks = |issuer: &IssuerConfig| {
        let endpoint =
            IssuerEndpoint::new(&issuer.issuer, EndpointKind::Jwks, issuer.jwks_uri.clone());
        JwksCache::new(http.clone(), endpoint, config.jwks)
    };
    let (first, others) = config
        .issuers
        .split_first()
        .expect("AUTH_ISSUER names at least one issuer");
    others
        .iter()
        .fold(
            TokenVerifier::new(config.verifier.clone(), jwks(first)),
            |verifier, issuer| verifier.with_issuer(jwks(issuer)),
        )
        .with_profile(config.profile)
        .with_dpop(config.dpop.clone())
}
