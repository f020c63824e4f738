//! Compact serialisation (RFC 7515 §7.1).

use serde_json::json;
use testkit::keys::b64;

use super::common::valid_claims;
use super::table::*;

#[rustfmt::skip]
pub fn cases<'a>(t: &mut Table<'a>, k: &'a Keys<'a>) {
    let Keys { issuer, unsigned_header, unsigned_claims, .. } = k;
    t.token("one segment", invalid(COMPACT), move || "abcdef");
    t.token("two segments", invalid(COMPACT), move || format!("{unsigned_header}.{unsigned_claims}"));
    t.token("four segments", invalid(COMPACT), move || format!("{}.extra", k.good()));
    t.token("five segments (JWE shape)", invalid(COMPACT), move || format!("{unsigned_header}.a.b.c.d"));
    t.token("empty header segment", invalid(COMPACT), move || format!(".{unsigned_claims}.c2ln"));
    t.token("empty signature (unsigned)", invalid(COMPACT), move || format!("{unsigned_header}.{unsigned_claims}."));
    t.token("standard base64 alphabet in the signature", invalid(SIGNATURE), move || { let token = k.good(); let (rest, signature) = token.rsplit_once('.').unwrap(); format!("{rest}.{}+/", &signature[..signature.len() - 2]) });
    t.token("padded signature", invalid(SIGNATURE), move || format!("{}==", k.good()));
    t.token("header not JSON", invalid(HEADER), move || format!("{}.{unsigned_claims}.c2ln", b64("{not json")));
    t.token("header a JSON array", invalid(HEADER), move || format!("{}.{unsigned_claims}.c2ln", b64("[\"RS256\"]")));
    t.token("payload not JSON", invalid(NOT_CLAIMS), move || issuer.sign_raw(&header(json!({})).to_string(), "not json"));
    t.token("payload a JSON string", invalid(NOT_CLAIMS), move || issuer.sign_raw(&header(json!({})).to_string(), "\"claims\""));
    t.token("empty payload", invalid(NOT_CLAIMS), move || issuer.sign_raw(&header(json!({})).to_string(), ""));
    t.token("100 KB token", invalid(TOO_LARGE), move || k.with_claims(json!({"pad": "x".repeat(100 * 1024)})));
    t.token("duplicate claim (iss twice)", invalid(NOT_CLAIMS), move || { let claims = valid_claims().to_string(); let claims = claims.replacen('{', r#"{"iss":"https://evil.example/","#, 1); issuer.sign_raw(&header(json!({})).to_string(), &claims) });
    t.token("duplicate header member (alg twice)", invalid(HEADER), move || issuer.sign_raw(r#"{"alg":"none","alg":"RS256","typ":"JWT","kid":"key-1"}"#, &valid_claims().to_string()));
}
