//! What the job's token request asks for, besides the client's credentials: the
//! client-credentials grant (RFC 6749 §4.4.2) with Auth0's `audience`, an RFC 8707 `resource`
//! and an RFC 6749 §3.3 `scope`, each sent only when configured.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// The grant of every request (RFC 6749 §4.4.2).
const GRANT_TYPE: &str = "client_credentials";

/// The form parameters of the token request other than the client's credentials:
/// `AUTH_AUDIENCE` (its first entry), `AUTH_TOKEN_SEND_AUDIENCE`, `AUTH_TOKEN_RESOURCE` and
/// `AUTH_TOKEN_SCOPE`.
///
/// Auth0 picks the API by `audience` and grants a machine-to-machine application every scope
/// it holds when the request names none. A server that follows RFC 8707 picks it by
/// `resource` instead, and grants a client-credentials request the scopes it asks for
/// (RFC 6749 §3.3, §4.4.2), so none without `scope`. Servers ignore parameters they do not
/// know (RFC 6749 §3.2), so sending all three serves both kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenParameters {
    /// Auth0's `audience`: the API identifier; `None` sends none.
    pub audience: Option<String>,
    /// RFC 8707 §2 `resource`; `None` sends none.
    pub resource: Option<Resource>,
    /// RFC 6749 §3.3 `scope`; `None` sends none.
    pub scope: Option<Scope>,
}

impl TokenParameters {
    /// Auth0's request: `audience` alone, no `resource` and no `scope`.
    pub fn audience(audience: impl Into<String>) -> Self {
        Self {
            audience: Some(audience.into()),
            resource: None,
            scope: None,
        }
    }

    /// The form's `(name, value)` pairs, in the order sent: `grant_type`, then `audience`,
    /// `resource` and `scope` where set.
    pub(crate) fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![("grant_type", GRANT_TYPE)];
        if let Some(audience) = &self.audience {
            form.push(("audience", audience));
        }
        if let Some(resource) = &self.resource {
            form.push(("resource", resource.as_str()));
        }
        if let Some(scope) = &self.scope {
            form.push(("scope", scope.as_str()));
        }
        form
    }
}

/// Auth0's request for this API identifier ([`TokenParameters::audience`]).
impl From<String> for TokenParameters {
    fn from(audience: String) -> Self {
        Self::audience(audience)
    }
}

/// Auth0's request for this API identifier ([`TokenParameters::audience`]).
impl From<&str> for TokenParameters {
    fn from(audience: &str) -> Self {
        Self::audience(audience)
    }
}

/// An RFC 8707 resource indicator: an absolute URI (RFC 3986 §4.3) without a fragment
/// (RFC 8707 §2), kept exactly as written, since issuers compare it with the identifier they
/// registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource(String);

impl Resource {
    /// The URI as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Resource {
    type Err = &'static str;

    /// `value` if it parses as an absolute URI and has no `#` and no whitespace (which a URI
    /// never holds, though the URL parser would encode it).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if Url::parse(value).is_ok() && !value.contains(|c: char| c == '#' || c.is_whitespace()) {
            Ok(Self(value.to_owned()))
        } else {
            Err("a resource indicator is an absolute URI without a fragment (RFC 8707 §2)")
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An RFC 6749 §3.3 scope: one or more scope tokens of `NQCHAR` (printable ASCII but `"` and
/// `\`), sent space-delimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(String);

impl Scope {
    /// The scope tokens joined by single spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Scope {
    type Err = &'static str;

    /// The whitespace-separated tokens of `value`, each checked, joined by one space.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let tokens: Vec<&str> = value.split_ascii_whitespace().collect();
        let nqchar = |c: char| matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E');
        if tokens.is_empty() || !tokens.iter().all(|token| token.chars().all(nqchar)) {
            return Err(
                "a scope is space-separated tokens of printable ASCII without `\"` or `\\` \
                 (RFC 6749 §3.3)",
            );
        }
        Ok(Self(tokens.join(" ")))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth0s_request_is_the_grant_and_the_audience() {
        let parameters = TokenParameters::from("https://api.exampleco.com/timesheets");
        assert_eq!(
            parameters.form(),
            [
                ("grant_type", "client_credentials"),
                ("audience", "https://api.exampleco.com/timesheets"),
            ]
        );
    }

    #[test]
    fn resource_and_scope_follow_the_audience_and_each_may_be_left_out() {
        let mut parameters = TokenParameters {
            audience: Some("https://api.exampleco.com/timesheets".into()),
            resource: Some("https://api.exampleco.com/timesheets".parse().unwrap()),
            scope: Some("batch:upload".parse().unwrap()),
        };
        assert_eq!(
            parameters.form(),
            [
                ("grant_type", "client_credentials"),
                ("audience", "https://api.exampleco.com/timesheets"),
                ("resource", "https://api.exampleco.com/timesheets"),
                ("scope", "batch:upload"),
            ]
        );
        parameters.audience = None;
        parameters.scope = None;
        assert_eq!(
            parameters.form(),
            [
                ("grant_type", "client_credentials"),
                ("resource", "https://api.exampleco.com/timesheets"),
            ]
        );
    }

    #[test]
    fn a_resource_is_kept_as_written_and_never_has_a_fragment() {
        let resource: Resource = "https://API.exampleco.com?tenant=a".parse().unwrap();
        assert_eq!(resource.as_str(), "https://API.exampleco.com?tenant=a");
        assert_eq!(
            "urn:exampleco:timesheets"
                .parse::<Resource>()
                .unwrap()
                .as_str(),
            "urn:exampleco:timesheets"
        );
        for refused in [
            "https://api.exampleco.com/timesheets#v1",
            "https://api.exampleco.com/time sheets",
            "/timesheets",
            "api",
        ] {
            assert!(refused.parse::<Resource>().is_err(), "{refused}");
        }
    }

    #[test]
    fn a_scope_is_nqchar_tokens_joined_by_one_space() {
        let scope: Scope = " batch:upload \t batch:read ".parse().unwrap();
        assert_eq!(scope.as_str(), "batch:upload batch:read");
        for refused in [
            "",
            "   ",
            "batch\"upload",
            "batch\\upload",
            "batch:upload é",
        ] {
            assert!(refused.parse::<Scope>().is_err(), "{refused:?}");
        }
    }
}
