//! Server-provided nonces (RFC 9449 §8 for the issuer, §9 for the API): the latest
//! `DPoP-Nonce` of each server, by origin, since the issuer and the API hand out their own.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::HeaderMap;
use url::Url;

/// The answer header that carries a server's nonce (§8.1).
pub const NONCE_HEADER: &str = "DPoP-Nonce";

/// The latest nonce of each server (scheme, host and port), for the life of the sandbox.
#[derive(Debug, Default)]
pub struct Nonces {
    latest: Mutex<HashMap<String, String>>,
}

impl Nonces {
    /// Keeps the `DPoP-Nonce` of an answer from `url`'s server, replacing the one before;
    /// whether the answer had one. A value that is not `1*NQCHAR` (§8.1) is ignored.
    pub fn remember(&self, url: &Url, headers: &HeaderMap) -> bool {
        let Some(nonce) = headers
            .get(NONCE_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|value| is_nonce(value))
        else {
            return false;
        };
        self.lock().insert(origin(url), nonce.to_owned());
        true
    }

    /// The latest nonce of `url`'s server, if it gave one.
    pub fn get(&self, url: &Url) -> Option<String> {
        self.lock().get(&origin(url)).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `1*NQCHAR`: `%x21 / %x23-5B / %x5D-7E` (§8.1), so a nonce needs no escaping anywhere.
fn is_nonce(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|byte| matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// The server of `url`: RFC 6454 origin, `scheme://host:port`.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(nonce: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(NONCE_HEADER, nonce.parse().unwrap());
        headers
    }

    #[test]
    fn each_server_keeps_its_latest_nonce() {
        let nonces = Nonces::default();
        let issuer = Url::parse("http://127.0.0.1:4000/oauth/token").unwrap();
        let issuer_other_path = Url::parse("http://127.0.0.1:4000/other?q=1").unwrap();
        let api = Url::parse("http://127.0.0.1:5000/timesheets/upload").unwrap();
        assert_eq!(nonces.get(&issuer), None);
        assert!(nonces.remember(&issuer, &answer("issuer-1")));
        assert!(nonces.remember(&api, &answer("api-1")));
        assert!(nonces.remember(&issuer, &answer("issuer-2")));
        assert_eq!(nonces.get(&issuer_other_path).as_deref(), Some("issuer-2"));
        assert_eq!(nonces.get(&api).as_deref(), Some("api-1"));
        // An answer without a nonce keeps the one before.
        assert!(!nonces.remember(&api, &HeaderMap::new()));
        assert_eq!(nonces.get(&api).as_deref(), Some("api-1"));
    }

    #[test]
    fn only_nqchar_nonces_are_kept() {
        let nonces = Nonces::default();
        let url = Url::parse("https://issuer.example/token").unwrap();
        for bad in ["two words", "quote\"d", "back\\slash", ""] {
            assert!(!nonces.remember(&url, &answer(bad)), "{bad:?}");
        }
        assert_eq!(nonces.get(&url), None);
        assert!(nonces.remember(&url, &answer("eyJ7S_zG.eyJH0-Z.HX4w-7v")));
    }
}
