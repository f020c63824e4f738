//! Metrics of one invocation, for a sandbox that serves several at once (Lambda Managed
//! Instances, `AWS_LAMBDA_MAX_CONCURRENCY` > 1).
//!
//! `metrics_cloudwatch_embedded` has one collector per process and flushes all of it after each
//! invocation: with several in flight, one invocation's document would carry the counts of
//! others under its own request id. Here each invocation counts into its own recorder (set as
//! the `metrics` crate's local recorder for every poll of the invocation's future, whichever
//! worker thread polls it) and writes its own EMF documents, with its own `RequestId`, in one
//! write to stdout when it ends. The documents are those the collector writes for counters
//! (the only kind the functions record): one per label set, the `Function` dimension first.
//! Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use lambda_runtime::LambdaInvocation;
use lambda_runtime::tower::{Layer, Service};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, SharedString, Unit};
use serde_json::{Map, Value, json};

use super::{COLD_START_METRIC, FUNCTION_DIMENSION, NAMESPACE, REQUEST_ID_PROPERTY};

/// Where an invocation's documents go: stdout in Lambda, a buffer in tests.
type Sink = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// The [`tower::Layer`](Layer) giving each invocation its own metrics; outermost, as
/// `metrics_cloudwatch_embedded`'s `MetricsLayer` is, so the documents follow the answer.
#[derive(Clone)]
pub struct InvocationMetricsLayer {
    shared: Arc<Shared>,
}

struct Shared {
    /// The `Function` dimension's value.
    function: String,
    /// Set by the first invocation, which writes the `ColdStart` count.
    started: AtomicBool,
    sink: Sink,
}

impl InvocationMetricsLayer {
    /// Documents for the function named `function` (the `Function` dimension), on stdout.
    pub fn new(function: String) -> Self {
        Self::with_sink(function, Arc::new(write_stdout))
    }

    fn with_sink(function: String, sink: Sink) -> Self {
        let started = AtomicBool::new(false);
        Self {
            shared: Arc::new(Shared {
                function,
                started,
                sink,
            }),
        }
    }
}

/// One `write_all` under the stdout lock, so the lines of invocations ending together do not
/// interleave.
fn write_stdout(bytes: &[u8]) {
    if let Err(error) = std::io::stdout().lock().write_all(bytes) {
        tracing::warn!(%error, "metrics not written");
    }
}

impl<S> Layer<S> for InvocationMetricsLayer {
    type Service = InvocationMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InvocationMetrics {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service of [`InvocationMetricsLayer`]; `Clone` when the service it wraps is, as
/// `lambda_runtime::Runtime::run_concurrent` needs (one clone per worker).
#[derive(Clone)]
pub struct InvocationMetrics<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<LambdaInvocation> for InvocationMetrics<S>
where
    S: Service<LambdaInvocation>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = InvocationFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let recorder = InvocationRecorder::default();
        let request_id = invocation.context.request_id.clone();
        if !self.shared.started.swap(true, Ordering::Relaxed) {
            let mut document = self.shared.document(&request_id, &[]);
            document.add(COLD_START_METRIC, Some("Count"), 1);
            (self.shared.sink)(&document.line());
        }
        let inner = metrics::with_local_recorder(&recorder, || self.inner.call(invocation));
        InvocationFuture {
            inner: Box::pin(inner),
            recorder,
            request_id,
            shared: self.shared.clone(),
        }
    }
}

/// An invocation in flight: its future, polled with its own recorder.
pub struct InvocationFuture<F> {
    inner: Pin<Box<F>>,
    recorder: InvocationRecorder,
    request_id: String,
    shared: Arc<Shared>,
}

impl<F: Future> Future for InvocationFuture<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let inner = &mut this.inner;
        let polled = metrics::with_local_recorder(&this.recorder, || inner.as_mut().poll(cx));
        if polled.is_ready() {
            let lines = this.recorder.documents(&this.shared, &this.request_id);
            if !lines.is_empty() {
                (this.shared.sink)(&lines);
            }
        }
        polled
    }
}

/// One EMF document being built: `_aws`, then dimensions, properties and values.
struct Document {
    dimensions: Vec<Value>,
    metrics: Vec<Value>,
    fields: Map<String, Value>,
}

impl Shared {
    /// A document with the `Function` dimension, the request id and these labels.
    fn document(&self, request_id: &str, labels: &[Label]) -> Document {
        let mut fields = Map::new();
        let mut dimensions = vec![json!(FUNCTION_DIMENSION)];
        fields.insert(FUNCTION_DIMENSION.to_owned(), json!(self.function));
        for label in labels {
            dimensions.push(json!(label.key()));
            fields.insert(label.key().to_owned(), json!(label.value()));
        }
        fields.insert(REQUEST_ID_PROPERTY.to_owned(), json!(request_id));
        Document {
            dimensions,
            metrics: Vec::new(),
            fields,
        }
    }
}

impl Document {
    fn add(&mut self, name: &str, unit: Option<&str>, value: u64) {
        self.metrics.push(match unit {
            Some(unit) => json!({"Name": name, "Unit": unit}),
            None => json!({"Name": name}),
        });
        self.fields.insert(name.to_owned(), json!(value));
    }

    /// The document as one line of JSON, newline included.
    fn line(self) -> Vec<u8> {
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let mut document = Map::new();
        document.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [self.dimensions],
                    "Metrics": self.metrics,
                }],
            }),
        );
        document.extend(self.fields);
        let mut line = Value::Object(document).to_string().into_bytes();
        line.push(b'\n');
        line
    }
}

/// The counters of one invocation, by label set then name. The lock is taken only to register
/// a counter, never across an await.
#[derive(Default)]
struct InvocationRecorder {
    counters: Mutex<CounterTree>,
}

