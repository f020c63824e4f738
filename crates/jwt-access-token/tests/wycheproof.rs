//! Wycheproof's JWS and JWK-set vectors (C2SP/wycheproof, Apache-2.0) through the product's own
//! signature path: `verify_signature` = header rules + key selection by `kid` from the JWKS as
//! the cache indexes it + key policy + signature. No crypto of its own here.
//!
//! The vectors are committed in `tests/vectors/wycheproof/` with their licence (override with
//! `WYCHEPROOF_DIR`). Every case is run:
//! - applicable cases must match the vector's verdict (`valid` accepted, `invalid` refused);
//! - `acceptable` (none in these files today) must be refused: the API guards writes, and the
//!   strict side of an ambiguity is the safe one;
//! - cases whose verdict cannot apply (a valid token of an algorithm the product can never be
//!   configured with) are listed with the reason, and must be refused;
//! - known deviations, where the product is stricter than the vector on purpose, are listed
//!   with the reason, must be refused, and must verify once the stricter rule is lifted.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use jsonwebtoken::Algorithm;
use jwt_access_token::KeySet;
use jwt_access_token::verify_signature;
use serde_json::{Value, json};

const FILES: [&str; 2] = ["json_web_signature_test.json", "json_web_key_test.json"];

/// Cases where the product is stricter than the vector, and why.
const DEVIATIONS: [(u64, &str); 2] = [
    (
        346,
        "the key declares alg PS256 and the token uses PS384; a JWK's alg binds the key to that \
         algorithm (RFC 7517 §4.4, RFC 8725 §3.1)",
    ),
    (
        350,
        "the key declares alg PS256 and the token uses PS384; a JWK's alg binds the key to that \
         algorithm (RFC 7517 §4.4, RFC 8725 §3.1)",
    ),
];

fn vectors_dir() -> PathBuf {
    match std::env::var_os("WYCHEPROOF_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/wycheproof"),
    }
}

/// One test vector with the key set it is verified against.
struct Case {
    file: &'static str,
    group: String,
    tc_id: u64,
    comment: String,
    jws: String,
    result: String,
    keys: Value,
}

fn load() -> Vec<Case> {
    let dir = vectors_dir();
    let mut cases = Vec::new();
    for file in FILES {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "cannot read {} ({error}); set WYCHEPROOF_DIR to the vectors' directory",
                path.display()
            )
        });
        let document: Value = serde_json::from_str(&text).expect("vector file is JSON");
        let declared = document["numberOfTests"].as_u64().expect("numberOfTests");
        let before = cases.len();
        for group in document["testGroups"].as_array().expect("testGroups") {
            // The public key when given, else the private one (which the product never uses).
            let key = group.get("public").unwrap_or(&group["private"]);
            // Signature groups hold one JWK, key-set groups a JWK Set.
            let keys = if key.get("keys").is_some() {
                key.clone()
            } else {
                json!({"keys": [key]})
            };
            for test in group["tests"].as_array().expect("tests") {
                cases.push(Case {
                    file,
                    group: group["comment"].as_str().unwrap_or_default().to_owned(),
                    tc_id: test["tcId"].as_u64().expect("tcId"),
                    comment: test["comment"].as_str().unwrap_or_default().to_owned(),
                    jws: test["jws"].as_str().expect("jws").to_owned(),
                    result: test["result"].as_str().expect("result").to_owned(),
                    keys: keys.clone(),
                });
            }
        }
        assert_eq!(
            (cases.len() - before) as u64,
            declared,
            "{file}: every vector read"
        );
    }
    cases
}

