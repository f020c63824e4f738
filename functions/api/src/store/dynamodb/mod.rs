//! DynamoDB adapter on one table, whose items are laid out in [`item`].
//!
//! The counter's `last_id` is bumped atomically with `ADD` (never max+1, so concurrent Lambda
//! instances never share an id), one block of ids at a time ([`IdBlocks`]). An upload is one
//! `TransactWriteItems`, even for one entry: its idempotency record, its DPoP replay record and
//! its timesheets, each with `attribute_not_exists(pk)` (the record also when expired), all or
//! nothing. A record or proof that exists cancels it, and DynamoDB returns the record
//! (`ReturnValuesOnConditionCheckFailure` `ALL_OLD`), so a repeated key is answered with no
//! read. The SDK gives each call a `ClientRequestToken`, so when it retries after a lost answer
//! DynamoDB answers success again instead of failing the conditions on the first write
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html>).

pub mod item;

use std::error::Error;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::id_blocks::{DEFAULT_BLOCK_SIZE, IdBlocks};
use super::{ProofRecord, StoreError, TimesheetStore, UploadWrite, Written};
use item::{COUNTER_KEY, Item, PARTITION_KEY, n, s};

const NEW_ITEM: &str = "attribute_not_exists(pk)";

/// The DynamoDB `operation` failed with `error`.
fn failed<E, R>(operation: &'static str, error: SdkError<E, R>) -> StoreError
where
    SdkError<E, R>: Error + Send + Sync + 'static,
{
    StoreError::Unavailable {
        operation,
        source: Box::new(error),
    }
}

/// The `TransactWriteItems` of timesheets could not be built.
fn unbuilt(error: impl Error + Send + Sync + 'static) -> StoreError {
    StoreError::Build {
        operation: "TransactWriteItems",
        source: Box::new(error),
    }
}

/// Whether a conditional write failed its condition (`ConditionalCheckFailedException`).
fn condition_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Why a transaction was cancelled, read from its `CancellationReasons` (one per item, in
/// order: the record if any, the proof if any, then the timesheets; code `None` for items that
/// passed). `None` for any reason but a failed condition (throttling, a conflict): the caller
/// reports the error as a failure.
fn cancelled(
    write: &UploadWrite<'_>,
    reasons: &[CancellationReason],
) -> Option<Result<Written, StoreError>> {
    let failed_condition = |reason: Option<&CancellationReason>| {
        reason.and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
    };
    let other = |code: &str| code != "None" && code != "ConditionalCheckFailed";
    if reasons
        .iter()
        .filter_map(CancellationReason::code)
        .any(other)
    {
        return None;
    }
    let mut reasons = reasons.iter();
    let record = write.record.map(|_| reasons.next());
    if write.proof.is_some() && failed_condition(reasons.next()) {
        return Some(Ok(Written::ProofReplayed));
    }
    if let (Some(record), Some(reason)) = (write.record, record.flatten())
        && failed_condition(Some(reason))
    {
        let existing = reason
            .item()
            .map(|item| item::to_record(&record.scope_key, item));
        return Some(match existing {
            Some(existing) => existing.map(Written::KeyRecorded),
            None => Err(StoreError::Unreadable {
                item: "an idempotency record",
                attribute: "pk",
            }),
        });
    }
    reasons
        .any(|reason| failed_condition(Some(reason)))
        .then_some(Ok(Written::IdsTaken))
}

/// Stores timesheets in the DynamoDB table `TIMESHEETS_TABLE`.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
    ids: Arc<IdBlocks>,
}

impl DynamoDbStore {
    /// A store on `table` through `client`, reserving ids in blocks of [`DEFAULT_BLOCK_SIZE`].
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            ids: Arc::new(IdBlocks::new(DEFAULT_BLOCK_SIZE)),
        }
    }

    /// This store reserving ids in blocks of `size` (`TIMESHEETS_ID_BLOCK_SIZE`).
    pub fn with_id_block_size(mut self, size: u64) -> Self {
        self.ids = Arc::new(IdBlocks::new(size));
        self
    }

    /// A `Put` of `item` into the table on `condition`.
    fn put(&self, item: Item, condition: &str) -> aws_sdk_dynamodb::types::builders::PutBuilder {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
    }

    /// Reserves `count` new ids on the counter item (`UpdateItem` `ADD`) and returns the first.
    async fn reserve_block(&self, count: u64) -> Result<u64, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(COUNTER_KEY))
            .update_expression("ADD last_id :count")
            .expression_attribute_values(":count", n(count))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|error| failed("UpdateItem", error))?;
        let last: u64 = output
            .attributes()
            .and_then(|attributes| attributes.get("last_id"))
            .and_then(|value| value.as_n().ok())
            .and_then(|text| text.parse().ok())
            .ok_or(StoreError::Unreadable {
                item: "the id counter",
                attribute: "last_id",
            })?;
        Ok(last + 1 - count)
    }
}

impl TimesheetStore for DynamoDbStore {
    async fn reserve_ids(&self, count: u64) -> Result<u64, StoreError> {
        self.ids.reserve(count, |ids| self.reserve_block(ids)).await
    }

    fn give_back_ids(&self, first_id: u64, count: u64) {
        self.ids.give_back(first_id..first_id + count);
    }

    async fn write(&self, write: &UploadWrite<'_>) -> Result<Written, StoreError> {
        let created_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(unbuilt)?;
        let mut items = Vec::with_capacity(write.entries.len() + 2);
        if let Some(record) = write.record {
            // TTL deletion lags by up to days: an expired record counts as absent.
            let put = self
                .put(
                    item::record(record),
                    "attribute_not_exists(pk) OR expires_at < :now",
                )
                .expression_attribute_values(":now", n(write.now))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            items.push(transact(put)?);
        }
        if let Some(proof) = write.proof {
            items.push(transact(self.put(item::proof(proof), NEW_ITEM))?);
        }
        for (id, entry) in (write.first_id..).zip(write.entries) {
            let timesheet = item::timesheet(id, entry, write.client_id, &created_at);
            items.push(transact(self.put(timesheet, NEW_ITEM))?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Written::Stored),
            Err(error) => {
                let reasons = match error.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
                        cancelled(write, cancel.cancellation_reasons())
                    }
                    _ => None,
                };
                reasons.unwrap_or_else(|| Err(failed("TransactWriteItems", error)))
            }
        }
    }

    /// A conditional `PutItem`. When the SDK retries a write whose answer was lost, the
    /// condition fails on this call's own item: its `writer` tells it apart from a replay.
    async fn record_proof(&self, proof: &ProofRecord) -> Result<bool, StoreError> {
        let writer = uuid::Uuid::new_v4().to_string();
        let mut item = item::proof(proof);
        item.insert("writer".to_owned(), s(&writer));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(NEW_ITEM)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => {
                let earlier = match error.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => failed
                        .item()
                        .and_then(|item| item.get("writer"))
                        .and_then(|value| value.as_s().ok())
                        .cloned(),
                    _ => None,
                };
                Ok(earlier.as_deref() == Some(writer.as_str()))
            }
            Err(error) => Err(failed("PutItem", error)),
        }
    }
}

/// One action of a transaction.
fn transact(
    put: aws_sdk_dynamodb::types::builders::PutBuilder,
) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(unbuilt)?)
        .build())
}
