//! Other header rules (RFC 7515 §4.1.11, RFC 9068 §2.1).

use serde_json::json;

use super::common::valid_claims;
use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    let Keys { issuer, .. } = k;
    t.token("crit header", invalid(CRIT), move || k.with_header(json!({"crit": ["exp"], "exp": 1})));
    t.token("typ JOSE", invalid(TYP), move || k.with_header(json!({"typ": "JOSE"})));
    t.token("typ dpop+jwt", invalid(TYP), move || k.with_header(json!({"typ": "dpop+jwt"})));
    t.token("typ not a string", invalid(TYP), move || k.with_header(json!({"typ": 1})));
    t.token("typ null", invalid(TYP), move || signed(issuer, &json!({"alg": "RS256", "kid": "key-1", "typ": null}), &valid_claims()));
    t.token("crit null", invalid(CRIT), move || signed(issuer, &json!({"alg": "RS256", "kid": "key-1", "crit": null}), &valid_claims()));
    t.token("typ at+jwt (accepted)", Expect::Accepted, move || k.with_header(json!({"typ": "at+jwt"})));
    t.token("typ application/AT+JWT (accepted)", Expect::Accepted, move || k.with_header(json!({"typ": "application/AT+JWT"})));
    t.token("typ absent (accepted)", Expect::Accepted, move || k.with_header(json!({"typ": null})));
}
