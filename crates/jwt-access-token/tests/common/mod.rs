//! A route protected by the verifier's public face, as any `lambda_http` API would write it
//! (authorize, then the scope `batch:upload`, else the refusal's answer), wired to a local JWKS
//! server with a signing key generated per test.

#![allow(dead_code)] // each test file uses its own subset

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jsonwebtoken::Algorithm;
use jwt_access_token::discovery::{EndpointKind, IssuerEndpoint};
use jwt_access_token::{
    DpopPolicy, JwksCache, JwksPolicy, TokenProfile, TokenVerifier, VerifierPolicy,
};
use lambda_http::Request;
use serde_json::{Value, json};
#[allow(unused_imports)] // each test file uses its own subset
pub use testkit::issuer::{
    AUDIENCE, DISCOVERED_JWKS_PATH, DISCOVERY_PATH, ISSUER, claims_with, valid_claims,
};
#[allow(unused_imports)] // each test file uses its own subset
pub use testkit::request::upload;
use testkit::{JwksServer, LocalIssuer, TestKey};

/// The route's body; the route does not read it.
pub const SAMPLE: &str = r#"{"user_id": "007", "hours": 8}"#;
/// The scope the route requires.
pub const SCOPE: &str = "batch:upload";
/// The realm of its challenges.
pub const REALM: &str = "timesheets";

/// What a client sees of a response.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub challenge: Option<String>,
    pub body: Value,
}

pub struct Harness {
    /// The route's verifier.
    pub verifier: TokenVerifier,
    /// Requests the route served.
    served: AtomicUsize,
    /// The issuer's signing key, published as `key-1`.
    pub key: TestKey,
    /// The issuer's JWKS (and, with [`Setup::discovery`], discovery) endpoint.
    pub server: JwksServer,
    /// The `iss` the API expects: [`ISSUER`], or the server's URL with [`Setup::discovery`].
    pub issuer: String,
}

/// How a harness differs from the default one.
pub struct Setup {
    /// JWKS cache timings.
    pub jwks: JwksPolicy,
    /// `AUTH_ALGORITHMS`.
    pub algorithms: Vec<Algorithm>,
    /// Published in the JWKS after the harness key.
    pub extra_keys: Vec<Value>,
    /// No configured JWKS URL: the issuer is the server, which serves a discovery document
    /// at [`DISCOVERY_PATH`] naming [`DISCOVERED_JWKS_PATH`].
    pub discovery: bool,
    /// `AUTH_DPOP` and `AUTH_DPOP_HTU`.
    pub dpop: DpopPolicy,
    /// `AUTH_REQUIRE_AT_JWT`.
    pub profile: TokenProfile,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            jwks: JwksPolicy::default(),
            algorithms: vec![Algorithm::RS256],
            extra_keys: Vec::new(),
            discovery: false,
            dpop: DpopPolicy::default(),
            profile: TokenProfile::default(),
        }
    }
}

impl Harness {
    /// The default route: RS256, the default JWKS policy, bearer tokens only.
    pub async fn start() -> Self {
        Self::with(Setup::default()).await
    }

    /// A harness set up as `setup` says.
    pub async fn with(setup: Setup) -> Self {
        let local = LocalIssuer::start(setup.extra_keys, setup.discovery).await;
        let client = http_client(Duration::from_millis(500));
        let configured = local.jwks_uri.as_deref().map(|uri| uri.parse().unwrap());
        let endpoint = IssuerEndpoint::new(&local.issuer, EndpointKind::Jwks, configured);
        let verifier = verifier(
            setup.algorithms,
            JwksCache::new(client, endpoint, setup.jwks),
        )
        .with_profile(setup.profile)
        .with_dpop(setup.dpop);
        Self {
            verifier,
            served: AtomicUsize::new(0),
            key: local.key,
            server: local.server,
            issuer: local.issuer,
        }
    }

    /// A valid token for this harness's issuer, signed by its key.
    pub fn token(&self) -> String {
        self.key
            .mint(&claims_with(json!({ "iss": self.issuer.clone() })))
    }

    /// Sends `request` to the route and reads the answer.
    pub async fn call(&self, request: Request) -> Answer {
        let answer = call(&self.verifier, request).await;
        if answer.status == 201 {
            self.served.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// POSTs the sample entry with `Authorization: Bearer <token>`.
    pub async fn upload_with(&self, token: &str) -> Answer {
        self.call(upload(Some(&format!("Bearer {token}")), SAMPLE))
            .await
    }

    /// Requests the route served (`201`).
    pub fn served(&self) -> usize {
        self.served.load(Ordering::Relaxed)
    }
}

/// The route: `201` naming the client for a token that passes and grants [`SCOPE`], else the refusal's status,
/// `{"error", "error_description"}` and challenge in [`REALM`].
pub async fn call(verifier: &TokenVerifier, request: Request) -> Answer {
    let granted = match verifier.authorize(&request).await {
        Ok(token) => token.require_scope(SCOPE).map(|()| token),
        Err(refused) => Err(refused),
    };
    match granted {
        Ok(token) => Answer {
            status: 201,
            challenge: None,
            body: json!({"client": token.client()}),
        },
        Err(refused) => Answer {
            status: refused.status().as_u16(),
            challenge: refused.challenge(REALM),
            body: json!({"error": refused.code(), "error_description": refused.description()}),
        },
    }
}

/// The route's verifier: the issuer of `jwks`, [`AUDIENCE`], `algorithms`, 5 s leeway.
pub fn verifier(algorithms: Vec<Algorithm>, jwks: JwksCache) -> TokenVerifier {
    TokenVerifier::new(
        VerifierPolicy {
            audiences: vec![AUDIENCE.to_owned()],
            algorithms,
            leeway_seconds: 5,
        },
        jwks,
    )
}

/// A client as the functions build theirs: no redirects, a whole-exchange `timeout`.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
