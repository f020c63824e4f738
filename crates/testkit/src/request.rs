//! Requests as API Gateway hands them to a `lambda_http` function.

use lambda_http::{Body, Request};

/// `POST /timesheets/upload` with JSON `body` and an optional `Authorization` value.
pub fn upload(authorization: Option<&str>, body: &str) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/timesheets/upload")
        .header("content-type", "application/json");
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    builder
        .body(Body::Text(body.to_owned()))
        .expect("a valid request")
}
