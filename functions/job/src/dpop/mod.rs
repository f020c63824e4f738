//! DPoP (RFC 9449): access tokens bound to a key the job holds, so a stolen token is useless
//! without that key.
//!
//! With `AUTH_DPOP=on` the job generates a P-256 key in memory when the sandbox starts
//! ([`DpopKey`], never written anywhere), sends a new DPoP proof (§4.2, [`proof`]) with every
//! token request and, when the issuer answers `token_type: "DPoP"` (§5), with every API call
//! (`Authorization: DPoP <token>`, the proof's `ath` the token's hash, §7.1). It keeps the
//! latest `DPoP-Nonce` of each server ([`nonce`], §8, §9) and answers a request for a nonce with
//! one immediate new request ([`challenge`]).

pub mod challenge;
mod key;
pub mod nonce;
pub mod proof;

use std::str::FromStr;
use std::time::SystemTime;

use reqwest::header::HeaderMap;
use url::Url;

pub use key::DpopKey;
pub use nonce::Nonces;

/// The request header that carries a DPoP proof (RFC 9449 §4.1).
pub const DPOP_HEADER: &str = "DPoP";

/// Whether the job, as an OAuth client, asks for DPoP-bound tokens and proves its key
/// (the job's `AUTH_DPOP`, docs/configuration.md). Not the API's `DpopMode`
/// (jwt-access-token), which says which tokens a resource server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopClientMode {
    /// Bearer tokens only, no DPoP header anywhere.
    #[default]
    Off,
    /// A DPoP proof with each token request and with each call sending a DPoP-bound token.
    On,
}

impl FromStr for DpopClientMode {
    type Err = &'static str;

    /// `off` or `on`; the API's `allowed` and `required` mean `on`, so an environment both
    /// functions share (`cargo lambda watch`'s, the local stack's) can set one value.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "off" => Ok(Self::Off),
            "on" | "allowed" | "required" => Ok(Self::On),
            _ => Err("DPoP is off or on (the API's allowed and required mean on)"),
        }
    }
}

/// Why no DPoP proof was made. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// aws-lc-rs could not generate or export the P-256 key.
    #[error("no P-256 DPoP key could be generated")]
    KeyGeneration,
    /// The JWS could not be built or signed.
    #[error("the DPoP proof could not be signed: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// The sandbox's DPoP key and the nonces its servers handed out: what every proof needs.
/// Built once per sandbox and shared by the token client and the DPoP-bound tokens it issues.
#[derive(Debug)]
pub struct DpopSigner {
    key: DpopKey,
    nonces: Nonces,
}

impl DpopSigner {
    /// A signer with a new key.
    ///
    /// # Errors
    /// [`ProofError::KeyGeneration`] when aws-lc-rs fails.
    pub fn generate() -> Result<Self, ProofError> {
        Ok(Self {
            key: DpopKey::generate()?,
            nonces: Nonces::default(),
        })
    }

    /// The key: its public JWK and RFC 7638 thumbprint.
    pub fn key(&self) -> &DpopKey {
        &self.key
    }

    /// A new compact JWS proof for a request `htm` (`"POST"`) to `url`, issued now, with `ath`
    /// for `access_token` (calls to a resource server) and the latest nonce of `url`'s server.
    ///
    /// # Errors
    /// [`ProofError::Signing`], which a key that signed once does not produce.
    pub fn proof(
        &self,
        htm: &str,
        url: &Url,
        access_token: Option<&str>,
    ) -> Result<String, ProofError> {
        let nonce = self.nonces.get(url);
        let claims =
            proof::ProofClaims::new(htm, url, access_token, nonce.as_deref(), SystemTime::now());
        self.key.sign(&claims)
    }

    /// Keeps the `DPoP-Nonce` of an answer from `url`'s server; whether it had a usable one.
    pub fn remember_nonce(&self, url: &Url, headers: &HeaderMap) -> bool {
        self.nonces.remember(url, headers)
    }

    /// The nonce the next proof to `url`'s server carries.
    pub fn nonce(&self, url: &Url) -> Option<String> {
        self.nonces.get(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signer_never_shows_its_private_key() {
        let signer = DpopSigner::generate().unwrap();
        let shown = format!("{signer:?}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(shown.contains(signer.key().thumbprint()), "{shown}");
        assert!(!shown.contains("EncodingKey"), "{shown}");
    }
}
