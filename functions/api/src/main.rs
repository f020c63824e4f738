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
    // Each dependency its own bound: the issuers' discovery and keys AUTH_JWKS_TIMEOUT_SECONDS
    // per exchange, DynamoDB DYNAMODB_TIMEOUT_SECONDS per attempt (the SDK's TimeoutConfig).
    let jwks_http = config.jwks_client()?;
    let sdk_http = timesheets::http_client::build_for_sdk()?;
    let verifier = timesheets_api::verifier(&config, jwks_http);
    // The issuer's keys are fetched while the SDK is set up, so the first request does not
    // wait for them; bounded by AUTH_JWKS_TIMEOUT_SECONDS, and a failure does not fail init.
    let prefetch = tokio::time::timeout(config.jwks_timeout, verifier.prefetch_keys());
    let (aws, prefetched) = tokio::join!(timesheets::sdk_http::sdk_config(&sdk_http), prefetch);
    if prefetched.is_err() {
        tracing::warn!("JWKS prefetch timed out; the first token fetches");
    }
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(config.dynamodb(&aws));
    let store =
        DynamoDbStore::new(dynamodb, &config.table).with_id_block_size(config.id_block_size);
    let api = UploadApi::new(verifier, store);
    let api = &api;
    // Raw payloads, so events lambda_http cannot read or would panic on get a clean 400; as
    // JSON text, read once into lambda_http's request rather than via a serde_json::Value.
    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        Ok::<_, Error>(timesheets_api::event::handle_text(api, event).await)
    });
    metrics_cloudwatch_embedded::lambda::service::run(metrics, handler).await
}
