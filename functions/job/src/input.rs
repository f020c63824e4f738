//! The job's input: what the EventBridge schedule delivers.
//!
//! Two shapes arrive:
//! - a full EventBridge "Scheduled Event" (`{"id", "time", "detail", ...}`, from a rule
//!   without Input): its `id` names the run, and it carries no entries, so the sample is sent;
//! - the schedule's constant Input `{"entries": [...], "id": "..."}`, where the template fills
//!   `id` with `<aws.scheduler.schedule-arn>/<aws.scheduler.scheduled-time>`: the same on every
//!   retry of one scheduled run.

use serde_json::Value;
use timesheets::{EntryError, TimesheetEntry};

/// What is wrong with the event; the message names the member, or the entry and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The event is neither `null` nor a JSON object.
    #[error("job input: the event must be a JSON object: {{\"id\", \"entries\"}}")]
    NotAnObject,
    /// A member other than `id` and `entries`, in an event that is not an EventBridge event.
    #[error(
        "job input: unknown member `{name}`: expected {{\"id\", \"entries\"}}, a Scheduled Event or a Lambda destination record"
    )]
    UnknownMember {
        /// The member's name.
        name: String,
    },
    /// `id` is the empty string.
    #[error("job input: `id` must not be empty")]
    EmptyRunId,
    /// `id` still holds an EventBridge Scheduler context attribute (`<aws.scheduler...>`).
    #[error(
        "job input: `id` is the unsubstituted placeholder {id}: use EventBridge Scheduler's context attributes"
    )]
    UnsubstitutedRunId {
        /// The `id` as received.
        id: String,
    },
    /// `id` is not a string.
    #[error("job input: `id` must be a string naming the scheduled run")]
    RunIdNotAString,
    /// `entries` is not an array.
    #[error("job input: `entries` must be an array of timesheet entries")]
    EntriesNotAnArray,
    /// An entry breaks a field rule of the upload contract.
    #[error("job input: entries[{index}]: {source}")]
    InvalidEntry {
        /// Position of the entry in `entries`, from 0.
        index: usize,
        /// The field at fault and why.
        source: EntryError,
    },
}

/// What one invocation was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInput {
    /// The event's `id`: names the scheduled run, the same on every redelivery of it. `None`
    /// when the event has none (the job then uses the invocation's request id).
    pub run_id: Option<String>,
    /// The entries to upload, in order; see [`entries`].
    pub entries: Vec<TimesheetEntry>,
}

/// Reads the run id and the entries of `event`: the schedule's Input, a Scheduled Event, or a
/// record of the Lambda on-failure destination (a dead-letter queue message), whose
/// `requestPayload` is the event that failed, so a re-drive is the message as it is.
///
/// # Errors
/// [`InputError`] for another shape (a member other than `id` and `entries`, so a mistyped or
/// wrapped re-drive never uploads the sample instead), bad entries (see [`entries`]), or an
/// `id` that is not a non-empty string or is a template placeholder left unsubstituted (every
/// run would then share one id, and the API would replay the first run's answer instead of
/// storing later runs).
pub fn parse(event: &Value) -> Result<JobInput, InputError> {
    let event = match (event.get("requestContext"), event.get("requestPayload")) {
        (Some(_), Some(failed_event)) => failed_event,
        _ => event,
    };
    check_shape(event)?;
    let run_id = match event.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.is_empty() => return Err(InputError::EmptyRunId),
        Some(Value::String(id)) if id.contains("<aws.") => {
            return Err(InputError::UnsubstitutedRunId { id: id.clone() });
        }
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(InputError::RunIdNotAString),
    };
    Ok(JobInput {
        run_id,
        entries: entries(event)?,
    })
}

