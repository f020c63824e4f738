//! Lambda entry point of the API function: reads configuration, builds the shared state once,
//! then serves invocations (one at a time, or several at once under `AWS_LAMBDA_MAX_CONCURRENCY`),
//! flushing each invocation's metrics when it ends.

use lambda_http::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use timesheets::config::ProcessEnv;
use timesheets_api::invocations::Invocations;
use timesheets_api::store::dynamodb::DynamoDbStore;
use timesheets_api::{ApiConfig, UploadApi};

const FUNCTION: &str = "timesheets-api";

fn main() -> Result<(), Error> {
    let invocations = Invocations::from_source(&ProcessEnv);
    invocations.runtime()?.block_on(serve(invocations))
}

async fn serve(invocations: Invocations) -> Result<(), Error> {
    let metrics = timesheets::telemetry::init(FUNCTION)?;
    let config =
        ApiConfig::from_source(&ProcessEnv).inspect_err(|error| tracing::error!("{error}"))?;
    // One client, each dependency its own bound: the issuers' discovery and keys
    // AUTH_JWKS_TIMEOUT_SECONDS per exchange, DynamoDB DYNAMODB_TIMEOUT_SECONDS per attempt.
    let http = timesheets::http_client::build_bounded_by_caller()?;
    let verifier = timesheets_api::verifier(&config, http.clone());
    // The issuer's keys are fetched while the SDK is set up, so the first request does not
    // wait for them; bounded by AUTH_JWKS_TIMEOUT_SECONDS, and a failure does not fail init.
    let prefetch = tokio::time::timeout(config.jwks_timeout(), verifier.prefetch_keys());
    let (aws, prefetched) = tokio::join!(timesheets::sdk_http::sdk_config(&http), prefetch);
    if prefetched.is_err() {
        tracing::warn!("JWKS prefetch timed out; the first token fetches");
    }
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(config.dynamodb(&aws));
    let store =
        DynamoDbStore::new(dynamodb, &config.table).with_id_block_size(config.id_block_size);
    // One for the life of the process, shared by every invocation (and worker) in it.
    let api: &'static UploadApi<DynamoDbStore> =
        Box::leak(Box::new(UploadApi::new(verifier, store)));
    // Raw payloads, so events lambda_http cannot read or would panic on get a clean 400; as
    // JSON text, read once into lambda_http's request rather than via a serde_json::Value.
    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        Ok::<_, Error>(timesheets_api::event::handle_text(api, event).await)
    });
    invocations.serve(FUNCTION, metrics, handler).await
}
