//! A throttled DynamoDB call is the store's `503 temporarily_unavailable` with `Retry-After`,
//! never a `500`: provisioned throughput or a hot partition exceeded, the account's request
//! limit, a transaction conflict, a transaction cancelled by throttling
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html>).
//! A local HTTP server stands in for DynamoDB (`common::dynamodb`).

mod common;

use common::dynamodb::*;
use serde_json::json;

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
    let counter = counter_block();
    let cancelled = dynamodb_error(
        "TransactionCanceledException",
        json!({"CancellationReasons": [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}]}),
    );
    let conflict = dynamodb_error("TransactionConflictException", json!({}));
    for (case, transaction) in [("ThrottlingError", cancelled), ("conflict", conflict)] {
        let server = dynamodb(counter.clone(), transaction).await;
        let answer = upload_to(&server, None).await;
        assert_unavailable(&answer, case);
        let sent = operations(&server).await;
        assert_eq!(sent, ["UpdateItem", "TransactWriteItems"], "{case}");
    }
}
