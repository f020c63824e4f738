//! The job finds its token endpoint by discovery whatever form its issuer has: with or without
//! a trailing slash, with or without a path, in the OpenID Connect document or, when the issuer
//! serves none, in the RFC 8414 one.

use serde_json::json;
use timesheets::discovery::{EndpointKind, IssuerEndpoint};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Keycloak's token path: one the Auth0 default (`{issuer}/oauth/token`) is not.
const TOKEN_PATH: &str = "/realms/acme/protocol/openid-connect/token";

/// A server answering `GET {document}` with metadata that names `named` as the issuer.
async fn serving(document: &str, named: impl Fn(&str) -> String) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(document))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": named(&server.uri()),
            "token_endpoint": format!("{}{TOKEN_PATH}", server.uri()),
        })))
        .mount(&server)
        .await;
    server
}

/// The token endpoint the job uses for `issuer`, a URL on `server`.
async fn token_endpoint(issuer: &str) -> String {
    IssuerEndpoint::new(issuer, EndpointKind::Token, None)
        .url(&reqwest::Client::new(), None)
        .await
        .to_string()
}

#[tokio::test]
async fn the_openid_document_is_found_with_and_without_the_trailing_slash() {
    for suffix in ["/realms/acme", "/realms/acme/"] {
        let server = serving("/realms/acme/.well-known/openid-configuration", |uri| {
            format!("{uri}{suffix}")
        })
        .await;
        let issuer = format!("{}{suffix}", server.uri());
        assert_eq!(
            token_endpoint(&issuer).await,
            format!("{}{TOKEN_PATH}", server.uri()),
            "{suffix}"
        );
    }
    for suffix in ["", "/"] {
        let server = serving("/.well-known/openid-configuration", |uri| {
            format!("{uri}{suffix}")
        })
        .await;
        let issuer = format!("{}{suffix}", server.uri());
        assert_eq!(
            token_endpoint(&issuer).await,
            format!("{}{TOKEN_PATH}", server.uri()),
            "{suffix:?}"
        );
    }
}

#[tokio::test]
async fn without_an_openid_document_the_rfc_8414_one_is_read() {
    for (suffix, document) in [
        (
            "/realms/acme",
            "/.well-known/oauth-authorization-server/realms/acme",
        ),
        (
            "/realms/acme/",
            "/.well-known/oauth-authorization-server/realms/acme",
        ),
        ("", "/.well-known/oauth-authorization-server"),
        ("/", "/.well-known/oauth-authorization-server"),
    ] {
        let server = serving(document, |uri| format!("{uri}{suffix}")).await;
        let issuer = format!("{}{suffix}", server.uri());
        assert_eq!(
            token_endpoint(&issuer).await,
            format!("{}{TOKEN_PATH}", server.uri()),
            "{suffix:?}"
        );
    }
}

#[tokio::test]
async fn a_document_naming_the_issuer_otherwise_is_not_used() {
    // Issuers compare byte for byte: the slash is part of the name.
    let server = serving("/.well-known/openid-configuration", |uri| format!("{uri}/")).await;
    assert_eq!(
        token_endpoint(&server.uri()).await,
        format!("{}/oauth/token", server.uri())
    );
}
