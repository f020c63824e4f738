//! DPoP (RFC 9449) through a route protected by `authorize`: a named table of bad proofs, each
//! answered `401 invalid_dpop_proof` with the `DPoP` challenge and its own description and not
//! served; the token-side refusals (a bound token as Bearer, an unbound token as DPoP, a bearer
//! token where DPoP is required); replays; and the proofs that pass.

mod common;

use common::{Harness, SAMPLE, Setup, claims_with};
use http::Request;
use jwt_access_token::ProofRejection;
use jwt_access_token::TokenRejection;
use jwt_access_token::{DpopMode, DpopPolicy};
use lambda_http::Body;
use serde_json::{Value, json};
use testkit::dpop::{ath, proof_claims};
use testkit::keys::{b64, hs256, merged, now};
use testkit::{TestDpopKey, TestKey};

const HTU: &str = "https://api.exampleco.com/timesheets/upload";
const ALGS: &str = "ES256 PS256 RS256";

async fn harness(mode: DpopMode) -> Harness {
    Harness::with(Setup {
        dpop: DpopPolicy {
            mode,
            htu: Some(HTU.parse().unwrap()),
            leeway_seconds: 5,
        },
        ..Setup::default()
    })
    .await
}

/// An access token of the harness's issuer bound to `key` (`cnf.jkt`).
fn bound_token(harness: &Harness, key: &TestDpopKey) -> String {
    harness.key.mint(&claims_with(json!({
        "iss": harness.issuer.clone(),
        "cnf": {"jkt": key.thumbprint()},
    })))
}

/// `POST /timesheets/upload` of the sample entry with `authorization` and these `DPoP` headers.
fn request(authorization: &str, proofs: &[&str]) -> lambda_http::Request {
    let mut builder = Request::builder()
        .method("POST")
        .uri("/timesheets/upload?source=job")
        .header("content-type", "application/json")
        .header("authorization", authorization);
    for proof in proofs {
        builder = builder.header("dpop", *proof);
    }
    builder.body(Body::Text(SAMPLE.to_owned())).unwrap()
}

