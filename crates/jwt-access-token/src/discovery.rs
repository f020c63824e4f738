//! Issuer endpoints: configured, else from OpenID Connect Discovery 1.0 §4 (also served by
//! Auth0, Cognito, Okta, Keycloak and Entra ID), else from RFC 8414 authorization server
//! metadata, else the Auth0 default path. The issuer may end with `/` (Auth0) or not
//! (Keycloak, Okta, Entra ID): every URL built from it has exactly one `/` at the join.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::OnceCell;
use url::Url;

use crate::http_client::{self, FetchError};

/// Largest discovery document read, in bytes.
const MAX_DISCOVERY_BYTES: usize = 256 * 1024;

/// Which endpoint of the issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// The JWKS (RFC 7517 §5): `jwks_uri`, default `{issuer}/.well-known/jwks.json`.
    Jwks,
    /// The token endpoint (RFC 6749 §3.2): `token_endpoint`, default `{issuer}/oauth/token`.
    /// (`{issuer}/` stands for the issuer with one trailing slash, whether it had one or not.)
    Token,
}

impl EndpointKind {
    fn default_path(self) -> &'static str {
        match self {
            Self::Jwks => ".well-known/jwks.json",
            Self::Token => "oauth/token",
        }
    }
}

#[derive(Debug, Deserialize)]
struct ProviderMetadata {
    issuer: String,
    jwks_uri: Option<String>,
    token_endpoint: Option<String>,
}

