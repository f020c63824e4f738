//! The batches of one run: their idempotency keys and what became of each.

use serde::Serialize;
use uuid::Uuid;

/// Namespace of the idempotency keys (UUID v5, RFC 9562 §5.5). Fixed in the code: a redelivered
/// event must derive the same keys in any sandbox and any later version of the job.
pub const IDEMPOTENCY_NAMESPACE: Uuid = Uuid::from_u128(0x9a8b438c_6ffd_4bac_949c_91464bf11cdb);

/// The `Idempotency-Key` of batch `index` (0-based) of run `run_id`: the UUID v5 of
/// `"{run_id}/{index}"` in [`IDEMPOTENCY_NAMESPACE`], hyphenated lower case.
pub fn idempotency_key(run_id: &str, index: usize) -> String {
    Uuid::new_v5(
        &IDEMPOTENCY_NAMESPACE,
        format!("{run_id}/{index}").as_bytes(),
    )
    .to_string()
}

/// What became of one batch; part of the invocation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchReport {
    /// Position of the batch in the run, from 0; batch `i` holds entries `100 i` to `100 i + 99`.
    pub index: usize,
    /// The `Idempotency-Key` it was sent with.
    pub idempotency_key: String,
    /// Entries in the batch.
    pub entries: usize,
    /// Requests made to the API for it (0 when the deadline left no time to try).
    pub attempts: u32,
    /// The API replayed an earlier answer for this key: an earlier delivery of the run (or an
    /// attempt whose answer was lost) had stored the batch.
    pub replayed: bool,
    /// Ids of the batch's timesheets, in entry order; empty when it failed.
    pub ids: Vec<u64>,
    /// Why it failed; absent when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_run_and_position_only() {
        let key = idempotency_key("2017-05-10T17:00:00Z", 0);
        assert_eq!(key, idempotency_key("2017-05-10T17:00:00Z", 0));
        assert_ne!(key, idempotency_key("2017-05-10T17:00:00Z", 1));
        assert_ne!(key, idempotency_key("2017-05-10T18:00:00Z", 0));
        let uuid = Uuid::parse_str(&key).unwrap();
        assert_eq!(uuid.get_version_num(), 5);
        // Pinned (computed independently with Python's uuid.uuid5): changing the namespace or
        // the name format would make an event redelivered across a deploy store its batches twice.
        assert_eq!(key, "f6bc9eeb-e23c-54a8-a221-891b598972fa");
    }
}
