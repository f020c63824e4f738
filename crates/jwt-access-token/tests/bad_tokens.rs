//! Every known way to get a token wrong, through a route protected by `authorize`: each case
//! asserts the status, the RFC 6750 error code in the body and in `WWW-Authenticate`, and
//! whether the route served the request.

mod common;

use std::collections::HashMap;

use common::*;
use jsonwebtoken::Algorithm;
use jwt_access_token::TokenProfile;
use lambda_http::{Request, RequestExt};
use serde_json::{Value, json};
use testkit::keys::{b64, ec_p256_jwk, hs256, merged, now};
use testkit::{JwksServer, Reply, TestKey};

/// What the client must see.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// `201`: the route served it.
    Accepted,
    /// `401` with a bare challenge: no credentials at all (RFC 6750 §3.1).
    NoToken,
    /// This status and error code, in the body and the challenge; not served.
    Refused(u16, &'static str),
    /// `401 invalid_token` (body and challenge), description containing this; not served.
    Invalid(&'static str),
}

const MALFORMED: Expect = Expect::Refused(400, "invalid_request");
const NO_SCOPE: Expect = Expect::Refused(403, "insufficient_scope");

/// `401 invalid_token` whose description contains `why`: refused for the intended reason.
const fn invalid(why: &'static str) -> Expect {
    Expect::Invalid(why)
}

// Fragments of the `error_description` of each token rule (auth/rejection.rs).
const COMPACT: &str = "not a JWS in compact form";
const SIGNATURE: &str = "signature does not verify";
const HEADER: &str = "header is not a JSON object";
const NOT_CLAIMS: &str = "claims are not a JSON object";
const TOO_LARGE: &str = "too large";
const ALG: &str = "signing algorithm is not accepted";
const KEY: &str = "key cannot verify this algorithm";
const NO_KID: &str = "does not name its key";
const UNKNOWN_KID: &str = "unknown key";
const CRIT: &str = "critical header parameters";
const TYP: &str = "(typ)";
const NO_EXP: &str = "no valid exp";
const EXPIRED: &str = "expired";
const NBF: &str = "not valid yet";
const CLAIMS: &str = "claims are malformed";
const IAT: &str = "issued in the future";
const NULL_CLAIM: &str = "claim set to null";
const NO_ISS: &str = "no iss claim";
const ISS: &str = "another issuer";
const NO_AUD: &str = "no aud claim";
const AUD: &str = "not meant for this API";
const NOT_AT_JWT: &str = "not typed at+jwt";
const NO_SUB: &str = "no sub claim";
const NO_CLIENT_ID: &str = "no client_id claim";
const NO_IAT: &str = "no iat claim";
const NO_JTI: &str = "no jti claim";
const NO_CLIENT: &str = "names no client";

struct Case<'a> {
    name: &'static str,
    /// Built when the case runs, so time-based claims are fresh.
    request: Box<dyn Fn() -> Request + 'a>,
    expect: Expect,
}

/// The keys of the table: the harness key (`key-1`), a second published key under several
/// `kid`s with odd metadata, and an attacker's key nobody published.
struct Keys<'a> {
    issuer: &'a TestKey,
    other: &'a TestKey,
    attacker: &'a TestKey,
    attacker_url: String,
    /// What an HS256 key-confusion attacker would use as the secret.
    jwk_text: String,
    pem: String,
    modulus: String,
    /// Segments for cases that fail before the signature is looked at.
    unsigned_header: String,
    unsigned_claims: String,
}

impl<'a> Keys<'a> {
    fn new(
        issuer: &'a TestKey,
        other: &'a TestKey,
        attacker: &'a TestKey,
        attacker_url: String,
    ) -> Self {
        Self {
            issuer,
            other,
            attacker,
            attacker_url,
            jwk_text: issuer.jwk().to_string(),
            pem: issuer.public_key_pem(),
            modulus: issuer.jwk()["n"].as_str().unwrap().to_owned(),
            unsigned_header: b64(header(json!({})).to_string()),
            unsigned_claims: b64(valid_claims().to_string()),
        }
    }
}

fn header(changes: Value) -> Value {
    merged(
        json!({"alg": "RS256", "typ": "JWT", "kid": "key-1"}),
        &changes,
    )
}

fn signed(key: &TestKey, header: &Value, claims: &Value) -> String {
    key.sign_raw(&header.to_string(), &claims.to_string())
}

fn bearer(token: &str) -> Request {
    upload(Some(&format!("Bearer {token}")), SAMPLE)
}

