//! Property tests standing in for a fuzzer (cargo-fuzz needs nightly; bearer extraction's is in
//! jwt-access-token): token verification with arbitrary strings and with arbitrary signed headers and claims, body
//! parsing, and whole invocations with arbitrary events. Nothing may panic, and whatever is
//! accepted must satisfy the rules.
//!
//! `PROPTEST_CASES` sets the cases per property (default 64, so `cargo test` stays quick);
//! a longer run: `PROPTEST_CASES=20000 cargo test --release -p timesheets-api --test fuzz`.

mod common;

use std::collections::HashSet;

use common::*;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue};
use jwt_access_token::{TokenError, TokenVerifier};
use lambda_http::{Body, Context, LambdaEvent};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use testkit::keys::{jwk_set, now};
use testkit::{JwksServer, Reply, TestKey};
use timesheets_api::body::{self, MAX_BODY_BYTES};
use timesheets_api::event;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        // Failures are reported with their input; no regression files written into the tree.
        failure_persistence: None,
        ..Config::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Strings a token parser meets: rule values, near misses, and anything at all.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop_oneof![
            Just("RS256"), Just("PS256"), Just("HS256"), Just("none"), Just("key-1"),
            Just(ISSUER), Just(AUDIENCE), Just("batch:upload"), Just("at+jwt"), Just("JWT"),
            Just(""), Just("https://tenant.example.auth0.com"),
        ]
        .prop_map(str::to_owned),
        1 => ".{0,16}",
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (now() - 100..now() + 100).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| {
            serde_json::Number::from_f64(f).map(Value::Number)
        }),
        interesting_string().prop_map(Value::from),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((interesting_string(), inner), 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Member names: the ones a rule reads, or any.
fn member(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(names).prop_map(str::to_owned),
        1 => "[a-z]{1,4}",
    ]
}

/// Changes to a valid object: set (`Some`) or remove (`None`) members, then maybe repeat one.
type Edits = (Vec<(String, Option<Value>)>, Option<(String, Value)>);

fn edits(names: &'static [&'static str]) -> impl Strategy<Value = Edits> {
    (
        vec((member(names), option::of(arb_json())), 0..3),
        option::weighted(0.1, (member(names), arb_json())),
    )
}

/// `base` with `edits` applied, as ordered members (names may repeat).
fn edited(base: Value, (changes, repeated): &Edits) -> Vec<(String, Value)> {
    let mut members: Vec<(String, Value)> = base.as_object().unwrap().clone().into_iter().collect();
    for (name, value) in changes {
        members.retain(|(existing, _)| existing != name);
        if let Some(value) = value {
            members.push((name.clone(), value.clone()));
        }
    }
    members.extend(repeated.clone());
    members
}

/// The members as JSON object text, repeats kept.
fn object_text(members: &[(String, Value)]) -> String {
    let inner: Vec<String> = members
        .iter()
        .map(|(name, value)| format!("{}:{value}", Value::from(name.as_str())))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// The value of `name` if it appears exactly once; `None` when absent or repeated.
fn single<'a>(members: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    let mut found = members.iter().filter(|(n, _)| n == name).map(|(_, v)| v);
    match (found.next(), found.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

fn unique(members: &[(String, Value)]) -> bool {
    let names: HashSet<&str> = members.iter().map(|(name, _)| name.as_str()).collect();
    names.len() == members.len()
}

/// What an accepted token's header and claims must satisfy (RFC 8725, RFC 9068 §4).
fn follows_the_rules(header: &[(String, Value)], claims: &[(String, Value)]) -> Result<(), String> {
    let check = |ok: bool, rule: &str| if ok { Ok(()) } else { Err(rule.to_owned()) };
    check(unique(header) && unique(claims), "no repeated member")?;
    check(single(header, "alg") == Some(&json!("RS256")), "alg RS256")?;
    check(
        single(header, "kid") == Some(&json!("key-1")),
        "kid of the key",
    )?;
    check(single(header, "crit").is_none(), "no crit")?;
    let typ_ok = match single(header, "typ") {
        None => true,
        Some(typ) => typ.as_str().map(str::to_ascii_lowercase).is_some_and(|t| {
            ["jwt", "at+jwt", "application/jwt", "application/at+jwt"].contains(&t.as_str())
        }),
    };
    check(typ_ok, "typ JWT or at+jwt")?;
    check(single(claims, "iss") == Some(&json!(ISSUER)), "iss exact")?;
    let aud_ok = match single(claims, "aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(auds)) => auds.contains(&json!(AUDIENCE)),
        _ => false,
    };
    check(aud_ok, "aud contains ours")?;
    let exp = single(claims, "exp").and_then(Value::as_f64);
    check(
        exp.is_some_and(|exp| exp >= (now() - 10) as f64),
        "exp in the future",
    )?;
    let nbf = single(claims, "nbf").and_then(Value::as_f64);
    check(
        nbf.is_none_or(|nbf| nbf <= (now() + 10) as f64),
        "nbf passed",
    )?;
    Ok(())
}

struct Verifying {
    runtime: tokio::runtime::Runtime,
    verifier: TokenVerifier,
    key: TestKey,
    _server: JwksServer,
}

fn verifying() -> Verifying {
    let runtime = runtime();
    let key = TestKey::generate("key-1");
    let server = runtime.block_on(JwksServer::start(Reply::Json(jwk_set(&[&key]).to_string())));
    let verifier = issuer_verifier(&server);
    Verifying {
        runtime,
        verifier,
        key,
        _server: server,
    }
}

#[test]
fn verifier_refuses_arbitrary_strings() {
    let fixture = verifying();
    let parts: Vec<String> = fixture
        .key
        .mint(&valid_claims())
        .split('.')
        .map(str::to_owned)
        .collect();
    let token = prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_=+/-]{0,30}(\\.[A-Za-z0-9_=+/-]{0,30}){0,4}",
        // Real segments, shuffled and cut.
        vec(0usize..3, 0..5)
            .prop_filter("not the token itself", |picks| picks[..] != [0, 1, 2])
            .prop_map(move |picks| {
                picks
                    .iter()
                    .map(|i| parts[*i].clone())
                    .collect::<Vec<_>>()
                    .join(".")
            }),
    ];
    proptest!(config(), |(token in token)| {
        let outcome = fixture.runtime.block_on(fixture.verifier.verify(&token));
        prop_assert!(matches!(outcome, Err(TokenError::Invalid(_))), "{:?}", outcome);
    });
}

