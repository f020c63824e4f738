//! Lambda entry point of the scheduled function: reads configuration, builds the shared state
//! once, then runs the job per EventBridge invocation.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use timesheets::config::ProcessEnv;
use timesheets_job::{JobConfig, TimesheetsJob};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config =
        JobConfig::from_source(&ProcessEnv).inspect_err(|error| tracing::error!("{error}"))?;
    let aws = aws_config::load_from_env().await;
    let job = TimesheetsJob::from_config(&config, &aws).await?;
    let job = &job;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        job.run(&event.payload)
            .await
            .inspect_err(|error| tracing::error!(%error, "job failed"))
    }))
    .await
}
