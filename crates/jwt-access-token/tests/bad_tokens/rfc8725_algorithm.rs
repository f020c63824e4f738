//! Algorithm (RFC 8725 §3.1): chosen by configuration, never by the token.

use serde_json::json;
use testkit::keys::{b64, hs256};

use super::common::valid_claims;
use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    let Keys { issuer, other, jwk_text, pem, modulus, unsigned_claims, .. } = k;
    t.token("alg none, no signature", invalid(COMPACT), move || format!("{}.{unsigned_claims}.", b64(header(json!({"alg": "none"})).to_string())));
    t.token("alg none with a signature", invalid(ALG), move || k.with_header(json!({"alg": "none"})));
    t.token("alg NONE", invalid(ALG), move || k.with_header(json!({"alg": "NONE"})));
    t.token("alg missing", invalid(ALG), move || k.with_header(json!({"alg": null})));
    t.token("alg not a string", invalid(ALG), move || k.with_header(json!({"alg": 256})));
    t.token("alg lowercase rs256", invalid(ALG), move || k.with_header(json!({"alg": "rs256"})));
    t.token("alg not allowed (RS512)", invalid(ALG), move || issuer.sign_as("RS512", &header(json!({"alg": "RS512"})).to_string(), &valid_claims().to_string()));
    t.token("alg not allowed (ES256)", invalid(ALG), move || k.with_header(json!({"alg": "ES256"})));
    t.token("HS256 keyed with the JWK's JSON", invalid(ALG), move || hs256(jwk_text.as_bytes(), &k.hs_header(), &valid_claims().to_string()));
    t.token("HS256 keyed with the PEM", invalid(ALG), move || hs256(pem.as_bytes(), &k.hs_header(), &valid_claims().to_string()));
    t.token("HS256 keyed with the modulus", invalid(ALG), move || hs256(modulus.as_bytes(), &k.hs_header(), &valid_claims().to_string()));
    t.token("HS256 with the published oct key", invalid(ALG), move || hs256(b"a shared secret of thirty-two b!", &json!({"alg": "HS256", "typ": "JWT", "kid": "oct-key"}).to_string(), &valid_claims().to_string()));
    t.token("PS256 (allowed) on a key whose alg is RS256", invalid(KEY), move || issuer.sign_as("PS256", &header(json!({"alg": "PS256"})).to_string(), &valid_claims().to_string()));
    t.token("PS256 on a key published for PS256 (accepted)", Expect::Accepted, move || other.sign_as("PS256", &header(json!({"alg": "PS256", "kid": "ps256-key"})).to_string(), &valid_claims().to_string()));
    t.token("RS256 on a key published for PS256", invalid(KEY), move || signed(other, &header(json!({"kid": "ps256-key"})), &valid_claims()));
}
