//! What a run did: the invocation's result, built batch by batch, each batch logged as one line
//! and counted in the batch metrics.

use serde::Serialize;
use timesheets::telemetry::metric;
use timesheets::{CreatedBatch, CreatedTimesheet};

use crate::batch::Batch;
use crate::upload_client::Uploaded;

/// What a run did; the invocation's result:
/// `{"uploaded": 250, "timesheets": [{"id", "message"}, ...], "run_id": "...", "batches": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    /// Timesheets of this run now in the table (those of replayed batches included).
    pub uploaded: usize,
    /// The API's answer for each, in input order.
    pub timesheets: Vec<CreatedTimesheet>,
    /// The run's id: the event's `id`, else the invocation's request id.
    pub run_id: String,
    /// One report per batch, in order.
    pub batches: Vec<BatchReport>,
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

/// How sending one batch ended.
#[derive(Debug)]
pub struct BatchOutcome {
    /// Requests made to the API for it.
    pub attempts: u32,
    /// The stored batch, or why it failed (never with a token or secret).
    pub result: Result<Uploaded, String>,
}

impl JobReport {
    /// How many batches failed.
    pub fn failed(&self) -> usize {
        self.batches
            .iter()
            .filter(|batch| batch.error.is_some())
            .count()
    }

    /// A report of run `run_id` before any batch.
    pub(super) fn new(run_id: String) -> Self {
        Self {
            uploaded: 0,
            timesheets: Vec::new(),
            run_id,
            batches: Vec::new(),
        }
    }

    /// Adds what became of `batch`, logged as one line.
    pub(super) fn record(&mut self, batch: &Batch<'_>, outcome: BatchOutcome) {
        let (index, idempotency_key) = (batch.index, batch.idempotency_key.clone());
        let (entries, attempts) = (batch.entries.len(), outcome.attempts);
        let (replayed, ids, error) = match outcome.result {
            Ok(uploaded) => {
                let ids: Vec<u64> = uploaded.timesheets.iter().map(|t| t.id).collect();
                // The API's own sentence, e.g. "Created timesheet 14 for employee 007.".
                let answer = match uploaded.timesheets.as_slice() {
                    [one] => one.message.clone(),
                    many => CreatedBatch::new(many.to_vec()).message,
                };
                tracing::info!(
                    batch = index,
                    %idempotency_key,
                    entries,
                    attempts,
                    replayed = uploaded.replayed,
                    ids = ?ids,
                    "batch stored: {answer}"
                );
                metrics::counter!(metric::BATCHES_SUCCEEDED).increment(1);
                self.uploaded += uploaded.timesheets.len();
                self.timesheets.extend(uploaded.timesheets);
                (uploaded.replayed, ids, None)
            }
            Err(error) => {
                tracing::error!(batch = index, %idempotency_key, entries, attempts, %error, "batch failed");
                metrics::counter!(metric::BATCHES_FAILED).increment(1);
                (false, Vec::new(), Some(error))
            }
        };
        self.batches.push(BatchReport {
            index,
            idempotency_key,
            entries,
            attempts,
            replayed,
            ids,
            error,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_keeps_uploaded_and_timesheets() {
        let report = JobReport {
            uploaded: 1,
            timesheets: vec![CreatedTimesheet::new(14, "007")],
            run_id: "r".to_owned(),
            batches: vec![BatchReport {
                index: 0,
                idempotency_key: crate::batch::idempotency_key("r", 0),
                entries: 1,
                attempts: 1,
                replayed: false,
                ids: vec![14],
                error: None,
            }],
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["uploaded"], 1);
        assert_eq!(
            json["timesheets"][0]["message"],
            "Created timesheet 14 for employee 007."
        );
        assert_eq!(json["batches"][0]["ids"], serde_json::json!([14]));
        assert_eq!(json["batches"][0].get("error"), None);
    }

    #[test]
    fn each_batch_is_recorded_in_order() {
        let entries = vec![timesheets::TimesheetEntry::sample(); 2];
        let stored = Batch {
            index: 0,
            idempotency_key: crate::batch::idempotency_key("r", 0),
            entries: &entries[..1],
        };
        let failed = Batch {
            index: 1,
            idempotency_key: crate::batch::idempotency_key("r", 1),
            entries: &entries,
        };
        let mut report = JobReport::new("r".to_owned());
        let uploaded = Uploaded {
            timesheets: vec![CreatedTimesheet::new(14, "007")],
            replayed: true,
        };
        report.record(
            &stored,
            BatchOutcome {
                attempts: 2,
                result: Ok(uploaded),
            },
        );
        report.record(
            &failed,
            BatchOutcome {
                attempts: 0,
                result: Err("not attempted".to_owned()),
            },
        );
        assert_eq!(report.uploaded, 1);
        assert_eq!(report.timesheets, [CreatedTimesheet::new(14, "007")]);
        assert_eq!(report.failed(), 1);
        let [first, second] = report.batches.as_slice() else {
            panic!("{report:?}");
        };
        assert_eq!(
            (first.attempts, first.replayed, first.ids.as_slice()),
            (2, true, &[14][..])
        );
        assert_eq!(first.idempotency_key, stored.idempotency_key);
        assert_eq!((second.index, second.entries, second.attempts), (1, 2, 0));
        assert_eq!(second.error.as_deref(), Some("not attempted"));
        assert!(second.ids.is_empty() && !second.replayed);
    }
}
