//! Scope (RFC 6749 §3.3, RFC 9068 §2.2.3).

use serde_json::json;

use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    t.token("scope missing", NO_SCOPE, move || k.with_claims(json!({"scope": null})));
    t.token("scope batch:uploader", NO_SCOPE, move || k.with_claims(json!({"scope": "batch:uploader"})));
    t.token("scope inside another word", NO_SCOPE, move || k.with_claims(json!({"scope": "xbatch:upload batch:upload-all"})));
    t.token("scope comma-separated", NO_SCOPE, move || k.with_claims(json!({"scope": "read,batch:upload"})));
    t.token("scope in upper case", NO_SCOPE, move || k.with_claims(json!({"scope": "BATCH:UPLOAD"})));
    t.token("scope among others (accepted)", Expect::Accepted, move || k.with_claims(json!({"scope": "batch:read batch:upload"})));
    t.token("scope array form (accepted)", Expect::Accepted, move || k.with_claims(json!({"scope": ["openid", "batch:upload"]})));
    t.token("Auth0 permissions form (accepted)", Expect::Accepted, move || k.with_claims(json!({"scope": null, "permissions": ["batch:upload"]})));
    t.token("scope not a string", invalid(CLAIMS), move || k.with_claims(json!({"scope": 7})));
    t.token("sub not a string", invalid(CLAIMS), move || k.with_claims(json!({"sub": 7})));
}
