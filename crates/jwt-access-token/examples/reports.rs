//! A second API on the crate's public face: a `lambda_http` function serving `GET /reports` to
//! access tokens that grant `reports:read`, bearer or DPoP-bound (`REPORTS_DPOP`).
//!
//! Environment: `REPORTS_ISSUER` (the `iss`, exactly), `REPORTS_AUDIENCE` (this API's
//! identifier), optional `REPORTS_JWKS_URI` (else discovery) and `REPORTS_DPOP` (`off`,
//! `allowed` or `required`; default `off`).

use std::time::Duration;

use jwt_access_token::discovery::{EndpointKind, IssuerEndpoint};
use jwt_access_token::{
    DpopMode, DpopPolicy, JwksCache, JwksPolicy, TokenVerifier, VerifierPolicy,
};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, Response, service_fn};

/// The scope the route requires.
const SCOPE: &str = "reports:read";
/// The realm of its challenges.
const REALM: &str = "reports";

/// The verifier of `issuer`'s tokens for `audience`, keys from `jwks_uri` or discovery.
fn verifier(
    issuer: &str,
    audience: &str,
    jwks_uri: Option<url::Url>,
    dpop: DpopMode,
) -> TokenVerifier {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let endpoint = IssuerEndpoint::new(issuer, EndpointKind::Jwks, jwks_uri);
    let policy = VerifierPolicy {
        audiences: vec![audience.to_owned()],
        algorithms: vec![jsonwebtoken::Algorithm::RS256],
        leeway_seconds: 5,
    };
    TokenVerifier::new(
        policy,
        JwksCache::new(http, endpoint, JwksPolicy::default()),
    )
    .with_dpop(DpopPolicy {
        mode: dpop,
        ..DpopPolicy::default()
    })
}

/// `GET /reports`: `200` with the client's reports for a token granting [`SCOPE`], else the
/// refusal's answer; `404` elsewhere.
async fn handle(verifier: &TokenVerifier, request: Request) -> Response<Body> {
    if request.uri().path() != "/reports" || request.method() != Method::GET {
        let mut missing = Response::new(Body::Empty);
        *missing.status_mut() = StatusCode::NOT_FOUND;
        return missing;
    }
    let granted = match verifier.authorize(&request).await {
        Ok(token) => token.require_scope(SCOPE).map(|()| token),
        Err(refused) => Err(refused),
    };
    match granted {
        Ok(token) => Response::new(Body::from(format!("no reports yet for {}", token.client()))),
        Err(refused) => refused.into_response(REALM),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let variable = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let jwks_uri = std::env::var("REPORTS_JWKS_URI")
        .ok()
        .map(|uri| uri.parse())
        .transpose()?;
    let dpop = match std::env::var("REPORTS_DPOP") {
        Ok(mode) => mode.parse()?,
        Err(_) => DpopMode::Off,
    };
    let verifier = verifier(
        &variable("REPORTS_ISSUER")?,
        &variable("REPORTS_AUDIENCE")?,
        jwks_uri,
        dpop,
    );
    verifier.prefetch_keys().await;
    let verifier = &verifier;
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, Error>(handle(verifier, request).await)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use testkit::keys::now;
    use testkit::{JwksServer, Reply, TestKey};

    const ISSUER: &str = "https://tenant.example.auth0.com/";
    const AUDIENCE: &str = "https://api.example.com/reports";

    struct Reports {
        verifier: TokenVerifier,
        key: TestKey,
        _server: JwksServer,
    }

    impl Reports {
        async fn start() -> Self {
            let key = TestKey::generate("key-1");
            let server =
                JwksServer::start(Reply::Json(json!({"keys": [key.jwk()]}).to_string())).await;
            let jwks = Some(server.jwks_url().parse().unwrap());
            Self {
                verifier: verifier(ISSUER, AUDIENCE, jwks, DpopMode::Off),
                key,
                _server: server,
            }
        }

        fn token(&self, scope: &str) -> String {
            let now = now();
            self.key.mint(&json!({
                "iss": ISSUER, "aud": AUDIENCE, "sub": "reader@clients", "azp": "reader",
                "iat": now, "exp": now + 600, "scope": scope
            }))
        }

        async fn get(
            &self,
            path: &str,
            authorization: Option<&str>,
        ) -> (u16, String, Option<String>) {
            let mut request = lambda_http::http::Request::builder()
                .method("GET")
                .uri(path);
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            let response = handle(&self.verifier, request.body(Body::Empty).unwrap()).await;
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|value| value.to_str().unwrap().to_owned());
            let body = match response.body() {
                Body::Text(text) => text.clone(),
                Body::Empty => String::new(),
                Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                _ => String::new(),
            };
            (response.status().as_u16(), body, challenge)
        }
    }

    #[tokio::test]
    async fn a_token_granting_reports_read_is_served() {
        let reports = Reports::start().await;
        let token = reports.token("reports:read batch:upload");
        let (status, body, _) = reports
            .get("/reports", Some(&format!("Bearer {token}")))
            .await;
        assert_eq!((status, body.as_str()), (200, "no reports yet for reader"));
    }

    #[tokio::test]
    async fn another_scope_is_403_with_the_scope_in_the_challenge() {
        let reports = Reports::start().await;
        let token = reports.token("batch:upload");
        let (status, body, challenge) = reports
            .get("/reports", Some(&format!("Bearer {token}")))
            .await;
        assert_eq!(status, 403);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            json!({"error": "insufficient_scope", "error_description": "the access token lacks the scope reports:read"})
        );
        assert_eq!(
            challenge.as_deref(),
            Some(
                r#"Bearer realm="reports", error="insufficient_scope", error_description="the access token lacks the scope reports:read", scope="reports:read""#
            )
        );
    }

    #[tokio::test]
    async fn no_token_is_401_and_another_path_404() {
        let reports = Reports::start().await;
        let (status, _, challenge) = reports.get("/reports", None).await;
        assert_eq!(
            (status, challenge.as_deref()),
            (401, Some(r#"Bearer realm="reports""#))
        );
        let token = reports.token("reports:read");
        let (status, _, _) = reports
            .get("/admin", Some(&format!("Bearer {token}")))
            .await;
        assert_eq!(status, 404);
    }
}
