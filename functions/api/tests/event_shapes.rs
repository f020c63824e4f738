//! The committed events in `events/` through the invocation path `main` runs
//! (`timesheets_api::event::handle`: lambda_http's own deserialisation, conversion and
//! response formatting around the handler), asserting what the caller gets back.
//!
//! Events that carry a token hold the placeholder `REPLACE_WITH_ACCESS_TOKEN`; a token signed
//! by the test's key replaces it at run time.

mod common;

use std::path::PathBuf;

use common::*;
use lambda_http::{Context, LambdaEvent, RequestExt};
use serde_json::{Value, json};
use timesheets_api::event::{self, Incoming};

const PLACEHOLDER: &str = "REPLACE_WITH_ACCESS_TOKEN";

fn event_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The event with the placeholder replaced by `token`.
fn event_with(name: &str, token: &str) -> Value {
    serde_json::from_str(&event_text(name).replace(PLACEHOLDER, token)).expect("event is JSON")
}

/// What the invoker (API Gateway, the function URL) receives.
struct Invoked {
    raw: Value,
    status: u64,
    body: Value,
}

impl Invoked {
    /// A response header, from `headers` or `multiValueHeaders` (REST format).
    fn header(&self, name: &str) -> Option<String> {
        let single = self.raw["headers"][name].as_str().map(str::to_owned);
        single.or_else(|| {
            self.raw["multiValueHeaders"][name][0]
                .as_str()
                .map(str::to_owned)
        })
    }
}

async fn invoke(harness: &Harness, payload: Value) -> Invoked {
    let raw = event::handle(&harness.api, LambdaEvent::new(payload, Context::default())).await;
    let status = raw["statusCode"].as_u64().expect("statusCode");
    let body = match raw["body"].as_str() {
        Some(text) => serde_json::from_str(text).expect("a JSON body"),
        None => Value::Null,
    };
    Invoked { raw, status, body }
}

