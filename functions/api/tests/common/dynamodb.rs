//! A local HTTP server standing in for DynamoDB (JSON 1.0 protocol), answering by operation
//! (`X-Amz-Target`), and the API's store on it.

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use serde_json::{Value, json};
use testkit::{JwksServer, Reply, TestKey};
use timesheets::sdk_http::SdkHttpClient;
use timesheets_api::UploadApi;
use timesheets_api::store::dynamodb::DynamoDbStore;
use wiremock::matchers::header;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Answer, SAMPLE, call, issuer_verifier, upload, valid_claims};

/// DynamoDB's error answer: `400` with the exception's type and `extra` members.
pub fn dynamodb_error(exception: &str, extra: Value) -> ResponseTemplate {
    let mut body = json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{exception}"),
        "message": "Throughput exceeds the current capacity for one or more partitions"
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    dynamodb_answer(400, body)
}

/// A successful answer of DynamoDB with this JSON body.
pub fn dynamodb_ok(body: Value) -> ResponseTemplate {
    dynamodb_answer(200, body)
}

fn dynamodb_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/x-amz-json-1.0")
        .set_body_string(body.to_string())
}

/// The id counter's answer to a block reservation of 100 ids starting at 1.
pub fn counter_block() -> ResponseTemplate {
    dynamodb_ok(json!({"Attributes": {"last_id": {"N": "100"}}}))
}

/// A DynamoDB whose `UpdateItem` (the id counter) answers `counter` and whose
/// `TransactWriteItems` answers `transaction`.
pub async fn dynamodb(counter: ResponseTemplate, transaction: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    for (operation, answer) in [("UpdateItem", counter), ("TransactWriteItems", transaction)] {
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

/// The operations `server` was asked for, in order, e.g. `UpdateItem`.
pub async fn operations(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter_map(|request| request.headers.get("x-amz-target"))
        .map(|target| {
            target
                .to_str()
                .unwrap()
                .trim_start_matches("DynamoDB_20120810.")
                .to_owned()
        })
        .collect()
}

/// A store on table `timesheets` at `server` with the SDK's retries off: one answer is the
/// last one.
pub fn store_at(server: &MockServer) -> DynamoDbStore {
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

/// The answer of an API on `server` to an upload of the sample entry, with
/// `idempotency_key` if given.
pub async fn upload_to(server: &MockServer, idempotency_key: Option<&str>) -> Answer {
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

/// Asserts `answer` is the store's `503 temporarily_unavailable` with `Retry-After`.
pub fn assert_unavailable(answer: &Answer, case: &str) {
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
