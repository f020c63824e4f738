//! The API handler wired to an in-memory store and a local JWKS server, with a signing key
//! generated per test.

#![allow(dead_code)] // each test file uses its own subset

use std::time::Duration;

use jsonwebtoken::Algorithm;
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use testkit::keys::{jwk_set, now};
use testkit::{JwksServer, Reply, TestKey};
use timesheets::discovery::{EndpointKind, IssuerEndpoint};
use timesheets_api::UploadApi;
use timesheets_api::auth::jwks::{JwksCache, JwksPolicy};
use timesheets_api::auth::verifier::{TokenVerifier, VerifierPolicy};
use timesheets_api::store::memory::MemoryStore;

pub const ISSUER: &str = "https://tenant.example.auth0.com/";
pub const AUDIENCE: &str = "https://api.exampleco.com/timesheets";
pub const SAMPLE: &str =
    r#"{"user_id": "007", "date": "2017-05-10T17:40:20.095Z", "project": "StoreZero", "hours": 5}"#;

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
    pub api: UploadApi<MemoryStore>,
    pub key: TestKey,
    pub server: JwksServer,
}

impl Harness {
    /// Keys served by the local JWKS server; default policy except a short JWKS timeout.
    pub async fn start() -> Self {
        Self::with_policy(JwksPolicy::default()).await
    }

    pub async fn with_policy(policy: JwksPolicy) -> Self {
        let key = TestKey::generate("key-1");
        let server = JwksServer::start(Reply::Json(jwk_set(&[&key]).to_string())).await;
        let client = timesheets::http_client::build(Duration::from_millis(500)).unwrap();
        let endpoint = IssuerEndpoint::new(
            ISSUER,
            EndpointKind::Jwks,
            Some(server.jwks_url().parse().unwrap()),
        );
        let verifier = TokenVerifier::new(
            VerifierPolicy {
                issuer: ISSUER.to_owned(),
                audiences: vec![AUDIENCE.to_owned()],
                algorithms: vec![Algorithm::RS256],
                leeway_seconds: 5,
            },
            JwksCache::new(client, endpoint, policy),
        );
        Self {
            api: UploadApi::new(verifier, MemoryStore::default()),
            key,
            server,
        }
    }

    /// Sends `request` and reads the answer.
    pub async fn call(&self, request: Request) -> Answer {
        let response = self.api.handle(request).await;
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

    /// POSTs the sample entry with `Authorization: Bearer <token>`.
    pub async fn upload_with(&self, token: &str) -> Answer {
        self.call(upload(Some(&format!("Bearer {token}")), SAMPLE))
            .await
    }

    pub fn stored(&self) -> usize {
        self.api.store().rows().len()
    }
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
