//! Lambda entry point of the API function: reads configuration, builds the shared state once,
//! then serves invocations, flushing metrics after each.

use lambda_http::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use timesheets::config::ProcessEnv;
use timesheets_api::store::dynamodb::DynamoDbStore;
use timesheets_api::{ApiConfig, UploadApi};

// A Lambda sandbox serves one invocation at a time: one thread does it all, without the
// worker threads, their start-up and the cross-thread wake-ups of the multi-thread runtime.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let metrics = timesheets::telemetry::init("timesheets-api")?;
    let config =
        ApiConfig::from_source(&ProcessEnv).inspect_err(|error| tracing::error!("{error}"))?;
    // One client, one TLS configuration and pool, for the JWKS and for DynamoDB.
    let http = timesheets::http_client::build(config.jwks_timeout)?;
    let verifier = timesheets_api::verifier(&config, http.clone());
    // The issuer's keys are fetched while the SDK is set up, so the first request does not
    // wait for them; bounded by AUTH_JWKS_TIMEOUT_SECONDS, and a failure does not fail init.
    let prefetch = tokio::time::timeout(config.jwks_timeout, verifier.prefetch_keys());
    let (aws, prefetched) = tokio::join!(timesheets::sdk_http::sdk_config(&http), prefetch);
    if prefetched.is_err() {
        tracing::warn!("JWKS prefetch timed out; the first token fetches");
    }
    let store = DynamoDbStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.table);
    let api = UploadApi::new(verifier, store);
    let api = &api;
    // Raw payloads, so events lambda_http cannot read or would panic on get a clean 400; as
    // JSON text, read once into lambda_http's request rather than via a serde_json::Value.
    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        Ok::<_, Error>(timesheets_api::event::handle_text(api, event).await)
    });
    metrics_cloudwatch_embedded::lambda::service::run(metrics, handler).await
}
