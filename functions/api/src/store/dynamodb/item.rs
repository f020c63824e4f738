//! The table's items: one table, partition key `pk` (S), TTL attribute `expires_at`.
//!
//! `COUNTER#timesheet` holds `last_id`; each timesheet is `TIMESHEET#<id>` with its entry, the
//! client and `created_at`; each idempotency record is `IDEMPOTENCY#<scope key>`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use timesheets::TimesheetEntry;

use crate::store::IdempotencyRecord;

/// An item as the SDK reads and writes it.
pub type Item = HashMap<String, AttributeValue>;

/// Partition key attribute of the table.
pub const PARTITION_KEY: &str = "pk";
/// TTL attribute of the table (Unix seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// The `pk` of the id counter.
pub const COUNTER_KEY: &str = "COUNTER#timesheet";

/// The `pk` of timesheet `id`.
pub fn timesheet_key(id: u64) -> String {
    format!("TIMESHEET#{id}")
}

/// The `pk` of the idempotency record of `scope_key`.
pub fn record_key(scope_key: &str) -> String {
    format!("IDEMPOTENCY#{scope_key}")
}

/// The `pk` of the replay record of DPoP proof `proof_id`.
pub fn proof_key(proof_id: &str) -> String {
    format!("DPOP#{proof_id}")
}

/// A string attribute.
pub fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

/// A number attribute.
pub fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

/// Timesheet `id`: `entry`, uploaded by `client_id` at `created_at` (RFC 3339).
pub fn timesheet(id: u64, entry: &TimesheetEntry, client_id: &str, created_at: &str) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(timesheet_key(id))),
        ("id".to_owned(), n(id)),
        ("user_id".to_owned(), s(&entry.user_id)),
        ("date".to_owned(), s(&entry.date)),
        ("project".to_owned(), s(&entry.project)),
        ("hours".to_owned(), n(entry.hours)),
        ("client_id".to_owned(), s(client_id)),
        ("created_at".to_owned(), s(created_at)),
    ])
}

/// The item of `record`.
pub fn record(record: &IdempotencyRecord) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(record_key(&record.scope_key))),
        ("fingerprint".to_owned(), s(&record.fingerprint)),
        ("first_id".to_owned(), n(record.first_id)),
        ("count".to_owned(), n(record.count)),
        ("claimed_at".to_owned(), n(record.claimed_at)),
        (TTL_ATTRIBUTE.to_owned(), n(record.expires_at)),
    ])
}

/// The record of `scope_key` stored as `item`; a missing or unreadable attribute reads as
/// empty or 0.
pub fn to_record(scope_key: &str, item: &Item) -> IdempotencyRecord {
    let number = |name: &str| {
        item.get(name)
            .and_then(|value| value.as_n().ok())
            .and_then(|text| text.parse::<i64>().ok())
            .unwrap_or_default()
    };
    IdempotencyRecord {
        scope_key: scope_key.to_owned(),
        fingerprint: item
            .get("fingerprint")
            .and_then(|value| value.as_s().ok())
            .cloned()
            .unwrap_or_default(),
        first_id: number("first_id") as u64,
        count: number("count") as u64,
        claimed_at: number("claimed_at"),
        expires_at: number(TTL_ATTRIBUTE),
    }
}