/// The `DPoP` challenge of `error` with `description`.
fn dpop_challenge(error: &str, description: &str) -> String {
    format!(r#"DPoP algs="{ALGS}", error="{error}", error_description="{description}""#)
}

/// The claims of a valid proof for the token, with `changes` merged (`null` removes).
fn claims(token: &str, changes: Value) -> Value {
    merged(proof_claims("POST", HTU, token), &changes)
}

/// The header of a valid proof by `key`, with `changes` merged (`null` removes).
fn header(key: &TestDpopKey, changes: Value) -> Value {
    merged(key.header(), &changes)
}

/// What each bad proof is, and the rule it breaks. `headers` are the `DPoP` header values.
struct Case {
    name: &'static str,
    headers: Vec<String>,
    expected: ProofRejection,
}

fn case(name: &'static str, proof: String, expected: ProofRejection) -> Case {
    Case {
        name,
        headers: vec![proof],
        expected,
    }
}

fn cases(key: &TestDpopKey, other: &TestDpopKey, rsa: &TestKey, token: &str) -> Vec<Case> {
    use ProofRejection::*;
    let valid = || key.proof("POST", HTU, token);
    let with_claims = |changes: Value| key.sign(&key.header(), &claims(token, changes));
    let with_header = |changes: Value| key.sign(&header(key, changes), &claims(token, json!({})));
    let signing_input = |header: &Value, claims: &Value| {
        format!("{}.{}", b64(header.to_string()), b64(claims.to_string()))
    };
    let mut jwk_with_d = key.public_jwk();
    jwk_with_d["d"] = json!(b64([1u8; 32]));
    let mut jwk_bound_to_es384 = key.public_jwk();
    jwk_bound_to_es384["alg"] = json!("ES384");
    let mut jwk_off_curve = key.public_jwk();
    jwk_off_curve["y"] = json!(b64([0u8; 32]));
    let tampered = {
        let proof = valid();
        let (_, signature) = proof.rsplit_once('.').unwrap();
        let input = signing_input(
            &key.header(),
            &claims(token, json!({"htm": "POST", "x": 1})),
        );
        format!("{input}.{signature}")
    };
    vec![
        Case {
            name: "no DPoP header",
            headers: vec![],
            expected: Missing,
        },
        Case {
            name: "two DPoP headers",
            headers: vec![valid(), valid()],
            expected: Several,
        },
        case("over 8 KiB", "a".repeat(9 * 1024), TooLarge),
        case("one segment", "abc".into(), NotCompact),
        case(
            "two segments",
            format!("{}.{}", b64("{}"), b64("{}")),
            NotCompact,
        ),
        case(
            "empty signature",
            format!(
                "{}.",
                signing_input(&key.header(), &claims(token, json!({})))
            ),
            NotCompact,
        ),
        case(
            "header not base64url",
            format!("***.{}.sig", b64("{}")),
            HeaderNotObject,
        ),
        case(
            "header not JSON",
            format!("{}.{}.{}", b64("nope"), b64("{}"), b64("sig")),
            HeaderNotObject,
        ),
        case(
            "header repeats typ",
            key.sign_text(
                &format!(
                    r#"{{"typ":"dpop+jwt","typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
                    key.public_jwk()
                ),
                &claims(token, json!({})).to_string(),
            ),
            HeaderNotObject,
        ),
        case("no typ", with_header(json!({"typ": null})), Typ),
        case("typ JWT", with_header(json!({"typ": "JWT"})), Typ),
        case("typ at+jwt", with_header(json!({"typ": "at+jwt"})), Typ),
        case(
            "alg none",
            with_header(json!({"alg": "none"})),
            AlgNotAllowed,
        ),
        case(
            "alg HS256 keyed with the jwk's x",
            hs256(
                key.public_jwk()["x"].as_str().unwrap().as_bytes(),
                &header(key, json!({"alg": "HS256"})).to_string(),
                &claims(token, json!({})).to_string(),
            ),
            AlgNotAllowed,
        ),
        case(
            "alg ES384, not accepted",
            with_header(json!({"alg": "ES384"})),
            AlgNotAllowed,
        ),
        case("no alg", with_header(json!({"alg": null})), AlgNotAllowed),
        case("crit", with_header(json!({"crit": ["exp"]})), Crit),
        case("no jwk", with_header(json!({"jwk": null})), NoJwk),
        case("jwk a string", with_header(json!({"jwk": "key"})), NoJwk),
        case(
            "jwk of an unknown kty",
            with_header(json!({"jwk": {"kty": "XYZ", "x": "AQAB"}})),
            NoJwk,
        ),
        case(
            "jwk with the private d",
            with_header(json!({"jwk": jwk_with_d})),
            PrivateKey,
        ),
        case(
            "jwk a symmetric oct key",
            with_header(json!({"jwk": {"kty": "oct", "k": b64([7u8; 32])}})),
            PrivateKey,
        ),
        case(
            "RSA jwk for ES256",
            with_header(json!({"jwk": rsa.jwk()})),
            KeyMismatch,
        ),
        case(
            "jwk bound to ES384",
            with_header(json!({"jwk": jwk_bound_to_es384})),
            KeyMismatch,
        ),
        case(
            "jwk point off the curve",
            with_header(json!({"jwk": jwk_off_curve})),
            Signature,
        ),
        case(
            "signed by another key than its jwk",
            other.sign(&key.header(), &claims(token, json!({}))),
            Signature,
        ),
        case("claims changed after signing", tampered, Signature),
        case(
            "claims not JSON",
            key.sign_text(&key.header().to_string(), "not json"),
            ClaimsNotObject,
        ),
        case("no jti", with_claims(json!({"jti": null})), Jti),
        case("empty jti", with_claims(json!({"jti": ""})), Jti),
        case("jti a number", with_claims(json!({"jti": 7})), Jti),
        case(
            "jti of 257 characters",
            with_claims(json!({"jti": "j".repeat(257)})),
            Jti,
        ),
        case("no htm", with_claims(json!({"htm": null})), Htm),
        case("htm GET", with_claims(json!({"htm": "GET"})), Htm),
        case(
            "htm in lower case",
            with_claims(json!({"htm": "post"})),
            Htm,
        ),
        case("no htu", with_claims(json!({"htu": null})), Htu),
        case(
            "htu of another path",
            with_claims(json!({"htu": "https://api.exampleco.com/timesheets/other"})),
            Htu,
        ),
        case(
            "htu of another host",
            with_claims(json!({"htu": "https://evil.example.com/timesheets/upload"})),
            Htu,
        ),
        case(
            "htu over http",
            with_claims(json!({"htu": "http://api.exampleco.com/timesheets/upload"})),
            Htu,
        ),
        case(
            "htu relative",
            with_claims(json!({"htu": "/timesheets/upload"})),
            Htu,
        ),
        case("no iat", with_claims(json!({"iat": null})), NoIat),
        case("iat a string", with_claims(json!({"iat": "now"})), NoIat),
        case("iat negative", with_claims(json!({"iat": -1})), NoIat),
        case(
            "iat 301 s old",
            with_claims(json!({"iat": now() - 301})),
            Stale,
        ),
        case(
            "iat 60 s ahead",
            with_claims(json!({"iat": now() + 60})),
            IssuedInFuture,
        ),
        case("no ath", with_claims(json!({"ath": null})), Ath),
        case(
            "ath of another token",
            with_claims(json!({"ath": ath("other")})),
            Ath,
        ),
        case(
            "ath not base64url of the hash",
            with_claims(json!({"ath": "x"})),
            Ath,
        ),
        case(
            "a valid proof by another key than the token's cnf.jkt",
            other.proof("POST", HTU, token),
            KeyNotBound,
        ),
    ]
}

#[tokio::test]
async fn each_bad_proof_is_invalid_dpop_proof_with_its_description_and_stores_nothing() {
    let harness = harness(DpopMode::Required).await;
    let key = TestDpopKey::generate();
    let other = TestDpopKey::generate();
    let rsa = TestKey::generate("dpop-rsa");
    let token = bound_token(&harness, &key);
    let cases = cases(&key, &other, &rsa, &token);
    assert!(cases.len() >= 30, "{} cases", cases.len());
    println!("bad DPoP proofs: {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let proofs: Vec<&str> = case.headers.iter().map(String::as_str).collect();
        let answer = harness
            .call(request(&format!("DPoP {token}"), &proofs))
            .await;
        let description = case.expected.description();
        let challenge = dpop_challenge("invalid_dpop_proof", description);
        if answer.status != 401
            || answer.body["error"] != "invalid_dpop_proof"
            || answer.body["error_description"] != description
            || answer.challenge.as_deref() != Some(challenge.as_str())
        {
            failures.push(format!("{}: {answer:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(harness.served(), 0);
}

#[tokio::test]
async fn a_valid_proof_is_served_and_its_replay_is_refused() {
    let harness = harness(DpopMode::Required).await;
    let key = TestDpopKey::generate();
    let token = bound_token(&harness, &key);
    let proof = key.proof("POST", HTU, &token);
    let first = harness
        .call(request(&format!("DPoP {token}"), &[&proof]))
        .await;
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(first.body["client"], "job-client");
    let replay = harness
        .call(request(&format!("DPoP {token}"), &[&proof]))
        .await;
    assert_eq!(replay.status, 401);
    assert_eq!(
        replay.challenge.as_deref(),
        Some(dpop_challenge("invalid_dpop_proof", ProofRejection::Replayed.description()).as_str())
    );
    let fresh = key.proof("POST", HTU, &token);
    let second = harness
        .call(request(&format!("dpop {token}"), &[&fresh]))
        .await;
    assert_eq!(second.status, 201, "{second:?}");
    assert_eq!(harness.served(), 2);
}

#[tokio::test]
async fn proofs_by_rsa_keys_and_typ_spellings_the_rfcs_allow_pass() {
    let harness = harness(DpopMode::Allowed).await;
    let rsa = TestKey::generate("dpop-rsa");
    let mut jwk = rsa.jwk();
    for member in ["kid", "use", "alg"] {
        jwk.as_object_mut().unwrap().remove(member);
    }
    let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let jkt = parsed
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .unwrap();
    let token = harness.key.mint(&claims_with(json!({
        "iss": harness.issuer.clone(),
        "cnf": {"jkt": jkt},
    })));
    for (alg, typ) in [("PS256", "dpop+jwt"), ("RS256", "application/DPoP+JWT")] {
        let header = json!({"typ": typ, "alg": alg, "jwk": jwk});
        let proof = rsa.sign_as(
            alg,
            &header.to_string(),
            &proof_claims("POST", &format!("{HTU}?x=1"), &token).to_string(),
        );
        let answer = harness
            .call(request(&format!("DPoP {token}"), &[&proof]))
            .await;
        assert_eq!(answer.status, 201, "{alg}: {answer:?}");
    }
}

#[tokio::test]
async fn the_scheme_must_fit_the_token_and_the_mode() {
    let key = TestDpopKey::generate();
    let allowed = harness(DpopMode::Allowed).await;
    let bound = bound_token(&allowed, &key);
    let bearer = allowed.token();

    // A stolen bound token sent as Bearer, without a proof.
    let answer = allowed.upload_with(&bound).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "invalid_token");
    assert_eq!(
        answer.challenge.as_deref(),
        Some(dpop_challenge("invalid_token", TokenRejection::DpopBound.description()).as_str())
    );
    // A bearer token dressed as DPoP.
    let proof = key.proof("POST", HTU, &bearer);
    let answer = allowed
        .call(request(&format!("DPoP {bearer}"), &[&proof]))
        .await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(dpop_challenge("invalid_token", TokenRejection::NotDpopBound.description()).as_str())
    );
    // allowed: a bearer token without cnf passes.
    assert_eq!(allowed.upload_with(&bearer).await.status, 201);

    let required = harness(DpopMode::Required).await;
    let answer = required.upload_with(&required.token()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(dpop_challenge("invalid_token", TokenRejection::DpopRequired.description()).as_str())
    );
    let missing = required.call(common::upload(None, SAMPLE)).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body["error"], "missing_token");
    assert_eq!(
        missing.challenge.as_deref(),
        Some(r#"DPoP algs="ES256 PS256 RS256""#)
    );

    // off: the DPoP scheme is not credentials at all, as before DPoP existed.
    let off = harness(DpopMode::Off).await;
    let bound_off = bound_token(&off, &key);
    let proof = key.proof("POST", HTU, &bound_off);
    let answer = off
        .call(request(&format!("DPoP {bound_off}"), &[&proof]))
        .await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "missing_token");
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="timesheets""#)
    );
    assert_eq!(required.served() + off.served(), 0);
    assert_eq!(allowed.served(), 1);
}

#[tokio::test]
async fn a_dpop_token_without_the_scope_gets_a_dpop_insufficient_scope_challenge() {
    let harness = harness(DpopMode::Allowed).await;
    let key = TestDpopKey::generate();
    let token = harness.key.mint(&claims_with(json!({
        "iss": harness.issuer.clone(),
        "cnf": {"jkt": key.thumbprint()},
        "scope": "batch:read",
    })));
    let proof = key.proof("POST", HTU, &token);
    let answer = harness
        .call(request(&format!("DPoP {token}"), &[&proof]))
        .await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert_eq!(answer.body["error"], "insufficient_scope");
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            format!(
                r#"{}, scope="batch:upload""#,
                dpop_challenge(
                    "insufficient_scope",
                    "the access token lacks the scope batch:upload"
                )
            )
            .as_str()
        )
    );
    assert_eq!(harness.served(), 0);
}

