//! The API's CloudWatch Embedded Metric Format output: what an operator's dashboard reads.

mod common;

use common::*;
use serde_json::{Value, json};

/// Flushes the recorder and returns `{metric name: (dimensions, value)}` of every document.
fn flushed(collector: &metrics_cloudwatch_embedded::Collector) -> Vec<Value> {
    let mut out = Vec::new();
    collector.flush(&mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn uploads_and_refusals_are_counted_by_reason() {
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace("Timesheets")
        .with_dimension("Function", "timesheets-api")
        .init()
        .unwrap();
    let harness = Harness::start().await;
    let now = testkit::keys::now();
    harness
        .upload_with(&harness.key.mint(&valid_claims()))
        .await;
    harness.call(upload(None, SAMPLE)).await;
    let expired = claims_with(json!({"exp": now - 600, "iat": now - 4200}));
    harness.upload_with(&harness.key.mint(&expired)).await;
    harness
        .upload_with(
            &harness
                .key
                .mint(&claims_with(json!({"scope": "batch:read"}))),
        )
        .await;

    let documents = flushed(collector);
    let value = |name: &str, reason: Option<&str>| {
        documents
            .iter()
            .find(|doc| doc.get(name).is_some() && reason.is_none_or(|r| doc["Reason"] == r))
            .map(|doc| doc[name].clone())
    };
    assert_eq!(value("UploadsCreated", None), Some(json!(1)));
    assert_eq!(value("AuthFailures", Some("missing_token")), Some(json!(1)));
    assert_eq!(
        value("AuthFailures", Some("invalid_token:expired")),
        Some(json!(1))
    );
    assert_eq!(
        value("AuthFailures", Some("insufficient_scope")),
        Some(json!(1))
    );
    let document = documents
        .iter()
        .find(|doc| doc.get("UploadsCreated").is_some())
        .unwrap();
    assert_eq!(
        document["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Timesheets"
    );
    assert_eq!(document["Function"], "timesheets-api");
}
