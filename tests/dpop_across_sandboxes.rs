//! DPoP with the real stand-ins: the local issuer binds a token to the client's key (`cnf.jkt`,
//! `token_type: DPoP`), and two API instances (two Lambda sandboxes) share the `jti` replay
//! records in the local DynamoDB table, so a proof one accepted the other refuses.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e::*;
use jwt_access_token::DpopMode;
use lambda_http::Body;
use serde_json::Value;
use testkit::TestDpopKey;
use testkit::dpop::token_request_claims;
use timesheets::config::ProcessEnv;
use timesheets_api::store::dynamodb::DynamoDbStore;
use timesheets_api::{ApiConfig, UploadApi};

/// The public URL the proofs name (`AUTH_DPOP_HTU`).
const HTU: &str = "https://api.exampleco.com/timesheets/upload";

/// A token for the job's client bound to `key`, from the local issuer.
async fn bound_token(key: &TestDpopKey) -> String {
    let token_url = format!("{}token", stack_var("AUTH_ISSUER"));
    let proof = key.sign(&key.header(), &token_request_claims("POST", &token_url));
    let response = reqwest::Client::new()
        .post(&token_url)
        .header("dpop", proof)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &stack_var("TEST_JOB_CLIENT_ID")),
            ("client_secret", &stack_var("TEST_JOB_CLIENT_SECRET")),
            ("audience", &stack_var("AUTH_AUDIENCE")),
        ])
        .send()
        .await
        .expect("the local issuer answers");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
    token
}

/// One API sandbox as Lambda runs it, with `AUTH_DPOP=required` and [`HTU`].
async fn sandbox() -> UploadApi<DynamoDbStore> {
    let mut config = ApiConfig::from_source(&ProcessEnv).expect("stack environment");
    config.dpop.mode = DpopMode::Required;
    config.dpop.htu = Some(HTU.parse().unwrap());
    let http = http_client(config.jwks_timeout());
    let verifier = timesheets_api::verifier(&config, http);
    let store = DynamoDbStore::new(
        aws_sdk_dynamodb::Client::new(&sdk_config().await),
        &config.table,
    );
    UploadApi::new(verifier, store)
}

fn upload(token: &str, proof: Option<&str>, project: &str) -> lambda_http::Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("/timesheets/upload")
        .header("content-type", "application/json")
        .header("authorization", format!("DPoP {token}"));
    if let Some(proof) = proof {
        builder = builder.header("dpop", proof);
    }
    let body = serde_json::to_string(&sample_entry(project)).unwrap();
    builder.body(Body::Text(body)).unwrap()
}

fn error_of(response: &lambda_http::Response<Body>) -> String {
    match response.body() {
        Body::Text(text) => serde_json::from_str::<Value>(text).unwrap()["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn a_proof_one_sandbox_accepted_is_refused_by_another() {
    let key = TestDpopKey::generate();
    let token = bound_token(&key).await;
    let (first, second) = (sandbox().await, sandbox().await);
    let project = unique_project("DpopReplay");
    let proof = key.proof("POST", HTU, &token);

    let accepted = first.handle(upload(&token, Some(&proof), &project)).await;
    assert_eq!(accepted.status(), 201);
    let replayed = second.handle(upload(&token, Some(&proof), &project)).await;
    assert_eq!(replayed.status(), 401);
    assert_eq!(error_of(&replayed), "the DPoP proof was used before (jti)");
    let fresh = key.proof("POST", HTU, &token);
    assert_eq!(
        second
            .handle(upload(&token, Some(&fresh), &project))
            .await
            .status(),
        201
    );
    assert_eq!(rows_with_project(&project).await, 2);
}

#[tokio::test]
async fn a_stolen_bound_token_without_its_key_stores_nothing() {
    let key = TestDpopKey::generate();
    let token = bound_token(&key).await;
    let api = sandbox().await;
    let project = unique_project("DpopStolen");

    let no_proof = api.handle(upload(&token, None, &project)).await;
    assert_eq!(no_proof.status(), 401);
    assert_eq!(
        error_of(&no_proof),
        "the DPoP scheme needs one DPoP proof header"
    );
    let thief = TestDpopKey::generate();
    let own_proof = thief.proof("POST", HTU, &token);
    let wrong_key = api.handle(upload(&token, Some(&own_proof), &project)).await;
    assert_eq!(wrong_key.status(), 401);
    assert_eq!(
        error_of(&wrong_key),
        "the access token is bound to another key than the DPoP proof's"
    );
    assert_eq!(rows_with_project(&project).await, 0);
}
