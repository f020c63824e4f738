//! The API function's configuration.

use std::time::Duration;

use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use jsonwebtoken::Algorithm;
use timesheets::config::{self, ConfigError, VarSource};
use url::Url;

use jwt_access_token::JwksPolicy;
use jwt_access_token::TokenProfile;
use jwt_access_token::VerifierPolicy;
use jwt_access_token::{DpopMode, DpopPolicy};

use crate::store::id_blocks::DEFAULT_BLOCK_SIZE;

/// Everything the API function reads from its environment.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `AUTH_ISSUER`: the issuers whose tokens are accepted, one or more, comma-separated
    /// (an Auth0 custom domain next to the tenant domain during a migration, say); each with
    /// its `AUTH_JWKS_URI` entry.
    pub issuers: Vec<IssuerConfig>,
    /// Token rules for every issuer: `AUTH_AUDIENCE`, `AUTH_ALGORITHMS`, `AUTH_LEEWAY_SECONDS`.
    pub verifier: VerifierPolicy,
    /// `AUTH_REQUIRE_AT_JWT` (`false`): `true` takes RFC 9068 access tokens only.
    pub profile: TokenProfile,
    /// `AUTH_JWKS_TTL_SECONDS` (600), `AUTH_JWKS_COOLDOWN_SECONDS` (30), 1 MiB cap, and
    /// `AUTH_JWKS_TIMEOUT_SECONDS` (3) as its `timeout`: the bound on one discovery or JWKS
    /// exchange, connection included, on the function's one HTTP client
    /// ([`ApiConfig::jwks_timeout`]).
    pub jwks: JwksPolicy,
    /// `DYNAMODB_TIMEOUT_SECONDS` (2): bound on one attempt of a DynamoDB call; the call, its
    /// retries included, is bounded by [`DYNAMODB_OPERATION_TIMEOUT`] (or this, if longer).
    pub dynamodb_timeout: Duration,
    /// `TIMESHEETS_TABLE`: the DynamoDB table.
    pub table: String,
    /// `TIMESHEETS_ID_BLOCK_SIZE` ([`DEFAULT_BLOCK_SIZE`], at least 1): ids a sandbox reserves
    /// per write of the table's id counter ([`crate::store::id_blocks`]).
    pub id_block_size: u64,
    /// `AUTH_DPOP` (`off`), `AUTH_DPOP_HTU`; the leeway is `AUTH_LEEWAY_SECONDS`.
    pub dpop: DpopPolicy,
}

/// Default of `DYNAMODB_TIMEOUT_SECONDS`: DynamoDB answers in milliseconds, so 2 s ends only
/// attempts that are stuck (a dead connection, a stalled endpoint), and the retry on a new
/// connection still has time within [`DYNAMODB_OPERATION_TIMEOUT`].
pub const DYNAMODB_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default of `AUTH_JWKS_TIMEOUT_SECONDS`.
pub const JWKS_TIMEOUT: Duration = Duration::from_secs(3);
/// Bound on one DynamoDB call, its retries (the SDK's standard mode, 3 attempts) included, so
/// that a stalled table turns a request into the API's own 503 `temporarily_unavailable` in
/// seconds, before the function's 10 s `Timeout` (template) ends it with no answer of its own.
pub const DYNAMODB_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// One trusted issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerConfig {
    /// The `iss` of its tokens, exactly (Auth0: `https://{domain}/`).
    pub issuer: String,
    /// Its JWKS: the issuer's entry of `AUTH_JWKS_URI`; unset means OpenID Connect discovery,
    /// else `{issuer}/.well-known/jwks.json`.
    pub jwks_uri: Option<Url>,
}

