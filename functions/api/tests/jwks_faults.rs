//! The issuer's JWKS endpoint misbehaving, against the scripted server that counts requests:
//! TTL refresh, the unknown-`kid` cooldown and probe, key rotation, stale keys on error, `503` without
//! keys, the 1 MiB cap and cached discovery. Timings are shortened through `JwksPolicy`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use jwt_access_token::JwksPolicy;
use serde_json::{Value, json};
use testkit::keys::jwk_set;
use testkit::{Reply, TestKey};
use tokio::task::JoinSet;

const JWKS_PATH: &str = "/.well-known/jwks.json";

fn policy(ttl_ms: u64, cooldown_ms: u64) -> JwksPolicy {
    JwksPolicy {
        ttl: Duration::from_millis(ttl_ms),
        cooldown: Duration::from_millis(cooldown_ms),
        ..JwksPolicy::default()
    }
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

fn keys_document(keys: &[&TestKey]) -> Reply {
    Reply::Json(jwk_set(keys).to_string())
}

/// A valid token naming `kid` but signed by the harness key.
fn token_with_kid(harness: &Harness, kid: &str) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    harness
        .key
        .sign_raw(&header.to_string(), &valid_claims().to_string())
}

fn assert_503(answer: &Answer) {
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.body["error"], "temporarily_unavailable");
    assert_eq!(answer.retry_after.as_deref(), Some("5"));
    assert_eq!(answer.challenge, None, "a 503 is not the client's fault");
}

#[tokio::test]
async fn keys_are_refetched_once_the_ttl_has_passed() {
    let harness = Harness::with_policy(policy(1000, 100)).await;
    for _ in 0..3 {
        assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    }
    assert_eq!(harness.server.hits(), 1, "fresh keys are not refetched");
    sleep_ms(1100).await;
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(harness.server.hits(), 2, "one refetch after the TTL");
}

/// Sends `count` tokens with made-up `kid`s and `valid` genuine ones, all at once; returns
/// the statuses of the made-up and of the genuine ones.
async fn flood(harness: &Arc<Harness>, count: usize, valid: usize) -> (Vec<u16>, Vec<u16>) {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut tasks = JoinSet::new();
    let step = (count + valid) / valid;
    for i in 0..count + valid {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // The genuine ones spread through the flood.
        let genuine = i % step == 0 && i / step < valid;
        let token = if genuine {
            harness.token()
        } else {
            token_with_kid(harness, &format!("{seed:016x}"))
        };
        let harness = harness.clone();
        tasks.spawn(async move { (genuine, harness.upload_with(&token).await.status) });
    }
    let (mut made_up, mut genuine) = (Vec::new(), Vec::new());
    while let Some(done) = tasks.join_next().await {
        let (is_genuine, status) = done.unwrap();
        if is_genuine {
            genuine.push(status);
        } else {
            made_up.push(status);
        }
    }
    (made_up, genuine)
}

#[tokio::test]
async fn a_flood_of_unknown_kids_at_a_cold_start_costs_at_most_one_more_fetch() {
    let harness = Arc::new(Harness::start().await);
    let started = Instant::now();
    let (made_up, genuine) = flood(&harness, 100, 5).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the flood took {:?}",
        started.elapsed()
    );
    assert_eq!(made_up.len(), 100);
    assert!(made_up.iter().all(|status| *status == 401), "{made_up:?}");
    assert_eq!(genuine, [201; 5], "valid tokens are served meanwhile");
    // The first fetch, then at most one for an unknown kid that came after it (the probe: a
    // key published just after the first fetch would verify); the cooldown holds off the rest.
    let hits = harness.server.hits();
    assert!(
        (1..=2).contains(&hits),
        "{hits} fetches for the whole flood"
    );

    // The same again, one after another: the probe is spent (by the flood or by the first of
    // these), then the 30 s cooldown holds.
    for i in 0..100 {
        let answer = harness
            .upload_with(&token_with_kid(&harness, &format!("seq-{i}")))
            .await;
        assert_eq!(answer.status, 401);
        assert_eq!(
            answer.body["error_description"],
            "the access token was signed with an unknown key"
        );
    }
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(harness.server.hits(), 2);
}

#[tokio::test]
async fn after_the_cooldown_a_flood_refetches_exactly_once() {
    let harness = Arc::new(Harness::with_policy(policy(600_000, 1000)).await);
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    sleep_ms(1100).await;
    let (made_up, genuine) = flood(&harness, 100, 5).await;
    assert!(made_up.iter().all(|status| *status == 401));
    assert_eq!(genuine, [201; 5]);
    assert_eq!(harness.server.hits(), 2, "one refetch for the whole flood");
}

