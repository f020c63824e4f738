//! The scheduled function's configuration.

use std::str::FromStr;
use std::time::Duration;

use timesheets::config::{self, ConfigError, VarSource};
use url::Url;

use crate::client_assertion::{AssertionAlgorithm, AssertionConfig};
use crate::client_auth::ClientAuthentication;
use crate::dpop::DpopClientMode;
use crate::retry::RetryPolicy;
use crate::token_request::TokenParameters;

/// Everything the job reads from its environment.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// `AUTH_ISSUER`, exactly as in `iss`, with or without a trailing slash (Auth0:
    /// `https://{domain}/`; Keycloak: `https://{host}/realms/{realm}`).
    pub issuer: String,
    /// The first entry of `AUTH_AUDIENCE`: the API identifier the token is requested for.
    pub audience: String,
    /// The token request's parameters: `audience` unless `AUTH_TOKEN_SEND_AUDIENCE=false`,
    /// `resource` from `AUTH_TOKEN_RESOURCE`, `scope` from `AUTH_TOKEN_SCOPE` (both unset by
    /// default, Auth0's request).
    pub token_request: TokenParameters,
    /// `AUTH_CLIENT_AUTH`: how the job authenticates to the token endpoint.
    pub client_auth: ClientAuthentication,
    /// With `private_key_jwt`: the KMS key and the assertion's `alg`, `kid` and `aud`.
    pub assertion: Option<AssertionConfig>,
    /// `AUTH_DPOP` (`off`): whether tokens are requested bound to a key of the sandbox
    /// (RFC 9449).
    pub dpop: DpopClientMode,
    /// `AUTH_TOKEN_URL`; unset means discovery, else `{issuer}/oauth/token`.
    pub token_url: Option<Url>,
    /// `CREDENTIALS_SECRET_ID`: id or ARN of the secret `{"client_id", "client_secret"}`.
    pub secret_id: String,
    /// `CREDENTIALS_CACHE_TTL_SECONDS` (300): how long the secret is kept in memory.
    pub secret_ttl: Duration,
    /// `API_URL`: base URL of the API; uploads go to `{API_URL}/timesheets/upload`.
    pub api_url: Url,
    /// `HTTP_TIMEOUT_SECONDS` (10): bound on one attempt of a call to the token endpoint, the
    /// API or Secrets Manager.
    pub http_timeout: Duration,
    /// How failed calls are retried: [`RetryPolicy::default`], fixed in code.
    pub retry: RetryPolicy,
}

impl JobConfig {
    /// Reads the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_source(source: &impl VarSource) -> Result<Self, ConfigError> {
        let issuer = config::required(source, "AUTH_ISSUER")?;
        config::endpoint(source, "AUTH_ISSUER")?;
        let audience = config::list(source, "AUTH_AUDIENCE")?.remove(0);
        let client_auth =
            config::parsed_or(source, "AUTH_CLIENT_AUTH", ClientAuthentication::default())?;
        let assertion = match client_auth {
            ClientAuthentication::PrivateKeyJwt => Some(AssertionConfig {
                key_id: config::required(source, "AUTH_SIGNING_KEY_ID")?,
                alg: config::parsed_or(
                    source,
                    "AUTH_ASSERTION_ALG",
                    AssertionAlgorithm::default(),
                )?,
                kid: config::optional(source, "AUTH_ASSERTION_KID"),
                // Auth0 wants its own domain, https://{domain}/, which is the issuer.
                audience: config::optional(source, "AUTH_ASSERTION_AUDIENCE")
                    .unwrap_or_else(|| issuer.clone()),
            }),
            _ => None,
        };
        let token_request = TokenParameters {
            audience: config::parsed_or(source, "AUTH_TOKEN_SEND_AUDIENCE", true)?
                .then(|| audience.clone()),
            resource: parsed_optional(source, "AUTH_TOKEN_RESOURCE")?,
            scope: parsed_optional(source, "AUTH_TOKEN_SCOPE")?,
        };
        Ok(Self {
            issuer,
            audience,
            token_request,
            client_auth,
            assertion,
            dpop: config::parsed_or(source, "AUTH_DPOP", DpopClientMode::default())?,
            token_url: config::optional_endpoint(source, "AUTH_TOKEN_URL")?,
            secret_id: config::required(source, "CREDENTIALS_SECRET_ID")?,
            secret_ttl: Duration::from_secs(config::parsed_or(
                source,
                "CREDENTIALS_CACHE_TTL_SECONDS",
                300,
            )?),
            api_url: config::endpoint(source, "API_URL")?,
            http_timeout: Duration::from_secs(config::parsed_or(
                source,
                "HTTP_TIMEOUT_SECONDS",
                10,
            )?),
            retry: RetryPolicy::default(),
        })
    }
}