type CounterTree = BTreeMap<Vec<Label>, BTreeMap<String, Arc<AtomicU64>>>;

impl InvocationRecorder {
    /// The invocation's documents, one line per label set with a count, as the process-wide
    /// collector flushes them; empty when nothing was counted.
    fn documents(&self, shared: &Shared, request_id: &str) -> Vec<u8> {
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines = Vec::new();
        for (labels, named) in counters.iter() {
            let mut document = shared.document(request_id, labels);
            for (name, value) in named {
                let value = value.load(Ordering::Relaxed);
                if value != 0 {
                    document.add(name, None, value);
                }
            }
            if !document.metrics.is_empty() {
                lines.extend(document.line());
            }
        }
        lines
    }
}

impl metrics::Recorder for InvocationRecorder {
    // Units and descriptions: the functions describe none.
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<Label> = key.labels().cloned().collect();
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let value = counters
            .entry(labels)
            .or_default()
            .entry(key.name().to_owned())
            .or_default();
        Counter::from_arc(value.clone())
    }

    // The functions record counters only; a gauge or histogram would not be written.
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use lambda_runtime::{Context as InvocationContext, service_fn};
    use serde_json::Value;

    use super::*;

    /// The documents written, one parsed value per line.
    #[derive(Clone, Default)]
    struct Written(Arc<Mutex<Vec<u8>>>);

    impl Written {
        fn layer(&self) -> InvocationMetricsLayer {
            let written = self.clone();
            let sink: Sink = Arc::new(move |bytes| written.0.lock().unwrap().extend(bytes));
            InvocationMetricsLayer::with_sink("timesheets-api".to_owned(), sink)
        }

        fn documents(&self) -> Vec<Value> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        }
    }

    fn invocation(request_id: &str, body: &'static str) -> LambdaInvocation {
        let (parts, ()) = http::Response::new(()).into_parts();
        let mut context = InvocationContext::default();
        context.request_id = request_id.to_owned();
        LambdaInvocation {
            parts,
            body: body.into(),
            context,
        }
    }

    /// Counts `body` refusals in two steps, yielding between them so invocations interleave.
    async fn count(invocation: LambdaInvocation) -> Result<(), std::convert::Infallible> {
        let reason = String::from_utf8(invocation.body.to_vec()).unwrap();
        metrics::counter!("AuthFailures", "Reason" => reason.clone()).increment(1);
        tokio::task::yield_now().await;
        metrics::counter!("AuthFailures", "Reason" => reason).increment(1);
        if invocation.context.request_id == "req-b" {
            metrics::counter!("UploadsCreated").increment(3);
        }
        Ok(())
    }

    /// The documents of the invocation `request_id`, without their timestamps.
    fn of(documents: &[Value], request_id: &str) -> Vec<Value> {
        documents
            .iter()
            .filter(|document| document["RequestId"] == request_id)
            .map(|document| {
                let mut document = document.clone();
                document["_aws"]
                    .as_object_mut()
                    .unwrap()
                    .remove("Timestamp");
                document
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_invocation_writes_its_own_counts_under_its_own_request_id() {
        let written = Written::default();
        let service = written.layer().layer(service_fn(count));
        let (a, b) = tokio::join!(
            tokio::spawn(service.clone().call(invocation("req-a", "missing_token"))),
            tokio::spawn(
                service
                    .clone()
                    .call(invocation("req-b", "insufficient_scope"))
            ),
        );
        a.unwrap().unwrap();
        b.unwrap().unwrap();
        let documents = written.documents();
        assert_eq!(documents.len(), 4, "{documents:?}");
        let cold_start: Vec<_> = documents
            .iter()
            .filter(|document| document.get(COLD_START_METRIC).is_some())
            .collect();
        assert_eq!(cold_start.len(), 1, "{documents:?}");
        assert_eq!(
            cold_start[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "ColdStart", "Unit": "Count"}])
        );
        let failures = |reason: &str, request_id: &str| {
            json!({
                "_aws": {"CloudWatchMetrics": [{
                    "Namespace": "Timesheets",
                    "Dimensions": [["Function", "Reason"]],
                    "Metrics": [{"Name": "AuthFailures"}],
                }]},
                "Function": "timesheets-api",
                "Reason": reason,
                "RequestId": request_id,
                "AuthFailures": 2,
            })
        };
        let counted = |request_id| {
            of(&documents, request_id)
                .into_iter()
                .filter(|document| document.get(COLD_START_METRIC).is_none())
                .collect::<Vec<_>>()
        };
        assert_eq!(counted("req-a"), [failures("missing_token", "req-a")]);
        assert_eq!(
            counted("req-b"),
            [
                json!({
                    "_aws": {"CloudWatchMetrics": [{
                        "Namespace": "Timesheets",
                        "Dimensions": [["Function"]],
                        "Metrics": [{"Name": "UploadsCreated"}],
                    }]},
                    "Function": "timesheets-api",
                    "RequestId": "req-b",
                    "UploadsCreated": 3,
                }),
                failures("insufficient_scope", "req-b"),
            ]
        );
    }

    #[tokio::test]
    async fn an_invocation_that_counts_nothing_writes_nothing_but_the_cold_start() {
        let written = Written::default();
        let mut service = written
            .layer()
            .layer(service_fn(|_: LambdaInvocation| async {
                Ok::<_, std::convert::Infallible>(())
            }));
        service.call(invocation("req-1", "")).await.unwrap();
        service.call(invocation("req-2", "")).await.unwrap();
        let documents = written.documents();
        assert_eq!(documents.len(), 1, "{documents:?}");
        assert_eq!(documents[0]["RequestId"], "req-1");
        assert_eq!(documents[0]["ColdStart"], 1);
    }
}