#[tokio::test]
async fn a_key_published_right_after_a_fetch_verifies_its_first_token() {
    let new_key = TestKey::generate("key-2");
    let harness = Arc::new(Harness::with_policy(policy(600_000, 1000)).await);
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(harness.server.hits(), 1);
    harness.server.set(keys_document(&[&harness.key, &new_key]));
    let rotated = new_key.mint(&valid_claims());

    // The last fetch was not caused by an unknown kid: the new kid refetches at once.
    let answer = harness.upload_with(&rotated).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(harness.server.hits(), 2, "exactly one more fetch");

    // That fetch spent the probe: 100 distinct unknown kids, at once and then one after
    // another, fetch nothing more within the cooldown, and both keys keep verifying.
    let (made_up, genuine) = flood(&harness, 100, 5).await;
    assert_eq!(made_up, [401; 100]);
    assert_eq!(genuine, [201; 5]);
    for i in 0..100 {
        let answer = harness
            .upload_with(&token_with_kid(&harness, &format!("seq-{i}")))
            .await;
        assert_eq!(
            answer.body["error_description"],
            "the access token was signed with an unknown key"
        );
    }
    assert_eq!(harness.upload_with(&rotated).await.status, 201);
    assert_eq!(harness.server.hits(), 2, "no fetch within the cooldown");

    // After the cooldown an unknown kid refetches once more, and starts the cooldown again.
    sleep_ms(1100).await;
    let (made_up, _) = flood(&harness, 100, 1).await;
    assert_eq!(made_up, [401; 100]);
    assert_eq!(harness.server.hits(), 3, "one fetch after the cooldown");
    assert_eq!(
        harness
            .upload_with(&token_with_kid(&harness, "after"))
            .await
            .status,
        401
    );
    assert_eq!(harness.server.hits(), 3);
}

#[tokio::test]
async fn within_the_cooldown_a_key_published_after_an_unknown_kid_fetch_waits() {
    let new_key = TestKey::generate("key-2");
    let harness = Harness::with_policy(policy(600_000, 1000)).await;
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    // A made-up kid spends the probe of the first fetch.
    let forcing = token_with_kid(&harness, "not-yet-published");
    assert_eq!(harness.upload_with(&forcing).await.status, 401);
    assert_eq!(harness.server.hits(), 2);
    harness.server.set(keys_document(&[&harness.key, &new_key]));
    let rotated = new_key.mint(&valid_claims());
    assert_eq!(harness.upload_with(&rotated).await.status, 401);
    assert_eq!(harness.server.hits(), 2, "the issuer is not asked again");

    sleep_ms(1100).await;
    assert_eq!(harness.upload_with(&rotated).await.status, 201);
    assert_eq!(harness.server.hits(), 3);
    assert_eq!(harness.upload_with(&rotated).await.status, 201);
    assert_eq!(
        harness.upload_with(&harness.token()).await.status,
        201,
        "the old key still works"
    );
    assert_eq!(harness.server.hits(), 3);

    // The issuer retires the old key: after the next refetch its tokens are refused.
    harness.server.set(keys_document(&[&new_key]));
    sleep_ms(1100).await;
    let retired = harness.key.mint(&valid_claims());
    assert_eq!(harness.upload_with(&forcing).await.status, 401);
    assert_eq!(harness.server.hits(), 4);
    let answer = harness.upload_with(&retired).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body["error_description"],
        "the access token was signed with an unknown key"
    );
    assert_eq!(harness.upload_with(&rotated).await.status, 201);
}

/// `tokens` uploaded all at once; their statuses.
async fn all_at_once(harness: &Arc<Harness>, tokens: Vec<String>) -> Vec<u16> {
    let mut tasks = JoinSet::new();
    for token in tokens {
        let harness = harness.clone();
        tasks.spawn(async move { harness.upload_with(&token).await.status });
    }
    tasks.join_all().await
}

// Worker threads, as when the function serves concurrent invocations (AWS_LAMBDA_MAX_CONCURRENCY).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_worker_threads_each_refresh_is_one_fetch_whatever_the_requests_in_flight() {
    let harness = Arc::new(Harness::with_policy(policy(300, 100)).await);
    let tokens = (0..48).map(|_| harness.token()).collect();
    assert_eq!(all_at_once(&harness, tokens).await, [201; 48]);
    assert_eq!(harness.server.hits(), 1, "one fetch for the cold flood");
    // The issuer rotates to key-2; past the TTL, a flood of its tokens.
    let new_key = TestKey::generate("key-2");
    harness.server.set(keys_document(&[&new_key]));
    sleep_ms(350).await;
    let tokens = (0..48).map(|_| new_key.mint(&valid_claims())).collect();
    assert_eq!(all_at_once(&harness, tokens).await, [201; 48]);
    assert_eq!(harness.server.hits(), 2, "one fetch for the rotation");
}

