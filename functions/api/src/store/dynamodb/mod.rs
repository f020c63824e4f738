//! DynamoDB adapter on one table, whose items are laid out in [`item`].
//!
//! The counter's `last_id` is bumped atomically with `ADD` (never max+1, so concurrent Lambda
//! instances never share an id), one block of ids at a time ([`IdBlocks`]). Timesheets are written with `attribute_not_exists(pk)`, in one
//! transaction per request (all or nothing), even for one entry: the SDK gives each call a
//! `ClientRequestToken`, so when it retries after a lost answer DynamoDB answers success again
//! instead of failing the condition on the first write
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html>).
//! A conditional `PutItem` would cost half the write capacity but has no such token.

pub mod item;

use std::error::Error;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use timesheets::TimesheetEntry;

use super::id_blocks::{DEFAULT_BLOCK_SIZE, IdBlocks};
use super::{Claim, IdempotencyRecord, Insert, StoreError, TimesheetStore};
use item::{COUNTER_KEY, PARTITION_KEY, TTL_ATTRIBUTE, n, proof_key, record_key, s, timesheet_key};

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

/// Whether a transaction was cancelled only because a timesheet's `pk` already exists, read
/// from its structured `CancellationReasons` (one per item, `None` code for items that passed).
fn already_stored<R>(error: &SdkError<TransactWriteItemsError, R>) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .filter_map(|reason| reason.code())
                .filter(|code| *code != "None")
                .collect();
            !codes.is_empty() && codes.iter().all(|code| *code == "ConditionalCheckFailed")
        }
        _ => false,
    }
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

    async fn insert_all(
        &self,
        first_id: u64,
        entries: &[TimesheetEntry],
        client_id: &str,
    ) -> Result<Insert, StoreError> {
        let created_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(unbuilt)?;
        let mut items = Vec::with_capacity(entries.len());
        for (id, entry) in (first_id..).zip(entries) {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item::timesheet(id, entry, client_id, &created_at)))
                .condition_expression(NEW_ITEM)
                .build()
                .map_err(unbuilt)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Insert::Stored),
            Err(error) if already_stored(&error) => Ok(Insert::AlreadyStored),
            Err(error) => Err(failed("TransactWriteItems", error)),
        }
    }

    async fn is_stored(&self, id: u64) -> Result<bool, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(timesheet_key(id)))
            .projection_expression(PARTITION_KEY)
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| failed("GetItem", error))?;
        Ok(output.item.is_some())
    }

    async fn find_record(&self, scope_key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(record_key(scope_key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| failed("GetItem", error))?
            .item;
        item.map(|item| item::to_record(scope_key, &item))
            .transpose()
    }

    async fn claim(&self, record: &IdempotencyRecord, now: i64) -> Result<Claim, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item::record(record)))
            // TTL deletion lags by up to days: an expired record counts as absent.
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed),
            Err(error) if condition_failed(&error) => {
                match self.find_record(&record.scope_key).await? {
                    Some(existing) => Ok(Claim::Exists(existing)),
                    // Deleted between the two calls (released): let the caller retry later.
                    None => Err(StoreError::RecordChanged),
                }
            }
            Err(error) => Err(failed("PutItem", error)),
        }
    }

    async fn take_over(
        &self,
        scope_key: &str,
        previous_claimed_at: i64,
        claimed_at: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(record_key(scope_key)))
            .update_expression("SET claimed_at = :new")
            .condition_expression("claimed_at = :previous")
            .expression_attribute_values(":new", n(claimed_at))
            .expression_attribute_values(":previous", n(previous_claimed_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(failed("UpdateItem", error)),
        }
    }

    async fn release(&self, scope_key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(record_key(scope_key)))
            .send()
            .await
            .map_err(|error| failed("DeleteItem", error))?;
        Ok(())
    }

    /// A conditional `PutItem`. When the SDK retries a write whose answer was lost, the
    /// condition fails on this call's own item: its `writer` tells it apart from a replay.
    async fn record_proof(&self, proof_id: &str, expires_at: i64) -> Result<bool, StoreError> {
        let writer = uuid::Uuid::new_v4().to_string();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PARTITION_KEY, s(proof_key(proof_id)))
            .item(TTL_ATTRIBUTE, n(expires_at))
            .item("writer", s(&writer))
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
