//! One invocation, from the payload the Lambda runtime delivers to the JSON answer.
//!
//! `lambda_http::run` deserialises the payload itself, so some events never reach a handler
//! it wraps: those it cannot read (an EventBridge warm-up ping: the invocation fails and
//! asynchronous invokers retry it) and those it panics on (`isBase64Encoded` with a body that
//! is not base64, a query or host it cannot make a URI of: the invocation fails and API
//! Gateway answers 502). Here the payload is looked at first; HTTP events then go through
//! lambda_http's own conversion and response formatting, as under `lambda_http::run`.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, Context, LambdaEvent, Request, Response, Service, service_fn};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use timesheets::ErrorBody;

use crate::app::UploadApi;
use crate::error::ApiError;
use crate::store::TimesheetStore;

/// What an invocation's payload is.
#[derive(Debug)]
pub enum Incoming {
    /// An HTTP event (API Gateway REST or HTTP API, function URL, ALB) for the handler.
    Http(LambdaRequest),
    /// An HTTP event whose body is marked base64 but is not: answered `400` here, since
    /// lambda_http would panic converting it. The event is kept, without its body, so the
    /// answer has the shape its origin expects.
    UndecodableBody(LambdaRequest),
    /// Anything else, e.g. a scheduled event: answered `400` here.
    NotHttp,
}

/// Sorts the payload the runtime received as JSON text: what lambda_http can serve, and what
/// it would fail on. The text is read once into lambda_http's request; a payload with duplicate
/// members, which that read refuses, is read again through a `serde_json::Value`, which keeps
/// the last of each (as the runtime's own JSON readers do).
pub fn classify(payload: &str) -> Incoming {
    let request = serde_json::from_str::<LambdaRequest>(payload)
        .ok()
        .or_else(|| {
            let value: Value = serde_json::from_str(payload).ok()?;
            serde_json::from_str::<LambdaRequest>(&value.to_string()).ok()
        });
    let Some(mut request) = request else {
        return Incoming::NotHttp;
    };
    let (marked, body) = match &mut request {
        LambdaRequest::ApiGatewayV1(event) => (&mut event.is_base64_encoded, &mut event.body),
        LambdaRequest::ApiGatewayV2(event) => (&mut event.is_base64_encoded, &mut event.body),
        LambdaRequest::Alb(event) => (&mut event.is_base64_encoded, &mut event.body),
        LambdaRequest::WebSocket(event) => (&mut event.is_base64_encoded, &mut event.body),
        LambdaRequest::VpcLatticeV2(event) => (&mut event.is_base64_encoded, &mut event.body),
        // A kind of event lambda_http learns later: its own conversion decides.
        _ => return Incoming::Http(request),
    };
    // The engine lambda_http decodes with, so both agree on what is base64.
    if *marked
        && body
            .as_deref()
            .is_some_and(|text| STANDARD.decode(text).is_err())
    {
        *body = None;
        *marked = false;
        return Incoming::UndecodableBody(request);
    }
    Incoming::Http(request)
}

/// Serves one invocation and returns the answer the runtime sends back: for HTTP events the
/// response in the format of their origin, as `lambda_http::run` would write it. The payload
/// is written back to text and read as [`handle_text`] reads the runtime's, so callers that
/// hold a `Value` (the handler tests) go through the production path.
pub async fn handle<S: TimesheetStore>(api: &UploadApi<S>, event: LambdaEvent<Value>) -> Value {
    let LambdaEvent { payload, context } = event;
    serve(api, classify(&payload.to_string()), context).await
}

/// [`handle`] for the payload as the runtime received it, JSON text read once
/// ([`classify`]) instead of a `serde_json::Value` turned back into text.
pub async fn handle_text<S: TimesheetStore>(
    api: &UploadApi<S>,
    event: LambdaEvent<Box<RawValue>>,
) -> Value {
    let LambdaEvent { payload, context } = event;
    serve(api, classify(payload.get()), context).await
}

