//! The job's input: what the EventBridge schedule delivers.

use serde_json::Value;
use timesheets::TimesheetEntry;

/// The sample entry of the ExampleCo scenario, uploaded when the input names no entries.
pub fn sample_entry() -> TimesheetEntry {
    TimesheetEntry {
        user_id: "007".to_owned(),
        date: "2017-05-10T17:40:20.095Z".to_owned(),
        project: "StoreZero".to_owned(),
        hours: 5.0,
    }
}

/// The input is not usable; the message names the entry and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job input: {0}")]
pub struct InputError(String);

/// The entries to upload.
///
/// - `{"entries": [...]}` (the schedule's constant Input): those entries, validated with the
///   API's own rules so a bad one fails here, naming `entries[i]` and the field;
/// - anything without `entries` (a plain EventBridge "Scheduled Event", `{}`, `null`): the sample
///   entry.
///
/// # Errors
/// [`InputError`] when `entries` is not an array or an entry breaks a field rule.
pub fn entries(event: &Value) -> Result<Vec<TimesheetEntry>, InputError> {
    match event.get("entries") {
        None | Some(Value::Null) => Ok(vec![sample_entry()]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                TimesheetEntry::from_json(item)
                    .map_err(|error| InputError(format!("entries[{index}]: {error}")))
            })
            .collect(),
        Some(_) => Err(InputError(
            "`entries` must be an array of timesheet entries".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn without_entries_the_sample_is_uploaded() {
        let scheduled_event = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}
        });
        for event in [scheduled_event, json!({}), Value::Null] {
            assert_eq!(entries(&event).unwrap(), vec![sample_entry()]);
        }
    }

    #[test]
    fn given_entries_are_validated_and_kept_in_order() {
        let event = json!({"entries": [
            {"user_id": "007", "date": "2017-05-10T17:40:20.095Z", "project": "StoreZero", "hours": 5},
            {"user_id": "008", "date": "2017-05-11T09:00:00Z", "project": "Sentinel", "hours": 7.5}
        ]});
        let got = entries(&event).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].user_id, "008");
        assert_eq!(got[1].hours, 7.5);
    }

    #[test]
    fn a_bad_entry_is_named_by_index_and_field() {
        let event = json!({"entries": [
            {"user_id": "007", "date": "2017-05-10T17:40:20.095Z", "project": "StoreZero", "hours": 5},
            {"user_id": "008", "date": "yesterday", "project": "Sentinel", "hours": 7.5}
        ]});
        assert_eq!(
            entries(&event).unwrap_err().to_string(),
            "job input: entries[1]: `date` must be an RFC 3339 date-time such as 2017-05-10T17:40:20.095Z"
        );
        assert!(entries(&json!({"entries": "all"})).is_err());
    }
}