#[tokio::test]
async fn deferring_the_replay_check_hands_each_proof_record_to_the_caller() {
    let harness = harness(DpopMode::Allowed).await;
    let key = TestDpopKey::generate();
    let token = bound_token(&harness, &key);
    let proof = key.proof("POST", HTU, &token);
    let authorization = format!("DPoP {token}");
    let record = |proofs: &[&str]| {
        let request = request(&authorization, proofs);
        let verifier = &harness.verifier;
        async move {
            let (_, record) = verifier
                .authorize_deferring_replay(&request)
                .await
                .expect("a valid token and proof");
            record.expect("a DPoP request has a proof record")
        }
    };
    let first = record(&[&proof]).await;
    // The verifier keeps nothing: the same proof again is the same record, and the caller's
    // conditional write of it is what refuses the replay.
    assert_eq!(record(&[&proof]).await, first);
    let fresh = key.proof("POST", HTU, &token);
    assert_ne!(record(&[&fresh]).await.proof_id, first.proof_id);
    // No proof text in the record; kept while the proof could pass its `iat` check.
    assert!(!proof.contains(&first.proof_id));
    assert!(first.expires_at > now() && first.expires_at <= now() + 400);

    let bearer = request(&format!("Bearer {}", harness.token()), &[]);
    let (_, none) = harness
        .verifier
        .authorize_deferring_replay(&bearer)
        .await
        .expect("a valid bearer token");
    assert_eq!(none, None);
    let mut stale = proof_claims("POST", HTU, &token);
    stale["iat"] = json!(now() - 3600);
    let stale = key.sign(&key.header(), &stale);
    let refused = harness
        .verifier
        .authorize_deferring_replay(&request(&authorization, &[&stale]))
        .await
        .expect_err("a stale proof");
    assert_eq!(refused.code(), "invalid_dpop_proof");
}
