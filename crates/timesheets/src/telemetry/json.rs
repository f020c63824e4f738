//! The JSON log line: one flat object per event, `timestamp`, `level` and `message` first, then
//! the fields of the spans it is in (`requestId` and `xrayTraceId` of `lambda_runtime`'s
//! invocation span), then the event's own fields (`status`, `error`, `client`, …).
//!
//! Flat, as Lambda's own JSON log format and Powertools write them, so CloudWatch Logs Insights
//! finds each field by its bare name (`filter status >= 400`), where tracing-subscriber's JSON
//! format nests them (`fields.status`, `span.requestId`). `level` and an RFC 3339 `timestamp`
//! are what Lambda reads to filter the application logs of an OS-only runtime by
//! `ApplicationLogLevel` (AWS Lambda Developer Guide, "Log-level filtering").

use std::fmt;

use lambda_runtime::tracing::subscriber::fmt::format::{JsonFields, Writer};
use lambda_runtime::tracing::subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use lambda_runtime::tracing::subscriber::registry::LookupSpan;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};

/// The event formatter; span fields are recorded as JSON objects by [`JsonFields`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut own = Fields::default();
        event.record(&mut own);
        let mut line = Fields::default();
        line.add("timestamp", timestamp());
        line.add("level", event.metadata().level().as_str());
        if let Some(message) = own.take("message") {
            line.add("message", message);
        }
        // Innermost span first, so a field of an inner span hides an outer one's of that name;
        // the event's own fields hide both.
        for span in ctx.event_scope().into_iter().flatten() {
            let extensions = span.extensions();
            let Some(fields) = extensions.get::<FormattedFields<JsonFields>>() else {
                continue;
            };
            if let Ok(Value::Object(fields)) = serde_json::from_str(fields) {
                for (name, value) in fields {
                    if !own.has(&name) {
                        line.add(name, value);
                    }
                }
            }
        }
        for (name, value) in own.0 {
            line.add(name, value);
        }
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Now, in RFC 3339 (`2026-05-04T10:00:00.123456789Z`).
fn timestamp() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Named values in the order first added; a name added again is ignored, so no line ever
/// holds one key twice.
#[derive(Debug, Default)]
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn add(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        let name = name.into();
        if !self.has(&name) {
            self.0.push((name, value.into()));
        }
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(known, _)| known == name)
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        let at = self.0.iter().position(|(known, _)| known == name)?;
        Some(self.0.remove(at).1)
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// An event's fields as JSON values: numbers and booleans as such, errors and `%` values as
/// their display text, `?` values as their debug text.
impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field.name(), value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field.name(), value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field.name(), value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field.name(), value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.add(field.name(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.add(field.name(), format!("{value:?}"));
    }
}
