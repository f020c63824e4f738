//! The committed events (`events/*.json`, sent by `sam local invoke`, `cargo lambda invoke` and
//! `make run`) carry the scenario's sample entry exactly as its one definition,
//! `timesheets::entry::SAMPLE_ENTRY`: the job's inputs as their `entries`, the API requests as
//! their body. The Python tests read the sample from `events/schedule.json`.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use timesheets::TimesheetEntry;
use timesheets::entry::SAMPLE_ENTRY;

/// Inputs of the job: `{"entries": [sample]}`, with a run `id` or without.
const JOB_INPUTS: [&str; 2] = ["schedule.json", "scheduled-run.json"];
/// Requests to the API (HTTP API v2 and v1, REST API, function URL) whose body is the sample.
const UPLOAD_REQUESTS: [&str; 8] = [
    "base64-body.json",
    "function-url.json",
    "headers-null.json",
    "http-api-v1-payload.json",
    "no-content-type.json",
    "rest-api-v1-stage.json",
    "upload-no-token.json",
    "upload.json",
];
/// No entry: Scheduled Events (the job then sends the sample itself), the SAM environment
/// file, and a body that is deliberately not base64.
const WITHOUT_ENTRY: [&str; 4] = [
    "base64-invalid.json",
    "env.json",
    "scheduled-event.json",
    "warmup-ping.json",
];

fn events() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn text(name: &str) -> String {
    std::fs::read_to_string(events().join(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn event(name: &str) -> Value {
    serde_json::from_str(&text(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

#[test]
fn every_event_file_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(events())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    found.sort();
    let mut listed: Vec<&str> = [&JOB_INPUTS[..], &UPLOAD_REQUESTS, &WITHOUT_ENTRY].concat();
    listed.sort();
    assert_eq!(
        found, listed,
        "a new event file belongs in one of the lists"
    );
}

#[test]
fn the_job_inputs_carry_the_sample() {
    let sample: Value = serde_json::from_str(SAMPLE_ENTRY).unwrap();
    for name in JOB_INPUTS {
        let input = event(name);
        assert_eq!(input["entries"], json!([sample]), "{name}");
        let parsed = timesheets_job::input::parse(&input).unwrap();
        assert_eq!(parsed.entries, [TimesheetEntry::sample()], "{name}");
    }
    // The schedule's input is the sample batch, written as the API documents a batch.
    assert_eq!(
        text("schedule.json").trim(),
        format!(r#"{{"entries": [{SAMPLE_ENTRY}]}}"#)
    );
}

#[test]
fn the_upload_requests_carry_the_sample_as_their_body() {
    for name in UPLOAD_REQUESTS {
        let request = event(name);
        let body = request["body"].as_str().unwrap_or_else(|| panic!("{name}"));
        let body = if request["isBase64Encoded"] == true {
            String::from_utf8(STANDARD.decode(body).unwrap()).unwrap()
        } else {
            body.to_owned()
        };
        assert_eq!(body, SAMPLE_ENTRY, "{name}");
    }
}

#[test]
fn the_others_carry_no_entry() {
    for name in WITHOUT_ENTRY {
        let other = event(name);
        assert_eq!(other.get("entries"), None, "{name}");
        let body = other.get("body").and_then(Value::as_str).unwrap_or("");
        assert!(!body.contains("user_id"), "{name}");
    }
}