async fn serve<S: TimesheetStore>(
    api: &UploadApi<S>,
    incoming: Incoming,
    context: Context,
) -> Value {
    match incoming {
        Incoming::Http(request) => respond(request, context, |request| api.handle(request)).await,
        Incoming::UndecodableBody(request) => {
            tracing::warn!(status = 400, "event body marked base64 is not base64");
            let refuse = |_| async {
                ApiError::InvalidBody(
                    "the body is marked base64-encoded (isBase64Encoded) but is not base64"
                        .to_owned(),
                )
                .into_response()
            };
            respond(request, context, refuse).await
        }
        Incoming::NotHttp => {
            tracing::warn!(status = 400, "not an HTTP event; nothing to serve");
            proxy_error(
                "unsupported_event",
                "this function serves HTTP requests from API Gateway, a function URL or an ALB",
            )
        }
    }
}

/// Runs `serve` behind lambda_http's own adapter: request conversion (X-Ray trace header,
/// Lambda context) and response formatting for the event's origin.
async fn respond<F, Fut>(request: LambdaRequest, context: Context, mut serve: F) -> Value
where
    F: FnMut(Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    let mut adapter = Adapter::from(service_fn(move |request| {
        let answer = serve(request);
        async move { Ok::<_, Infallible>(answer.await) }
    }));
    if let Err(never) = poll_fn(|cx| adapter.poll_ready(cx)).await {
        match never {}
    }
    // The conversion to an HTTP request runs inside `call` and panics on events it cannot
    // turn into one (e.g. a query string with a space): answer those as unreadable.
    let event = LambdaEvent::new(request, context);
    let Ok(served) = std::panic::catch_unwind(AssertUnwindSafe(|| adapter.call(event))) else {
        tracing::warn!(status = 400, "lambda_http could not convert the event");
        return proxy_error(
            "invalid_request",
            "the request could not be read as an HTTP request",
        );
    };
    let response = match served.await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    serde_json::to_value(response).unwrap_or_else(|error| {
        tracing::error!(%error, "the response did not serialise");
        json!({"statusCode": 500})
    })
}

/// `400` with this error in the API Gateway proxy response format, which every HTTP invoker
/// understands; other invokers (EventBridge) ignore the answer but see the invocation
/// succeed, so they do not retry it.
fn proxy_error(code: &str, description: &str) -> Value {
    let body = ErrorBody {
        error: code.to_owned(),
        error_description: Some(description.to_owned()),
    };
    json!({
        "statusCode": 400,
        "headers": {"content-type": "application/json"},
        "body": serde_json::to_string(&body).unwrap_or_default(),
        "isBase64Encoded": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_payloads() {
        let v2 = json!({
            "version": "2.0", "rawPath": "/timesheets/upload", "rawQueryString": "",
            "requestContext": {"http": {"method": "POST", "path": "/timesheets/upload"}},
            "isBase64Encoded": true, "body": "e30="
        });
        assert!(matches!(classify(&v2.to_string()), Incoming::Http(_)));
        let mut bad = v2;
        bad["body"] = json!("%%% not base64");
        assert!(matches!(
            classify(&bad.to_string()),
            Incoming::UndecodableBody(_)
        ));
        for other in [
            json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}),
            json!([1, 2]),
            json!("ping"),
            json!(null),
        ] {
            assert!(
                matches!(classify(&other.to_string()), Incoming::NotHttp),
                "{other}"
            );
        }
    }

    #[test]
    fn a_duplicate_member_is_read_as_its_last_value() {
        let text = r#"{"version": "2.0", "rawPath": "/a", "rawPath": "/timesheets/upload",
            "requestContext": {"http": {"method": "POST"}}}"#;
        let Incoming::Http(LambdaRequest::ApiGatewayV2(event)) = classify(text) else {
            panic!("an HTTP API event")
        };
        assert_eq!(event.raw_path.as_deref(), Some("/timesheets/upload"));
    }
}
