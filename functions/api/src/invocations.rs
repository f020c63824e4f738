//! How the function takes invocations: one at a time (classic Lambda), or several at once in
//! one process (Lambda Managed Instances), as `AWS_LAMBDA_MAX_CONCURRENCY` says.
//! <https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances.html>

use std::future::Future;

use lambda_http::lambda_runtime::layers::TracingLayer;
use lambda_http::lambda_runtime::{Diagnostic, Runtime};
use lambda_http::{Error, LambdaEvent, Service};
use metrics_cloudwatch_embedded::Collector;
use serde_json::Value;
use serde_json::value::RawValue;
use timesheets::config::{VarSource, optional};
use timesheets::telemetry::invocation::InvocationMetricsLayer;

/// How many invocations the process serves at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocations {
    /// One at a time, on one thread: classic Lambda, or `AWS_LAMBDA_MAX_CONCURRENCY` unset,
    /// not a number, or at most 1 (as `lambda_runtime` reads it).
    OneAtATime,
    /// This many at once, each on its own `/next` long poll, on a multi-thread runtime.
    Concurrent(u32),
}

impl Invocations {
    /// What `AWS_LAMBDA_MAX_CONCURRENCY` in `source` asks for: Lambda Managed Instances sets
    /// it to the invocations one execution environment serves at once (up to 1,600); classic
    /// Lambda leaves it unset.
    pub fn from_source(source: &impl VarSource) -> Self {
        match optional(source, "AWS_LAMBDA_MAX_CONCURRENCY")
            .and_then(|text| text.parse::<u32>().ok())
        {
            Some(limit) if limit > 1 => Self::Concurrent(limit),
            _ => Self::OneAtATime,
        }
    }

    /// The tokio runtime for this mode: one thread when one invocation runs at a time (no
    /// worker threads to start or wake), else one worker per vCPU.
    ///
    /// # Errors
    /// When the runtime cannot start its threads or I/O driver.
    pub fn runtime(self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut builder = match self {
            Self::OneAtATime => tokio::runtime::Builder::new_current_thread(),
            Self::Concurrent(_) => tokio::runtime::Builder::new_multi_thread(),
        };
        builder.enable_all().build()
    }

    /// Serves invocations with `handler` until the runtime stops. One at a time: through
    /// `metrics_cloudwatch_embedded`'s runner, flushing `metrics` after each, as before
    /// concurrency existed. Concurrent: `lambda_runtime`'s `run_concurrent`, each invocation
    /// writing its own metrics ([`InvocationMetricsLayer`]) under the function name `function`.
    ///
    /// # Errors
    /// When the Runtime API fails, as `lambda_runtime::run` does.
    pub async fn serve<F>(
        self,
        function: &str,
        metrics: &'static Collector,
        handler: F,
    ) -> Result<(), Error>
    where
        F: Service<LambdaEvent<Box<RawValue>>, Response = Value> + Clone + Send + 'static,
        F::Future: Future<Output = Result<Value, F::Error>> + Send + 'static,
        F::Error: Into<Diagnostic> + std::fmt::Debug,
    {
        match self {
            Self::OneAtATime => {
                metrics_cloudwatch_embedded::lambda::service::run(metrics, handler).await
            }
            Self::Concurrent(_) => {
                let function = timesheets::telemetry::function_name(function);
                Runtime::new(handler)
                    .layer(TracingLayer::new())
                    .layer(InvocationMetricsLayer::new(function))
                    .run_concurrent()
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with(value: &str) -> Invocations {
        Invocations::from_source(&HashMap::from([("AWS_LAMBDA_MAX_CONCURRENCY", value)]))
    }

    #[test]
    fn unset_or_at_most_one_is_one_at_a_time() {
        assert_eq!(
            Invocations::from_source(&HashMap::new()),
            Invocations::OneAtATime
        );
        assert_eq!(with("1"), Invocations::OneAtATime);
        assert_eq!(with("0"), Invocations::OneAtATime);
        assert_eq!(with("many"), Invocations::OneAtATime);
        assert_eq!(with("-4"), Invocations::OneAtATime);
    }

    #[test]
    fn above_one_is_concurrent() {
        assert_eq!(with("8"), Invocations::Concurrent(8));
        assert_eq!(with(" 1600 "), Invocations::Concurrent(1600));
    }
}
