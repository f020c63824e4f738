//! `scp` (Okta: an array; Entra ID: a space-delimited string), beside `scope`.

use serde_json::json;

use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    t.token("scp array form (accepted)", Expect::Accepted, move || k.with_claims(json!({"scope": null, "scp": ["openid", "batch:upload"]})));
    t.token("scp delimited form (accepted)", Expect::Accepted, move || k.with_claims(json!({"scope": null, "scp": "openid batch:upload"})));
    t.token("scp grants beside a scope without it (accepted)", Expect::Accepted, move || k.with_claims(json!({"scope": "openid", "scp": "batch:upload"})));
    t.token("scope grants beside an scp without it (accepted)", Expect::Accepted, move || k.with_claims(json!({"scp": ["openid"]})));
    t.token("scp without batch:upload", NO_SCOPE, move || k.with_claims(json!({"scope": null, "scp": ["batch:read", "BATCH:UPLOAD"]})));
    t.token("scp batch:upload inside another word", NO_SCOPE, move || k.with_claims(json!({"scope": null, "scp": "xbatch:upload batch:uploader"})));
    t.token("scp not a string", invalid(CLAIMS), move || k.with_claims(json!({"scp": 7})));
    t.token("scp an object", invalid(CLAIMS), move || k.with_claims(json!({"scp": {"batch:upload": true}})));
    t.token("scp array of numbers", invalid(CLAIMS), move || k.with_claims(json!({"scp": [1, 2]})));
    t.token("scp null (not a way to skip the scope)", invalid(NULL_CLAIM), move || k.with_null_claim("scp"));
    t.token("jti null without the at+jwt profile (not read, accepted)", Expect::Accepted, move || k.with_null_claim("jti"));
}
