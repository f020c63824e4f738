//! What `TokenProfile::AtJwt` adds (RFC 9068 §2.1, §2.2, §4): each rule broken by one token of
//! its own, and the tokens it takes.

use serde_json::{Value, json};
use testkit::TestKey;
use testkit::keys::{merged, now};

use super::common::{claims_with, valid_claims};
use super::table::*;

/// Claims of a valid RFC 9068 access token (§2.2): `valid_claims()` with `client_id` and
/// `jti`, and `changes` merged in (a `null` removes the claim).
fn at_jwt_claims(changes: Value) -> Value {
    merged(
        claims_with(json!({"azp": null, "client_id": "job-client", "jti": "3f1e7c52"})),
        &changes,
    )
}

/// `claims` signed by `issuer` under `typ`, or no `typ`.
fn mint(issuer: &TestKey, typ: Option<&str>, claims: Value) -> String {
    let mut header = json!({"alg": "RS256", "kid": "key-1"});
    if let Some(typ) = typ {
        header["typ"] = json!(typ);
    }
    signed(issuer, &header, &claims)
}

/// An RFC 9068 token with `changes` to its claims.
fn at_jwt(issuer: &TestKey, changes: Value) -> String {
    mint(issuer, Some("at+jwt"), at_jwt_claims(changes))
}

/// An RFC 9068 token whose claim `name` is JSON `null`.
fn with_null_claim(issuer: &TestKey, name: &str) -> String {
    let mut claims = at_jwt_claims(json!({}));
    claims[name] = Value::Null;
    mint(issuer, Some("at+jwt"), claims)
}

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, issuer: &'a TestKey) {
    t.token("RFC 9068 token (accepted)", Expect::Accepted, move || at_jwt(issuer, json!({})));
    t.token("typ application/AT+JWT (accepted)", Expect::Accepted, move || mint(issuer, Some("application/AT+JWT"), at_jwt_claims(json!({}))));
    t.token("RFC 9068 token with scp (accepted)", Expect::Accepted, move || at_jwt(issuer, json!({"scope": null, "scp": ["batch:upload"]})));
    t.token("typ JWT", invalid(NOT_AT_JWT), move || mint(issuer, Some("JWT"), at_jwt_claims(json!({}))));
    t.token("typ application/jwt", invalid(NOT_AT_JWT), move || mint(issuer, Some("application/jwt"), at_jwt_claims(json!({}))));
    t.token("typ absent", invalid(NOT_AT_JWT), move || mint(issuer, None, at_jwt_claims(json!({}))));
    t.token("typ JOSE (the base rule first)", invalid(TYP), move || mint(issuer, Some("JOSE"), at_jwt_claims(json!({}))));
    t.token("Auth0's default token (typ JWT, azp, no jti)", invalid(NOT_AT_JWT), move || issuer.mint(&valid_claims()));
    t.token("no sub", invalid(NO_SUB), move || at_jwt(issuer, json!({"sub": null})));
    t.token("no client_id, azp instead", invalid(NO_CLIENT_ID), move || at_jwt(issuer, json!({"client_id": null, "azp": "job-client"})));
    t.token("no iat", invalid(NO_IAT), move || at_jwt(issuer, json!({"iat": null})));
    t.token("no jti", invalid(NO_JTI), move || at_jwt(issuer, json!({"jti": null})));
    t.token("jti null", invalid(NULL_CLAIM), move || with_null_claim(issuer, "jti"));
    t.token("client_id null", invalid(NULL_CLAIM), move || with_null_claim(issuer, "client_id"));
    t.token("jti not a string", invalid(CLAIMS), move || at_jwt(issuer, json!({"jti": 7})));
    t.token("client_id not a string", invalid(CLAIMS), move || at_jwt(issuer, json!({"client_id": ["job-client"]})));
    t.token("expired (the base rules still apply)", invalid(EXPIRED), move || at_jwt(issuer, json!({"exp": now() - 60})));
    t.token("without the scope", NO_SCOPE, move || at_jwt(issuer, json!({"scope": "batch:read"})));
}