/// An algorithm an operator could put in `AUTH_ALGORITHMS` (config.rs refuses HS*, and
/// jsonwebtoken knows no ES512).
fn configurable(name: &str) -> Option<Algorithm> {
    name.parse::<Algorithm>()
        .ok()
        .filter(|alg| !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
}

/// The header's `alg`, read leniently (characters outside base64url dropped): it only sorts
/// cases, the product itself reads the header strictly.
fn header_alg(jws: &str) -> Option<String> {
    use base64::Engine;
    let header: String = jws
        .split('.')
        .next()?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let header: Value = serde_json::from_slice(&bytes).ok()?;
    header["alg"].as_str().map(str::to_owned)
}

/// The most permissive configuration the case allows: every configurable algorithm named by
/// the token or the keys, so a refusal comes from the key policy and not from a narrow list.
fn algorithms_for(case: &Case) -> Vec<Algorithm> {
    let mut names: Vec<String> = header_alg(&case.jws).into_iter().collect();
    for key in case.keys["keys"].as_array().into_iter().flatten() {
        names.extend(key["alg"].as_str().map(str::to_owned));
    }
    let mut algorithms: Vec<Algorithm> = names.iter().filter_map(|n| configurable(n)).collect();
    algorithms.dedup();
    if algorithms.is_empty() {
        algorithms.push(Algorithm::RS256);
    }
    algorithms
}

fn accepted(case: &Case, keys: &Value) -> bool {
    verify_signature(
        &case.jws,
        &algorithms_for(case),
        &KeySet::from_document(keys),
    )
    .is_ok()
}

/// Why a `valid` verdict cannot apply to the product, if it cannot.
fn not_applicable(case: &Case) -> Option<String> {
    if case.result == "invalid" {
        return None;
    }
    let alg = header_alg(&case.jws)?;
    if configurable(&alg).is_some() {
        return None;
    }
    Some(if alg.starts_with("HS") {
        format!("{alg} is never configurable: a JWKS holds no shared secret (RFC 8725 §3.1)")
    } else {
        format!("{alg} is not supported by the JWT library, so AUTH_ALGORITHMS refuses it")
    })
}

#[test]
fn wycheproof_vectors_agree_with_the_product() {
    let cases = load();
    let mut report = String::new();
    let (mut run, mut agree) = (0, 0);
    let mut disagreements = Vec::new();
    let mut listed = Vec::new();
    for case in &cases {
        let name = format!(
            "{} tcId {} ({}: {})",
            case.file, case.tc_id, case.group, case.comment
        );
        let product_accepts = accepted(case, &case.keys);
        if let Some(reason) = not_applicable(case) {
            assert!(!product_accepts, "{name}: the product must refuse it");
            listed.push(format!("not applicable: {name}: {reason}; refused"));
            continue;
        }
        if let Some((_, reason)) = DEVIATIONS.iter().find(|(id, _)| *id == case.tc_id) {
            assert!(!product_accepts, "{name}: the product must refuse it");
            let mut unpinned = case.keys.clone();
            for key in unpinned["keys"].as_array_mut().expect("keys") {
                key.as_object_mut().expect("a JWK").remove("alg");
            }
            assert!(
                accepted(case, &unpinned),
                "{name}: must verify once the key's alg no longer binds it"
            );
            listed.push(format!("stricter than the vector: {name}: {reason}"));
            continue;
        }
        run += 1;
        // `acceptable` counts with `invalid`: see the module comment.
        if product_accepts == (case.result == "valid") {
            agree += 1;
        } else {
            disagreements.push(format!(
                "{name}: vector says {}, product {}",
                case.result,
                if product_accepts {
                    "accepts"
                } else {
                    "refuses"
                }
            ));
        }
    }
    for line in &listed {
        writeln!(report, "wycheproof: {line}").unwrap();
    }
    for line in &disagreements {
        writeln!(report, "wycheproof: DISAGREES: {line}").unwrap();
    }
    writeln!(report, "wycheproof: {run} run, {agree} agree").unwrap();
    // Straight to the stderr handle: the test harness captures `eprint!`, not this, so the
    // summary shows in every run, not only with `--nocapture`.
    std::io::stderr()
        .write_all(report.as_bytes())
        .expect("stderr");
    assert_eq!(
        listed.len() + run,
        cases.len(),
        "every vector is run or listed"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s)",
        disagreements.len()
    );
    assert_eq!(
        DEVIATIONS.len(),
        listed
            .iter()
            .filter(|line| line.starts_with("stricter"))
            .count(),
        "every listed deviation still exists"
    );
}
