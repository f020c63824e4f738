//! How the job authenticates to the token endpoint (`AUTH_CLIENT_AUTH`): the client secret in
//! the form body or in HTTP Basic, both RFC 6749 §2.3.1 and both offered by Auth0
//! (`token_endpoint_auth_method` `client_secret_post` / `client_secret_basic`).

use reqwest::RequestBuilder;
use timesheets::config::{self, ConfigError, VarSource};
use url::form_urlencoded;

use crate::credentials::ClientCredentials;

/// The client authentication method of the token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthentication {
    /// `client_id` and `client_secret` in the form body: Auth0's default for
    /// machine-to-machine applications.
    #[default]
    ClientSecretPost,
    /// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`; RFC 6749 §2.3.1
    /// requires the form-encoding, which Basic alone (RFC 7617) does not do.
    ClientSecretBasic,
}

impl ClientAuthentication {
    /// `AUTH_CLIENT_AUTH`: `client_secret_post` (default) or `client_secret_basic`.
    ///
    /// # Errors
    /// [`ConfigError`] for any other value; `private_key_jwt` is named as not available in
    /// this build, so a stack set up for it fails at init instead of sending no credentials.
    pub fn from_source(source: &impl VarSource) -> Result<Self, ConfigError> {
        match config::optional(source, "AUTH_CLIENT_AUTH").as_deref() {
            None | Some("client_secret_post") => Ok(Self::ClientSecretPost),
            Some("client_secret_basic") => Ok(Self::ClientSecretBasic),
            Some("private_key_jwt") => Err(invalid(
                "`private_key_jwt` is not available in this build of the job: use \
                 client_secret_post or client_secret_basic",
            )),
            Some(other) => Err(invalid(&format!(
                "`{other}` is not client_secret_post or client_secret_basic"
            ))),
        }
    }

    /// The token request `form` (grant type and audience) with the client's credentials
    /// added as this method sends them.
    pub(crate) fn authenticate(
        self,
        request: RequestBuilder,
        credentials: &ClientCredentials,
        form: &[(&str, &str)],
    ) -> RequestBuilder {
        match self {
            Self::ClientSecretPost => {
                let mut fields = form.to_vec();
                fields.push(("client_id", credentials.client_id.as_str()));
                fields.push(("client_secret", credentials.client_secret.as_str()));
                request.form(&fields)
            }
            Self::ClientSecretBasic => request
                .basic_auth(
                    form_encoded(&credentials.client_id),
                    Some(form_encoded(&credentials.client_secret)),
                )
                .form(form),
        }
    }
}

fn invalid(reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name: "AUTH_CLIENT_AUTH",
        reason: reason.to_owned(),
    }
}

/// `application/x-www-form-urlencoded` of one value (RFC 6749 Appendix B).
fn form_encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn source(value: Option<&'static str>) -> HashMap<&'static str, &'static str> {
        value
            .map(|v| HashMap::from([("AUTH_CLIENT_AUTH", v)]))
            .unwrap_or_default()
    }

    #[test]
    fn reads_each_method_and_names_the_refused_ones() {
        assert_eq!(
            ClientAuthentication::from_source(&source(None)).unwrap(),
            ClientAuthentication::ClientSecretPost
        );
        assert_eq!(
            ClientAuthentication::from_source(&source(Some("client_secret_basic"))).unwrap(),
            ClientAuthentication::ClientSecretBasic
        );
        let refused = ClientAuthentication::from_source(&source(Some("private_key_jwt")));
        assert!(refused.unwrap_err().to_string().contains("private_key_jwt"));
        let refused = ClientAuthentication::from_source(&source(Some("basic")));
        assert!(refused.unwrap_err().to_string().contains("`basic`"));
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(form_encoded("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
