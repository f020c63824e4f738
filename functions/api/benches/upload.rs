//! The API's hot path in process, warm sandbox, under criterion
//! (`cargo bench -p timesheets-api --bench upload`): token verification, entry validation and a
//! whole upload through the handler (in-memory store). `make bench` prints the whole-function
//! figures against a hello-world function (benches/lambda-bench).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::Algorithm;
use jwt_access_token::{JwksCache, JwksPolicy};
use jwt_access_token::{TokenVerifier, VerifierPolicy};
use lambda_http::Body;
use serde_json::json;
use testkit::keys::{jwk_set, now};
use testkit::{JwksServer, Reply, TestKey};
use timesheets::discovery::{EndpointKind, IssuerEndpoint};
use timesheets_api::UploadApi;
use timesheets_api::store::memory::MemoryStore;

const ISSUER: &str = "https://tenant.example.auth0.com/";
const AUDIENCE: &str = "https://api.exampleco.com/timesheets";
const SAMPLE: &str = timesheets::entry::SAMPLE_ENTRY;

fn verifier(server: &JwksServer) -> TokenVerifier {
    let client = timesheets::http_client::build(Duration::from_secs(1)).unwrap();
    let endpoint = IssuerEndpoint::new(
        ISSUER,
        EndpointKind::Jwks,
        Some(server.jwks_url().parse().unwrap()),
    );
    TokenVerifier::new(
        VerifierPolicy {
            audiences: vec![AUDIENCE.to_owned()],
            algorithms: vec![Algorithm::RS256],
            leeway_seconds: 5,
        },
        JwksCache::new(client, endpoint, JwksPolicy::default()),
    )
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let key = TestKey::generate("bench-key");
    let server = runtime.block_on(JwksServer::start(Reply::Json(jwk_set(&[&key]).to_string())));
    let token = key.mint(&json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "bench@clients", "azp": "bench",
        "scope": "batch:upload", "iat": now(), "exp": now() + 86_400
    }));

    let token_verifier = verifier(&server);
    runtime.block_on(token_verifier.verify(&token)).unwrap();
    c.bench_function("verify RS256 access token (JWKS cached)", |b| {
        b.to_async(&runtime)
            .iter(|| async { token_verifier.verify(&token).await.unwrap() })
    });

    let headers = {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers
    };
    let body = Body::Text(SAMPLE.to_owned());
    c.bench_function("parse and validate one entry", |b| {
        b.iter(|| timesheets_api::body::parse_upload(&headers, &body).unwrap())
    });

    let api = UploadApi::new(verifier(&server), MemoryStore::default());
    let authorization = format!("Bearer {token}");
    c.bench_function("whole upload through the handler (in-memory store)", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = http::Request::builder()
                .method("POST")
                .uri("/timesheets/upload")
                .header("content-type", "application/json")
                .header("authorization", &authorization)
                .body(Body::Text(SAMPLE.to_owned()))
                .unwrap();
            let response = api.handle(request).await;
            assert_eq!(response.status(), 201);
        })
    });
}

criterion_group! {
    name = upload;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(upload);
