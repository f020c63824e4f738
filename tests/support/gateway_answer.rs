//! What a lambda_http function answers an API Gateway event with, as it posts it to the
//! Runtime API: the serialised response (`statusCode`, `headers`, `body` as JSON text) that
//! API Gateway turns into the HTTP answer.

use serde_json::{Map, Value};

/// One answer, its body read as JSON.
#[derive(Debug)]
pub struct GatewayAnswer {
    /// `statusCode`.
    pub status: u16,
    /// `headers` (payload 2.0), and `multiValueHeaders`, where lambda_http puts them for
    /// payload 1.0.
    headers: Map<String, Value>,
    multi_value_headers: Map<String, Value>,
    /// `body`, read as JSON (`null` when empty).
    pub body: Value,
}

impl GatewayAnswer {
    /// Reads the response a function posted.
    ///
    /// # Panics
    /// When it is not an API Gateway response with a JSON body.
    pub fn parse(posted: &[u8]) -> Self {
        let response: Value = serde_json::from_slice(posted).expect("an API Gateway response");
        let status = response["statusCode"].as_u64().expect("a statusCode") as u16;
        let headers = |name: &str| response[name].as_object().cloned().unwrap_or_default();
        let body = match response["body"].as_str() {
            Some(text) if !text.is_empty() => serde_json::from_str(text).expect("a JSON body"),
            _ => Value::Null,
        };
        Self {
            status,
            headers: headers("headers"),
            multi_value_headers: headers("multiValueHeaders"),
            body,
        }
    }

    /// The header `name` (any case), if any; of several values, the first (the API sends
    /// one value per header).
    pub fn header(&self, name: &str) -> Option<&str> {
        match named(&self.headers, name).or_else(|| named(&self.multi_value_headers, name))? {
            Value::String(value) => Some(value),
            Value::Array(values) => values.first()?.as_str(),
            _ => None,
        }
    }

    /// The body's `error` code; empty for a success.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    /// The body's `error_description`; empty for a success.
    pub fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or_default()
    }
}

/// The value of header `name` (any case) in `headers`.
fn named<'a>(headers: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    headers
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}
