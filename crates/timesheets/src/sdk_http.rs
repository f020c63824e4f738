//! The AWS SDK clients (DynamoDB, Secrets Manager, KMS, the credential providers) send through
//! a reqwest client of the function's (built by `http_client`), so a sandbox holds one TLS set-up
//! (rustls over aws-lc-rs, compiled-in roots) instead of the SDK's own hyper stack beside reqwest's.
//!
//! Why not the SDK's `default-https-client`: it builds a second rustls configuration (the
//! system's PEM roots parsed again at init) and links h2 and a second hyper client into each
//! bootstrap. Why not a reqwest adapter crate: the ones published map transport failures to
//! errors the SDK does not retry, or build a client (and a root store) per timeout setting.
//!
//! Errors are classified as the SDK's own client does, so its retry policy is unchanged:
//! timeouts and I/O failures (refused, reset, closed before the answer) are transient and
//! retried; a request that cannot be built is the caller's error. A retried write is safe here
//! because every write of the functions is conditional (idempotency keys, reserved ids).
//!
//! Timeouts: the SDK's `TimeoutConfig` attempt and operation timeouts bound each call whatever
//! the HTTP client (the API's DynamoDB client, the job's Secrets Manager client); besides, the
//! reqwest client's own `timeout`, if it has one (`http_client::build`), bounds each
//! exchange, and a read timeout in `TimeoutConfig` replaces it for that SDK client's requests.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// An SDK [`HttpClient`] over a shared [`reqwest::Client`].
#[derive(Debug, Clone)]
pub struct SdkHttpClient {
    http: reqwest::Client,
}

impl SdkHttpClient {
    /// Sends the SDK's requests through `http` (cheap to clone: one pool).
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            http: self.http.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    http: reqwest::Client,
    read_timeout: Option<std::time::Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = request
            .try_into_http1x()
            .map_err(|error| ConnectorError::user(error.into()))
            .and_then(|request| {
                reqwest::Request::try_from(request.map(reqwest::Body::wrap)).map_err(classify)
            });
        let mut request = match request {
            Ok(request) => request,
            Err(error) => return HttpConnectorFuture::ready(Err(error)),
        };
        if let Some(timeout) = self.read_timeout {
            *request.timeout_mut() = Some(timeout);
        }
        let http = self.http.clone();
        HttpConnectorFuture::new(async move {
            let response = http.execute(request).await.map_err(classify)?;
            let response = http::Response::<reqwest::Body>::from(response);
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|error| ConnectorError::other(error.into(), None))
        })
    }
}

/// The SDK's view of a reqwest failure, as `aws-smithy-http-client` classifies hyper's.
fn classify(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_connect() {
        ConnectorError::io(error.into()).never_connected()
    } else if error.is_builder() {
        ConnectorError::user(error.into())
    } else if error.is_request() || error.is_body() || error.is_decode() {
        // Sent, then the connection failed or closed before a whole answer: transient.
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}

/// The AWS SDK configuration of the environment (region, credentials, endpoint overrides such
/// as `AWS_ENDPOINT_URL`), sending through `http`; each SDK client adds its own timeouts.
pub async fn sdk_config(http: &reqwest::Client) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(SharedHttpClient::new(SdkHttpClient::new(http.clone())))
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn error_of(url: &str, timeout: std::time::Duration) -> ConnectorError {
        let http = reqwest::Client::builder().timeout(timeout).build().unwrap();
        classify(http.get(url).send().await.unwrap_err())
    }

    #[tokio::test]
    async fn a_refused_connection_is_transient_and_never_connected() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let error = error_of(&url, std::time::Duration::from_secs(5)).await;
        assert!(error.is_io(), "{error:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_transient() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            drop(socket);
        });
        let error = error_of(&url, std::time::Duration::from_secs(5)).await;
        assert!(error.is_io(), "{error:?}");
    }

    #[tokio::test]
    async fn a_silent_server_is_a_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let held = tokio::spawn(async move { listener.accept().await });
        let error = error_of(&url, std::time::Duration::from_millis(200)).await;
        assert!(error.is_timeout(), "{error:?}");
        held.abort();
    }
}
