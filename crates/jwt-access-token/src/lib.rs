//! OAuth 2.0 access tokens at an AWS Lambda API: JWT access tokens (RFC 9068) verified with
//! the RFC 8725 best current practices against the keys of one or more trusted issuers, and
//! DPoP-bound tokens (RFC 9449) with their proofs.
//!
//! [`TokenVerifier::authorize`] takes a `lambda_http` request and returns the
//! [`VerifiedToken`] of its `Authorization` header, or the [`AuthorizeError`] to answer: its
//! status, its `error` and `error_description`, and its `WWW-Authenticate` challenge
//! (RFC 6750 §3, RFC 9449 §7.1).
//!
//! ```
//! use jwt_access_token::discovery::{EndpointKind, IssuerEndpoint};
//! use jwt_access_token::{
//!     DpopMode, DpopPolicy, JwksCache, JwksPolicy, TokenVerifier, VerifierPolicy,
//! };
//! use lambda_http::http::header::WWW_AUTHENTICATE;
//! use lambda_http::{Body, Request, Response};
//!
//! /// Built once per sandbox: the JWKS and the verified tokens are cached in it.
//! fn verifier(http: reqwest::Client) -> TokenVerifier {
//!     let issuer = IssuerEndpoint::new("https://tenant.auth0.com/", EndpointKind::Jwks, None);
//!     let policy = VerifierPolicy {
//!         audiences: vec!["https://api.example.com/reports".to_owned()],
//!         algorithms: vec![jsonwebtoken::Algorithm::RS256],
//!         leeway_seconds: 5,
//!     };
//!     TokenVerifier::new(policy, JwksCache::new(http, issuer, JwksPolicy::default()))
//! }
//!
//! /// A handler: the token, bearer or DPoP, must grant `reports:read`; a refusal is answered
//! /// with its status, `{"error", "error_description"}` and `WWW-Authenticate` challenge.
//! async fn handle(verifier: &TokenVerifier, request: Request) -> Response<Body> {
//!     let granted = match verifier.authorize(&request).await {
//!         Ok(token) => token.require_scope("reports:read").map(|()| token),
//!         Err(refused) => Err(refused),
//!     };
//!     match granted {
//!         Ok(token) => Response::new(Body::from(format!("reports of {}", token.client()))),
//!         Err(refused) => refused.into_response("reports"),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let verifier = verifier(reqwest::Client::new());
//! // No Authorization header: 401 with a bare Bearer challenge, and no key fetched.
//! let answer = handle(&verifier, Request::new(Body::Empty)).await;
//! assert_eq!(answer.status(), 401);
//! assert_eq!(answer.headers()[WWW_AUTHENTICATE], r#"Bearer realm="reports""#);
//! // With DPoP allowed (RFC 9449 §7.1), the challenge names both schemes.
//! let dpop = DpopPolicy { mode: DpopMode::Allowed, ..DpopPolicy::default() };
//! let verifier = verifier.with_dpop(dpop);
//! let answer = handle(&verifier, Request::new(Body::Empty)).await;
//! assert_eq!(
//!     answer.headers()[WWW_AUTHENTICATE],
//!     r#"Bearer realm="reports", DPoP algs="ES256 PS256 RS256""#
//! );
//! # }
//! ```
//!
//! The types, by role:
//! - [`TokenVerifier`]: built once per sandbox from a [`VerifierPolicy`] and one [`JwksCache`]
//!   per trusted issuer ([`JwksPolicy`], [`discovery::IssuerEndpoint`]), with a
//!   [`TokenProfile`] and a [`DpopPolicy`] ([`DpopMode`]);
//! - [`VerifiedToken`]: the client, the scopes granted, the key a DPoP token is bound to;
//! - [`AuthorizeError`]: a refusal and its answer, naming the rule broken ([`TokenRejection`],
//!   [`ProofRejection`]); [`TokenError`] from [`TokenVerifier::verify`] alone;
//! - [`ProofReplay`]: the store of DPoP proofs seen, shared by every instance
//!   ([`MemoryReplay`] for one);
//! - for tests and tools: [`Clock`] and [`ManualClock`], [`verify_signature`] with a [`KeySet`],
//!   [`DpopPolicy::check_proof`].
//!
//! The checks, in order: the compact JWS and its size, the header (`alg` from the policy only,
//! `kid`, `typ`, no `crit`), the claim profile's `typ`, the claims decoded once, whose `iss`
//! picks the trusted issuer, the key named by `kid` in that issuer's JWKS and the key policy,
//! the signature, then the claims (`exp`, `nbf`, `iat`, `iss`, `aud`, and under
//! [`TokenProfile::AtJwt`] those RFC 9068 §2.2 requires). A token that passed is cached (the
//! verified-token cache) and accepted again without them until its `exp`, while its key is still
//! the issuer's.

// The public face is what this file re-exports; everything else is `pub(crate)`.
#![warn(unreachable_pub)]

mod authorize;
mod bearer;
mod claims;
mod clock;
pub mod discovery;
mod dpop;
mod header;
pub mod http_client;
mod jose;
mod jwks;
mod key_policy;
mod key_set;
mod profile;
mod rejection;
mod rsa_key;
mod scope;
pub mod strict_json;
mod token_cache;
mod trusted_issuer;
mod verified_token;
mod verifier;
mod verifying_key;

pub use authorize::AuthorizeError;
pub use clock::{Clock, ManualClock};
pub use dpop::proof::ProofTarget;
pub use dpop::rejection::ProofRejection;
pub use dpop::replay::{MemoryReplay, ProofRecord, ProofReplay};
pub use dpop::{DpopMode, DpopPolicy, MAX_PROOF_BYTES, PROOF_MAX_AGE_SECONDS};
pub use jwks::{JwksCache, JwksPolicy};
pub use key_set::KeySet;
pub use profile::TokenProfile;
pub use rejection::{TokenError, TokenRejection};
pub use token_cache::{TOKEN_CACHE_MAX_ENTRIES, TOKEN_CACHE_MAX_ENTRY_BYTES};
pub use verified_token::VerifiedToken;
pub use verifier::{MAX_TOKEN_BYTES, TokenVerifier, VerifierPolicy, verify_signature};
