//! The table's vocabulary: what a case expects, the keys it signs with, and the helpers each
//! area's cases are written with.

use lambda_http::Request;
use serde_json::{Value, json};
use testkit::TestKey;
use testkit::keys::{b64, merged};

use super::common::{SAMPLE, claims_with, upload, valid_claims};

/// What the client must see.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// `201`: the route served it.
    Accepted,
    /// `401` with a bare challenge: no credentials at all (RFC 6750 §3.1).
    NoToken,
    /// This status and error code, in the body and the challenge; not served.
    Refused(u16, &'static str),
    /// `401 invalid_token` (body and challenge), description containing this; not served.
    Invalid(&'static str),
}

pub const MALFORMED: Expect = Expect::Refused(400, "invalid_request");
pub const NO_SCOPE: Expect = Expect::Refused(403, "insufficient_scope");

/// `401 invalid_token` whose description contains `why`: refused for the intended reason.
pub const fn invalid(why: &'static str) -> Expect {
    Expect::Invalid(why)
}

// Fragments of the `error_description` of each token rule (auth/rejection.rs).
pub const COMPACT: &str = "not a JWS in compact form";
pub const SIGNATURE: &str = "signature does not verify";
pub const HEADER: &str = "header is not a JSON object";
pub const NOT_CLAIMS: &str = "claims are not a JSON object";
pub const TOO_LARGE: &str = "too large";
pub const ALG: &str = "signing algorithm is not accepted";
pub const KEY: &str = "key cannot verify this algorithm";
pub const NO_KID: &str = "does not name its key";
pub const UNKNOWN_KID: &str = "unknown key";
pub const CRIT: &str = "critical header parameters";
pub const TYP: &str = "(typ)";
pub const NO_EXP: &str = "no valid exp";
pub const EXPIRED: &str = "expired";
pub const NBF: &str = "not valid yet";
pub const CLAIMS: &str = "claims are malformed";
pub const IAT: &str = "issued in the future";
pub const NULL_CLAIM: &str = "claim set to null";
pub const NO_ISS: &str = "no iss claim";
pub const ISS: &str = "another issuer";
pub const NO_AUD: &str = "no aud claim";
pub const AUD: &str = "not meant for this API";
pub const NOT_AT_JWT: &str = "not typed at+jwt";
pub const NO_SUB: &str = "no sub claim";
pub const NO_CLIENT_ID: &str = "no client_id claim";
pub const NO_IAT: &str = "no iat claim";
pub const NO_JTI: &str = "no jti claim";
pub const NO_CLIENT: &str = "names no client";

pub struct Case<'a> {
    pub name: &'static str,
    /// Built when the case runs, so time-based claims are fresh.
    pub request: Box<dyn Fn() -> Request + 'a>,
    pub expect: Expect,
}

/// The keys of the table: the harness key (`key-1`), a second published key under several
/// `kid`s with odd metadata, and an attacker's key nobody published.
pub struct Keys<'a> {
    pub issuer: &'a TestKey,
    pub other: &'a TestKey,
    pub attacker: &'a TestKey,
    pub attacker_url: String,
    /// What an HS256 key-confusion attacker would use as the secret.
    pub jwk_text: String,
    pub pem: String,
    pub modulus: String,
    /// Segments for cases that fail before the signature is looked at.
    pub unsigned_header: String,
    pub unsigned_claims: String,
}

impl<'a> Keys<'a> {
    pub fn new(
        issuer: &'a TestKey,
        other: &'a TestKey,
        attacker: &'a TestKey,
        attacker_url: String,
    ) -> Self {
        Self {
            issuer,
            other,
            attacker,
            attacker_url,
            jwk_text: issuer.jwk().to_string(),
            pem: issuer.public_key_pem(),
            modulus: issuer.jwk()["n"].as_str().unwrap().to_owned(),
            unsigned_header: b64(header(json!({})).to_string()),
            unsigned_claims: b64(valid_claims().to_string()),
        }
    }

    /// The valid token the table's cases differ from.
    pub fn good(&self) -> String {
        self.issuer.mint(&valid_claims())
    }

    /// A valid token's claims under a header with `changes`, signed by the issuer's key.
    pub fn with_header(&self, changes: Value) -> String {
        signed(self.issuer, &header(changes), &valid_claims())
    }

    /// A valid token with `changes` to its claims (a `null` removes the claim).
    pub fn with_claims(&self, changes: Value) -> String {
        self.issuer.mint(&claims_with(changes))
    }

    /// A valid token whose claim `name` is JSON `null`, kept rather than removed.
    pub fn with_null_claim(&self, name: &str) -> String {
        let mut claims = valid_claims();
        claims[name] = Value::Null;
        self.issuer.mint(&claims)
    }

    /// The header of an HS256 key-confusion attempt.
    pub fn hs_header(&self) -> String {
        json!({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).to_string()
    }
}

pub fn header(changes: Value) -> Value {
    merged(
        json!({"alg": "RS256", "typ": "JWT", "kid": "key-1"}),
        &changes,
    )
}

pub fn signed(key: &TestKey, header: &Value, claims: &Value) -> String {
    key.sign_raw(&header.to_string(), &claims.to_string())
}

pub fn bearer(token: &str) -> Request {
    upload(Some(&format!("Bearer {token}")), SAMPLE)
}

pub fn authorization(value: &str) -> Request {
    upload(Some(value), SAMPLE)
}

/// The table being written: each area's file adds its cases.
#[derive(Default)]
pub struct Table<'a> {
    pub cases: Vec<Case<'a>>,
}

impl<'a> Table<'a> {
    /// A case sending `request`.
    pub fn request(
        &mut self,
        name: &'static str,
        expect: Expect,
        request: impl Fn() -> Request + 'a,
    ) {
        self.cases.push(Case {
            name,
            request: Box::new(request),
            expect,
        });
    }

    /// A case sending `Authorization: Bearer <token>`.
    pub fn token<T: AsRef<str>>(
        &mut self,
        name: &'static str,
        expect: Expect,
        token: impl Fn() -> T + 'a,
    ) {
        self.request(name, expect, move || bearer(token().as_ref()));
    }
}
