//! Reading configuration from the environment: a missing or
//! malformed variable is an error that names it, so the function stops at init with one line.

use std::collections::HashMap;
use std::str::FromStr;

use url::Url;

/// A configuration variable that is missing or malformed; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("configuration: {name} is required but not set")]
    Missing {
        /// The environment variable.
        name: &'static str,
    },
    /// A variable is set to something unusable.
    #[error("configuration: {name} is invalid: {reason}")]
    Invalid {
        /// The environment variable.
        name: &'static str,
        /// Why, without echoing secrets (none of these variables holds one).
        reason: String,
    },
}

/// Where variables come from: the process environment in Lambda, a map in tests.
pub trait VarSource {
    /// The variable's value, `None` when unset.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl VarSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl VarSource for HashMap<&str, &str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).map(|value| (*value).to_owned())
    }
}

/// The variable trimmed, `None` when unset or blank.
pub fn optional(source: &impl VarSource, name: &'static str) -> Option<String> {
    source
        .var(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The variable trimmed.
///
/// # Errors
/// [`ConfigError::Missing`] when unset or blank.
pub fn required(source: &impl VarSource, name: &'static str) -> Result<String, ConfigError> {
    optional(source, name).ok_or(ConfigError::Missing { name })
}

/// The variable parsed as `T`, or `default` when unset.
///
/// # Errors
/// [`ConfigError::Invalid`] when set but not parseable, with `T`'s parse error as the reason.
pub fn parsed_or<T>(
    source: &impl VarSource,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match optional(source, name) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|error| ConfigError::Invalid {
            name,
            reason: format!("`{value}` is not a valid value: {error}"),
        }),
    }
}

/// A required endpoint URL: `https`, or `http` only on a loopback host (local stand-ins),
/// since tokens and client secrets travel to these endpoints (RFC 6749 §3.1, RFC 8725 §3.1).
///
/// # Errors
/// [`ConfigError`] when missing, not a URL, or plain `http` to a non-loopback host.
pub fn endpoint(source: &impl VarSource, name: &'static str) -> Result<Url, ConfigError> {
    let value = required(source, name)?;
    parse_endpoint(name, &value)
}

/// Like [`endpoint`] but optional.
///
/// # Errors
/// [`ConfigError::Invalid`] when set but not an acceptable endpoint.
pub fn optional_endpoint(
    source: &impl VarSource,
    name: &'static str,
) -> Result<Option<Url>, ConfigError> {
    optional(source, name)
        .map(|value| parse_endpoint(name, &value))
        .transpose()
}

/// `value` of the variable `name` as an endpoint, by the rules of [`endpoint`].
///
/// # Errors
/// [`ConfigError::Invalid`] naming `name` when it is not one.
pub fn parse_endpoint(name: &'static str, value: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name,
        reason: reason.to_owned(),
    };
    let url = Url::parse(value).map_err(|_| invalid("not an absolute URL"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(invalid("must use https unless the host is loopback")),
        _ => Err(invalid("must be an https URL")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A comma-separated list, entries trimmed, blanks dropped (e.g. `AUTH_AUDIENCE`).
///
/// # Errors
/// [`ConfigError::Missing`] when unset or holding no entry.
pub fn list(source: &impl VarSource, name: &'static str) -> Result<Vec<String>, ConfigError> {
    let items: Vec<String> = required(source, name)?
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect();
    if items.is_empty() {
        return Err(ConfigError::Missing { name });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&'static str, &'static str)]) -> HashMap<&'static str, &'static str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn missing_variable_is_named() {
        let error = required(&env(&[]), "TIMESHEETS_TABLE").unwrap_err();
        assert_eq!(
            error.to_string(),
            "configuration: TIMESHEETS_TABLE is required but not set"
        );
        assert_eq!(
            required(&env(&[("TIMESHEETS_TABLE", "  ")]), "TIMESHEETS_TABLE").unwrap_err(),
            ConfigError::Missing {
                name: "TIMESHEETS_TABLE"
            }
        );
    }

    #[test]
    fn endpoints_need_https_except_on_loopback() {
        let ok = |value| endpoint(&env(&[("AUTH_ISSUER", value)]), "AUTH_ISSUER");
        assert!(ok("https://example.eu.auth0.com/").is_ok());
        assert!(ok("http://127.0.0.1:8080/").is_ok());
        assert!(ok("http://localhost:8080/").is_ok());
        assert!(ok("http://[::1]:8080/").is_ok());
        assert_eq!(
            ok("http://example.com/").unwrap_err().to_string(),
            "configuration: AUTH_ISSUER is invalid: must use https unless the host is loopback"
        );
        assert!(ok("example.com").is_err());
        assert!(ok("ftp://example.com/").is_err());
    }

    #[test]
    fn lists_split_on_commas() {
        let source = env(&[("AUTH_AUDIENCE", " https://a , ,https://b ")]);
        assert_eq!(
            list(&source, "AUTH_AUDIENCE").unwrap(),
            ["https://a", "https://b"]
        );
        assert!(list(&env(&[("AUTH_AUDIENCE", ",")]), "AUTH_AUDIENCE").is_err());
    }

    #[test]
    fn parsed_values_default_and_reject_garbage() {
        assert_eq!(
            parsed_or(&env(&[]), "AUTH_LEEWAY_SECONDS", 5u64).unwrap(),
            5
        );
        let source = env(&[("AUTH_LEEWAY_SECONDS", "30")]);
        assert_eq!(parsed_or(&source, "AUTH_LEEWAY_SECONDS", 5u64).unwrap(), 30);
        let source = env(&[("AUTH_LEEWAY_SECONDS", "soon")]);
        assert!(parsed_or(&source, "AUTH_LEEWAY_SECONDS", 5u64).is_err());
    }
}
