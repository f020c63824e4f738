//! Lambda entry point of the API function: reads configuration, builds the shared state once,
//! then serves invocations, flushing metrics after each.

use lambda_http::{Error, LambdaEvent, service_fn};
use timesheets::config::ProcessEnv;
use timesheets_api::store::dynamodb::DynamoDbStore;
use timesheets_api::{ApiConfig, UploadApi};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = timesheets::telemetry::init("timesheets-api")?;
    let config =
        ApiConfig::from_source(&ProcessEnv).inspect_err(|error| tracing::error!("{error}"))?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoDbStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.table);
    let api = UploadApi::new(timesheets_api::verifier(&config)?, store);
    let api = &api;
    // Raw payloads, so events lambda_http cannot read or would panic on get a clean 400.
    let handler = service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(timesheets_api::event::handle(api, event).await)
    });
    metrics_cloudwatch_embedded::lambda::service::run(metrics, handler).await
}
