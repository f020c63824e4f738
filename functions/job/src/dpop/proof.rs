//! The claims of a DPoP proof (RFC 9449 §4.2).

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{self, SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use url::Url;

/// A proof's claims: a new `jti` each, `htm`, `htu`, `iat`, and `ath` and `nonce` when
/// they apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofClaims<'a> {
    /// A UUID v4, new per proof: servers refuse a `jti` they have seen (§11.1).
    pub jti: String,
    /// The request's method, e.g. `POST`.
    pub htm: &'a str,
    /// The request URL without query and fragment.
    pub htu: String,
    /// Seconds since the epoch.
    pub iat: u64,
    /// The access token's hash, on calls to a resource server (§7.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
    /// The server's latest `DPoP-Nonce` (§8, §9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
}

impl<'a> ProofClaims<'a> {
    /// The claims of a proof for `htm` to `url` at `now`.
    pub fn new(
        htm: &'a str,
        url: &Url,
        access_token: Option<&str>,
        nonce: Option<&'a str>,
        now: SystemTime,
    ) -> Self {
        Self {
            jti: uuid::Uuid::new_v4().to_string(),
            htm,
            htu: htu(url),
            iat: now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs(),
            ath: access_token.map(ath),
            nonce,
        }
    }
}

/// The `htu` of a request to `url`: the URL without its query and fragment (§4.2).
pub fn htu(url: &Url) -> String {
    let mut target = url.clone();
    target.set_query(None);
    target.set_fragment(None);
    target.into()
}

/// The `ath` of `access_token`: base64url of the SHA-256 of its ASCII text (§4.2).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&SHA256, access_token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_drops_query_and_fragment() {
        let url = Url::parse("https://API.example.com:443/v1/upload?x=1&y=2#part").unwrap();
        assert_eq!(htu(&url), "https://api.example.com/v1/upload");
        let plain = Url::parse("http://127.0.0.1:8080/oauth/token").unwrap();
        assert_eq!(htu(&plain), "http://127.0.0.1:8080/oauth/token");
    }

    /// RFC 9449 §7.1's example: the access token and its `ath`.
    #[test]
    fn ath_is_the_rfc_example() {
        assert_eq!(
            ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
