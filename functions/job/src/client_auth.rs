//! How the job authenticates to the token endpoint (`AUTH_CLIENT_AUTH`): the client secret in
//! the form body or in HTTP Basic (RFC 6749 §2.3.1), or a client assertion signed in KMS
//! (RFC 7523 §2.2, `client_assertion.rs`); Auth0's `token_endpoint_auth_method`
//! `client_secret_post`, `client_secret_basic` and `private_key_jwt`.

use std::str::FromStr;

use reqwest::RequestBuilder;
use url::form_urlencoded;

use crate::client_assertion::ASSERTION_TYPE;
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
    /// `client_id`, `client_assertion_type` and a `client_assertion` JWT signed by the job's
    /// KMS key: no client secret exists.
    PrivateKeyJwt,
}

impl FromStr for ClientAuthentication {
    type Err = &'static str;

    /// `client_secret_post`, `client_secret_basic` or `private_key_jwt`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "client_secret_post" => Ok(Self::ClientSecretPost),
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "private_key_jwt" => Ok(Self::PrivateKeyJwt),
            _ => Err("the job sends client_secret_post, client_secret_basic or private_key_jwt"),
        }
    }
}

impl ClientAuthentication {
    /// Whether the method sends a client secret, so the secret must hold one.
    pub fn needs_client_secret(self) -> bool {
        !matches!(self, Self::PrivateKeyJwt)
    }

    /// `request` with the token request `form` (grant type and audience) as its body and the
    /// client's credentials where this method sends them: `credentials`' secret, or the
    /// `assertion` signed for this request (`private_key_jwt`).
    pub(crate) fn authenticate(
        self,
        request: RequestBuilder,
        credentials: &ClientCredentials,
        assertion: Option<&str>,
        form: &[(&str, &str)],
    ) -> RequestBuilder {
        // The secret is there for the methods that send one: credentials.rs checks the shape
        // of the secret against needs_client_secret.
        let secret = credentials.client_secret.as_deref().unwrap_or_default();
        let mut fields = form.to_vec();
        match self {
            Self::ClientSecretPost => {
                fields.push(("client_id", credentials.client_id.as_str()));
                fields.push(("client_secret", secret));
                request.form(&fields)
            }
            Self::ClientSecretBasic => request
                .basic_auth(
                    form_encoded(&credentials.client_id),
                    Some(form_encoded(secret)),
                )
                .form(form),
            Self::PrivateKeyJwt => {
                fields.push(("client_id", credentials.client_id.as_str()));
                fields.push(("client_assertion_type", ASSERTION_TYPE));
                fields.push(("client_assertion", assertion.unwrap_or_default()));
                request.form(&fields)
            }
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
        assert_eq!(
            read(Some("private_key_jwt")),
            Ok(ClientAuthentication::PrivateKeyJwt)
        );
        for refused in ["client_secret_jwt", "basic"] {
            let message = read(Some(refused)).unwrap_err();
            assert!(message.contains("AUTH_CLIENT_AUTH"), "{message}");
            assert!(message.contains(&format!("`{refused}` is not a valid value: the job sends client_secret_post, client_secret_basic or private_key_jwt")), "{message}");
        }
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(form_encoded("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
