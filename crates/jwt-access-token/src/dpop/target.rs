//! The URL a DPoP proof's `htu` must name (RFC 9449 §4.3 check 9): the URL the client called,
//! which behind API Gateway is not the one Lambda sees.
//!
//! [`DpopPolicy::htu`](crate::DpopPolicy::htu) gives it exactly (a custom domain, a base-path
//! mapping, a proxy in front).
//! Unset, it is rebuilt per request: the scheme of `X-Forwarded-Proto` (API Gateway sets it;
//! `https` without it), the `Host` header (the API's domain, default or custom) and the raw
//! path, which for an HTTP API holds the stage when it is not `$default`.

use lambda_http::{Request, RequestExt};
use url::Url;

/// The request's URL as the client called it, without query; `None` when the headers do not
/// make a URL.
pub(crate) fn request_url(request: &Request) -> Option<Url> {
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let scheme = text("x-forwarded-proto")
        .and_then(|value| value.split(',').next())
        .map(str::trim)
        .filter(|scheme| matches!(*scheme, "https" | "http"))
        .unwrap_or("https");
    let host = text("host").or_else(|| request.uri().authority().map(|a| a.as_str()))?;
    let path = request.raw_http_path();
    let path = if path.is_empty() {
        request.uri().path()
    } else {
        path
    };
    let url = Url::parse(&format!("{scheme}://{host}{path}")).ok()?;
    // The Host header must be a host, not a way to inject a path or credentials.
    (url.username().is_empty() && url.password().is_none() && url.path() == path).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)], uri: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(lambda_http::Body::Empty).unwrap()
    }

    #[test]
    fn rebuilds_scheme_host_and_path_without_the_query() {
        let url = request_url(&request(
            &[
                ("host", "abc.execute-api.eu-west-1.amazonaws.com"),
                ("x-forwarded-proto", "https"),
            ],
            "/timesheets/upload?x=1",
        ))
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://abc.execute-api.eu-west-1.amazonaws.com/timesheets/upload"
        );
        let local = request_url(&request(
            &[("host", "127.0.0.1:9000"), ("x-forwarded-proto", "http")],
            "/timesheets/upload",
        ))
        .unwrap();
        assert_eq!(local.as_str(), "http://127.0.0.1:9000/timesheets/upload");
    }

    #[test]
    fn a_host_header_that_is_not_a_host_makes_no_url() {
        for host in ["evil.example/other", "user@evil.example", ""] {
            assert_eq!(
                request_url(&request(&[("host", host)], "/timesheets/upload")),
                None,
                "{host}"
            );
        }
    }
}
