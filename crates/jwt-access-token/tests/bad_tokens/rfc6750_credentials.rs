//! The Authorization header itself (RFC 6750 §2.1).

use std::collections::HashMap;

use lambda_http::RequestExt;

use super::common::{SAMPLE, upload};
use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    t.request("no Authorization header", Expect::NoToken, || upload(None, SAMPLE));
    t.request("Basic scheme", Expect::NoToken, || authorization("Basic dXNlcjpwYXNz"));
    t.request("Bearer with no token", MALFORMED, || authorization("Bearer"));
    t.request("Bearer and spaces only", MALFORMED, || authorization("Bearer "));
    t.request("token with a space inside", MALFORMED, move || authorization(&format!("Bearer {} x", k.good())));
    t.request("padding inside the token", MALFORMED, || authorization("Bearer eyJ=.e30.sig"));
    t.request("lowercase scheme", Expect::Accepted, move || authorization(&format!("bearer {}", k.good())));
    t.request("two Authorization headers", MALFORMED, move || { let mut request = bearer(&k.good()); request.headers_mut().append("authorization", format!("Bearer {}", k.good()).parse().unwrap()); request });
    t.request("token in the header and the query", MALFORMED, move || { bearer(&k.good()) .with_query_string_parameters(HashMap::from([("access_token".to_owned(), k.good())])) });
    t.request("token in the query only", MALFORMED, move || { upload(None, SAMPLE) .with_query_string_parameters(HashMap::from([("access_token".to_owned(), k.good())])) });
}