impl ApiConfig {
    /// Reads the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_source(source: &impl VarSource) -> Result<Self, ConfigError> {
        let defaults = JwksPolicy::default();
        let leeway_seconds = config::parsed_or(source, "AUTH_LEEWAY_SECONDS", 5)?;
        let jwks_timeout = timeout(source, "AUTH_JWKS_TIMEOUT_SECONDS", JWKS_TIMEOUT)?;
        Ok(Self {
            issuers: issuers(source)?,
            verifier: VerifierPolicy {
                audiences: config::list(source, "AUTH_AUDIENCE")?,
                algorithms: algorithms(source)?,
                leeway_seconds,
            },
            profile: TokenProfile::from_require_at_jwt(config::parsed_or(
                source,
                "AUTH_REQUIRE_AT_JWT",
                false,
            )?),
            jwks: JwksPolicy {
                ttl: seconds(source, "AUTH_JWKS_TTL_SECONDS", defaults.ttl)?,
                cooldown: seconds(source, "AUTH_JWKS_COOLDOWN_SECONDS", defaults.cooldown)?,
                max_bytes: defaults.max_bytes,
                timeout: Some(jwks_timeout),
            },
            dynamodb_timeout: timeout(
                source,
                "DYNAMODB_TIMEOUT_SECONDS",
                DYNAMODB_ATTEMPT_TIMEOUT,
            )?,
            table: config::required(source, "TIMESHEETS_TABLE")?,
            id_block_size: id_block_size(source)?,
            dpop: DpopPolicy {
                mode: config::parsed_or(source, "AUTH_DPOP", DpopMode::default())?,
                htu: config::optional_endpoint(source, "AUTH_DPOP_HTU")?,
                leeway_seconds,
            },
        })
    }

    /// `AUTH_JWKS_TIMEOUT_SECONDS`, as `jwks.timeout` holds it: one issuer exchange's bound,
    /// which also bounds the keys' prefetch at init.
    pub fn jwks_timeout(&self) -> Duration {
        self.jwks.timeout.unwrap_or(JWKS_TIMEOUT)
    }

    /// The DynamoDB client configuration: `sdk_config` with this function's timeouts
    /// (`DYNAMODB_TIMEOUT_SECONDS` per attempt, [`DYNAMODB_OPERATION_TIMEOUT`] per call), which
    /// the SDK enforces itself on top of any HTTP client (AWS SDK for Rust, "Timeouts").
    pub fn dynamodb(&self, sdk_config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Config {
        aws_sdk_dynamodb::config::Builder::from(sdk_config)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(self.dynamodb_timeout)
                    .operation_timeout(DYNAMODB_OPERATION_TIMEOUT.max(self.dynamodb_timeout))
                    .build(),
            )
            .build()
    }
}

/// `AUTH_ISSUER`, each an endpoint and none twice, and `AUTH_JWKS_URI`: unset, or one URL per
/// issuer in the same order.
fn issuers(source: &impl VarSource) -> Result<Vec<IssuerConfig>, ConfigError> {
    let names = config::list(source, "AUTH_ISSUER")?;
    for (at, name) in names.iter().enumerate() {
        config::parse_endpoint("AUTH_ISSUER", name)?;
        if names[..at].contains(name) {
            return Err(ConfigError::Invalid {
                name: "AUTH_ISSUER",
                reason: format!("lists `{name}` twice"),
            });
        }
    }
    let jwks_uris = match config::optional(source, "AUTH_JWKS_URI") {
        None => vec![None; names.len()],
        Some(_) => {
            let uris = config::list(source, "AUTH_JWKS_URI")?;
            if uris.len() != names.len() {
                return Err(ConfigError::Invalid {
                    name: "AUTH_JWKS_URI",
                    reason: format!(
                        "lists {} URLs for {} issuers: one per AUTH_ISSUER entry, in its order",
                        uris.len(),
                        names.len()
                    ),
                });
            }
            uris.iter()
                .map(|uri| config::parse_endpoint("AUTH_JWKS_URI", uri).map(Some))
                .collect::<Result<_, _>>()?
        }
    };
    Ok(names
        .into_iter()
        .zip(jwks_uris)
        .map(|(issuer, jwks_uri)| IssuerConfig { issuer, jwks_uri })
        .collect())
}

fn seconds(
    source: &impl VarSource,
    name: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    config::parsed_or(source, name, default.as_secs()).map(Duration::from_secs)
}

/// Whole seconds, at least 1: a zero timeout would fail every call at once.
fn timeout(
    source: &impl VarSource,
    name: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match seconds(source, name, default)? {
        Duration::ZERO => Err(ConfigError::Invalid {
            name,
            reason: "must be at least 1 second".to_owned(),
        }),
        timeout => Ok(timeout),
    }
}

/// `TIMESHEETS_ID_BLOCK_SIZE`: a whole number of ids, at least 1.
fn id_block_size(source: &impl VarSource) -> Result<u64, ConfigError> {
    match config::parsed_or(source, "TIMESHEETS_ID_BLOCK_SIZE", DEFAULT_BLOCK_SIZE)? {
        0 => Err(ConfigError::Invalid {
            name: "TIMESHEETS_ID_BLOCK_SIZE",
            reason: "must be at least 1".to_owned(),
        }),
        size => Ok(size),
    }
}

