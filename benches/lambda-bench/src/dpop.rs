//! The API's `AUTH_DPOP=required` mode as a client meets it: an access token bound to a P-256
//! key (`cnf.jkt`, RFC 9449 §6.1) and a new proof for every request (§4.2, made by testkit's
//! `TestDpopKey`), for the URL of `events/upload.json` as the API rebuilds it behind API Gateway.

use testkit::TestDpopKey;

use crate::issuer::Issuer;
use testkit::upload_event::{self, htu};

/// A DPoP client: its key and the token bound to it.
pub struct DpopClient {
    pub key: TestDpopKey,
    pub token: String,
}

impl DpopClient {
    /// A new key and a token from `issuer` bound to it; `serial` makes the token unique.
    pub fn new(issuer: &Issuer, serial: u64) -> Self {
        let key = TestDpopKey::generate();
        let token = issuer.bound_token(serial, &key.thumbprint());
        Self { key, token }
    }

    /// A new proof for the upload (`htm` POST, [`htu`], `ath` of the token), issued now.
    pub fn proof(&self) -> String {
        self.key.proof("POST", &htu(), &self.token)
    }

    /// `count` upload events with `body`, `Authorization: DPoP <token>` and a new proof each.
    pub fn events(&self, count: usize, body: &str) -> Vec<Vec<u8>> {
        let authorization = format!("DPoP {}", self.token);
        (0..count)
            .map(|_| upload_event::event(&authorization, Some(&self.proof()), body))
            .collect()
    }
}