#[tokio::test]
async fn a_ttl_refresh_gives_a_new_key_its_first_token_at_once() {
    let new_key = TestKey::generate("key-2");
    let harness = Harness::with_policy(policy(300, 100)).await;
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    // An unknown kid spends the first fetch's probe.
    assert_eq!(
        harness
            .upload_with(&token_with_kid(&harness, "made-up"))
            .await
            .status,
        401
    );
    assert_eq!(harness.server.hits(), 2);
    sleep_ms(350).await; // past the TTL
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(harness.server.hits(), 3, "the TTL refresh");
    // Published just after the refresh, within the cooldown it started.
    harness.server.set(keys_document(&[&harness.key, &new_key]));
    assert_eq!(
        harness
            .upload_with(&new_key.mint(&valid_claims()))
            .await
            .status,
        201
    );
    assert_eq!(harness.server.hits(), 4);
}

#[tokio::test]
async fn a_failed_refresh_leaves_no_probe_for_an_unknown_kid() {
    let harness = Harness::with_policy(policy(300, 300)).await;
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    harness.server.set(Reply::Status(500));
    sleep_ms(350).await;
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(harness.server.hits(), 2, "the failed TTL refresh");
    let answer = harness
        .upload_with(&token_with_kid(&harness, "made-up"))
        .await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        harness.server.hits(),
        2,
        "a failing issuer is asked once per cooldown"
    );
}

/// The faults an issuer's JWKS endpoint can show, each answered in at most the 500 ms timeout.
fn faults(key: &TestKey) -> Vec<(&'static str, Reply)> {
    vec![
        ("HTTP 500", Reply::Status(500)),
        ("HTTP 404", Reply::Status(404)),
        (
            "slower than the timeout",
            Reply::Delay(Duration::from_millis(800), Box::new(keys_document(&[key]))),
        ),
        ("not JSON", Reply::Garbage),
        (
            "JSON without keys",
            Reply::Json(json!({"keys": []}).to_string()),
        ),
        ("over 1 MiB", Reply::Huge(1024 * 1024 + 1)),
        (
            "only keys that may not verify",
            Reply::Json(
                json!({"keys": [key.jwk_with(&json!({"use": "enc"})), key.jwk_with(&json!({"kid": "weak", "n": "AQAB"}))]})
                    .to_string(),
            ),
        ),
    ]
}

#[tokio::test]
async fn held_keys_keep_serving_while_the_issuer_fails() {
    let harness = Harness::with_policy(policy(300, 300)).await;
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    let mut hits = harness.server.hits();
    for (fault, reply) in faults(&harness.key) {
        harness.server.set(reply);
        sleep_ms(350).await; // past the TTL and the cooldown
        let answer = harness.upload_with(&harness.token()).await;
        assert_eq!(
            answer.status, 201,
            "{fault}: stale keys serve: {}",
            answer.body
        );
        assert_eq!(harness.server.hits(), hits + 1, "{fault}: one attempt");
        let answer = harness.upload_with(&harness.token()).await;
        assert_eq!(answer.status, 201, "{fault}");
        assert_eq!(
            harness.server.hits(),
            hits + 1,
            "{fault}: no retry within the cooldown"
        );
        hits += 1;
    }
    // The issuer recovers: the next refresh takes its keys again.
    harness.server.set(keys_document(&[&harness.key]));
    sleep_ms(350).await;
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(harness.server.hits(), hits + 1);
}

#[tokio::test]
async fn without_any_key_the_api_answers_503_not_401() {
    for (fault, reply) in faults(&TestKey::generate("fault")) {
        let harness = Harness::with_policy(policy(600_000, 300)).await;
        harness.server.set(reply);
        let answer = harness.upload_with(&harness.token()).await;
        assert_503(&answer);
        assert_eq!(harness.stored(), 0, "{fault}");
        // Within the cooldown the issuer is not asked again: still 503, no request.
        assert_503(&harness.upload_with(&harness.token()).await);
        assert_eq!(harness.server.hits(), 1, "{fault}");
        if fault == "HTTP 500" {
            harness.server.set(keys_document(&[&harness.key]));
            sleep_ms(350).await;
            assert_eq!(
                harness.upload_with(&harness.token()).await.status,
                201,
                "recovered"
            );
        }
    }
}

