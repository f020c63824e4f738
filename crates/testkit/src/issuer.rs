//! A local issuer for tests: a signing key made at test time (`key-1`), its JWKS served on
//! loopback and, on request, an OpenID Connect discovery document naming it; the claims of a
//! valid access token as Auth0 issues them for the client-credentials grant.

use serde_json::{Value, json};

use crate::keys::now;
use crate::{JwksServer, Reply, TestKey};

/// The `iss` of [`valid_claims`], for an issuer served without discovery.
pub const ISSUER: &str = "https://tenant.example.auth0.com/";
/// The `aud` of [`valid_claims`].
pub const AUDIENCE: &str = "https://api.exampleco.com/timesheets";
/// Path of the OpenID Connect discovery document under the issuer (Discovery 1.0 §4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the JWKS the discovery document names.
pub const DISCOVERED_JWKS_PATH: &str = "/keys";

/// An issuer on loopback.
pub struct LocalIssuer {
    /// The signing key, published as `key-1`.
    pub key: TestKey,
    /// Serves the JWKS (and, with discovery, the discovery document).
    pub server: JwksServer,
    /// The `iss` to expect: [`ISSUER`], or the server's URL with discovery.
    pub issuer: String,
    /// The JWKS URL to configure; `None` with discovery, which names it.
    pub jwks_uri: Option<String>,
}

impl LocalIssuer {
    /// An issuer publishing `key-1` and then `extra_keys`; with `discovery` the issuer is the
    /// server itself, whose discovery document at [`DISCOVERY_PATH`] names
    /// [`DISCOVERED_JWKS_PATH`].
    pub async fn start(extra_keys: Vec<Value>, discovery: bool) -> Self {
        let key = TestKey::generate("key-1");
        let mut keys = vec![key.jwk()];
        keys.extend(extra_keys);
        let server = JwksServer::start(Reply::Json(json!({ "keys": keys }).to_string())).await;
        let (issuer, jwks_uri) = if discovery {
            let issuer = server.base_url();
            let document = json!({
                "issuer": issuer,
                "jwks_uri": format!("{issuer}{}", &DISCOVERED_JWKS_PATH[1..]),
                "token_endpoint": format!("{issuer}oauth/token"),
            });
            server.route(DISCOVERY_PATH, Reply::Json(document.to_string()));
            (issuer, None)
        } else {
            (ISSUER.to_owned(), Some(server.jwks_url()))
        };
        Self {
            key,
            server,
            issuer,
            jwks_uri,
        }
    }

    /// A valid token of this issuer, signed by its key.
    pub fn token(&self) -> String {
        self.key
            .mint(&claims_with(json!({ "iss": self.issuer.clone() })))
    }
}

/// Claims of a valid access token, as Auth0 issues them for the client-credentials grant.
pub fn valid_claims() -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "sub": "job-client@clients",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "azp": "job-client",
        "scope": "batch:upload",
        "gty": "client-credentials"
    })
}

/// `valid_claims()` with `changes` merged in (a `null` removes the claim).
pub fn claims_with(changes: Value) -> Value {
    let mut claims = valid_claims();
    for (name, value) in changes.as_object().expect("changes are a JSON object") {
        if value.is_null() {
            claims
                .as_object_mut()
                .expect("claims are an object")
                .remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}
