//! An idempotency record DynamoDB returns without an attribute the API wrote is a store
//! failure, never read as empty values: the store says which attribute, the client gets the
//! store's `503`. A local HTTP server stands in for DynamoDB, answering every call with one
//! `GetItem` result.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use common::*;
use lambda_http::{Context, LambdaEvent};
use serde_json::{Value, json};
use testkit::{JwksServer, Reply, TestKey};
use timesheets::sdk_http::SdkHttpClient;
use timesheets_api::UploadApi;
use timesheets_api::store::TimesheetStore;
use timesheets_api::store::dynamodb::DynamoDbStore;

/// An idempotency record as the API writes it (`store::dynamodb::item::record`) without its
/// `fingerprint`.
fn record_without_fingerprint() -> Value {
    json!({"Item": {
        "pk": {"S": "IDEMPOTENCY#10:job-client:run-1/0"},
        "first_id": {"N": "14"},
        "count": {"N": "1"},
        "claimed_at": {"N": "1494438021"},
        "expires_at": {"N": "4102444800"}
    }})
}

/// A store on table `timesheets` whose DynamoDB is `dynamodb`.
fn store_at(dynamodb: &JwksServer) -> DynamoDbStore {
    let http = timesheets::http_client::build(Duration::from_secs(2)).unwrap();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(dynamodb.base_url().trim_end_matches('/'))
        .http_client(SdkHttpClient::new(http))
        .build();
    DynamoDbStore::new(aws_sdk_dynamodb::Client::from_conf(config), "timesheets")
}

#[tokio::test]
async fn a_record_without_an_attribute_is_a_store_failure() {
    let dynamodb = JwksServer::start(Reply::Json(record_without_fingerprint().to_string())).await;
    let error = store_at(&dynamodb)
        .find_record("10:job-client:run-1/0")
        .await
        .expect_err("a record without its fingerprint is not a record");
    assert_eq!(
        error.to_string(),
        "timesheet store failed: an idempotency record has no readable fingerprint"
    );
    assert_eq!(dynamodb.hits(), 1);
}

#[tokio::test]
async fn the_client_gets_the_stores_503() {
    let dynamodb = JwksServer::start(Reply::Json(record_without_fingerprint().to_string())).await;
    let key = TestKey::generate("key-1");
    let issuer = JwksServer::start(Reply::Json(json!({"keys": [key.jwk()]}).to_string())).await;
    let api = UploadApi::new(issuer_verifier(&issuer), store_at(&dynamodb));

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/upload.json");
    let text = std::fs::read_to_string(path).unwrap();
    let mut event: Value = serde_json::from_str(
        &text.replace("REPLACE_WITH_ACCESS_TOKEN", &key.mint(&valid_claims())),
    )
    .unwrap();
    event["headers"]["idempotency-key"] = json!("run-1/0");
    let answer =
        timesheets_api::event::handle(&api, LambdaEvent::new(event, Context::default())).await;

    assert_eq!(answer["statusCode"], 503, "{answer}");
    assert_eq!(answer["headers"]["retry-after"], "5");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({
            "error": "temporarily_unavailable",
            "error_description": "the timesheet store is unavailable; retry later"
        })
    );
    // The record was read and nothing else: no ids reserved, nothing written.
    assert_eq!(dynamodb.hits(), 1);
}
