//! How the job authenticates to the token endpoint (`AUTH_CLIENT_AUTH`): the client secret in
//! the form body or in HTTP Basic, both RFC 6749 §2.3.1 and both offered by Auth0
//! (`token_endpoint_auth_method` `client_secret_post` / `client_secret_basic`).

use std::str::FromStr;

use reqwest::RequestBuilder;
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

impl FromStr for ClientAuthentication {
    type Err = &'static str;

    /// `client_secret_post` or `client_secret_basic`. `private_key_jwt` is refused like any other
    /// value, so a stack set up for it fails at init instead of sending no credentials.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "client_secret_post" => Ok(Self::ClientSecretPost),
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            _ => Err("the job sends client_secret_post or client_secret_basic"),
        }
    }
}

impl ClientAuthentication {
    /// `request` with the token request `form` (grant type and audience) as its body and the
    /// client's credentials where this method sends them.
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

/// `application/x-www-form-urlencoded` of one value (RFC 6749 Appendix B).
fn form_encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use timesheets::config::parsed_or;

    use super::*;

    fn read(value: Option<&'static str>) -> Result<ClientAuthentication, String> {
        let source: HashMap<&str, &str> = value
            .map(|v| HashMap::from([("AUTH_CLIENT_AUTH", v)]))
            .unwrap_or_default();
        parsed_or(&source, "AUTH_CLIENT_AUTH", ClientAuthentication::default())
            .map_err(|error| error.to_string())
    }

    #[test]
    fn reads_each_method_and_names_the_refused_ones() {
        assert_eq!(read(None), Ok(ClientAuthentication::ClientSecretPost));
        assert_eq!(
            read(Some("client_secret_post")),
            Ok(ClientAuthentication::ClientSecretPost)
        );
        assert_eq!(
            read(Some("client_secret_basic")),
            Ok(ClientAuthentication::ClientSecretBasic)
        );
        for refused in ["private_key_jwt", "basic"] {
            let message = read(Some(refused)).unwrap_err();
            assert!(message.contains("AUTH_CLIENT_AUTH"), "{message}");
            assert!(message.contains(&format!("`{refused}` is not a valid value: the job sends client_secret_post or client_secret_basic")), "{message}");
        }
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(form_encoded("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
