//! Logs and metrics of both functions.
//!
//! Logs: `tracing` through `lambda_runtime`'s subscriber, which honours `AWS_LAMBDA_LOG_FORMAT`
//! (JSON in the template) and `AWS_LAMBDA_LOG_LEVEL`, and puts every line of an invocation in a
//! span carrying its `requestId`.
//! Metrics: CloudWatch Embedded Metric Format documents on stdout, flushed after each
//! invocation by `metrics_cloudwatch_embedded`; no `PutMetricData` call, no extra latency.

use metrics_cloudwatch_embedded::Collector;

/// CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "Timesheets";

/// Metric names, one place so dashboards and alarms match the code.
pub mod metric {
    /// Timesheets stored by the API (count of entries, replays excluded).
    pub const UPLOADS_CREATED: &str = "UploadsCreated";
    /// Requests refused for authentication or authorization; dimension `Reason`
    /// (`missing_token`, `invalid_request`, `invalid_token:<cause>`, `insufficient_scope`).
    pub const AUTH_FAILURES: &str = "AuthFailures";
    /// Requests refused for another reason; dimension `Error` (the body's `error` code).
    pub const UPLOADS_REFUSED: &str = "UploadsRefused";
    /// Job batches stored (or replayed) by the API.
    pub const BATCHES_SUCCEEDED: &str = "BatchesSucceeded";
    /// Job batches that failed after retries.
    pub const BATCHES_FAILED: &str = "BatchesFailed";
    /// Requests the job made to the token endpoint.
    pub const TOKEN_REQUESTS: &str = "TokenRequests";
}

/// Starts logging and the metrics recorder for the function `function` (the `Function`
/// dimension; the Lambda function name when deployed). Call once, first thing in `main`.
///
/// # Errors
/// When a metrics recorder is already installed.
pub fn init(
    function: &str,
) -> Result<&'static Collector, Box<dyn std::error::Error + Send + Sync>> {
    lambda_runtime::tracing::init_default_subscriber();
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| function.to_owned());
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("Function", name)
        .lambda_cold_start_metric("ColdStart")
        .with_lambda_request_id("RequestId")
        .init()
        .map_err(|error| error.to_string())?;
    Ok(collector)
}