#[test]
fn verifier_accepts_only_what_follows_the_rules() {
    const HEADER_NAMES: &[&str] = &[
        "alg", "kid", "typ", "crit", "jku", "jwk", "x5u", "x5c", "b64",
    ];
    const CLAIM_NAMES: &[&str] = &[
        "iss",
        "aud",
        "exp",
        "nbf",
        "iat",
        "sub",
        "azp",
        "client_id",
        "scope",
        "permissions",
    ];
    let fixture = verifying();
    let accepted = std::cell::Cell::new(0u32);
    proptest!(config(), |(header_edits in edits(HEADER_NAMES), claim_edits in edits(CLAIM_NAMES))| {
        let header = edited(json!({"alg": "RS256", "typ": "JWT", "kid": "key-1"}), &header_edits);
        let claims = edited(valid_claims(), &claim_edits);
        let token = fixture.key.sign_raw(&object_text(&header), &object_text(&claims));
        let outcome = fixture.runtime.block_on(fixture.verifier.verify(&token));
        match outcome {
            Ok(_) => {
                accepted.set(accepted.get() + 1);
                if let Err(rule) = follows_the_rules(&header, &claims) {
                    prop_assert!(false, "accepted against the rule {}: {} {}", rule, object_text(&header), object_text(&claims));
                }
            }
            Err(TokenError::Invalid(_)) => {}
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    });
    // The generator must reach acceptance, or the property above proves nothing.
    assert!(accepted.get() > 0, "no token was accepted");
}

#[test]
fn body_parsing_never_panics() {
    let content_type = prop_oneof![
        Just("application/json".to_owned()),
        Just("application/json; charset=utf-8".to_owned()),
        Just("application/vnd.timesheet+json".to_owned()),
        "[ -~]{0,30}",
    ];
    let bytes = prop_oneof![
        vec(any::<u8>(), 0..256),
        arb_json().prop_map(|value| value.to_string().into_bytes()),
        Just(SAMPLE.as_bytes().to_vec()),
        (1usize..4).prop_map(|n| format!("[{}]", vec![SAMPLE; n].join(",")).into_bytes()),
        Just(vec![b' '; MAX_BODY_BYTES + 1]),
    ];
    proptest!(config(), |(content_type in option::of(content_type), bytes in bytes, binary in any::<bool>())| {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_type.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(CONTENT_TYPE, value);
        }
        let body = match String::from_utf8(bytes.clone()) {
            Ok(text) if !binary => Body::Text(text),
            _ if bytes.is_empty() => Body::Empty,
            _ => Body::Binary(bytes.clone()),
        };
        if let Ok(upload) = body::parse_upload(&headers, &body) {
            prop_assert!(bytes.len() <= MAX_BODY_BYTES);
            prop_assert!(!upload.entries.is_empty());
            prop_assert!(content_type.unwrap().to_ascii_lowercase().contains("json"));
        }
    });
}

#[test]
fn invocations_never_crash() {
    let runtime = runtime();
    let harness = runtime.block_on(Harness::start());
    let upload_event: Value =
        serde_json::from_str(include_str!("../../../events/upload.json")).unwrap();
    let event_field = proptest::sample::select(
        &[
            "body",
            "isBase64Encoded",
            "headers",
            "rawPath",
            "requestContext",
            "version",
            "httpMethod",
            "path",
            "multiValueHeaders",
            "queryStringParameters",
            "rawQueryString",
            "cookies",
        ][..],
    );
    let payload = prop_oneof![
        arb_json(),
        vec((event_field, arb_json()), 1..4).prop_map(move |changes| {
            let mut event = upload_event.clone();
            for (field, value) in changes {
                event[field] = value;
            }
            event
        }),
    ];
    proptest!(config(), |(payload in payload)| {
        let answer = runtime.block_on(event::handle(&harness.api, LambdaEvent::new(payload, Context::default())));
        let status = answer["statusCode"].as_u64();
        prop_assert!(status.is_some_and(|s| (200..600).contains(&s)), "{}", answer);
        prop_assert_ne!(status, Some(201), "no token, nothing stored");
    });
    assert_eq!(harness.stored(), 0);
}
