//! The upload contract through the whole handler, with real RS256 tokens.

mod common;

use common::*;
use jwt_access_token::{DpopMode, DpopPolicy};
use lambda_http::Body;
use serde_json::json;
use testkit::TestDpopKey;

#[tokio::test]
async fn valid_token_stores_the_entry_and_answers_201() {
    let harness = Harness::start().await;
    let answer = harness
        .upload_with(&harness.key.mint(&valid_claims()))
        .await;
    assert_eq!(answer.status, 201);
    assert_eq!(
        answer.body,
        json!({"message": "Created timesheet 1 for employee 007.", "id": 1})
    );
    let rows = harness.api.store().rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].entry.project, "StoreZero");
    assert_eq!(rows[0].entry.hours, 5.0);
    assert_eq!(rows[0].client_id, "job-client");
}

#[tokio::test]
async fn no_token_is_401_with_a_bare_challenge() {
    let harness = Harness::start().await;
    let answer = harness.call(upload(None, SAMPLE)).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="timesheets""#)
    );
    assert_eq!(answer.body["error"], "missing_token");
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn malformed_authorization_is_400_invalid_request() {
    let harness = Harness::start().await;
    let answer = harness.call(upload(Some("Bearer"), SAMPLE)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "invalid_request");
    assert!(
        answer
            .challenge
            .unwrap()
            .contains(r#"error="invalid_request""#)
    );
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn wrong_tokens_are_401_invalid_token() {
    let harness = Harness::start().await;
    let now = testkit::keys::now();
    let cases = [
        (
            "expired",
            claims_with(json!({"exp": now - 60, "iat": now - 3660})),
        ),
        (
            "other issuer",
            claims_with(json!({"iss": "https://evil.example/"})),
        ),
        (
            "other audience",
            claims_with(json!({"aud": "https://api.other.example"})),
        ),
        ("no exp", claims_with(json!({"exp": null}))),
    ];
    for (name, claims) in cases {
        let answer = harness.upload_with(&harness.key.mint(&claims)).await;
        assert_eq!(answer.status, 401, "{name}");
        assert_eq!(answer.body["error"], "invalid_token", "{name}");
        let challenge = answer.challenge.unwrap();
        assert!(
            challenge.starts_with(r#"Bearer realm="timesheets", error="invalid_token""#),
            "{name}: {challenge}"
        );
    }
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn token_without_the_scope_is_403_insufficient_scope() {
    let harness = Harness::start().await;
    let token = harness
        .key
        .mint(&claims_with(json!({"scope": "batch:read"})));
    let answer = harness.upload_with(&token).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.body["error"], "insufficient_scope");
    assert!(
        answer
            .challenge
            .unwrap()
            .ends_with(r#"scope="batch:upload""#)
    );
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn auth0_permissions_and_audience_arrays_are_accepted() {
    let harness = Harness::start().await;
    let claims = claims_with(json!({
        "scope": null,
        "permissions": ["batch:upload"],
        "aud": ["https://other.example", AUDIENCE]
    }));
    let answer = harness.upload_with(&harness.key.mint(&claims)).await;
    assert_eq!(answer.status, 201);
    assert_eq!(harness.stored(), 1);
}

#[tokio::test]
async fn body_errors_name_the_field_and_store_nothing() {
    let harness = Harness::start().await;
    let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
    let body = SAMPLE.replace(r#""project": "StoreZero", "#, "");
    let answer = harness.call(upload(Some(&authorization), &body)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        json!({"error": "invalid_body", "error_description": "`project` is required"})
    );

    let mut request = upload(Some(&authorization), SAMPLE);
    request
        .headers_mut()
        .insert("content-type", "text/csv".parse().unwrap());
    let answer = harness.call(request).await;
    assert_eq!(answer.status, 415);
    assert_eq!(answer.body["error"], "unsupported_media_type");
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn other_paths_are_404_and_other_methods_405() {
    let harness = Harness::start().await;
    let request = http::Request::builder()
        .method("POST")
        .uri("/timesheets")
        .body(Body::Empty)
        .unwrap();
    let answer = harness.call(request).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["error"], "not_found");

    let request = http::Request::builder()
        .method("GET")
        .uri("/timesheets/upload")
        .body(Body::Empty)
        .unwrap();
    let answer = harness.call(request).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.allow.as_deref(), Some("POST"));
}

#[tokio::test]
async fn keys_are_fetched_once_across_warm_invocations() {
    let harness = Harness::start().await;
    for expected_id in 1..=5 {
        let answer = harness
            .upload_with(&harness.key.mint(&valid_claims()))
            .await;
        assert_eq!(answer.body["id"], expected_id);
    }
    assert_eq!(harness.server.hits(), 1);
}

#[tokio::test]
async fn a_body_is_never_read_for_a_refused_token() {
    // A refused token with a broken body still answers 401, not 400: auth comes first.
    let harness = Harness::start().await;
    let forged = harness
        .key
        .mint(&claims_with(json!({"aud": "https://other.example"})));
    let request = http::Request::builder()
        .method("POST")
        .uri("/timesheets/upload")
        .header("content-type", "text/plain")
        .header("authorization", format!("Bearer {forged}"))
        .body(Body::Text("not json".into()))
        .unwrap();
    let answer = harness.call(request).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "invalid_token");
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn a_dpop_proof_is_recorded_in_the_store_and_its_replay_refused() {
    const HTU: &str = "https://api.exampleco.com/timesheets/upload";
    let harness = Harness::with(Setup {
        dpop: DpopPolicy {
            mode: DpopMode::Required,
            htu: Some(HTU.parse().unwrap()),
            leeway_seconds: 5,
        },
        ..Setup::default()
    })
    .await;
    let key = TestDpopKey::generate();
    let token = harness.key.mint(&claims_with(
        json!({"iss": harness.issuer, "cnf": {"jkt": key.thumbprint()}}),
    ));
    let proof = key.proof("POST", HTU, &token);
    let request = || {
        let mut request = upload(Some(&format!("DPoP {token}")), SAMPLE);
        request.headers_mut().insert("dpop", proof.parse().unwrap());
        request
    };
    assert_eq!(harness.call(request()).await.status, 201);
    let replay = harness.call(request()).await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.body["error"], "invalid_dpop_proof");
    assert_eq!(
        replay.body["error_description"],
        "the DPoP proof was used before (jti)"
    );
    assert_eq!(harness.stored(), 1);
}
