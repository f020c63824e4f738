//! Issuer and audience (RFC 9068 §4 steps 3-4).

use serde_json::json;

use super::common::{AUDIENCE, ISSUER};
use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    t.token("iss missing", invalid(NO_ISS), move || k.with_claims(json!({"iss": null})));
    t.token("iss other", invalid(ISS), move || k.with_claims(json!({"iss": "https://evil.example/"})));
    t.token("iss without the trailing slash", invalid(ISS), move || k.with_claims(json!({"iss": ISSUER.trim_end_matches('/')})));
    t.token("iss in another case", invalid(ISS), move || k.with_claims(json!({"iss": ISSUER.to_uppercase()})));
    t.token("iss an array holding ours", invalid(CLAIMS), move || k.with_claims(json!({"iss": [ISSUER]})));
    t.token("aud missing", invalid(NO_AUD), move || k.with_claims(json!({"aud": null})));
    t.token("aud other", invalid(AUD), move || k.with_claims(json!({"aud": "https://api.other.example"})));
    t.token("aud empty array", invalid(AUD), move || k.with_claims(json!({"aud": []})));
    t.token("aud ours with a trailing slash", invalid(AUD), move || k.with_claims(json!({"aud": format!("{AUDIENCE}/")})));
    t.token("aud array containing ours (accepted)", Expect::Accepted, move || k.with_claims(json!({"aud": ["https://other.example", AUDIENCE]})));
}
