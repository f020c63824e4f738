//! The timesheet entry: the upload contract's body and its field rules.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Longest `user_id` accepted, in characters.
pub const MAX_USER_ID_CHARS: usize = 64;
/// Longest `project` accepted, in characters.
pub const MAX_PROJECT_CHARS: usize = 128;
/// Most hours one entry may book: one day.
pub const MAX_HOURS: f64 = 24.0;
/// Fewest hours one entry may book: 36 seconds. Also keeps every value inside what DynamoDB
/// numbers can hold (magnitudes down to 1e-130), so a valid entry is always storable.
pub const MIN_HOURS: f64 = 0.01;

const FIELDS: [&str; 4] = ["user_id", "date", "project", "hours"];

/// The ExampleCo scenario's sample entry, as JSON text (employee 007, 5 hours on StoreZero): what
/// the job uploads when its input names no entries, and what the committed `events/*.json`
/// carry (checked against this by the job's `tests/events.rs`).
pub const SAMPLE_ENTRY: &str =
    r#"{"user_id": "007", "date": "2017-05-10T17:40:20.095Z", "project": "StoreZero", "hours": 5}"#;

/// One timesheet entry, as uploaded, e.g. [`SAMPLE_ENTRY`].
///
/// Build it with [`TimesheetEntry::from_json`] so the field rules hold; `date` keeps the
/// client's RFC 3339 text as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimesheetEntry {
    /// The employee's id, 1 to [`MAX_USER_ID_CHARS`] characters.
    pub user_id: String,
    /// When the work happened: an RFC 3339 date-time (RFC 3339 §5.6), e.g. `2017-05-10T17:40:20.095Z`.
    pub date: String,
    /// Project name, 1 to [`MAX_PROJECT_CHARS`] characters.
    pub project: String,
    /// Hours worked: at least [`MIN_HOURS`], at most [`MAX_HOURS`].
    pub hours: f64,
}

/// Why a body is not a valid entry; `field` names the offending member (`""` for the body itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(field, reason))]
pub struct EntryError {
    /// The member at fault, e.g. `hours`; empty when the body as a whole is wrong.
    pub field: String,
    /// What is wrong with it, for a human.
    pub reason: String,
}

fn describe(field: &str, reason: &str) -> String {
    if field.is_empty() {
        reason.to_owned()
    } else {
        format!("`{field}` {reason}")
    }
}

impl EntryError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

impl TimesheetEntry {
    /// [`SAMPLE_ENTRY`], parsed.
    pub fn sample() -> Self {
        let body = serde_json::from_str(SAMPLE_ENTRY).expect("the sample entry is JSON");
        Self::from_json(&body).expect("the sample entry keeps the field rules")
    }

    /// Validates a parsed JSON body against the upload contract.
    ///
    /// # Errors
    /// [`EntryError`] naming the first field at fault: the body is not an object, a member is
    /// unknown, missing, of the wrong type or out of range.
    pub fn from_json(body: &Value) -> Result<Self, EntryError> {
        let Value::Object(object) = body else {
            return Err(EntryError::new("", "the body must be a JSON object"));
        };
        if let Some(unknown) = object.keys().find(|key| !FIELDS.contains(&key.as_str())) {
            return Err(EntryError::new(
                unknown,
                "is not a field of a timesheet entry",
            ));
        }
        let user_id = text(object, "user_id", MAX_USER_ID_CHARS)?;
        let date = text(object, "date", usize::MAX)?;
        if OffsetDateTime::parse(&date, &Rfc3339).is_err() {
            return Err(EntryError::new(
                "date",
                "must be an RFC 3339 date-time such as 2017-05-10T17:40:20.095Z",
            ));
        }
        let project = text(object, "project", MAX_PROJECT_CHARS)?;
        let hours = match object.get("hours").map(Value::as_f64) {
            None => return Err(EntryError::new("hours", "is required")),
            Some(Some(hours)) if hours > 0.0 && hours < MIN_HOURS => {
                return Err(EntryError::new(
                    "hours",
                    "must be at least 0.01 (36 seconds)",
                ));
            }
            Some(Some(hours)) if hours > 0.0 && hours <= MAX_HOURS => hours,
            Some(_) => {
                return Err(EntryError::new(
                    "hours",
                    "must be a number greater than 0 and at most 24",
                ));
            }
        };
        Ok(Self {
            user_id,
            date,
            project,
            hours,
        })
    }
}

