//! Key selection (RFC 7517, RFC 8725 §3.10): by kid from the JWKS only.

use serde_json::json;
use testkit::keys::b64;

use super::common::valid_claims;
use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    let Keys { other, attacker, attacker_url, .. } = k;
    t.token("kid missing", invalid(NO_KID), move || k.with_header(json!({"kid": null})));
    t.token("kid not a string", invalid(NO_KID), move || k.with_header(json!({"kid": 1})));
    t.token("kid empty", invalid(NO_KID), move || k.with_header(json!({"kid": ""})));
    t.token("kid unknown", invalid(UNKNOWN_KID), move || k.with_header(json!({"kid": "key-404"})));
    // Keys that may not verify are never held: their kid is unknown.
    t.token("key with use enc", invalid(UNKNOWN_KID), move || signed(other, &header(json!({"kid": "enc-key"})), &valid_claims()));
    t.token("key with key_ops encrypt only", invalid(UNKNOWN_KID), move || signed(other, &header(json!({"kid": "ops-key"})), &valid_claims()));
    t.token("key of another kty (EC)", invalid(KEY), move || k.with_header(json!({"kid": "ec-key"})));
    t.token("key published with its private part", invalid(UNKNOWN_KID), move || signed(other, &header(json!({"kid": "leaked"})), &valid_claims()));
    t.token("kid shared by two published keys", invalid(UNKNOWN_KID), move || signed(other, &header(json!({"kid": "twice"})), &valid_claims()));
    t.token("key without alg (accepted: RFC 7517 §4.4 makes it optional)", Expect::Accepted, move || signed(other, &header(json!({"kid": "no-alg-key"})), &valid_claims()));
    t.token("key without alg or use (accepted)", Expect::Accepted, move || signed(other, &header(json!({"kid": "no-use-no-alg"})), &valid_claims()));
    t.token("signed by another key", invalid(SIGNATURE), move || signed(attacker, &header(json!({})), &valid_claims()));
    t.token("signature of another token", invalid(SIGNATURE), move || { let genuine = k.with_claims(json!({"scope": "batch:read"})); let forged = k.with_claims(json!({"scope": "batch:upload admin"})); let (forged_input, _) = forged.rsplit_once('.').unwrap(); let (_, signature) = genuine.rsplit_once('.').unwrap(); format!("{forged_input}.{signature}") });
    t.token("jku to the attacker's JWKS", invalid(UNKNOWN_KID), move || signed(attacker, &header(json!({"jku": attacker_url, "kid": "attacker"})), &valid_claims()));
    t.token("x5u to the attacker's certificate", invalid(SIGNATURE), move || signed(attacker, &header(json!({"x5u": attacker_url})), &valid_claims()));
    t.token("embedded jwk of the attacker, our kid", invalid(SIGNATURE), move || signed(attacker, &header(json!({"jwk": attacker.jwk_with(&json!({"kid": "key-1"}))})), &valid_claims()));
    t.token("embedded jwk of the attacker, its kid", invalid(UNKNOWN_KID), move || signed(attacker, &header(json!({"jwk": attacker.jwk(), "kid": attacker.kid})), &valid_claims()));
    t.token("x5c of the attacker", invalid(SIGNATURE), move || signed(attacker, &header(json!({"x5c": [b64("not a certificate")]})), &valid_claims()));
}
