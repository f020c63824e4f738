//! Time (RFC 7519 §4.1.4-4.1.6), leeway 5 s.

use serde_json::json;
use testkit::keys::now;

use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    t.token("exp missing", invalid(NO_EXP), move || k.with_claims(json!({"exp": null})));
    t.token("exp past", invalid(EXPIRED), move || k.with_claims(json!({"exp": now() - 60, "iat": now() - 3660})));
    t.token("exp past within the leeway (accepted)", Expect::Accepted, move || k.with_claims(json!({"exp": now() - 2})));
    t.token("exp a string", invalid(NO_EXP), move || k.with_claims(json!({"exp": (now() + 3600).to_string()})));
    t.token("iat null (not a way to skip the iat check)", invalid(NULL_CLAIM), move || k.with_null_claim("iat"));
    t.token("azp null (not a way to pick the client id)", invalid(NULL_CLAIM), move || k.with_null_claim("azp"));
}
