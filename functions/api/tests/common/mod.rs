//! The API handler wired to an in-memory store and a local JWKS server, with a signing key
//! generated per test.

#![allow(dead_code)] // each test file uses its own subset

pub mod dynamodb;

use std::collections::HashMap;
use std::time::Duration;

use jwt_access_token::{DpopPolicy, JwksPolicy, TokenVerifier};
use lambda_http::{Body, Request};
use serde_json::Value;
#[allow(unused_imports)] // each test file uses its own subset
pub use testkit::issuer::{
    AUDIENCE, DISCOVERED_JWKS_PATH, DISCOVERY_PATH, ISSUER, claims_with, valid_claims,
};
#[allow(unused_imports)] // each test file uses its own subset
pub use testkit::request::upload;
use testkit::{JwksServer, LocalIssuer, TestKey};
use timesheets_api::store::TimesheetStore;
use timesheets_api::store::memory::MemoryStore;
use timesheets_api::{ApiConfig, UploadApi};

pub const SAMPLE: &str = timesheets::entry::SAMPLE_ENTRY;
/// Bound on each exchange with the local issuer: `AUTH_JWKS_TIMEOUT_SECONDS`, shortened.
pub const JWKS_TIMEOUT: Duration = Duration::from_millis(500);

/// What a client sees of a response.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub challenge: Option<String>,
    pub retry_after: Option<String>,
    pub allow: Option<String>,
    pub body: Value,
}

pub struct Harness {
    /// The handler, with an in-memory store.
    pub api: UploadApi<MemoryStore>,
    /// The issuer's signing key, published as `key-1`.
    pub key: TestKey,
    /// The issuer's JWKS (and, with [`Setup::discovery`], discovery) endpoint.
    pub server: JwksServer,
    /// The `iss` the API expects: [`ISSUER`], or the server's URL with [`Setup::discovery`].
    pub issuer: String,
}

/// How a harness differs from the default one.
#[derive(Default)]
pub struct Setup {
    /// `AUTH_JWKS_TTL_SECONDS` and `AUTH_JWKS_COOLDOWN_SECONDS`.
    pub jwks: JwksPolicy,
    /// No `AUTH_JWKS_URI`: the issuer is the server, which serves a discovery document at
    /// [`DISCOVERY_PATH`] naming [`DISCOVERED_JWKS_PATH`].
    pub discovery: bool,
    /// `AUTH_DPOP` and `AUTH_DPOP_HTU`.
    pub dpop: DpopPolicy,
}

impl Harness {
    /// Keys served by the local JWKS server; default policy except a short JWKS timeout.
    pub async fn start() -> Self {
        Self::with_policy(JwksPolicy::default()).await
    }

    /// The default harness with these JWKS cache timings.
    pub async fn with_policy(policy: JwksPolicy) -> Self {
        Self::with(Setup {
            jwks: policy,
            ..Setup::default()
        })
        .await
    }

    /// A harness set up as `setup` says, its verifier built from the API's configuration as
    /// the function builds it.
    pub async fn with(setup: Setup) -> Self {
        let LocalIssuer {
            key,
            server,
            issuer,
            jwks_uri,
        } = LocalIssuer::start(Vec::new(), setup.discovery).await;
        let verifier = api_verifier(&issuer, jwks_uri, setup);
        Self {
            api: UploadApi::new(verifier, MemoryStore::default()),
            key,
            server,
            issuer,
        }
    }

    /// A valid token for this harness's issuer, signed by its key.
    pub fn token(&self) -> String {
        self.key.mint(&claims_with(
            serde_json::json!({ "iss": self.issuer.clone() }),
        ))
    }

    /// Sends `request` and reads the answer.
    pub async fn call(&self, request: Request) -> Answer {
        call(&self.api, request).await
    }

    /// POSTs the sample entry with `Authorization: Bearer <token>`.
    pub async fn upload_with(&self, token: &str) -> Answer {
        self.call(upload(Some(&format!("Bearer {token}")), SAMPLE))
            .await
    }

    pub fn stored(&self) -> usize {
        self.api.store().rows().len()
    }
}

/// Sends `request` to `api` and reads the answer.
pub async fn call<S: TimesheetStore>(api: &UploadApi<S>, request: Request) -> Answer {
    let response = api.handle(request).await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("expected a JSON text body, got {other:?}"),
    };
    Answer {
        status: response.status().as_u16(),
        challenge: header("www-authenticate"),
        retry_after: header("retry-after"),
        allow: header("allow"),
        body,
    }
}

/// The verifier the function builds for [`ISSUER`] (RS256, [`AUDIENCE`]), whose keys `server`
/// serves as its JWKS.
pub fn issuer_verifier(server: &JwksServer) -> TokenVerifier {
    api_verifier(ISSUER, Some(server.jwks_url()), Setup::default())
}

/// The verifier `timesheets_api::verifier` builds from the configuration of one issuer,
/// `AUDIENCE` and `setup`'s JWKS and DPoP policies.
fn api_verifier(issuer: &str, jwks_uri: Option<String>, setup: Setup) -> TokenVerifier {
    let mut source = HashMap::from([
        ("AUTH_ISSUER", issuer.to_owned()),
        ("AUTH_AUDIENCE", AUDIENCE.to_owned()),
        ("TIMESHEETS_TABLE", "Timesheets".to_owned()),
    ]);
    if let Some(uri) = jwks_uri {
        source.insert("AUTH_JWKS_URI", uri);
    }
    let source: HashMap<&str, &str> = source.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut config = ApiConfig::from_source(&source).unwrap();
    config.jwks = JwksPolicy {
        timeout: Some(JWKS_TIMEOUT),
        ..setup.jwks
    };
    config.dpop = setup.dpop;
    // The function's one client, which bounds connecting only: each exchange with the issuer
    // is bounded by the policy's timeout, as AUTH_JWKS_TIMEOUT_SECONDS bounds it.
    let http = timesheets::http_client::build_bounded_by_caller().unwrap();
    timesheets_api::verifier(&config, http)
}
