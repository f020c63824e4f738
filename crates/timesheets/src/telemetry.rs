//! Logs and metrics of both functions.
//!
//! Logs: `tracing` through `tracing-subscriber` (as re-exported by `lambda_runtime`), set up like
//! `lambda_runtime::tracing::init_default_subscriber`: `AWS_LAMBDA_LOG_FORMAT` (JSON in the
//! template), `AWS_LAMBDA_LOG_LEVEL` then `RUST_LOG` (default INFO), every line of an
//! invocation in a span carrying its `requestId`. Unlike it, never more than DEBUG: at TRACE the
//! runtime logs the raw event (its `Authorization` header) and the AWS SDK every raw response
//! (the secret's value from Secrets Manager); and in JSON one flat object per line (the `json`
//! module), so Logs Insights reads `status` and `requestId` by those names.
//! Metrics: CloudWatch Embedded Metric Format documents on stdout, flushed after each
//! invocation by `metrics_cloudwatch_embedded`; no `PutMetricData` call, no extra latency.

use std::str::FromStr;

use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use lambda_runtime::tracing::subscriber::fmt;
use lambda_runtime::tracing::subscriber::fmt::MakeWriter;
use lambda_runtime::tracing::subscriber::fmt::format::JsonFields;
use lambda_runtime::tracing::subscriber::util::SubscriberInitExt;
use metrics_cloudwatch_embedded::Collector;

mod json;

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
    let level = log_level(requested.ok().as_deref());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        json_logs(level, std::io::stdout).init();
    } else {
        fmt()
            .with_target(false)
            .without_time()
            .with_max_level(level)
            .init();
    }
}

/// The JSON log subscriber at `level`, writing one flat object per line to `writer` (stdout
/// in Lambda, a buffer in tests), formatted by [`json::FlatJson`].
fn json_logs<W>(level: LevelFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    fmt()
        .with_max_level(level)
        .fmt_fields(JsonFields::new())
        .event_format(json::FlatJson)
        .with_writer(writer)
        .finish()
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
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};

    use super::*;

    /// The lines a subscriber wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'writer> MakeWriter<'writer> for Buffer {
        type Writer = Self;

        fn make_writer(&'writer self) -> Self {
            self.clone()
        }
    }

    /// The lines `log` writes at `level`.
    fn json_text(level: LevelFilter, log: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(json_logs(level, buffer.clone()), log);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    /// The lines `log` writes at `level`, each parsed.
    fn json_lines(level: LevelFilter, log: impl FnOnce()) -> Vec<Value> {
        json_text(level, log)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn json_lines_are_flat_with_the_invocation_span_fields() {
        let log = || {
            // The span lambda_runtime opens around each invocation.
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "8f50-aa1");
            let _entered = span.enter();
            tracing::info!(
                status = 401,
                error = "invalid_token",
                client = "-",
                "upload refused"
            );
            tracing::debug!("not at INFO");
        };
        let text = json_text(LevelFilter::INFO, log);
        // Lambda's own order: timestamp, level, message, requestId, then the rest.
        assert!(text.starts_with(r#"{"timestamp":""#), "{text}");
        assert!(
            text.contains(r#"Z","level":"INFO","message":"upload refused","requestId":"8f50-aa1","status":401,"#),
            "{text}"
        );
        let lines = json_lines(LevelFilter::INFO, log);
        let [line] = lines.as_slice() else {
            panic!("one line expected: {lines:?}")
        };
        let timestamp = line["timestamp"].as_str().unwrap();
        time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
            .unwrap();
        let mut rest = line.clone();
        rest.as_object_mut().unwrap().remove("timestamp");
        assert_eq!(
            rest,
            json!({
                "level": "INFO",
                "message": "upload refused",
                "requestId": "8f50-aa1",
                "status": 401,
                "error": "invalid_token",
                "client": "-",
            })
        );
    }

    #[test]
    fn json_lines_keep_one_value_per_name() {
        let lines = json_lines(LevelFilter::INFO, || {
            let outer = tracing::info_span!("outer", requestId = "outer", batch = 1);
            let _outer = outer.enter();
            let inner = tracing::info_span!("inner", batch = 2);
            let _inner = inner.enter();
            let error = std::io::Error::other("refused");
            tracing::error!(batch = 3, error = &error as &dyn std::error::Error, ids = ?[1, 2], "batch failed");
        });
        assert_eq!(lines[0]["level"], "ERROR");
        assert_eq!(lines[0]["requestId"], "outer");
        assert_eq!(lines[0]["batch"], 3);
        assert_eq!(lines[0]["error"], "refused");
        assert_eq!(lines[0]["ids"], "[1, 2]");
        assert_eq!(lines[0].as_object().unwrap().len(), 7, "{}", lines[0]);
    }

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