fn authorization(value: &str) -> Request {
    upload(Some(value), SAMPLE)
}

/// The published keys beside `key-1`.
fn extra_keys(other: &TestKey) -> Vec<Value> {
    let other_as = |changes: Value| other.jwk_with(&changes);
    vec![
        other_as(json!({"kid": "enc-key", "use": "enc"})),
        other_as(json!({"kid": "ops-key", "use": null, "key_ops": ["encrypt"]})),
        other_as(json!({"kid": "no-alg-key", "alg": null})),
        other_as(json!({"kid": "no-use-no-alg", "alg": null, "use": null})),
        other_as(json!({"kid": "leaked", "d": "AQAB"})),
        other_as(json!({"kid": "ps256-key", "alg": "PS256"})),
        other_as(json!({"kid": "twice"})),
        other_as(json!({"kid": "twice", "alg": null})),
        ec_p256_jwk("ec-key"),
        json!({"kty": "oct", "kid": "oct-key", "k": b64("a shared secret of thirty-two b!")}),
    ]
}

fn cases<'a>(keys: &'a Keys<'a>) -> Vec<Case<'a>> {
    let issuer = keys.issuer;
    let other = keys.other;
    let attacker = keys.attacker;
    let good = move || issuer.mint(&valid_claims());
    let with_header = move |changes: Value| signed(issuer, &header(changes), &valid_claims());
    let with_claims = move |changes: Value| issuer.mint(&claims_with(changes));
    // `claims_with` drops a member given as null; this keeps it, as JSON `null`.
    let with_null_claim = move |name: &str| {
        let mut claims = valid_claims();
        claims[name] = Value::Null;
        issuer.mint(&claims)
    };
    let jwk_text = keys.jwk_text.as_str();
    let pem = keys.pem.as_str();
    let modulus = keys.modulus.as_str();
    let unsigned_header = keys.unsigned_header.as_str();
    let unsigned_claims = keys.unsigned_claims.as_str();
    let attacker_url = keys.attacker_url.as_str();
    let hs_header = || json!({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).to_string();

    let mut cases: Vec<Case<'a>> = Vec::new();
    let mut add = |name: &'static str, expect: Expect, request: Box<dyn Fn() -> Request + 'a>| {
        cases.push(Case {
            name,
            request,
            expect,
        });
    };
    macro_rules! token {
        ($name:expr, $expect:expr, $token:expr) => {
            add($name, $expect, Box::new(move || bearer(&$token)))
        };
    }

    // Control: the table's tokens differ from this one in one thing each.
    token!("valid token", Expect::Accepted, good());

    // The Authorization header itself (RFC 6750 §2.1).
    add(
        "no Authorization header",
        Expect::NoToken,
        Box::new(|| upload(None, SAMPLE)),
    );
    add(
        "Basic scheme",
        Expect::NoToken,
        Box::new(|| authorization("Basic dXNlcjpwYXNz")),
    );
    add(
        "Bearer with no token",
        MALFORMED,
        Box::new(|| authorization("Bearer")),
    );
    add(
        "Bearer and spaces only",
        MALFORMED,
        Box::new(|| authorization("Bearer    ")),
    );
    add(
        "token with a space inside",
        MALFORMED,
        Box::new(move || authorization(&format!("Bearer {} x", good()))),
    );
    add(
        "padding inside the token",
        MALFORMED,
        Box::new(|| authorization("Bearer eyJ=.e30.sig")),
    );
    add(
        "lowercase scheme",
        Expect::Accepted,
        Box::new(move || authorization(&format!("bearer {}", good()))),
    );
    add(
        "two Authorization headers",
        MALFORMED,
        Box::new(move || {
            let mut request = bearer(&good());
            request.headers_mut().append(
                "authorization",
                format!("Bearer {}", good()).parse().unwrap(),
            );
            request
        }),
    );
    add(
        "token in the header and the query",
        MALFORMED,
        Box::new(move || {
            bearer(&good())
                .with_query_string_parameters(HashMap::from([("access_token".to_owned(), good())]))
        }),
    );
    add(
        "token in the query only",
        MALFORMED,
        Box::new(move || {
            upload(None, SAMPLE)
                .with_query_string_parameters(HashMap::from([("access_token".to_owned(), good())]))
        }),
    );

    // Compact serialisation (RFC 7515 §7.1).
    token!("one segment", invalid(COMPACT), "abcdef");
    token!(
        "two segments",
        invalid(COMPACT),
        format!("{unsigned_header}.{unsigned_claims}")
    );
    token!(
        "four segments",
        invalid(COMPACT),
        format!("{}.extra", good())
    );
    token!(
        "five segments (JWE shape)",
        invalid(COMPACT),
        format!("{unsigned_header}.a.b.c.d")
    );
    token!(
        "empty header segment",
        invalid(COMPACT),
        format!(".{unsigned_claims}.c2ln")
    );
    token!(
        "empty signature (unsigned)",
        invalid(COMPACT),
        format!("{unsigned_header}.{unsigned_claims}.")
    );
    token!(
        "standard base64 alphabet in the signature",
        invalid(SIGNATURE),
        {
            let token = good();
            let (rest, signature) = token.rsplit_once('.').unwrap();
            format!("{rest}.{}+/", &signature[..signature.len() - 2])
        }
    );
    token!(
        "padded signature",
        invalid(SIGNATURE),
        format!("{}==", good())
    );
    token!(
        "header not JSON",
        invalid(HEADER),
        format!("{}.{unsigned_claims}.c2ln", b64("{not json"))
    );
    token!(
        "header a JSON array",
        invalid(HEADER),
        format!("{}.{unsigned_claims}.c2ln", b64("[\"RS256\"]"))
    );
    token!(
        "payload not JSON",
        invalid(NOT_CLAIMS),
        issuer.sign_raw(&header(json!({})).to_string(), "not json")
    );
    token!(
        "payload a JSON string",
        invalid(NOT_CLAIMS),
        issuer.sign_raw(&header(json!({})).to_string(), "\"claims\"")
    );
    token!(
        "empty payload",
        invalid(NOT_CLAIMS),
        issuer.sign_raw(&header(json!({})).to_string(), "")
    );
    token!(
        "100 KB token",
        invalid(TOO_LARGE),
        with_claims(json!({"pad": "x".repeat(100 * 1024)}))
    );
    token!("duplicate claim (iss twice)", invalid(NOT_CLAIMS), {
        let claims = valid_claims().to_string();
        let claims = claims.replacen('{', r#"{"iss":"https://evil.example/","#, 1);
        issuer.sign_raw(&header(json!({})).to_string(), &claims)
    });
    token!(
        "duplicate header member (alg twice)",
        invalid(HEADER),
        issuer.sign_raw(
            r#"{"alg":"none","alg":"RS256","typ":"JWT","kid":"key-1"}"#,
            &valid_claims().to_string(),
        )
    );

    // Algorithm (RFC 8725 §3.1): chosen by configuration, never by the token.
    token!(
        "alg none, no signature",
        invalid(COMPACT),
        format!(
            "{}.{unsigned_claims}.",
            b64(header(json!({"alg": "none"})).to_string())
        )
    );
    token!(
        "alg none with a signature",
        invalid(ALG),
        with_header(json!({"alg": "none"}))
    );
    token!(
        "alg NONE",
        invalid(ALG),
        with_header(json!({"alg": "NONE"}))
    );
    token!(
        "alg missing",
        invalid(ALG),
        with_header(json!({"alg": null}))
    );
    token!(
        "alg not a string",
        invalid(ALG),
        with_header(json!({"alg": 256}))
    );
    token!(
        "alg lowercase rs256",
        invalid(ALG),
        with_header(json!({"alg": "rs256"}))
    );
    token!(
        "alg not allowed (RS512)",
        invalid(ALG),
        issuer.sign_as(
            "RS512",
            &header(json!({"alg": "RS512"})).to_string(),
            &valid_claims().to_string()
        )
    );
    token!(
        "alg not allowed (ES256)",
        invalid(ALG),
        with_header(json!({"alg": "ES256"}))
    );
    token!(
        "HS256 keyed with the JWK's JSON",
        invalid(ALG),
        hs256(
            jwk_text.as_bytes(),
            &hs_header(),
            &valid_claims().to_string()
        )
    );
    token!(
        "HS256 keyed with the PEM",
        invalid(ALG),
        hs256(pem.as_bytes(), &hs_header(), &valid_claims().to_string())
    );
    token!(
        "HS256 keyed with the modulus",
        invalid(ALG),
        hs256(
            modulus.as_bytes(),
            &hs_header(),
            &valid_claims().to_string()
        )
    );
    token!(
        "HS256 with the published oct key",
        invalid(ALG),
        hs256(
            b"a shared secret of thirty-two b!",
            &json!({"alg": "HS256", "typ": "JWT", "kid": "oct-key"}).to_string(),
            &valid_claims().to_string()
        )
    );
    token!(
        "PS256 (allowed) on a key whose alg is RS256",
        invalid(KEY),
        issuer.sign_as(
            "PS256",
            &header(json!({"alg": "PS256"})).to_string(),
            &valid_claims().to_string()
        )
    );
    token!(
        "PS256 on a key published for PS256 (accepted)",
        Expect::Accepted,
        other.sign_as(
            "PS256",
            &header(json!({"alg": "PS256", "kid": "ps256-key"})).to_string(),
            &valid_claims().to_string()
        )
    );
    token!(
        "RS256 on a key published for PS256",
        invalid(KEY),
        signed(other, &header(json!({"kid": "ps256-key"})), &valid_claims())
    );

    // Key selection (RFC 7517, RFC 8725 §3.10): by kid from the JWKS only.
    token!(
        "kid missing",
        invalid(NO_KID),
        with_header(json!({"kid": null}))
    );
    token!(
        "kid not a string",
        invalid(NO_KID),
        with_header(json!({"kid": 1}))
    );
    token!(
        "kid empty",
        invalid(NO_KID),
        with_header(json!({"kid": ""}))
    );
    token!(
        "kid unknown",
        invalid(UNKNOWN_KID),
        with_header(json!({"kid": "key-404"}))
    );
    token!(
        // Keys that may not verify are never held: their kid is unknown.
        "key with use enc",
        invalid(UNKNOWN_KID),
        signed(other, &header(json!({"kid": "enc-key"})), &valid_claims())
    );
    token!(
        "key with key_ops encrypt only",
        invalid(UNKNOWN_KID),
        signed(other, &header(json!({"kid": "ops-key"})), &valid_claims())
    );
    token!(
        "key of another kty (EC)",
        invalid(KEY),
        with_header(json!({"kid": "ec-key"}))
    );
    token!(
        "key published with its private part",
        invalid(UNKNOWN_KID),
        signed(other, &header(json!({"kid": "leaked"})), &valid_claims())
    );
    token!(
        "kid shared by two published keys",
        invalid(UNKNOWN_KID),
        signed(other, &header(json!({"kid": "twice"})), &valid_claims())
    );
    token!(
        "key without alg (accepted: RFC 7517 §4.4 makes it optional)",
        Expect::Accepted,
        signed(
            other,
            &header(json!({"kid": "no-alg-key"})),
            &valid_claims()
        )
    );
    token!(
        "key without alg or use (accepted)",
        Expect::Accepted,
        signed(
            other,
            &header(json!({"kid": "no-use-no-alg"})),
            &valid_claims()
        )
    );
    token!(
        "signed by another key",
        invalid(SIGNATURE),
        signed(attacker, &header(json!({})), &valid_claims())
    );
    token!("signature of another token", invalid(SIGNATURE), {
        let genuine = with_claims(json!({"scope": "batch:read"}));
        let forged = with_claims(json!({"scope": "batch:upload admin"}));
        let (forged_input, _) = forged.rsplit_once('.').unwrap();
        let (_, signature) = genuine.rsplit_once('.').unwrap();
        format!("{forged_input}.{signature}")
    });
    token!(
        "jku to the attacker's JWKS",
        invalid(UNKNOWN_KID),
        signed(
            attacker,
            &header(json!({"jku": attacker_url, "kid": "attacker"})),
            &valid_claims()
        )
    );
    token!(
        "x5u to the attacker's certificate",
        invalid(SIGNATURE),
        signed(
            attacker,
            &header(json!({"x5u": attacker_url})),
            &valid_claims()
        )
    );
    token!(
        "embedded jwk of the attacker, our kid",
        invalid(SIGNATURE),
        signed(
            attacker,
            &header(json!({"jwk": attacker.jwk_with(&json!({"kid": "key-1"}))})),
            &valid_claims()
        )
    );
    token!(
        "embedded jwk of the attacker, its kid",
        invalid(UNKNOWN_KID),
        signed(
            attacker,
            &header(json!({"jwk": attacker.jwk(), "kid": attacker.kid})),
            &valid_claims()
        )
    );
    token!(
        "x5c of the attacker",
        invalid(SIGNATURE),
        signed(
            attacker,
            &header(json!({"x5c": [b64("not a certificate")]})),
            &valid_claims()
        )
    );

    // Other header rules (RFC 7515 §4.1.11, RFC 9068 §2.1).
    token!(
        "crit header",
        invalid(CRIT),
        with_header(json!({"crit": ["exp"], "exp": 1}))
    );
    token!(
        "typ JOSE",
        invalid(TYP),
        with_header(json!({"typ": "JOSE"}))
    );
    token!(
        "typ dpop+jwt",
        invalid(TYP),
        with_header(json!({"typ": "dpop+jwt"}))
    );
    token!(
        "typ not a string",
        invalid(TYP),
        with_header(json!({"typ": 1}))
    );
    token!(
        "typ null",
        invalid(TYP),
        signed(
            issuer,
            &json!({"alg": "RS256", "kid": "key-1", "typ": null}),
            &valid_claims()
        )
    );
    token!(
        "crit null",
        invalid(CRIT),
        signed(
            issuer,
            &json!({"alg": "RS256", "kid": "key-1", "crit": null}),
            &valid_claims()
        )
    );
    token!(
        "typ at+jwt (accepted)",
        Expect::Accepted,
        with_header(json!({"typ": "at+jwt"}))
    );
    token!(
        "typ application/AT+JWT (accepted)",
        Expect::Accepted,
        with_header(json!({"typ": "application/AT+JWT"}))
    );
    token!(
        "typ absent (accepted)",
        Expect::Accepted,
        with_header(json!({"typ": null}))
    );

    // Time (RFC 7519 §4.1.4-4.1.6), leeway 5 s.
    token!(
        "exp missing",
        invalid(NO_EXP),
        with_claims(json!({"exp": null}))
    );
    token!(
        "exp past",
        invalid(EXPIRED),
        with_claims(json!({"exp": now() - 60, "iat": now() - 3660}))
    );
    token!(
        "exp past within the leeway (accepted)",
        Expect::Accepted,
        with_claims(json!({"exp": now() - 2}))
    );
    token!(
        "exp a string",
        invalid(NO_EXP),
        with_claims(json!({"exp": (now() + 3600).to_string()}))
    );
    token!(
        "iat null (not a way to skip the iat check)",
        invalid(NULL_CLAIM),
        with_null_claim("iat")
    );
    token!(
        "azp null (not a way to pick the client id)",
        invalid(NULL_CLAIM),
        with_null_claim("azp")
    );
    // The client: azp, else client_id, else sub.
    token!(
        "no azp, client_id or sub",
        invalid(NO_CLIENT),
        with_claims(json!({"azp": null, "sub": null}))
    );
    token!(
        "azp and sub empty",
        invalid(NO_CLIENT),
        with_claims(json!({"azp": "", "sub": ""}))
    );
    token!(
        "sub alone names the client (accepted)",
        Expect::Accepted,
        with_claims(json!({"azp": null}))
    );
    token!(
        "client_id alone names the client (accepted)",
        Expect::Accepted,
        with_claims(json!({"azp": null, "sub": null, "client_id": "job-client"}))
    );
    token!(
        "exp negative",
        invalid(NO_EXP),
        with_claims(json!({"exp": -1}))
    );
    token!(
        "nbf future",
        invalid(NBF),
        with_claims(json!({"nbf": now() + 120}))
    );
    token!(
        "nbf future within the leeway (accepted)",
        Expect::Accepted,
        with_claims(json!({"nbf": now() + 2}))
    );
    token!(
        "nbf a string",
        invalid(CLAIMS),
        with_claims(json!({"nbf": "yesterday"}))
    );
    token!(
        "iat future beyond the leeway",
        invalid(IAT),
        with_claims(json!({"iat": now() + 120}))
    );
    token!(
        "iat future within the leeway (accepted)",
        Expect::Accepted,
        with_claims(json!({"iat": now() + 2}))
    );
    token!(
        "iat a string",
        invalid(CLAIMS),
        with_claims(json!({"iat": "now"}))
    );

    // Issuer and audience (RFC 9068 §4 steps 3-4).
    token!(
        "iss missing",
        invalid(NO_ISS),
        with_claims(json!({"iss": null}))
    );
    token!(
        "iss other",
        invalid(ISS),
        with_claims(json!({"iss": "https://evil.example/"}))
    );
    token!(
        "iss without the trailing slash",
        invalid(ISS),
        with_claims(json!({"iss": ISSUER.trim_end_matches('/')}))
    );
    token!(
        "iss in another case",
        invalid(ISS),
        with_claims(json!({"iss": ISSUER.to_uppercase()}))
    );
    token!(
        "iss an array holding ours",
        invalid(CLAIMS),
        with_claims(json!({"iss": [ISSUER]}))
    );
    token!(
        "aud missing",
        invalid(NO_AUD),
        with_claims(json!({"aud": null}))
    );
    token!(
        "aud other",
        invalid(AUD),
        with_claims(json!({"aud": "https://api.other.example"}))
    );
    token!(
        "aud empty array",
        invalid(AUD),
        with_claims(json!({"aud": []}))
    );
    token!(
        "aud ours with a trailing slash",
        invalid(AUD),
        with_claims(json!({"aud": format!("{AUDIENCE}/")}))
    );
    token!(
        "aud array containing ours (accepted)",
        Expect::Accepted,
        with_claims(json!({"aud": ["https://other.example", AUDIENCE]}))
    );

    // Scope (RFC 6749 §3.3, RFC 9068 §2.2.3).
    token!(
        "scope missing",
        NO_SCOPE,
        with_claims(json!({"scope": null}))
    );
    token!(
        "scope batch:uploader",
        NO_SCOPE,
        with_claims(json!({"scope": "batch:uploader"}))
    );
    token!(
        "scope inside another word",
        NO_SCOPE,
        with_claims(json!({"scope": "xbatch:upload batch:upload-all"}))
    );
    token!(
        "scope comma-separated",
        NO_SCOPE,
        with_claims(json!({"scope": "read,batch:upload"}))
    );
    token!(
        "scope in upper case",
        NO_SCOPE,
        with_claims(json!({"scope": "BATCH:UPLOAD"}))
    );
    token!(
        "scope among others (accepted)",
        Expect::Accepted,
        with_claims(json!({"scope": "batch:read batch:upload"}))
    );
    token!(
        "scope array form (accepted)",
        Expect::Accepted,
        with_claims(json!({"scope": ["openid", "batch:upload"]}))
    );
    token!(
        "Auth0 permissions form (accepted)",
        Expect::Accepted,
        with_claims(json!({"scope": null, "permissions": ["batch:upload"]}))
    );
    token!(
        "scope not a string",
        invalid(CLAIMS),
        with_claims(json!({"scope": 7}))
    );
    token!(
        "sub not a string",
        invalid(CLAIMS),
        with_claims(json!({"sub": 7}))
    );

    // `scp` (Okta: an array; Entra ID: a space-delimited string), beside `scope`.
    token!(
        "scp array form (accepted)",
        Expect::Accepted,
        with_claims(json!({"scope": null, "scp": ["openid", "batch:upload"]}))
    );
    token!(
        "scp delimited form (accepted)",
        Expect::Accepted,
        with_claims(json!({"scope": null, "scp": "openid batch:upload"}))
    );
    token!(
        "scp grants beside a scope without it (accepted)",
        Expect::Accepted,
        with_claims(json!({"scope": "openid", "scp": "batch:upload"}))
    );
    token!(
        "scope grants beside an scp without it (accepted)",
        Expect::Accepted,
        with_claims(json!({"scp": ["openid"]}))
    );
    token!(
        "scp without batch:upload",
        NO_SCOPE,
        with_claims(json!({"scope": null, "scp": ["batch:read", "BATCH:UPLOAD"]}))
    );
    token!(
        "scp batch:upload inside another word",
        NO_SCOPE,
        with_claims(json!({"scope": null, "scp": "xbatch:upload batch:uploader"}))
    );
    token!(
        "scp not a string",
        invalid(CLAIMS),
        with_claims(json!({"scp": 7}))
    );
    token!(
        "scp an object",
        invalid(CLAIMS),
        with_claims(json!({"scp": {"batch:upload": true}}))
    );
    token!(
        "scp array of numbers",
        invalid(CLAIMS),
        with_claims(json!({"scp": [1, 2]}))
    );
    token!(
        "scp null (not a way to skip the scope)",
        invalid(NULL_CLAIM),
        with_null_claim("scp")
    );
    token!(
        "jti null without the at+jwt profile (not read, accepted)",
        Expect::Accepted,
        with_null_claim("jti")
    );

    cases
}

/// Claims of a valid RFC 9068 access token (§2.2): `valid_claims()` with `client_id` and
/// `jti`, and `changes` merged in (a `null` removes the claim).
fn at_jwt_claims(changes: Value) -> Value {
    merged(
        claims_with(json!({"azp": null, "client_id": "job-client", "jti": "3f1e7c52"})),
        &changes,
    )
}

/// The rules `AUTH_REQUIRE_AT_JWT=true` adds, each broken by one token of its own.
fn at_jwt_cases<'a>(issuer: &'a TestKey) -> Vec<Case<'a>> {
    let mint = move |typ: Option<&str>, claims: Value| {
        let mut header = json!({"alg": "RS256", "kid": "key-1"});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        signed(issuer, &header, &claims)
    };
    let at_jwt = move |changes: Value| mint(Some("at+jwt"), at_jwt_claims(changes));
    let with_null_claim = move |name: &str| {
        let mut claims = at_jwt_claims(json!({}));
        claims[name] = Value::Null;
        mint(Some("at+jwt"), claims)
    };
    let mut cases: Vec<Case<'a>> = Vec::new();
    let mut add = |name: &'static str, expect: Expect, token: Box<dyn Fn() -> String + 'a>| {
        cases.push(Case {
            name,
            request: Box::new(move || bearer(&token())),
            expect,
        });
    };
    add(
        "RFC 9068 token (accepted)",
        Expect::Accepted,
        Box::new(move || at_jwt(json!({}))),
    );
    add(
        "typ application/AT+JWT (accepted)",
        Expect::Accepted,
        Box::new(move || mint(Some("application/AT+JWT"), at_jwt_claims(json!({})))),
    );
    add(
        "RFC 9068 token with scp (accepted)",
        Expect::Accepted,
        Box::new(move || at_jwt(json!({"scope": null, "scp": ["batch:upload"]}))),
    );
    add(
        "typ JWT",
        invalid(NOT_AT_JWT),
        Box::new(move || mint(Some("JWT"), at_jwt_claims(json!({})))),
    );
    add(
        "typ application/jwt",
        invalid(NOT_AT_JWT),
        Box::new(move || mint(Some("application/jwt"), at_jwt_claims(json!({})))),
    );
    add(
        "typ absent",
        invalid(NOT_AT_JWT),
        Box::new(move || mint(None, at_jwt_claims(json!({})))),
    );
    add(
        "typ JOSE (the base rule first)",
        invalid(TYP),
        Box::new(move || mint(Some("JOSE"), at_jwt_claims(json!({})))),
    );
    add(
        "Auth0's default token (typ JWT, azp, no jti)",
        invalid(NOT_AT_JWT),
        Box::new(move || issuer.mint(&valid_claims())),
    );
    add(
        "no sub",
        invalid(NO_SUB),
        Box::new(move || at_jwt(json!({"sub": null}))),
    );
    add(
        "no client_id, azp instead",
        invalid(NO_CLIENT_ID),
        Box::new(move || at_jwt(json!({"client_id": null, "azp": "job-client"}))),
    );
    add(
        "no iat",
        invalid(NO_IAT),
        Box::new(move || at_jwt(json!({"iat": null}))),
    );
    add(
        "no jti",
        invalid(NO_JTI),
        Box::new(move || at_jwt(json!({"jti": null}))),
    );
    add(
        "jti null",
        invalid(NULL_CLAIM),
        Box::new(move || with_null_claim("jti")),
    );
    add(
        "client_id null",
        invalid(NULL_CLAIM),
        Box::new(move || with_null_claim("client_id")),
    );
    add(
        "jti not a string",
        invalid(CLAIMS),
        Box::new(move || at_jwt(json!({"jti": 7}))),
    );
    add(
        "client_id not a string",
        invalid(CLAIMS),
        Box::new(move || at_jwt(json!({"client_id": ["job-client"]}))),
    );
    add(
        "expired (the base rules still apply)",
        invalid(EXPIRED),
        Box::new(move || at_jwt(json!({"exp": now() - 60}))),
    );
    add(
        "without the scope",
        NO_SCOPE,
        Box::new(move || at_jwt(json!({"scope": "batch:read"}))),
    );
    cases
}