/// `AUTH_ALGORITHMS`: comma-separated, default `RS256`. Symmetric `HS*` is refused: a shared
/// secret in a public-client world lets anyone holding it mint tokens (RFC 8725 §2.1, §3.1).
fn algorithms(source: &impl VarSource) -> Result<Vec<Algorithm>, ConfigError> {
    let Some(text) = config::optional(source, "AUTH_ALGORITHMS") else {
        return Ok(vec![Algorithm::RS256]);
    };
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| match name.parse::<Algorithm>() {
            Ok(Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) | Err(_) => {
                Err(ConfigError::Invalid {
                    name: "AUTH_ALGORITHMS",
                    reason: format!("`{name}` is not an accepted asymmetric JWS algorithm"),
                })
            }
            Ok(alg) => Ok(alg),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("AUTH_ISSUER", "https://tenant.auth0.com/"),
            ("AUTH_AUDIENCE", "https://api.exampleco.com/timesheets"),
            ("TIMESHEETS_TABLE", "Timesheets"),
        ])
    }

    #[test]
    fn defaults() {
        let config = ApiConfig::from_source(&base()).unwrap();
        assert_eq!(
            config.issuers,
            [IssuerConfig {
                issuer: "https://tenant.auth0.com/".to_owned(),
                jwks_uri: None
            }]
        );
        assert_eq!(config.verifier.algorithms, [Algorithm::RS256]);
        assert_eq!(config.verifier.leeway_seconds, 5);
        assert_eq!(config.jwks.ttl, Duration::from_secs(600));
        assert_eq!(config.jwks.cooldown, Duration::from_secs(30));
        assert_eq!(config.jwks.timeout, Some(Duration::from_secs(3)));
        assert_eq!(config.dynamodb_timeout, Duration::from_secs(2));
        assert_eq!(config.profile, TokenProfile::Jwt);
    }

    /// The SDK's own settings, which the function's must replace rather than inherit.
    fn sdk_config() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
            .build()
    }

    #[test]
    fn the_id_block_size_is_a_whole_number_of_at_least_one() {
        assert_eq!(ApiConfig::from_source(&base()).unwrap().id_block_size, 100);
        let mut source = base();
        source.insert("TIMESHEETS_ID_BLOCK_SIZE", "1000");
        assert_eq!(ApiConfig::from_source(&source).unwrap().id_block_size, 1000);
        for refused in ["0", "-1", "ten"] {
            source.insert("TIMESHEETS_ID_BLOCK_SIZE", refused);
            let error = ApiConfig::from_source(&source).unwrap_err();
            assert!(
                error.to_string().contains("TIMESHEETS_ID_BLOCK_SIZE"),
                "{refused}: {error}"
            );
        }
    }

    #[test]
    fn dynamodb_timeouts_reach_its_client() {
        let config = ApiConfig::from_source(&base()).unwrap();
        let dynamodb = config.dynamodb(&sdk_config());
        let timeouts = dynamodb.timeout_config().expect("a timeout config");
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(3)));

        let mut source = base();
        source.insert("DYNAMODB_TIMEOUT_SECONDS", "5");
        source.insert("AUTH_JWKS_TIMEOUT_SECONDS", "7");
        let config = ApiConfig::from_source(&source).unwrap();
        assert_eq!(config.jwks_timeout(), Duration::from_secs(7));
        let dynamodb = config.dynamodb(&sdk_config());
        let timeouts = dynamodb.timeout_config().expect("a timeout config");
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(5)));
    }

    #[tokio::test]
    async fn the_jwks_timeout_bounds_a_fetch_on_the_shared_client() {
        // Accepts connections (the kernel completes them) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let jwks_uri = format!("http://{}/jwks", silent.local_addr().unwrap());
        let mut source = base();
        source.insert("AUTH_ISSUER", "http://127.0.0.1/");
        source.insert("AUTH_JWKS_URI", Box::leak(jwks_uri.into_boxed_str()));
        source.insert("AUTH_JWKS_TIMEOUT_SECONDS", "1");
        let config = ApiConfig::from_source(&source).unwrap();
        // The function's one client, which bounds connecting only.
        let http = timesheets::http_client::build_bounded_by_caller().unwrap();
        let verifier = crate::verifier(&config, http);
        let started = std::time::Instant::now();
        tokio::time::timeout(Duration::from_secs(5), verifier.prefetch_keys())
            .await
            .expect("ended by AUTH_JWKS_TIMEOUT_SECONDS");
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }

    #[test]
    fn timeouts_are_at_least_a_second() {
        for name in ["DYNAMODB_TIMEOUT_SECONDS", "AUTH_JWKS_TIMEOUT_SECONDS"] {
            let mut source = base();
            source.insert(name, "0");
            assert_eq!(
                ApiConfig::from_source(&source).unwrap_err().to_string(),
                format!("configuration: {name} is invalid: must be at least 1 second")
            );
        }
    }

    #[test]
    fn require_at_jwt_is_a_boolean() {
        let mut source = base();
        source.insert("AUTH_REQUIRE_AT_JWT", "true");
        assert_eq!(
            ApiConfig::from_source(&source).unwrap().profile,
            TokenProfile::AtJwt
        );
        source.insert("AUTH_REQUIRE_AT_JWT", "false");
        assert_eq!(
            ApiConfig::from_source(&source).unwrap().profile,
            TokenProfile::Jwt
        );
        source.insert("AUTH_REQUIRE_AT_JWT", "yes");
        let error = ApiConfig::from_source(&source).unwrap_err();
        assert_eq!(
            error.to_string(),
            "configuration: AUTH_REQUIRE_AT_JWT is invalid: `yes` is not a valid value: \
             provided string was not `true` or `false`"
        );
    }

    #[test]
    fn each_required_variable_is_named_when_missing() {
        for name in ["AUTH_ISSUER", "AUTH_AUDIENCE", "TIMESHEETS_TABLE"] {
            let mut source = base();
            source.remove(name);
            let error = ApiConfig::from_source(&source).unwrap_err();
            assert_eq!(error, ConfigError::Missing { name });
        }
    }

    #[test]
    fn symmetric_algorithms_are_refused() {
        let mut source = base();
        source.insert("AUTH_ALGORITHMS", "RS256,HS256");
        let error = ApiConfig::from_source(&source).unwrap_err();
        assert_eq!(
            error.to_string(),
            "configuration: AUTH_ALGORITHMS is invalid: `HS256` is not an accepted asymmetric JWS algorithm"
        );
        source.insert("AUTH_ALGORITHMS", "RS256, PS256");
        let config = ApiConfig::from_source(&source).unwrap();
        assert_eq!(
            config.verifier.algorithms,
            [Algorithm::RS256, Algorithm::PS256]
        );
    }

    #[test]
    fn several_issuers_each_with_its_jwks_uri_in_order() {
        let mut source = base();
        source.insert(
            "AUTH_ISSUER",
            "https://tenant.auth0.com/, https://login.exampleco.com/",
        );
        let config = ApiConfig::from_source(&source).unwrap();
        let names: Vec<_> = config.issuers.iter().map(|i| i.issuer.as_str()).collect();
        assert_eq!(
            names,
            ["https://tenant.auth0.com/", "https://login.exampleco.com/"]
        );
        assert!(config.issuers.iter().all(|i| i.jwks_uri.is_none()));
        source.insert(
            "AUTH_JWKS_URI",
            "https://tenant.auth0.com/.well-known/jwks.json,https://login.exampleco.com/keys",
        );
        let config = ApiConfig::from_source(&source).unwrap();
        assert_eq!(
            config.issuers[1].jwks_uri.as_ref().map(Url::as_str),
            Some("https://login.exampleco.com/keys")
        );
        source.insert(
            "AUTH_JWKS_URI",
            "https://tenant.auth0.com/.well-known/jwks.json",
        );
        assert_eq!(
            ApiConfig::from_source(&source).unwrap_err().to_string(),
            "configuration: AUTH_JWKS_URI is invalid: lists 1 URLs for 2 issuers: \
             one per AUTH_ISSUER entry, in its order"
        );
    }

    #[test]
    fn each_issuer_is_an_endpoint_listed_once() {
        let mut source = base();
        source.insert(
            "AUTH_ISSUER",
            "https://tenant.auth0.com/,http://issuer.example/",
        );
        assert_eq!(
            ApiConfig::from_source(&source).unwrap_err().to_string(),
            "configuration: AUTH_ISSUER is invalid: must use https unless the host is loopback"
        );
        source.insert(
            "AUTH_ISSUER",
            "https://tenant.auth0.com/,https://tenant.auth0.com/",
        );
        assert_eq!(
            ApiConfig::from_source(&source).unwrap_err().to_string(),
            "configuration: AUTH_ISSUER is invalid: lists `https://tenant.auth0.com/` twice"
        );
    }

    #[test]
    fn plain_http_issuer_only_on_loopback() {
        let mut source = base();
        source.insert("AUTH_ISSUER", "http://issuer.example/");
        assert!(ApiConfig::from_source(&source).is_err());
        source.insert("AUTH_ISSUER", "http://127.0.0.1:4000/");
        assert!(ApiConfig::from_source(&source).is_ok());
    }
}
