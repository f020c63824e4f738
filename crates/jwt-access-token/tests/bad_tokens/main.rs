//! Every known way to get a token wrong, through a route protected by `authorize`: each case
//! asserts the status, the RFC 6750 error code in the body and in `WWW-Authenticate`, and
//! whether the route served the request. The table is one file per RFC area, one line per case
//! (`table.rs` holds what a case expects and the helpers the cases are written with).

#[path = "../common/mod.rs"]
mod common;
mod rfc6749_scope;
mod rfc6749_scp;
mod rfc6750_credentials;
mod rfc7515_compact;
mod rfc7515_header;
mod rfc7517_key_selection;
mod rfc7519_time;
mod rfc8725_algorithm;
mod rfc9068_client;
mod rfc9068_issuer_audience;
mod rfc9068_profile;
mod table;

use common::*;
use jsonwebtoken::Algorithm;
use jwt_access_token::TokenProfile;
use serde_json::{Value, json};
use testkit::keys::{b64, ec_p256_jwk, hs256};
use testkit::{JwksServer, Reply, TestKey};

use table::{Case, Expect, Keys, Table};

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

/// The whole table, in the order the verifier checks the rules.
fn cases<'a>(keys: &'a Keys<'a>) -> Vec<Case<'a>> {
    let mut table = Table::default();
    // Control: the table's tokens differ from this one in one thing each.
    table.token("valid token", Expect::Accepted, move || keys.good());
    rfc6750_credentials::cases(&mut table, keys);
    rfc7515_compact::cases(&mut table, keys);
    rfc8725_algorithm::cases(&mut table, keys);
    rfc7517_key_selection::cases(&mut table, keys);
    rfc7515_header::cases(&mut table, keys);
    rfc7519_time::cases(&mut table, keys);
    rfc9068_client::cases(&mut table, keys);
    rfc9068_issuer_audience::cases(&mut table, keys);
    rfc6749_scope::cases(&mut table, keys);
    rfc6749_scp::cases(&mut table, keys);
    table.cases
}

/// The rules `TokenProfile::AtJwt` adds, each broken by one token of its own.
fn at_jwt_cases(issuer: &TestKey) -> Vec<Case<'_>> {
    let mut table = Table::default();
    rfc9068_profile::cases(&mut table, issuer);
    table.cases
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
