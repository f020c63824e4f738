//! An idempotency record DynamoDB returns without an attribute the API wrote is a store
//! failure, never read as empty values: the store says which attribute, the client gets the
//! store's `503`. A local HTTP server stands in for DynamoDB (`common::dynamodb`): its
//! `TransactWriteItems` is cancelled by the key's record, returned without its `fingerprint`.

mod common;

use common::dynamodb::*;
use serde_json::{Value, json};
use timesheets::TimesheetEntry;
use timesheets_api::idempotency::{fingerprint, scope_key};
use timesheets_api::store::{IdempotencyRecord, TimesheetStore, UploadWrite};

/// The transaction cancelled by the key's record (`ALL_OLD`), stored as the API writes it
/// (`store::dynamodb::item::record`) but without its `fingerprint`.
fn cancelled_by_a_record_without_fingerprint() -> Value {
    json!({"CancellationReasons": [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed", "Item": {
            "pk": {"S": "IDEMPOTENCY#10:job-client:run-1/0"},
            "first_id": {"N": "14"},
            "count": {"N": "1"},
            "expires_at": {"N": "4102444800"}
        }},
        {"Code": "None"}
    ]})
}

async fn dynamodb_with_damaged_record() -> wiremock::MockServer {
    let cancelled = dynamodb_error(
        "TransactionCanceledException",
        cancelled_by_a_record_without_fingerprint(),
    );
    dynamodb(counter_block(), cancelled).await
}

#[tokio::test]
async fn a_record_without_an_attribute_is_a_store_failure() {
    let dynamodb = dynamodb_with_damaged_record().await;
    let entries = [TimesheetEntry::sample()];
    let record = IdempotencyRecord {
        scope_key: scope_key("job-client", "run-1/0"),
        fingerprint: fingerprint(b"{}"),
        first_id: 1,
        count: 1,
        expires_at: 4_102_444_800,
    };
    let write = UploadWrite {
        entries: &entries,
        first_id: 1,
        client_id: "job-client",
        record: Some(&record),
        proof: None,
        now: 1_494_438_021,
    };
    let error = store_at(&dynamodb)
        .write(&write)
        .await
        .expect_err("a record without its fingerprint is not a record");
    assert_eq!(
        error.to_string(),
        "timesheet store failed: an idempotency record has no readable fingerprint"
    );
    assert_eq!(operations(&dynamodb).await, ["TransactWriteItems"]);
}

#[tokio::test]
async fn the_client_gets_the_stores_503() {
    let dynamodb = dynamodb_with_damaged_record().await;
    let answer = upload_to(&dynamodb, Some("run-1/0")).await;
    assert_unavailable(&answer, "damaged record");
    // The ids, then the one write that met the record: nothing else.
    assert_eq!(
        operations(&dynamodb).await,
        ["UpdateItem", "TransactWriteItems"]
    );
}
