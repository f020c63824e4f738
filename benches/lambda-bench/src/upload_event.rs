//! `events/upload.json` as the bench sends it: with a bearer or DPoP `authorization`, a proof,
//! a body; and the upload URL a DPoP proof names for it.

use serde_json::Value;

/// `events/upload.json`, an HTTP API payload v2.0: the event every function gets.
pub const UPLOAD_EVENT: &str = include_str!("../../../events/upload.json");

/// The upload event with `authorization`, one `dpop` header when `proof` is given, and `body`.
pub fn event(authorization: &str, proof: Option<&str>, body: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_str(UPLOAD_EVENT).expect("events/upload.json is JSON");
    event["headers"]["authorization"] = Value::String(authorization.to_owned());
    if let Some(proof) = proof {
        event["headers"]["dpop"] = Value::String(proof.to_owned());
    }
    event["headers"]["content-length"] = Value::String(body.len().to_string());
    event["body"] = Value::String(body.to_owned());
    event.to_string().into_bytes()
}

/// `event` with `Idempotency-Key: key`.
pub fn with_key(event: &[u8], key: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(event).expect("an upload event");
    event["headers"]["idempotency-key"] = Value::String(key.to_owned());
    event.to_string().into_bytes()
}

/// The upload event with a bearer `token` and `body`.
pub fn upload_event(token: &str, body: &str) -> Vec<u8> {
    event(&format!("Bearer {token}"), None, body)
}

/// The body of `events/upload.json`: one valid entry, stored with `201`.
pub fn stored_body() -> String {
    let event: Value = serde_json::from_str(UPLOAD_EVENT).expect("events/upload.json is JSON");
    event["body"].as_str().expect("a body").to_owned()
}

/// The upload URL a proof names: `https://` (the event's `x-forwarded-proto`), its `host`
/// and its raw path, as the API rebuilds it without `AUTH_DPOP_HTU`.
pub fn htu() -> String {
    let event: Value = serde_json::from_str(UPLOAD_EVENT).expect("JSON event");
    let header = |name: &str| event["headers"][name].as_str().expect("header").to_owned();
    format!(
        "{}://{}{}",
        header("x-forwarded-proto"),
        header("host"),
        event["rawPath"].as_str().expect("rawPath")
    )
}
