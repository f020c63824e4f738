//! The job's input: what the EventBridge schedule delivers.
//!
//! Two shapes arrive:
//! - a full EventBridge "Scheduled Event" (`{"id", "time", "detail", ...}`, from a rule
//!   without Input): its `id` names the run, and it carries no entries, so the sample is sent;
//! - the schedule's constant Input `{"entries": [...], "id": "..."}`, where the template fills
//!   `id` with `<aws.scheduler.schedule-arn>/<aws.scheduler.scheduled-time>`: the same on every
//!   retry of one scheduled run.

use serde_json::Value;
use timesheets::TimesheetEntry;

/// The input is not usable; the message names the entry and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job input: {0}")]
pub struct InputError(String);

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
        Some(Value::String(id)) if id.is_empty() => {
            return Err(InputError("`id` must not be empty".to_owned()));
        }
        Some(Value::String(id)) if id.contains("<aws.") => {
            return Err(InputError(format!(
                "`id` is the unsubstituted placeholder {id}: use EventBridge Scheduler's context attributes"
            )));
        }
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => {
            return Err(InputError(
                "`id` must be a string naming the scheduled run".to_owned(),
            ));
        }
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
            Some(name) => Err(InputError(format!(
                "unknown member `{name}`: expected {{\"id\", \"entries\"}}, a Scheduled Event or a Lambda destination record"
            ))),
            None => Ok(()),
        },
        _ => Err(InputError(
            "the event must be a JSON object: {\"id\", \"entries\"}".to_owned(),
        )),
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
            assert_eq!(entries(&event).unwrap(), vec![TimesheetEntry::sample()]);
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
    fn a_dead_letter_record_is_its_failed_event_and_other_shapes_are_refused() {
        let failed = json!({"id": "run-7", "entries": [
            {"user_id": "008", "date": "2017-05-11T09:00:00Z", "project": "Sentinel", "hours": 7.5}
        ]});
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

        for (event, why) in [
            (
                json!({"requestPayload": failed.clone()}),
                "unknown member `requestPayload`",
            ),
            (
                json!({"id": "run-7", "entry": []}),
                "unknown member `entry`",
            ),
            (json!([failed]), "must be a JSON object"),
        ] {
            let error = parse(&event).unwrap_err().to_string();
            assert!(error.contains(why), "{error}");
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

        let scheduler_input = json!({"id": "2017-05-10T17:00:00Z", "entries": [
            {"user_id": "008", "date": "2017-05-11T09:00:00Z", "project": "Sentinel", "hours": 7.5}
        ]});
        let input = parse(&scheduler_input).unwrap();
        assert_eq!(input.run_id.as_deref(), Some("2017-05-10T17:00:00Z"));
        assert_eq!(input.entries[0].user_id, "008");

        assert_eq!(parse(&json!({"entries": []})).unwrap().run_id, None);
    }

    #[test]
    fn unusable_run_ids_are_refused() {
        for id in [
            json!(""),
            json!(42),
            json!({"t": 1}),
            json!("<aws.scheduler.scheduled-time>"),
            json!(
                "arn:aws:scheduler:eu-west-1:1:schedule/default/s/<aws.scheduler.scheduled-time>"
            ),
        ] {
            let error = parse(&json!({"id": id})).unwrap_err().to_string();
            assert!(error.starts_with("job input: `id` "), "{error}");
        }
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
