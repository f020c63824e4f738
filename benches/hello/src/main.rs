//! The floor the API function is measured against: `cargo lambda new --http` as generated
//! (multi-thread tokio runtime, lambda_runtime's default subscriber, one small response).

use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn, tracing};

async fn function_handler(event: Request) -> Result<Response<Body>, Error> {
    let who = event
        .query_string_parameters_ref()
        .and_then(|params| params.first("name"))
        .unwrap_or("world");
    let message = format!("Hello {who}, this is an AWS Lambda HTTP request");
    let response = Response::builder()
        .status(200)
        .header("content-type", "text/html")
        .body(message.into())
        .map_err(Box::new)?;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(function_handler)).await
}
