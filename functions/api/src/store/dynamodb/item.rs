//! The table's items: one table, partition key `pk` (S), TTL attribute `expires_at`.
//!
//! `COUNTER#timesheet` holds `last_id`; each timesheet is `TIMESHEET#<id>` with its entry, the
//! client and `created_at`; each idempotency record is `IDEMPOTENCY#<scope key>`; each DPoP
//! proof seen is `DPOP#<proof id>`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use timesheets::TimesheetEntry;

use crate::store::{IdempotencyRecord, ProofRecord, StoreError};

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
        (TTL_ATTRIBUTE.to_owned(), n(record.expires_at)),
    ])
}

/// The replay record of a DPoP proof.
pub fn proof(proof: &ProofRecord) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(proof_key(&proof.proof_id))),
        (TTL_ATTRIBUTE.to_owned(), n(proof.expires_at)),
    ])
}

/// The record of `scope_key` stored as `item`, every attribute [`record`] writes read back.
///
/// # Errors
/// [`StoreError::Unreadable`] naming the first attribute missing or not of its type.
pub fn to_record(scope_key: &str, item: &Item) -> Result<IdempotencyRecord, StoreError> {
    let unreadable = |attribute| StoreError::Unreadable {
        item: "an idempotency record",
        attribute,
    };
    let number = |name: &'static str| {
        item.get(name)
            .and_then(|value| value.as_n().ok())
            .and_then(|text| text.parse::<i64>().ok())
            .ok_or(unreadable(name))
    };
    let unsigned = |name: &'static str| {
        number(name).and_then(|value| u64::try_from(value).map_err(|_| unreadable(name)))
    };
    Ok(IdempotencyRecord {
        scope_key: scope_key.to_owned(),
        fingerprint: item
            .get("fingerprint")
            .and_then(|value| value.as_s().ok())
            .cloned()
            .ok_or(unreadable("fingerprint"))?,
        first_id: unsigned("first_id")?,
        count: unsigned("count")?,
        expires_at: number(TTL_ATTRIBUTE)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> IdempotencyRecord {
        IdempotencyRecord {
            scope_key: "10:job-client:run-1/0".to_owned(),
            fingerprint: "9f86d081".to_owned(),
            first_id: 14,
            count: 3,
            expires_at: 1_494_524_421,
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let record = stored();
        assert_eq!(
            to_record(&record.scope_key, &self::record(&record)).unwrap(),
            record
        );
    }

    #[test]
    fn a_record_missing_or_mistyping_an_attribute_is_unreadable() {
        let record = stored();
        let damaged = [
            ("fingerprint", None),
            ("fingerprint", Some(n(7))),
            ("first_id", None),
            ("first_id", Some(s("14"))),
            ("first_id", Some(n(-1))),
            ("count", None),
            ("count", Some(n(-3))),
            (TTL_ATTRIBUTE, None),
            (TTL_ATTRIBUTE, Some(n("1.5e9"))),
        ];
        for (attribute, damage) in damaged {
            let mut item = self::record(&record);
            match &damage {
                None => item.remove(attribute),
                Some(value) => item.insert(attribute.to_owned(), value.clone()),
            };
            let error = to_record(&record.scope_key, &item).expect_err(attribute);
            assert_eq!(
                error.to_string(),
                format!(
                    "timesheet store failed: an idempotency record has no readable {attribute}"
                ),
                "{damage:?}"
            );
        }
    }
}
