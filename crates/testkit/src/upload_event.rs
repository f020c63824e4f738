//! The upload events of `events/` as a test or the bench sends them to a function: with a
//! bearer or DPoP `authorization`, a proof, an idempotency key, a body; and the upload URL a
//! DPoP proof names for them.

use serde_json::Value;

/// `events/upload.json`, an HTTP API payload v2.0: the event every function gets.
pub const UPLOAD_EVENT: &str = include_str!("../../../events/upload.json");

/// `events/rest-api-v1-stage.json`, a REST API payload v1.0 on a stage, with
/// `multiValueHeaders` beside `headers`.
pub const REST_UPLOAD_EVENT: &str = include_str!("../../../events/rest-api-v1-stage.json");

/// Which API Gateway payload an upload event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// HTTP API, payload format 2.0 ([`UPLOAD_EVENT`]).
    HttpApiV2,
    /// REST API, payload format 1.0 ([`REST_UPLOAD_EVENT`]).
    RestV1,
}

/// The upload event with `authorization`, one `dpop` header when `proof` is given, and `body`.
pub fn event(authorization: &str, proof: Option<&str>, body: &str) -> Vec<u8> {
    event_as(Payload::HttpApiV2, authorization, proof, body)
}

/// [`event`] in the `payload` format.
pub fn event_as(payload: Payload, authorization: &str, proof: Option<&str>, body: &str) -> Vec<u8> {
    let text = match payload {
        Payload::HttpApiV2 => UPLOAD_EVENT,
        Payload::RestV1 => REST_UPLOAD_EVENT,
    };
    let mut event: Value = serde_json::from_str(text).expect("the events are JSON");
    set_header(&mut event, "authorization", authorization);
    if let Some(proof) = proof {
        set_header(&mut event, "dpop", proof);
    }
    set_header(&mut event, "content-length", &body.len().to_string());
    event["body"] = Value::String(body.to_owned());
    event.to_string().into_bytes()
}

/// `event` with `Idempotency-Key: key`.
pub fn with_key(event: &[u8], key: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(event).expect("an upload event");
    set_header(&mut event, "idempotency-key", key);
    event.to_string().into_bytes()
}

/// Sets one header of `event`, in `multiValueHeaders` too when the event has them (payload
/// 1.0), so both views of the headers agree whichever lambda_http reads.
fn set_header(event: &mut Value, name: &str, value: &str) {
    event["headers"][name] = Value::String(value.to_owned());
    if event["multiValueHeaders"].is_object() {
        event["multiValueHeaders"][name] = serde_json::json!([value]);
    }
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

#[cfg(test)]
mod tests {
    use lambda_http::Body;

    use super::*;

    #[test]
    fn lambda_http_reads_the_headers_and_body_of_both_payloads() {
        for payload in [Payload::HttpApiV2, Payload::RestV1] {
            let event = with_key(&event_as(payload, "Bearer t", Some("p"), "{}"), "k");
            let request = lambda_http::request::from_str(std::str::from_utf8(&event).unwrap())
                .expect("an API Gateway request");
            let header = |name| request.headers().get(name).map(|v| v.to_str().unwrap());
            assert_eq!(header("authorization"), Some("Bearer t"), "{payload:?}");
            assert_eq!(header("dpop"), Some("p"), "{payload:?}");
            assert_eq!(header("idempotency-key"), Some("k"), "{payload:?}");
            // A REST API on a stage names the stage too (`/prod/...`); the API routes both.
            assert!(request.uri().path().ends_with("/timesheets/upload"));
            assert!(matches!(request.body(), Body::Text(body) if body == "{}"));
        }
    }
}
