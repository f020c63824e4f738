//! A throttled DynamoDB call is the store's `503 temporarily_unavailable` with `Retry-After`,
//! never a `500`: provisioned throughput or a hot partition exceeded, the account's request
//! limit, a transaction conflict, a transaction cancelled by throttling
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html>).
//! A local HTTP server stands in for DynamoDB, answering by operation (`X-Amz-Target`).

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use common::*;
use serde_json::{Value, json};
use testkit::{JwksServer, Reply, TestKey};
use timesheets::sdk_http::SdkHttpClient;
use timesheets_api::UploadApi;
use timesheets_api::store::dynamodb::DynamoDbStore;
use wiremock::matchers::header;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// DynamoDB's error answer (JSON 1.0 protocol): `400` with the exception's type.
fn dynamodb_error(exception: &str, extra: Value) -> ResponseTemplate {
    let mut body = json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{exception}"),
        "message": "Throughput exceeds the current capacity for one or more partitions"
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    ResponseTemplate::new(400)
        .insert_header("content-type", "application/x-amz-json-1.0")
        .set_body_string(body.to_string())
}

/// A successful answer of DynamoDB with this JSON body.
fn dynamodb_ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/x-amz-json-1.0")
        .set_body_string(body.to_string())
}

/// A DynamoDB whose `UpdateItem` (the id counter) and `GetItem` answer `counter`, and whose
/// `TransactWriteItems` answers `transaction`.
async fn dynamodb(counter: ResponseTemplate, transaction: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    for (operation, answer) in [
        ("UpdateItem", counter.clone()),
        ("GetItem", counter),
        ("TransactWriteItems", transaction),
    ] {
        Mock::given(header(
            "x-amz-target",
            format!("DynamoDB_20120810.{operation}"),
        ))
        .respond_with(answer)
        .mount(&server)
        .await;
    }
    server
}

/// A store on `server` with the SDK's retries off: one throttled answer is the last one.
fn store_at(server: &MockServer) -> DynamoDbStore {
    let http = timesheets::http_client::build(Duration::from_secs(2)).unwrap();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(server.uri())
        .http_client(SdkHttpClient::new(http))
        .retry_config(RetryConfig::disabled())
        .build();
    DynamoDbStore::new(aws_sdk_dynamodb::Client::from_conf(config), "timesheets")
}

/// The answer to an upload of the sample entry, with `idempotency_key` if given.
async fn upload_to(server: &MockServer, idempotency_key: Option<&str>) -> Answer {
    let key = TestKey::generate("key-1");
    let issuer = JwksServer::start(Reply::Json(json!({"keys": [key.jwk()]}).to_string())).await;
    let api = UploadApi::new(issuer_verifier(&issuer), store_at(server));
    let mut request = upload(
        Some(&format!("Bearer {}", key.mint(&valid_claims()))),
        SAMPLE,
    );
    if let Some(value) = idempotency_key {
        request
            .headers_mut()
            .insert("idempotency-key", value.parse().unwrap());
    }
    call(&api, request).await
}

fn assert_unavailable(answer: &Answer, case: &str) {
    assert_eq!(answer.status, 503, "{case}: {:?}", answer.body);
    assert_eq!(answer.retry_after.as_deref(), Some("5"), "{case}");
    assert_eq!(
        answer.body,
        json!({
            "error": "temporarily_unavailable",
            "error_description": "the timesheet store is unavailable; retry later"
        }),
        "{case}"
    );
}

#[tokio::test]
async fn a_throttled_call_is_a_503_with_retry_after() {
    for exception in [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ] {
        let throttled = dynamodb_error(exception, json!({}));
        let server = dynamodb(throttled.clone(), throttled).await;
        for key in [None, Some("run-1/0")] {
            let answer = upload_to(&server, key).await;
            assert_unavailable(&answer, &format!("{exception}, key {key:?}"));
        }
    }
}

#[tokio::test]
async fn a_transaction_cancelled_by_throttling_or_a_conflict_is_a_503() {
    let counter = dynamodb_ok(json!({"Attributes": {"last_id": {"N": "100"}}}));
    let cancelled = dynamodb_error(
        "TransactionCanceledException",
        json!({"CancellationReasons": [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}]}),
    );
    let conflict = dynamodb_error("TransactionConflictException", json!({}));
    for (case, transaction) in [("ThrottlingError", cancelled), ("conflict", conflict)] {
        let server = dynamodb(counter.clone(), transaction).await;
        let answer = upload_to(&server, None).await;
        assert_unavailable(&answer, case);
        let sent: Vec<String> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter_map(|request| request.headers.get("x-amz-target"))
            .map(|target| target.to_str().unwrap().to_owned())
            .collect();
        assert!(
            sent.contains(&"DynamoDB_20120810.TransactWriteItems".to_owned()),
            "{case}: {sent:?}"
        );
    }
}
