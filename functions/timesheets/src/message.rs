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
    fn message_matches_the_scenario() {
        let created = CreatedTimesheet::new(14, "007");
        assert_eq!(
            serde_json::to_value(&created).unwrap(),
            serde_json::json!({"message": "Created timesheet 14 for employee 007.", "id": 14})
        );
    }
}