#[tokio::test]
async fn a_jwks_over_one_mebibyte_is_refused_even_with_good_keys() {
    let harness = Harness::start().await;
    let padded = |bytes: usize| {
        let mut document: Value = jwk_set(&[&harness.key]);
        document["padding"] = Value::String("x".repeat(bytes));
        Reply::Json(document.to_string())
    };
    harness.server.set(padded(1024 * 1024));
    assert_503(&harness.upload_with(&harness.token()).await);

    let harness = Harness::start().await;
    let mut document: Value = jwk_set(&[&harness.key]);
    document["padding"] = Value::String("x".repeat(900 * 1024));
    harness.server.set(Reply::Json(document.to_string()));
    assert_eq!(
        harness.upload_with(&harness.token()).await.status,
        201,
        "900 KiB is fine"
    );
}

#[tokio::test]
async fn a_slow_refetch_does_not_hold_up_tokens_whose_key_is_held() {
    let harness = Arc::new(Harness::with_policy(policy(600_000, 100)).await);
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    sleep_ms(150).await;
    harness.server.set(Reply::Delay(
        Duration::from_millis(450),
        Box::new(keys_document(&[&harness.key])),
    ));
    let slow = {
        let harness = harness.clone();
        let token = token_with_kid(&harness, "unknown");
        tokio::spawn(async move { harness.upload_with(&token).await.status })
    };
    sleep_ms(50).await; // the refetch is in flight
    let started = Instant::now();
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "a held key waited {:?} for the refetch",
        started.elapsed()
    );
    assert_eq!(slow.await.unwrap(), 401);
    assert_eq!(harness.server.hits(), 2);
}

#[tokio::test]
async fn past_the_ttl_a_held_key_serves_while_another_request_refreshes() {
    let harness = Arc::new(Harness::with_policy(policy(100, 100)).await);
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    sleep_ms(150).await; // past the TTL
    harness.server.set(Reply::Delay(
        Duration::from_millis(450),
        Box::new(keys_document(&[&harness.key])),
    ));
    let refreshing = {
        let harness = harness.clone();
        tokio::spawn(async move { harness.upload_with(&harness.token()).await.status })
    };
    sleep_ms(50).await; // the refresh is in flight
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert!(
        !refreshing.is_finished(),
        "the held key was served only after the refresh"
    );
    assert_eq!(refreshing.await.unwrap(), 201);
    assert_eq!(harness.server.hits(), 2);
}

#[tokio::test]
async fn discovery_is_fetched_once_for_many_jwks_fetches() {
    let harness = Harness::with(Setup {
        jwks: policy(150, 100),
        discovery: true,
        ..Setup::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
        sleep_ms(200).await;
    }
    assert_eq!(harness.server.hits_for(DISCOVERED_JWKS_PATH), 3);
    assert_eq!(harness.server.hits_for(DISCOVERY_PATH), 1);
    assert_eq!(harness.server.hits(), 4);
}

#[tokio::test]
async fn failed_discovery_falls_back_to_the_default_path_and_is_retried() {
    let harness = Harness::with(Setup {
        jwks: policy(150, 100),
        discovery: true,
        ..Setup::default()
    })
    .await;
    harness.server.route(DISCOVERY_PATH, Reply::Status(500));
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(
        harness.server.hits_for(JWKS_PATH),
        1,
        "{{issuer}}/.well-known/jwks.json"
    );
    sleep_ms(200).await;
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    assert_eq!(
        harness.server.hits_for(DISCOVERY_PATH),
        2,
        "a failure is not cached"
    );
}

#[tokio::test]
async fn a_discovery_document_slower_than_the_timeout_is_given_up_within_it() {
    let harness = Harness::with(Setup {
        discovery: true,
        ..Setup::default()
    })
    .await;
    // The client bounds connecting only: just the policy's timeout can end this wait.
    let never_in_time = Reply::Delay(JWKS_TIMEOUT * 6, Box::new(Reply::Status(404)));
    harness.server.route(DISCOVERY_PATH, never_in_time);
    let started = Instant::now();
    assert_eq!(harness.upload_with(&harness.token()).await.status, 201);
    let elapsed = started.elapsed();
    assert!(elapsed < JWKS_TIMEOUT * 3, "{elapsed:?}");
    assert_eq!(harness.server.hits_for(DISCOVERY_PATH), 1);
    assert_eq!(
        harness.server.hits_for(JWKS_PATH),
        1,
        "{{issuer}}/.well-known/jwks.json"
    );
}
