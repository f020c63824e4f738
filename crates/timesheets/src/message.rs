//! The API's answers, shared so the job parses exactly what the API writes.

use serde::{Deserialize, Serialize};

/// The `201 Created` body of `POST /timesheets/upload`:
/// `{"message": "Created timesheet 14 for employee 007.", "id": 14}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedTimesheet {
    /// Human sentence from the ExampleCo Timesheets scenario.
    pub message: String,
    /// The stored timesheet's id, from the table's atomic counter.
    pub id: u64,
}

impl CreatedTimesheet {
    /// The answer for timesheet `id` of employee `user_id`.
    pub fn new(id: u64, user_id: &str) -> Self {
        Self {
            message: format!("Created timesheet {id} for employee {user_id}."),
            id,
        }
    }
}

/// The `201 Created` body of a batch upload (a JSON array of entries):
/// `{"message": "Created 3 timesheets.", "timesheets": [{"id": 15, "message": "Created timesheet 15 for employee 007."}, ...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedBatch {
    /// `Created <n> timesheets.`
    pub message: String,
    /// One answer per entry, in the order of the request's array.
    pub timesheets: Vec<CreatedTimesheet>,
}

impl CreatedBatch {
    /// The answer for `timesheets`, in request order.
    pub fn new(timesheets: Vec<CreatedTimesheet>) -> Self {
        let count = timesheets.len();
        let noun = if count == 1 {
            "timesheet"
        } else {
            "timesheets"
        };
        Self {
            message: format!("Created {count} {noun}."),
            timesheets,
        }
    }
}

/// Header carrying the idempotency key of an upload (IETF draft "The Idempotency-Key HTTP
/// Header Field"); scoped per client by the API, kept 24 hours.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Header set to `true` on an answer replayed for a repeated idempotency key.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "idempotent-replayed";

/// Most entries accepted in one batch upload: one DynamoDB transaction holds at most 100
/// actions, and an upload's also writes its idempotency record and its DPoP proof's replay
/// record (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html>).
pub const MAX_BATCH_ENTRIES: usize = 98;

/// Every error body: `{"error": "<code>", "error_description": "<text>"}`, the shape of
/// RFC 6749 §5.2 and RFC 6750 §3 used for all of the API's errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `invalid_token`.
    pub error: String,
    /// One sentence for a human; never contains a token or a secret.
    #[serde(default)]
    pub error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_message_counts_the_timesheets() {
        let batch = CreatedBatch::new(vec![
            CreatedTimesheet::new(15, "007"),
            CreatedTimesheet::new(16, "008"),
        ]);
        assert_eq!(
            serde_json::to_value(&batch).unwrap(),
            serde_json::json!({"message": "Created 2 timesheets.", "timesheets": [
                {"message": "Created timesheet 15 for employee 007.", "id": 15},
                {"message": "Created timesheet 16 for employee 008.", "id": 16}
            ]})
        );
        assert_eq!(
            CreatedBatch::new(vec![CreatedTimesheet::new(1, "007")]).message,
            "Created 1 timesheet."
        );
    }

    #[test]
    fn message_matches_the_scenario() {
        let created = CreatedTimesheet::new(14, "007");
        assert_eq!(
            serde_json::to_value(&created).unwrap(),
            serde_json::json!({"message": "Created timesheet 14 for employee 007.", "id": 14})
        );
    }
}