/// Runs `cases` against `harness`; returns one line per case that did not answer as expected.
async fn run(harness: &Harness, cases: &[Case<'_>]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let before = harness.served();
        let answer = harness.call((case.request)()).await;
        let served = harness.served() - before;
        if let Err(why) = check(case.expect, &answer, served) {
            failures.push(format!(
                "{}: {why} (got {} {})",
                case.name, answer.status, answer.body
            ));
        }
    }
    failures
}

/// The default harness with `AUTH_REQUIRE_AT_JWT=true`.
async fn at_jwt_harness() -> Harness {
    Harness::with(Setup {
        profile: TokenProfile::AtJwt,
        ..Setup::default()
    })
    .await
}

/// Runs `cases` through the route and fails naming every case that was not answered as
/// expected.
async fn assert_every_case(harness: &Harness, cases: &[Case<'_>]) {
    let failures = run(harness, cases).await;
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn with_require_at_jwt_only_rfc_9068_tokens_pass() {
    let harness = at_jwt_harness().await;
    let cases = at_jwt_cases(&harness.key);
    assert_every_case(&harness, &cases).await;
}

#[tokio::test]
async fn with_require_at_jwt_a_plain_jwt_costs_no_jwks_fetch() {
    let harness = at_jwt_harness().await;
    let answer = harness.upload_with(&harness.token()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body["error_description"],
        "the access token is not typed at+jwt (RFC 9068)"
    );
    assert_eq!(
        harness.server.hits(),
        0,
        "refused before its key is looked up"
    );
}

#[tokio::test]
async fn every_bad_token_is_refused_with_the_right_code() {
    let other = TestKey::generate("other");
    let attacker = TestKey::generate("attacker");
    let attacker_server =
        JwksServer::start(Reply::Json(json!({"keys": [attacker.jwk()]}).to_string())).await;
    let harness = Harness::with(Setup {
        algorithms: vec![Algorithm::RS256, Algorithm::PS256],
        extra_keys: extra_keys(&other),
        ..Setup::default()
    })
    .await;
    let keys = Keys::new(&harness.key, &other, &attacker, attacker_server.jwks_url());
    let cases = cases(&keys);
    assert!(cases.len() >= 50, "{} cases", cases.len());
    println!("bad tokens: {} cases", cases.len());

    assert_every_case(&harness, &cases).await;
    // Header-named locations are never fetched; the first unknown kid refetches once (the
    // probe of the first fetch), the others within the cooldown refetch nothing.
    assert_eq!(
        attacker_server.hits(),
        0,
        "the attacker's server was contacted"
    );
    assert_eq!(
        harness.server.hits(),
        2,
        "the issuer's JWKS was fetched once, then once for the first unknown kid"
    );
}

fn check(expect: Expect, answer: &Answer, served: usize) -> Result<(), String> {
    let challenge = answer.challenge.as_deref().unwrap_or_default();
    match expect {
        Expect::Accepted => {
            if answer.status != 201 || served != 1 {
                return Err(format!("expected 201, served {served} times"));
            }
        }
        Expect::NoToken => {
            if answer.status != 401
                || answer.body["error"] != "missing_token"
                || challenge != r#"Bearer realm="timesheets""#
            {
                return Err(format!(
                    "expected 401 with a bare challenge, got {challenge:?}"
                ));
            }
        }
        Expect::Refused(status, code) => refused(answer, status, code)?,
        Expect::Invalid(why) => {
            refused(answer, 401, "invalid_token")?;
            let description = answer.body["error_description"]
                .as_str()
                .unwrap_or_default();
            if !description.contains(why) {
                return Err(format!("refused for another reason than {why:?}"));
            }
        }
    }
    if !matches!(expect, Expect::Accepted) && served != 0 {
        return Err(format!("served {served} times"));
    }
    Ok(())
}

fn refused(answer: &Answer, status: u16, code: &str) -> Result<(), String> {
    let challenge = answer.challenge.as_deref().unwrap_or_default();
    let in_challenge = challenge.contains(&format!(r#"error="{code}""#));
    if answer.status != status || answer.body["error"] != code || !in_challenge {
        return Err(format!("expected {status} {code}, challenge {challenge:?}"));
    }
    Ok(())
}

#[tokio::test]
async fn hs256_is_refused_even_when_misconfigured_as_allowed() {
    // config.rs refuses AUTH_ALGORITHMS=HS256; the verifier refuses it again on its own.
    let harness = Harness::with(Setup {
        algorithms: vec![Algorithm::HS256, Algorithm::RS256],
        ..Setup::default()
    })
    .await;
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).to_string();
    let secret = harness.key.jwk().to_string();
    let forged = hs256(secret.as_bytes(), &header, &valid_claims().to_string());
    let answer = harness.upload_with(&forged).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "invalid_token");
    assert_eq!(
        answer.body["error_description"],
        "the access token's signing algorithm is not accepted"
    );
    assert_eq!(harness.served(), 0);
}

#[tokio::test]
async fn the_client_is_azp_else_client_id_else_sub() {
    let harness = Harness::start().await;
    let named = [
        (json!({}), "job-client"),
        (
            json!({"azp": "", "client_id": "rfc-9068-client"}),
            "rfc-9068-client",
        ),
        (json!({"azp": null}), "job-client@clients"),
    ];
    for (changes, client) in named {
        let answer = harness
            .upload_with(&harness.key.mint(&claims_with(changes.clone())))
            .await;
        assert_eq!(answer.status, 201, "{changes}: {}", answer.body);
        assert_eq!(answer.body["client"], client, "{changes}");
    }
}
