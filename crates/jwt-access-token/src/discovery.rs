//! Issuer endpoints: configured, else from OpenID Connect Discovery 1.0 §4 (also served by
//! Auth0, Cognito, Okta, Keycloak and Entra ID), else the Auth0 default path.

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
/// A configured URL wins; otherwise discovery is tried and its answer kept; when discovery
/// fails the Auth0 default is used for that call only, so a transient failure is not kept.
#[derive(Debug)]
pub struct IssuerEndpoint {
    issuer: String,
    kind: EndpointKind,
    configured: Option<Url>,
    discovered: OnceCell<Url>,
}

impl IssuerEndpoint {
    /// `issuer` exactly as in the tokens' `iss` (Auth0: `https://{domain}/`).
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

    /// The endpoint's URL.
    pub async fn url(&self, client: &reqwest::Client) -> Url {
        if let Some(url) = &self.configured {
            return url.clone();
        }
        match self
            .discovered
            .get_or_try_init(|| discover(client, &self.issuer, self.kind))
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

async fn discover(
    client: &reqwest::Client,
    issuer: &str,
    kind: EndpointKind,
) -> Result<Url, DiscoveryError> {
    let url = issuer_relative(issuer, ".well-known/openid-configuration");
    let metadata: ProviderMetadata =
        http_client::get_json(client, &url, MAX_DISCOVERY_BYTES).await?;
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

    #[tokio::test]
    async fn configured_url_wins_without_any_request() {
        let configured = Url::parse("https://keys.example/jwks").unwrap();
        let endpoint = IssuerEndpoint::new(
            "https://tenant.auth0.com/",
            EndpointKind::Jwks,
            Some(configured.clone()),
        );
        let client = reqwest::Client::new();
        assert_eq!(endpoint.url(&client).await, configured);
    }
}