fn created(invoked: &Invoked) {
    assert_eq!(invoked.status, 201, "{}", invoked.body);
    assert_eq!(
        invoked.body,
        json!({"message": "Created timesheet 1 for employee 007.", "id": 1})
    );
    assert_eq!(
        invoked.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn http_api_v2_event_is_served() {
    let harness = Harness::start().await;
    let answer = invoke(&harness, event_with("upload.json", &harness.token())).await;
    created(&answer);
    assert_eq!(harness.stored(), 1);
    // The HTTP API (2.0) response format, which has `cookies`.
    assert!(answer.raw["cookies"].is_array(), "{}", answer.raw);
}

#[tokio::test]
async fn rest_api_event_on_a_stage_is_routed() {
    let text = event_text("rest-api-v1-stage.json");
    // lambda_http puts the stage in the URI; the route must use the path without it.
    let request = lambda_http::request::from_str(&text).unwrap();
    assert_eq!(request.uri().path(), "/prod/timesheets/upload");
    assert_eq!(request.raw_http_path(), "/timesheets/upload");

    let harness = Harness::start().await;
    let answer = invoke(
        &harness,
        event_with("rest-api-v1-stage.json", &harness.token()),
    )
    .await;
    created(&answer);
    assert_eq!(harness.stored(), 1);
    // The REST (1.0) response format, which has no `cookies`.
    assert!(answer.raw.get("cookies").is_none(), "{}", answer.raw);
    assert!(
        answer.raw["multiValueHeaders"].is_object(),
        "{}",
        answer.raw
    );
}

#[tokio::test]
async fn rest_api_behind_a_custom_domain_base_path_is_routed() {
    let harness = Harness::start().await;
    let mut event = event_with("rest-api-v1-stage.json", &harness.token());
    // A base-path mapping `timesheets-api` on a custom domain: the path carries it, the
    // resource path does not.
    event["path"] = json!("/timesheets-api/timesheets/upload");
    let answer = invoke(&harness, event).await;
    created(&answer);
    assert_eq!(harness.stored(), 1);
}

#[tokio::test]
async fn http_api_with_payload_format_1_is_served() {
    let harness = Harness::start().await;
    let answer = invoke(
        &harness,
        event_with("http-api-v1-payload.json", &harness.token()),
    )
    .await;
    created(&answer);
    assert_eq!(harness.stored(), 1);
}

#[tokio::test]
async fn function_url_event_is_served() {
    let harness = Harness::start().await;
    let answer = invoke(&harness, event_with("function-url.json", &harness.token())).await;
    created(&answer);
    assert_eq!(harness.stored(), 1);
}

#[tokio::test]
async fn base64_body_is_decoded() {
    let harness = Harness::start().await;
    let answer = invoke(&harness, event_with("base64-body.json", &harness.token())).await;
    created(&answer);
    assert_eq!(harness.api.store().rows()[0].entry.project, "StoreZero");
}

#[tokio::test]
async fn invalid_base64_body_is_400_not_a_crash() {
    let harness = Harness::start().await;
    let payload = event_with("base64-invalid.json", &harness.token());
    assert!(matches!(
        event::classify(&payload.to_string()),
        Incoming::UndecodableBody(_)
    ));
    let answer = invoke(&harness, payload).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "invalid_body");
    assert_eq!(
        answer.body["error_description"],
        "the body is marked base64-encoded (isBase64Encoded) but is not base64"
    );
    assert_eq!(harness.stored(), 0);
}

#[test]
fn lambda_http_alone_panics_on_invalid_base64() {
    // Why event.rs looks first: if this stops panicking, event.rs's check can go.
    let text = event_text("base64-invalid.json");
    let converted = std::panic::catch_unwind(|| lambda_http::request::from_str(&text));
    assert!(
        converted.is_err(),
        "lambda_http now handles invalid base64 itself"
    );
}

#[tokio::test]
async fn null_headers_mean_no_token() {
    let harness = Harness::start().await;
    let answer = invoke(&harness, event_with("headers-null.json", "unused")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "missing_token");
    assert_eq!(
        answer.header("www-authenticate").as_deref(),
        Some(r#"Bearer realm="timesheets""#)
    );
    assert_eq!(harness.server.hits(), 0);
}

#[tokio::test]
async fn post_without_content_type_is_415() {
    let harness = Harness::start().await;
    let answer = invoke(
        &harness,
        event_with("no-content-type.json", &harness.token()),
    )
    .await;
    assert_eq!(answer.status, 415);
    assert_eq!(answer.body["error"], "unsupported_media_type");
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn event_without_a_token_is_401() {
    let harness = Harness::start().await;
    let answer = invoke(&harness, event_with("upload-no-token.json", "unused")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "missing_token");
}

#[tokio::test]
async fn scheduled_events_get_a_clean_400() {
    for name in ["warmup-ping.json", "scheduled-event.json", "schedule.json"] {
        let harness = Harness::start().await;
        let payload = event_with(name, "unused");
        assert!(
            matches!(event::classify(&payload.to_string()), Incoming::NotHttp),
            "{name}"
        );
        let answer = invoke(&harness, payload).await;
        assert_eq!(answer.status, 400, "{name}");
        assert_eq!(answer.body["error"], "unsupported_event", "{name}");
        assert_eq!(harness.stored(), 0);
        assert_eq!(
            harness.server.hits(),
            0,
            "{name}: no token work for a non-HTTP event"
        );
    }
}

#[tokio::test]
async fn an_event_lambda_http_cannot_convert_gets_a_clean_400() {
    // lambda_http panics building a URI with this query; the invocation answers 400 instead.
    let harness = Harness::start().await;
    let mut payload = event_with("upload.json", &harness.token());
    payload["rawQueryString"] = json!("run=a b");
    let answer = invoke(&harness, payload).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "invalid_request");
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn odd_payloads_get_a_clean_400() {
    let harness = Harness::start().await;
    for payload in [json!(null), json!([]), json!("ping"), json!(42), json!({})] {
        let answer = invoke(&harness, payload.clone()).await;
        assert_eq!(answer.status, 400, "{payload}");
        assert_eq!(answer.body["error"], "unsupported_event", "{payload}");
    }
}