/// The variable parsed as `T`, `None` when unset or blank.
///
/// # Errors
/// [`ConfigError::Invalid`] naming `name`, with `T`'s parse error, when set but not parseable.
fn parsed_optional<T>(source: &impl VarSource, name: &'static str) -> Result<Option<T>, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    config::optional(source, name)
        .map(|value| {
            value.parse().map_err(|error| ConfigError::Invalid {
                name,
                reason: format!("`{value}` is not a valid value: {error}"),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("AUTH_ISSUER", "https://tenant.auth0.com/"),
            (
                "AUTH_AUDIENCE",
                "https://api.exampleco.com/timesheets, https://other",
            ),
            ("CREDENTIALS_SECRET_ID", "timesheets/job-credentials"),
            ("API_URL", "https://abc.execute-api.eu-west-1.amazonaws.com"),
        ])
    }

    #[test]
    fn requests_the_first_audience() {
        let config = JobConfig::from_source(&base()).unwrap();
        assert_eq!(config.audience, "https://api.exampleco.com/timesheets");
        assert_eq!(config.secret_ttl, Duration::from_secs(300));
        assert_eq!(config.token_url, None);
    }

    #[test]
    fn each_required_variable_is_named_when_missing() {
        for name in [
            "AUTH_ISSUER",
            "AUTH_AUDIENCE",
            "CREDENTIALS_SECRET_ID",
            "API_URL",
        ] {
            let mut source = base();
            source.remove(name);
            assert_eq!(
                JobConfig::from_source(&source).unwrap_err(),
                ConfigError::Missing { name }
            );
        }
    }

    #[test]
    fn private_key_jwt_needs_a_signing_key_and_defaults_the_rest() {
        let mut source = base();
        source.insert("AUTH_CLIENT_AUTH", "private_key_jwt");
        assert_eq!(
            JobConfig::from_source(&source).unwrap_err(),
            ConfigError::Missing {
                name: "AUTH_SIGNING_KEY_ID"
            }
        );
        source.insert("AUTH_SIGNING_KEY_ID", "alias/timesheets-job");
        let assertion = JobConfig::from_source(&source).unwrap().assertion.unwrap();
        assert_eq!(
            assertion,
            AssertionConfig {
                key_id: "alias/timesheets-job".into(),
                alg: AssertionAlgorithm::RS256,
                kid: None,
                audience: "https://tenant.auth0.com/".into(),
            }
        );
        source.insert("AUTH_ASSERTION_ALG", "HS256");
        let message = JobConfig::from_source(&source).unwrap_err().to_string();
        assert!(
            message.contains("AUTH_ASSERTION_ALG") && message.contains("RS256, PS256 or ES256"),
            "{message}"
        );
        source.insert("AUTH_ASSERTION_ALG", "ES256");
        source.insert("AUTH_ASSERTION_KID", "credential-1");
        source.insert("AUTH_ASSERTION_AUDIENCE", "https://login.example.com/");
        let assertion = JobConfig::from_source(&source).unwrap().assertion.unwrap();
        assert_eq!(assertion.alg, AssertionAlgorithm::ES256);
        assert_eq!(assertion.kid.as_deref(), Some("credential-1"));
        assert_eq!(assertion.audience, "https://login.example.com/");
    }

    #[test]
    fn the_secret_methods_read_no_signing_key() {
        let mut source = base();
        source.insert("AUTH_SIGNING_KEY_ID", "alias/unused");
        assert_eq!(JobConfig::from_source(&source).unwrap().assertion, None);
    }

    #[test]
    fn dpop_is_off_unless_asked_for() {
        let mut source = base();
        assert_eq!(
            JobConfig::from_source(&source).unwrap().dpop,
            DpopClientMode::Off
        );
        source.insert("AUTH_DPOP", "on");
        assert_eq!(
            JobConfig::from_source(&source).unwrap().dpop,
            DpopClientMode::On
        );
        for api_value in ["allowed", "required"] {
            source.insert("AUTH_DPOP", api_value);
            assert_eq!(
                JobConfig::from_source(&source).unwrap().dpop,
                DpopClientMode::On
            );
        }
        for refused in ["yes", "ON", "1"] {
            source.insert("AUTH_DPOP", refused);
            assert_eq!(
                JobConfig::from_source(&source).unwrap_err().to_string(),
                format!(
                    "configuration: AUTH_DPOP is invalid: `{refused}` is not a valid value: \
                     DPoP is off or on (the API's allowed and required mean on)"
                )
            );
        }
    }

    #[test]
    fn the_token_request_is_auth0s_unless_configured() {
        let mut source = base();
        let auth0 = JobConfig::from_source(&source).unwrap().token_request;
        assert_eq!(
            auth0,
            TokenParameters::audience("https://api.exampleco.com/timesheets")
        );
        source.insert("AUTH_TOKEN_SEND_AUDIENCE", "false");
        source.insert(
            "AUTH_TOKEN_RESOURCE",
            " https://api.exampleco.com/timesheets ",
        );
        source.insert("AUTH_TOKEN_SCOPE", "batch:upload");
        let standard = JobConfig::from_source(&source).unwrap().token_request;
        assert_eq!(standard.audience, None);
        assert_eq!(
            standard.resource.as_ref().map(|r| r.as_str()),
            Some("https://api.exampleco.com/timesheets")
        );
        assert_eq!(
            standard.scope.as_ref().map(|s| s.as_str()),
            Some("batch:upload")
        );
    }

    #[test]
    fn token_request_variables_name_themselves_when_malformed() {
        for (name, value, reason) in [
            (
                "AUTH_TOKEN_SEND_AUDIENCE",
                "no",
                "provided string was not `true` or `false`",
            ),
            (
                "AUTH_TOKEN_RESOURCE",
                "https://api.exampleco.com/timesheets#v1",
                "absolute URI without a fragment (RFC 8707 §2)",
            ),
            ("AUTH_TOKEN_SCOPE", "batch\\upload", "(RFC 6749 §3.3)"),
        ] {
            let mut source = base();
            source.insert(name, value);
            let message = JobConfig::from_source(&source).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("configuration: {name} is invalid: `{value}`"))
                    && message.contains(reason),
                "{message}"
            );
        }
    }

    #[test]
    fn an_issuer_without_a_trailing_slash_is_kept_as_written() {
        let mut source = base();
        source.insert("AUTH_ISSUER", "https://kc.example/realms/acme");
        let config = JobConfig::from_source(&source).unwrap();
        assert_eq!(config.issuer, "https://kc.example/realms/acme");
        source.insert("AUTH_ISSUER", "http://127.0.0.1:8080");
        assert_eq!(
            JobConfig::from_source(&source).unwrap().issuer,
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn api_url_must_be_https_off_loopback() {
        let mut source = base();
        source.insert("API_URL", "http://api.example.com");
        assert!(JobConfig::from_source(&source).is_err());
    }
}
