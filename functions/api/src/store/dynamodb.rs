//! DynamoDB adapter: one table, partition key `pk` (S).
//!
//! Items: `COUNTER#timesheet` holds `last_id`, bumped atomically with `ADD` (never max+1,
//! so concurrent Lambda instances never share an id); each timesheet is `TIMESHEET#<id>`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use timesheets::TimesheetEntry;

use super::{StoreError, TimesheetStore};

/// Partition key attribute of the table.
pub const PARTITION_KEY: &str = "pk";
const COUNTER_KEY: &str = "COUNTER#timesheet";

/// The `pk` of timesheet `id`.
pub fn timesheet_key(id: u64) -> String {
    format!("TIMESHEET#{id}")
}

/// Stores timesheets in the DynamoDB table `TIMESHEETS_TABLE`.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
}

impl DynamoDbStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn next_id(&self) -> Result<u64, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(COUNTER_KEY.to_owned()))
            .update_expression("ADD last_id :one")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|error| {
                StoreError(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string())
            })?;
        output
            .attributes()
            .and_then(|attributes| attributes.get("last_id"))
            .and_then(|value| value.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StoreError("the id counter returned no number".to_owned()))
    }
}

impl TimesheetStore for DynamoDbStore {
    async fn create(&self, entry: &TimesheetEntry, client_id: &str) -> Result<u64, StoreError> {
        let id = self.next_id().await?;
        let created_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(|error| StoreError(error.to_string()))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PARTITION_KEY, AttributeValue::S(timesheet_key(id)))
            .item("id", AttributeValue::N(id.to_string()))
            .item("user_id", AttributeValue::S(entry.user_id.clone()))
            .item("date", AttributeValue::S(entry.date.clone()))
            .item("project", AttributeValue::S(entry.project.clone()))
            .item("hours", AttributeValue::N(entry.hours.to_string()))
            .item("client_id", AttributeValue::S(client_id.to_owned()))
            .item("created_at", AttributeValue::S(created_at))
            // The counter guarantees a fresh id; the condition guards against a reset counter.
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|error| {
                StoreError(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string())
            })?;
        Ok(id)
    }
}
