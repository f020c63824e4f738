//! The loopback issuer the API function fetches its keys from, and the tokens it would issue.
//!
//! Discovery (`/.well-known/openid-configuration`) names the JWKS on the same origin, as
//! Auth0's does, so the function pays discovery and the JWKS fetch as it would when deployed.

use std::collections::HashMap;

use serde_json::{Value, json};
use testkit::keys::{jwk_set, now};
use testkit::{JwksServer, Reply, TestKey};
use timesheets_api::ApiConfig;

/// The audience of the API, as in the template and the local stack.
pub const AUDIENCE: &str = "https://api.exampleco.com/timesheets";

/// The issuer on 127.0.0.1 and its signing key; it runs on its own tokio runtime.
pub struct Issuer {
    /// Serves discovery and the JWKS.
    pub server: JwksServer,
    /// Signs the tokens.
    pub key: TestKey,
    /// Runs the server's tasks for as long as the issuer lives.
    _runtime: tokio::runtime::Runtime,
}

impl Issuer {
    /// Starts the issuer with one fresh RSA-2048 key.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let key = TestKey::generate("bench-key");
        let jwks = jwk_set(&[&key]).to_string();
        let server = runtime.block_on(JwksServer::start(Reply::Json(jwks)));
        let discovery = json!({
            "issuer": server.base_url(),
            "jwks_uri": server.jwks_url(),
            "token_endpoint": format!("{}oauth/token", server.base_url()),
        });
        server.route(
            "/.well-known/openid-configuration",
            Reply::Json(discovery.to_string()),
        );
        Self {
            server,
            key,
            _runtime: runtime,
        }
    }

    /// `AUTH_ISSUER`: the `iss` of its tokens.
    pub fn url(&self) -> String {
        self.server.base_url()
    }

    /// An access token with scope `batch:upload`, valid for an hour; `serial` makes it unique.
    pub fn token(&self, serial: u64) -> String {
        self.key.mint(&self.claims(serial))
    }

    /// [`Issuer::token`] bound to the DPoP key whose RFC 7638 thumbprint is `jkt`: the claim
    /// `cnf.jkt` (RFC 9449 §6.1), as an issuer sets it for a token request with a proof.
    pub fn bound_token(&self, serial: u64, jkt: &str) -> String {
        let mut claims = self.claims(serial);
        claims["cnf"] = json!({ "jkt": jkt });
        self.key.mint(&claims)
    }

    fn claims(&self, serial: u64) -> Value {
        json!({
            "iss": self.url(), "aud": AUDIENCE, "sub": "bench@clients", "azp": "bench",
            "scope": "batch:upload", "iat": now(), "exp": now() + 3600,
            "jti": format!("bench-{serial}"),
        })
    }

    /// `count` distinct tokens from `first` on, minted on both cores.
    pub fn tokens(&self, first: u64, count: u64) -> Vec<String> {
        let half = count / 2;
        std::thread::scope(|scope| {
            let upper = scope.spawn(|| (first + half..first + count).map(|n| self.token(n)));
            let lower: Vec<String> = (first..first + half).map(|n| self.token(n)).collect();
            let upper: Vec<String> = upper.join().expect("minting thread").collect();
            [lower, upper].concat()
        })
    }

    /// The API's configuration for this issuer (discovery, default policy), as the function
    /// reads it from its environment.
    pub fn api_config(&self) -> ApiConfig {
        let issuer = self.url();
        let source = HashMap::from([
            ("AUTH_ISSUER", issuer.as_str()),
            ("AUTH_AUDIENCE", AUDIENCE),
            ("TIMESHEETS_TABLE", "Timesheets"),
        ]);
        ApiConfig::from_source(&source).expect("bench configuration")
    }
}
