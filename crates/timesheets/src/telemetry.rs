//! Logs and metrics of both functions.
//!
//! Logs: `tracing` through `tracing-subscriber` (as re-exported by `lambda_runtime`), set up like
//! `lambda_runtime::tracing::init_default_subscriber`: `AWS_LAMBDA_LOG_FORMAT` (JSON in the
//! template), `AWS_LAMBDA_LOG_LEVEL` then `RUST_LOG` (default INFO), every line of an
//! invocation in a span carrying its `requestId`. Unlike it, never more than DEBUG: at TRACE the
//! runtime logs the raw event (its `Authorization` header) and the AWS SDK every raw response
//! (the secret's value from Secrets Manager).
//! Metrics: CloudWatch Embedded Metric Format documents on stdout, flushed after each
//! invocation by `metrics_cloudwatch_embedded`; no `PutMetricData` call, no extra latency.

use std::str::FromStr;

use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use lambda_runtime::tracing::subscriber::fmt;
use metrics_cloudwatch_embedded::Collector;

/// The most verbose level ever logged (see the module documentation).
pub const MAX_LOG_LEVEL: LevelFilter = LevelFilter::DEBUG;

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
    init_logs();
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

fn init_logs() {
    let requested = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let logs = fmt()
        .with_target(false)
        .without_time()
        .with_max_level(log_level(requested.ok().as_deref()));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
}

/// The level to log at for the requested one (Lambda's `TRACE` … `FATAL`, any case): INFO when
/// absent or not a level, at most [`MAX_LOG_LEVEL`].
pub fn log_level(requested: Option<&str>) -> LevelFilter {
    requested
        // Lambda's advanced logging controls have FATAL; tracing's highest is ERROR.
        .map(|text| match text.eq_ignore_ascii_case("fatal") {
            true => "error",
            false => text,
        })
        .and_then(|text| LevelFilter::from_str(text).ok())
        .unwrap_or(LevelFilter::INFO)
        .min(MAX_LOG_LEVEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_is_never_logged() {
        assert_eq!(log_level(Some("TRACE")), LevelFilter::DEBUG);
        assert_eq!(log_level(Some("trace")), LevelFilter::DEBUG);
        assert_eq!(log_level(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(log_level(Some("WARN")), LevelFilter::WARN);
        assert_eq!(log_level(Some("error")), LevelFilter::ERROR);
        assert_eq!(log_level(Some("FATAL")), LevelFilter::ERROR);
        assert_eq!(log_level(None), LevelFilter::INFO);
        assert_eq!(log_level(Some("timesheets=trace")), LevelFilter::INFO);
    }
}