/// `null`, an EventBridge event (it has `detail-type`), or an object of `id` and `entries`.
fn check_shape(event: &Value) -> Result<(), InputError> {
    match event {
        Value::Null => Ok(()),
        Value::Object(members) if members.contains_key("detail-type") => Ok(()),
        Value::Object(members) => match members
            .keys()
            .find(|name| !matches!(name.as_str(), "id" | "entries"))
        {
            Some(name) => Err(InputError::UnknownMember { name: name.clone() }),
            None => Ok(()),
        },
        _ => Err(InputError::NotAnObject),
    }
}

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
        None | Some(Value::Null) => Ok(vec![TimesheetEntry::sample()]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                TimesheetEntry::from_json(item)
                    .map_err(|source| InputError::InvalidEntry { index, source })
            })
            .collect(),
        Some(_) => Err(InputError::EntriesNotAnArray),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use timesheets::entry::SAMPLE_ENTRY;

    fn sample() -> Value {
        serde_json::from_str(SAMPLE_ENTRY).unwrap()
    }

    fn other_entry() -> Value {
        json!({"user_id": "008", "date": "2017-05-11T09:00:00Z", "project": "Sentinel", "hours": 7.5})
    }

    #[test]
    fn without_entries_the_sample_is_uploaded() {
        let scheduled_event = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}
        });
        for event in [scheduled_event, json!({}), Value::Null] {
            assert_eq!(entries(&event).unwrap(), vec![TimesheetEntry::sample()]);
        }
    }

    #[test]
    fn given_entries_are_validated_and_kept_in_order() {
        let event = json!({"entries": [sample(), other_entry()]});
        let got = entries(&event).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], TimesheetEntry::sample());
        assert_eq!(got[1].user_id, "008");
        assert_eq!(got[1].hours, 7.5);
    }

    #[test]
    fn a_dead_letter_record_is_its_failed_event_and_other_shapes_are_refused() {
        let failed = json!({"id": "run-7", "entries": [other_entry()]});
        let record = json!({
            "version": "1.0", "timestamp": "2026-11-30T06:03:00.000Z",
            "requestContext": {"requestId": "e4b46cbf", "functionArn": "arn:aws:lambda:us-east-1:1:function:job:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": failed.clone(),
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": "JobError", "errorMessage": "1 of 1 batches failed"}
        });
        assert_eq!(parse(&record).unwrap(), parse(&failed).unwrap());
        assert_eq!(parse(&record).unwrap().run_id.as_deref(), Some("run-7"));

        let unknown = |name: &str| InputError::UnknownMember {
            name: name.to_owned(),
        };
        for (event, expected) in [
            (
                json!({"requestPayload": failed.clone()}),
                unknown("requestPayload"),
            ),
            (json!({"id": "run-7", "entry": []}), unknown("entry")),
            (json!([failed]), InputError::NotAnObject),
            (json!("run-7"), InputError::NotAnObject),
        ] {
            assert_eq!(parse(&event).unwrap_err(), expected, "{event}");
        }
    }

    #[test]
    fn the_run_id_comes_from_the_event() {
        let scheduled_event = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events",
            "time": "2017-05-10T17:00:00Z", "detail": {}
        });
        let input = parse(&scheduled_event).unwrap();
        assert_eq!(
            input.run_id.as_deref(),
            Some("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")
        );
        assert_eq!(input.entries, vec![TimesheetEntry::sample()]);

        let scheduler_input = json!({"id": "2017-05-10T17:00:00Z", "entries": [other_entry()]});
        let input = parse(&scheduler_input).unwrap();
        assert_eq!(input.run_id.as_deref(), Some("2017-05-10T17:00:00Z"));
        assert_eq!(input.entries[0].user_id, "008");

        assert_eq!(parse(&json!({"entries": []})).unwrap().run_id, None);
    }

    #[test]
    fn unusable_run_ids_are_refused() {
        let placeholder = |id: &str| {
            (
                json!(id),
                InputError::UnsubstitutedRunId { id: id.to_owned() },
            )
        };
        for (id, expected) in [
            (json!(""), InputError::EmptyRunId),
            (json!(42), InputError::RunIdNotAString),
            (json!({"t": 1}), InputError::RunIdNotAString),
            placeholder("<aws.scheduler.scheduled-time>"),
            placeholder(
                "arn:aws:scheduler:eu-west-1:1:schedule/default/s/<aws.scheduler.scheduled-time>",
            ),
        ] {
            let error = parse(&json!({ "id": id })).unwrap_err();
            assert_eq!(error, expected, "{id}");
            assert!(error.to_string().starts_with("job input: `id` "), "{error}");
        }
    }

    #[test]
    fn a_bad_entry_is_named_by_index_and_field() {
        let mut bad = other_entry();
        bad["date"] = json!("yesterday");
        let error = entries(&json!({"entries": [sample(), bad]})).unwrap_err();
        let InputError::InvalidEntry { index, source } = &error else {
            panic!("{error:?}");
        };
        assert_eq!((*index, source.field.as_str()), (1, "date"));
        assert_eq!(
            error.to_string(),
            "job input: entries[1]: `date` must be an RFC 3339 date-time such as 2017-05-10T17:40:20.095Z"
        );
        assert_eq!(
            entries(&json!({"entries": "all"})).unwrap_err(),
            InputError::EntriesNotAnArray
        );
    }

    /// The texts users see in a failed invocation's `errorMessage`.
    #[test]
    fn messages_name_what_is_wrong() {
        for (error, text) in [
            (
                InputError::NotAnObject,
                r#"job input: the event must be a JSON object: {"id", "entries"}"#,
            ),
            (
                InputError::UnknownMember {
                    name: "entry".to_owned(),
                },
                r#"job input: unknown member `entry`: expected {"id", "entries"}, a Scheduled Event or a Lambda destination record"#,
            ),
            (InputError::EmptyRunId, "job input: `id` must not be empty"),
            (
                InputError::UnsubstitutedRunId {
                    id: "<aws.scheduler.scheduled-time>".to_owned(),
                },
                "job input: `id` is the unsubstituted placeholder <aws.scheduler.scheduled-time>: use EventBridge Scheduler's context attributes",
            ),
            (
                InputError::RunIdNotAString,
                "job input: `id` must be a string naming the scheduled run",
            ),
            (
                InputError::EntriesNotAnArray,
                "job input: `entries` must be an array of timesheet entries",
            ),
        ] {
            assert_eq!(error.to_string(), text);
        }
    }
}