/// Why discovery gave no endpoint.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The document could not be fetched or parsed.
    #[error("discovery document: {0}")]
    Fetch(#[from] FetchError),
    /// The document names another issuer (OpenID Connect Discovery 1.0 §4.3).
    #[error("discovery document names issuer {found}, not the configured one")]
    IssuerMismatch {
        /// The `issuer` the document declared.
        found: String,
    },
    /// The document lacks the endpoint or it is not an acceptable URL.
    #[error("discovery document has no usable {0}")]
    NoEndpoint(&'static str),
}

/// One endpoint of the issuer, resolved once and kept for the life of the Lambda sandbox.
///
/// A configured URL wins; otherwise discovery is tried and its answer kept: the OpenID
/// Connect document, or the RFC 8414 one when the first cannot be fetched. When discovery
/// fails the Auth0 default is used for that call only, so a transient failure is not kept.
#[derive(Debug)]
pub struct IssuerEndpoint {
    issuer: String,
    kind: EndpointKind,
    configured: Option<Url>,
    discovered: OnceCell<Url>,
}

impl IssuerEndpoint {
    /// `issuer` exactly as in the tokens' `iss`, with or without a trailing slash (Auth0:
    /// `https://{domain}/`), already checked to be a URL.
    pub fn new(issuer: &str, kind: EndpointKind, configured: Option<Url>) -> Self {
        Self {
            issuer: issuer.to_owned(),
            kind,
            configured,
            discovered: OnceCell::new(),
        }
    }

    /// The issuer, exactly as configured.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The endpoint's URL; with `timeout`, each discovery request ends by then, connection
    /// included, whatever `client`'s own bound.
    pub async fn url(&self, client: &reqwest::Client, timeout: Option<Duration>) -> Url {
        if let Some(url) = &self.configured {
            return url.clone();
        }
        match self
            .discovered
            .get_or_try_init(|| discover(client, &self.issuer, self.kind, timeout))
            .await
        {
            Ok(url) => url.clone(),
            Err(error) => {
                let fallback = issuer_relative(&self.issuer, self.kind.default_path());
                tracing::warn!(%error, %fallback, "issuer discovery failed; using the default endpoint");
                fallback
            }
        }
    }
}

/// `{issuer}/{path}` with exactly one slash between them.
fn issuer_relative(issuer: &str, path: &str) -> Url {
    let joined = format!("{}/{path}", issuer.trim_end_matches('/'));
    Url::parse(&joined).expect("the issuer was validated as a URL at init")
}

/// The OpenID Connect discovery document: `{issuer}/.well-known/openid-configuration`,
/// appended to the issuer's path (OpenID Connect Discovery 1.0 §4.1).
fn openid_configuration_url(issuer: &str) -> Url {
    issuer_relative(issuer, ".well-known/openid-configuration")
}

/// The RFC 8414 metadata document: `/.well-known/oauth-authorization-server` inserted between
/// the issuer's host and its path, the path's terminating `/` removed first (RFC 8414 §3.1):
/// `https://as.example/tenant/` has `https://as.example/.well-known/oauth-authorization-server/tenant`.
fn authorization_server_url(issuer: &str) -> Url {
    let mut url = Url::parse(issuer).expect("the issuer was validated as a URL at init");
    let path = format!(
        "/.well-known/oauth-authorization-server{}",
        url.path().trim_end_matches('/')
    );
    url.set_path(&path);
    url
}

/// The endpoint of `kind` from the issuer's metadata: the OpenID Connect document, else, when
/// that cannot be fetched, the RFC 8414 one (RFC 8414 §5: an issuer may serve either). A
/// document that was read but names another issuer or lacks the endpoint is not passed over.
async fn discover(
    client: &reqwest::Client,
    issuer: &str,
    kind: EndpointKind,
    timeout: Option<Duration>,
) -> Result<Url, DiscoveryError> {
    let openid = openid_configuration_url(issuer);
    match from_document(client, &openid, issuer, kind, timeout).await {
        Err(DiscoveryError::Fetch(_)) => {
            let rfc8414 = authorization_server_url(issuer);
            from_document(client, &rfc8414, issuer, kind, timeout).await
        }
        found => found,
    }
}

/// The endpoint of `kind` in the metadata document at `url`, if it names `issuer` exactly
/// (OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3).
async fn from_document(
    client: &reqwest::Client,
    url: &Url,
    issuer: &str,
    kind: EndpointKind,
    timeout: Option<Duration>,
) -> Result<Url, DiscoveryError> {
    let metadata: ProviderMetadata =
        http_client::get_json(client, url, MAX_DISCOVERY_BYTES, timeout).await?;
    if metadata.issuer != issuer {
        return Err(DiscoveryError::IssuerMismatch {
            found: metadata.issuer,
        });
    }
    let (name, value) = match kind {
        EndpointKind::Jwks => ("jwks_uri", metadata.jwks_uri),
        EndpointKind::Token => ("token_endpoint", metadata.token_endpoint),
    };
    value
        .and_then(|value| Url::parse(&value).ok())
        .filter(|url| url.scheme() == "https" || same_origin(url, issuer))
        .ok_or(DiscoveryError::NoEndpoint(name))
}

/// A plain-http endpoint is only trusted when it sits on the (loopback, validated) issuer's origin.
fn same_origin(url: &Url, issuer: &str) -> bool {
    Url::parse(issuer).is_ok_and(|issuer| issuer.origin() == url.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_join_with_one_slash() {
        assert_eq!(
            issuer_relative("https://tenant.auth0.com/", "oauth/token").as_str(),
            "https://tenant.auth0.com/oauth/token"
        );
        assert_eq!(
            issuer_relative("https://kc.example/realms/acme", ".well-known/jwks.json").as_str(),
            "https://kc.example/realms/acme/.well-known/jwks.json"
        );
    }

    #[test]
    fn discovery_documents_join_with_and_without_a_trailing_slash() {
        for (issuer, openid, rfc8414) in [
            (
                "https://tenant.auth0.com/",
                "https://tenant.auth0.com/.well-known/openid-configuration",
                "https://tenant.auth0.com/.well-known/oauth-authorization-server",
            ),
            (
                "https://tenant.auth0.com",
                "https://tenant.auth0.com/.well-known/openid-configuration",
                "https://tenant.auth0.com/.well-known/oauth-authorization-server",
            ),
            (
                "https://kc.example/realms/acme",
                "https://kc.example/realms/acme/.well-known/openid-configuration",
                "https://kc.example/.well-known/oauth-authorization-server/realms/acme",
            ),
            (
                "https://kc.example/realms/acme/",
                "https://kc.example/realms/acme/.well-known/openid-configuration",
                "https://kc.example/.well-known/oauth-authorization-server/realms/acme",
            ),
            (
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/.well-known/openid-configuration",
                "http://127.0.0.1:8080/.well-known/oauth-authorization-server",
            ),
        ] {
            assert_eq!(
                openid_configuration_url(issuer).as_str(),
                openid,
                "{issuer}"
            );
            assert_eq!(
                authorization_server_url(issuer).as_str(),
                rfc8414,
                "{issuer}"
            );
        }
        assert_eq!(
            issuer_relative("https://tenant.auth0.com", "oauth/token").as_str(),
            "https://tenant.auth0.com/oauth/token"
        );
    }

    #[tokio::test]
    async fn configured_url_wins_without_any_request() {
        let configured = Url::parse("https://keys.example/jwks").unwrap();
        let endpoint = IssuerEndpoint::new(
            "https://tenant.auth0.com/",
            EndpointKind::Jwks,
            Some(configured.clone()),
        );
        let client = reqwest::Client::new();
        assert_eq!(endpoint.url(&client, None).await, configured);
    }
}
