//! The client: azp, else client_id, else sub.

use serde_json::json;
use testkit::keys::now;

use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    t.token("no azp, client_id or sub", invalid(NO_CLIENT), move || k.with_claims(json!({"azp": null, "sub": null})));
    t.token("azp and sub empty", invalid(NO_CLIENT), move || k.with_claims(json!({"azp": "", "sub": ""})));
    t.token("sub alone names the client (accepted)", Expect::Accepted, move || k.with_claims(json!({"azp": null})));
    t.token("client_id alone names the client (accepted)", Expect::Accepted, move || k.with_claims(json!({"azp": null, "sub": null, "client_id": "job-client"})));
    t.token("exp negative", invalid(NO_EXP), move || k.with_claims(json!({"exp": -1})));
    t.token("nbf future", invalid(NBF), move || k.with_claims(json!({"nbf": now() + 120})));
    t.token("nbf future within the leeway (accepted)", Expect::Accepted, move || k.with_claims(json!({"nbf": now() + 2})));
    t.token("nbf a string", invalid(CLAIMS), move || k.with_claims(json!({"nbf": "yesterday"})));
    t.token("iat future beyond the leeway", invalid(IAT), move || k.with_claims(json!({"iat": now() + 120})));
    t.token("iat future within the leeway (accepted)", Expect::Accepted, move || k.with_claims(json!({"iat": now() + 2})));
    t.token("iat a string", invalid(CLAIMS), move || k.with_claims(json!({"iat": "now"})));
}
