//! Lambda entry point of the scheduled function: reads configuration, builds the shared state
//! once, then runs the job per EventBridge invocation.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use timesheets::config::ProcessEnv;
use timesheets_job::{JobConfig, RunContext, TimesheetsJob};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = timesheets::telemetry::init("timesheets-job")?;
    let config =
        JobConfig::from_source(&ProcessEnv).inspect_err(|error| tracing::error!("{error}"))?;
    // One client, one TLS configuration and pool, for the issuer, the API and Secrets Manager.
    let http = timesheets::http_client::build(config.http_timeout)?;
    let aws = timesheets::sdk_http::sdk_config(&http).await;
    let job = TimesheetsJob::from_config(&config, &aws, http).await?;
    let job = &job;
    let handler = service_fn(move |event: LambdaEvent<Value>| async move {
        let context = RunContext::from_lambda(&event.context);
        job.run(&event.payload, context)
            .await
            .inspect_err(|error| tracing::error!(%error, "job failed"))
    });
    // Flushes the Embedded Metric Format document after each invocation.
    metrics_cloudwatch_embedded::lambda::service::run(metrics, handler).await
}
