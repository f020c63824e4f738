//! Lambda entry point of the API function: reads configuration, builds the shared state once,
//! then serves invocations, flushing metrics after each.

use lambda_http::{Error, service_fn};
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
    let handler =
        service_fn(move |request| async move { Ok::<_, Error>(api.handle(request).await) });
    metrics_cloudwatch_embedded::lambda::service::run_http(metrics, handler).await
}
