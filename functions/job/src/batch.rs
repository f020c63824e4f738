//! The batches of one run: the run's entries cut into API requests, each with its idempotency
//! key.

use timesheets::{MAX_BATCH_ENTRIES, TimesheetEntry};
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

/// One request's worth of a run's entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<'a> {
    /// Position of the batch in the run, from 0.
    pub index: usize,
    /// Its `Idempotency-Key`: [`idempotency_key`] of the run and `index`.
    pub idempotency_key: String,
    /// Its entries: 1 to [`MAX_BATCH_ENTRIES`], in input order.
    pub entries: &'a [TimesheetEntry],
}

/// The batches of run `run_id`: `entries` in order, [`MAX_BATCH_ENTRIES`] a batch (the API's
/// limit), so batch `i` holds entries `100 i` to `100 i + 99`.
pub fn batches<'a>(
    run_id: &'a str,
    entries: &'a [TimesheetEntry],
) -> impl Iterator<Item = Batch<'a>> + 'a {
    entries
        .chunks(MAX_BATCH_ENTRIES)
        .enumerate()
        .map(move |(index, entries)| Batch {
            index,
            idempotency_key: idempotency_key(run_id, index),
            entries,
        })
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

    #[test]
    fn entries_are_cut_at_the_api_limit_in_order() {
        let entries: Vec<TimesheetEntry> = (0..MAX_BATCH_ENTRIES * 2 + 1)
            .map(|i| TimesheetEntry {
                user_id: format!("{i:03}"),
                ..TimesheetEntry::sample()
            })
            .collect();
        let cut: Vec<Batch> = batches("run", &entries).collect();
        let sizes: Vec<usize> = cut.iter().map(|batch| batch.entries.len()).collect();
        assert_eq!(sizes, [MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES, 1]);
        assert_eq!(cut[1].entries[0].user_id, format!("{MAX_BATCH_ENTRIES:03}"));
        assert_eq!(cut[2].index, 2);
        assert_eq!(cut[2].idempotency_key, idempotency_key("run", 2));
        assert_eq!(batches("run", &[]).count(), 0);
    }
}