fn text(object: &Map<String, Value>, field: &str, max_chars: usize) -> Result<String, EntryError> {
    match object.get(field) {
        None => Err(EntryError::new(field, "is required")),
        Some(Value::String(value)) if value.trim().is_empty() => {
            Err(EntryError::new(field, "must not be empty"))
        }
        Some(Value::String(value)) if value.chars().count() > max_chars => Err(EntryError::new(
            field,
            format!("must be at most {max_chars} characters"),
        )),
        Some(Value::String(value)) => Ok(value.clone()),
        Some(_) => Err(EntryError::new(field, "must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        serde_json::from_str(SAMPLE_ENTRY).unwrap()
    }

    fn error_for(body: Value) -> String {
        TimesheetEntry::from_json(&body).unwrap_err().to_string()
    }

    fn with(field: &str, value: Value) -> Value {
        let mut body = sample();
        body[field] = value;
        body
    }

    fn without(field: &str) -> Value {
        let mut body = sample();
        body.as_object_mut().unwrap().remove(field);
        body
    }

    #[test]
    fn the_sample_entry_is_the_scenarios() {
        let entry = TimesheetEntry::sample();
        assert_eq!(entry.user_id, "007");
        assert_eq!(entry.date, "2017-05-10T17:40:20.095Z");
        assert_eq!(entry.project, "StoreZero");
        assert_eq!(entry.hours, 5.0);
    }

    #[test]
    fn accepts_fractional_hours_and_offsets() {
        let body = with("hours", json!(7.5));
        assert_eq!(TimesheetEntry::from_json(&body).unwrap().hours, 7.5);
        let body = with("date", json!("2017-05-10T17:40:20+02:00"));
        assert!(TimesheetEntry::from_json(&body).is_ok());
    }

    #[test]
    fn names_the_missing_field() {
        for field in FIELDS {
            assert_eq!(error_for(without(field)), format!("`{field}` is required"));
        }
    }

    #[test]
    fn names_an_unknown_field() {
        let body = with("approved", json!(true));
        assert_eq!(
            error_for(body),
            "`approved` is not a field of a timesheet entry"
        );
    }

    #[test]
    fn rejects_a_body_that_is_not_an_object() {
        assert_eq!(error_for(json!([1, 2])), "the body must be a JSON object");
        assert_eq!(error_for(json!("text")), "the body must be a JSON object");
    }

    #[test]
    fn rejects_wrong_types() {
        assert_eq!(
            error_for(with("user_id", json!(7))),
            "`user_id` must be a string"
        );
        assert_eq!(
            error_for(with("project", json!(null))),
            "`project` must be a string"
        );
        assert_eq!(
            error_for(with("hours", json!("5"))),
            "`hours` must be a number greater than 0 and at most 24"
        );
    }

    #[test]
    fn enforces_the_hours_range() {
        for bad in [json!(0), json!(-1), json!(24.01), json!(1000)] {
            assert!(error_for(with("hours", bad)).starts_with("`hours` must be"));
        }
        assert_eq!(
            TimesheetEntry::from_json(&with("hours", json!(24)))
                .unwrap()
                .hours,
            24.0
        );
    }

    #[test]
    fn rejects_dates_that_are_not_rfc3339_date_times() {
        for bad in [
            "2017-05-10",
            "10/05/2017",
            "2017-05-10T17:40:20",
            "2017-13-10T17:40:20Z",
        ] {
            assert!(error_for(with("date", json!(bad))).starts_with("`date` must be an RFC 3339"));
        }
    }

    #[test]
    fn rejects_empty_and_overlong_text() {
        assert_eq!(
            error_for(with("user_id", json!("  "))),
            "`user_id` must not be empty"
        );
        let long = "x".repeat(MAX_PROJECT_CHARS + 1);
        assert_eq!(
            error_for(with("project", json!(long))),
            "`project` must be at most 128 characters"
        );
    }
}
