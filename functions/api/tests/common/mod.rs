//! The API handler wired to an in-memory store and a local JWKS server, with a signing key
//! generated per test.

#![allow(dead_code)] // each test file uses its own subset

pub mod dynamodb;

use std::time::Duration;

use jsonwebtoken::Algorithm;
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use testkit::keys::now;
use testkit::{JwksServer, Reply, TestKey};
use timesheets::discovery::{EndpointKind, IssuerEndpoint};
use timesheets_api::UploadApi;
use timesheets_api::auth::dpop::DpopPolicy;
use timesheets_api::auth::jwks::{JwksCache, JwksPolicy};
use timesheets_api::auth::profile::TokenProfile;
use timesheets_api::auth::verifier::{TokenVerifier, VerifierPolicy};
use timesheets_api::store::TimesheetStore;
use timesheets_api::store::memory::MemoryStore;

pub const ISSUER: &str = "https://tenant.example.auth0.com/";
pub const AUDIENCE: &str = "https://api.exampleco.com/timesheets";
pub const SAMPLE: &str = timesheets::entry::SAMPLE_ENTRY;

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

/// Path of the OpenID Connect discovery document under the issuer (Discovery 1.0 §4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the JWKS the discovery document names.
pub const DISCOVERED_JWKS_PATH: &str = "/keys";

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

    /// A harness set up as `setup` says.
    pub async fn with(setup: Setup) -> Self {
        let key = TestKey::generate("key-1");
        let mut keys = vec![key.jwk()];
        keys.extend(setup.extra_keys);
        let server = JwksServer::start(Reply::Json(json!({ "keys": keys }).to_string())).await;
        let client = timesheets::http_client::build(Duration::from_millis(500)).unwrap();
        let (issuer, configured) = if setup.discovery {
            let issuer = server.base_url();
            let document = json!({
                "issuer": issuer,
                "jwks_uri": format!("{issuer}{}", &DISCOVERED_JWKS_PATH[1..]),
                "token_endpoint": format!("{issuer}oauth/token"),
            });
            server.route(DISCOVERY_PATH, Reply::Json(document.to_string()));
            (issuer, None)
        } else {
            (ISSUER.to_owned(), Some(server.jwks_url().parse().unwrap()))
        };
        let endpoint = IssuerEndpoint::new(&issuer, EndpointKind::Jwks, configured);
        let verifier = verifier(
            setup.algorithms,
            JwksCache::new(client, endpoint, setup.jwks),
        )
        .with_profile(setup.profile);
        Self {
            api: UploadApi::new(verifier, MemoryStore::default()).with_dpop(setup.dpop),
            key,
            server,
            issuer,
        }
    }

    /// A valid token for this harness's issuer, signed by its key.
    pub fn token(&self) -> String {
        self.key
            .mint(&claims_with(json!({ "iss": self.issuer.clone() })))
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

/// The default verifier of [`ISSUER`] (RS256), whose keys `server` serves as its JWKS.
pub fn issuer_verifier(server: &JwksServer) -> TokenVerifier {
    let client = timesheets::http_client::build(Duration::from_millis(500)).unwrap();
    let jwks_url = Some(server.jwks_url().parse().unwrap());
    let endpoint = IssuerEndpoint::new(ISSUER, EndpointKind::Jwks, jwks_url);
    let jwks = JwksCache::new(client, endpoint, JwksPolicy::default());
    verifier(vec![Algorithm::RS256], jwks)
}

/// The verifier of the API: the issuer of `jwks`, [`AUDIENCE`], `algorithms`, 5 s leeway.
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

/// Claims of a valid access token, as Auth0 issues them for the client-credentials grant.
pub fn valid_claims() -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "sub": "job-client@clients",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "azp": "job-client",
        "scope": "batch:upload",
        "gty": "client-credentials"
    })
}

/// `valid_claims()` with `changes` merged in (a `null` removes the claim).
pub fn claims_with(changes: Value) -> Value {
    let mut claims = valid_claims();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// `POST /timesheets/upload` with JSON `body` and an optional `Authorization` value.
pub fn upload(authorization: Option<&str>, body: &str) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("/timesheets/upload")
        .header("content-type", "application/json");
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    builder.body(Body::Text(body.to_owned())).unwrap()
}
