//! The verified-token cache: a token verified once is accepted again without a signature check
//! until its `exp` (never past it, leeway or not), only while its key is still the issuer's;
//! refused tokens are never kept, so a flood of them displaces nothing; it is bounded in
//! entries and bytes. The clock is set by hand; no assertion depends on timing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{AUDIENCE, ISSUER, claims_with};
use jsonwebtoken::Algorithm;
use jwt_access_token::ManualClock;
use jwt_access_token::TokenProfile;
use jwt_access_token::TokenRejection;
use jwt_access_token::discovery::{EndpointKind, IssuerEndpoint};
use jwt_access_token::{JwksCache, JwksPolicy};
use jwt_access_token::{TOKEN_CACHE_MAX_ENTRIES, TOKEN_CACHE_MAX_ENTRY_BYTES};
use jwt_access_token::{TokenError, TokenVerifier, VerifierPolicy};
use serde_json::json;
use testkit::keys::{jwk_set, now};
use testkit::{JwksServer, Reply, TestKey};

struct Fixture {
    verifier: TokenVerifier,
    clock: Arc<ManualClock>,
    key: TestKey,
    server: JwksServer,
}

/// A verifier on a hand-set clock (now), keys from a local JWKS server holding `key-1`.
async fn fixture(leeway_seconds: u64, jwks: JwksPolicy) -> Fixture {
    let key = TestKey::generate("key-1");
    let server = JwksServer::start(Reply::Json(jwk_set(&[&key]).to_string())).await;
    let client = common::http_client(Duration::from_millis(500));
    let endpoint = IssuerEndpoint::new(
        ISSUER,
        EndpointKind::Jwks,
        Some(server.jwks_url().parse().unwrap()),
    );
    let clock = Arc::new(ManualClock::new(now() as u64));
    let verifier = TokenVerifier::with_clock(
        VerifierPolicy {
            audiences: vec![AUDIENCE.to_owned()],
            algorithms: vec![Algorithm::RS256],
            leeway_seconds,
        },
        JwksCache::new(client, endpoint, jwks),
        clock.clone(),
    );
    Fixture {
        verifier,
        clock,
        key,
        server,
    }
}

/// Refetch the JWKS on every key lookup, so a change on the server shows at once.
fn always_refetch() -> JwksPolicy {
    JwksPolicy {
        ttl: Duration::ZERO,
        cooldown: Duration::ZERO,
        ..JwksPolicy::default()
    }
}

fn refusal(result: Result<impl std::fmt::Debug, TokenError>) -> TokenRejection {
    match result {
        Err(TokenError::Invalid(rejection)) => rejection,
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

#[tokio::test]
async fn a_repeated_token_is_accepted_without_another_signature_check() {
    let f = fixture(5, JwksPolicy::default()).await;
    let token = f.key.mint(&claims_with(json!({})));
    for _ in 0..3 {
        let verified = f.verifier.verify(&token).await.unwrap();
        assert_eq!(verified.client(), "job-client");
        assert!(verified.grants("batch:upload"));
    }
    assert_eq!(f.verifier.signature_checks(), 1);
    assert!(f.verifier.is_cached(&token));
}

#[tokio::test]
async fn a_cached_token_is_not_accepted_one_second_past_its_exp() {
    let f = fixture(0, JwksPolicy::default()).await;
    let exp = now() + 60;
    let token = f.key.mint(&claims_with(json!({ "exp": exp })));
    f.clock.set(exp as u64 - 1);
    f.verifier.verify(&token).await.unwrap();
    f.verifier.verify(&token).await.unwrap();
    assert_eq!(f.verifier.signature_checks(), 1, "served from the cache");
    f.clock.set(exp as u64 + 1);
    assert_eq!(
        refusal(f.verifier.verify(&token).await),
        TokenRejection::Expired
    );
    assert!(!f.verifier.is_cached(&token));
}

#[tokio::test]
async fn within_the_leeway_past_exp_a_token_is_verified_again_not_served_from_the_cache() {
    let f = fixture(5, JwksPolicy::default()).await;
    let exp = now() + 60;
    let token = f.key.mint(&claims_with(json!({ "exp": exp })));
    f.clock.set(exp as u64 - 10);
    f.verifier.verify(&token).await.unwrap();
    f.clock.set(exp as u64 + 1);
    // Still acceptable with the 5 s leeway, but only by a full verification.
    f.verifier.verify(&token).await.unwrap();
    assert_eq!(f.verifier.signature_checks(), 2);
    assert!(!f.verifier.is_cached(&token), "never kept past its exp");
}

#[tokio::test]
async fn a_kid_gone_from_the_jwks_takes_its_cached_tokens_with_it() {
    let f = fixture(5, always_refetch()).await;
    let first = f.key.mint(&claims_with(json!({ "jti": "first" })));
    let second = f.key.mint(&claims_with(json!({ "jti": "second" })));
    f.verifier.verify(&first).await.unwrap();
    f.verifier.verify(&second).await.unwrap();
    assert_eq!(f.verifier.cached_tokens(), 2);

    let rotated = TestKey::generate("key-2");
    f.server.set(Reply::Json(jwk_set(&[&rotated]).to_string()));
    assert_eq!(
        refusal(f.verifier.verify(&first).await),
        TokenRejection::UnknownKid
    );
    // The other token of the gone kid is dropped too, without being presented again.
    let fresh = rotated.mint(&claims_with(json!({})));
    f.verifier.verify(&fresh).await.unwrap();
    assert!(!f.verifier.is_cached(&second));
    assert_eq!(f.verifier.cached_tokens(), 1);
    assert_eq!(
        refusal(f.verifier.verify(&second).await),
        TokenRejection::UnknownKid
    );
}

#[tokio::test]
async fn a_kid_that_names_new_key_material_verifies_its_tokens_again() {
    let f = fixture(5, always_refetch()).await;
    let token = f.key.mint(&claims_with(json!({})));
    f.verifier.verify(&token).await.unwrap();
    // Same kid, another key: the old signature no longer verifies.
    let impostor = TestKey::generate("key-1");
    f.server.set(Reply::Json(jwk_set(&[&impostor]).to_string()));
    assert_eq!(
        refusal(f.verifier.verify(&token).await),
        TokenRejection::Signature
    );
    assert!(!f.verifier.is_cached(&token));
}

#[tokio::test]
async fn refused_tokens_are_refused_again_and_never_kept() {
    let f = fixture(5, JwksPolicy::default()).await;
    let forged = TestKey::generate("key-1").mint(&claims_with(json!({})));
    let elsewhere = f
        .key
        .mint(&claims_with(json!({ "aud": "https://other.example" })));
    let expired = f.key.mint(&claims_with(json!({ "exp": now() - 3600 })));
    for (token, rejection) in [
        (&forged, TokenRejection::Signature),
        (&elsewhere, TokenRejection::Audience),
        (&expired, TokenRejection::Expired),
    ] {
        for _ in 0..2 {
            assert_eq!(refusal(f.verifier.verify(token).await), rejection);
        }
    }
    assert_eq!(
        f.verifier.signature_checks(),
        6,
        "each refusal was a full check"
    );
    assert_eq!(f.verifier.cached_tokens(), 0);
}

#[tokio::test]
async fn a_flood_of_distinct_bad_tokens_leaves_good_tokens_cached() {
    let f = fixture(5, JwksPolicy::default()).await;
    let good = f.key.mint(&claims_with(json!({})));
    f.verifier.verify(&good).await.unwrap();
    // Twice the cache's size of distinct tokens with the good signature on other claims.
    let (_, signature) = good.rsplit_once('.').unwrap();
    let header = good.split('.').next().unwrap();
    for serial in 0..2 * TOKEN_CACHE_MAX_ENTRIES {
        let claims = claims_with(json!({ "jti": format!("flood-{serial}") }));
        let payload = testkit::keys::b64(claims.to_string());
        let bad = format!("{header}.{payload}.{signature}");
        assert_eq!(
            refusal(f.verifier.verify(&bad).await),
            TokenRejection::Signature
        );
    }
    let checks = f.verifier.signature_checks();
    f.verifier.verify(&good).await.unwrap();
    assert_eq!(
        f.verifier.signature_checks(),
        checks,
        "still served from the cache"
    );
    assert_eq!(f.verifier.cached_tokens(), 1);
}

#[tokio::test]
async fn the_cache_holds_at_most_max_entries_and_drops_the_least_recently_used() {
    let f = fixture(5, JwksPolicy::default()).await;
    let tokens: Vec<String> = (0..TOKEN_CACHE_MAX_ENTRIES + 10)
        .map(|serial| f.key.mint(&claims_with(json!({ "jti": serial }))))
        .collect();
    let kept = &tokens[1];
    for token in &tokens {
        f.verifier.verify(token).await.unwrap();
        // One token stays in use throughout and so is never the least recently used.
        f.verifier.verify(kept).await.unwrap();
    }
    assert!(f.verifier.cached_tokens() <= TOKEN_CACHE_MAX_ENTRIES);
    assert!(f.verifier.is_cached(kept));
    assert!(f.verifier.is_cached(tokens.last().unwrap()));
    assert!(!f.verifier.is_cached(&tokens[0]));
}

#[tokio::test]
async fn a_token_with_more_claim_text_than_an_entry_may_hold_is_verified_every_time() {
    let f = fixture(5, JwksPolicy::default()).await;
    let permissions: Vec<String> = (0..TOKEN_CACHE_MAX_ENTRY_BYTES / 16)
        .map(|n| format!("permission:{n:05}"))
        .collect();
    let token = f
        .key
        .mint(&claims_with(json!({ "permissions": permissions })));
    for _ in 0..2 {
        f.verifier.verify(&token).await.unwrap();
    }
    assert_eq!(f.verifier.signature_checks(), 2);
    assert_eq!(f.verifier.cached_tokens(), 0);
}

#[tokio::test]
async fn the_claims_of_a_cached_token_under_another_signature_are_verified_and_refused() {
    let f = fixture(5, JwksPolicy::default()).await;
    let token = f.key.mint(&claims_with(json!({})));
    f.verifier.verify(&token).await.unwrap();
    let (signing_input, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{signing_input}.{}", testkit::keys::b64([7u8; 256]));
    assert_eq!(
        refusal(f.verifier.verify(&forged).await),
        TokenRejection::Signature
    );
    assert_eq!(f.verifier.signature_checks(), 2);
    assert!(f.verifier.is_cached(&token));
    assert!(!f.verifier.is_cached(&forged));
    f.verifier.verify(&token).await.unwrap();
    assert_eq!(f.verifier.signature_checks(), 2);
}

#[tokio::test]
async fn a_token_kept_under_one_profile_is_not_served_under_another() {
    let f = fixture(5, JwksPolicy::default()).await;
    let plain = f.key.mint(&claims_with(json!({})));
    f.verifier.verify(&plain).await.unwrap();
    assert!(f.verifier.is_cached(&plain));
    let verifier = f.verifier.with_profile(TokenProfile::AtJwt);
    assert!(!verifier.is_cached(&plain));
    assert_eq!(
        refusal(verifier.verify(&plain).await),
        TokenRejection::NotAtJwt
    );
}

#[tokio::test]
async fn a_cached_token_keeps_its_scp_grant() {
    let f = fixture(5, JwksPolicy::default()).await;
    let token = f.key.mint(&claims_with(
        json!({"scope": null, "scp": ["batch:upload"]}),
    ));
    for _ in 0..2 {
        assert!(
            f.verifier
                .verify(&token)
                .await
                .unwrap()
                .grants("batch:upload")
        );
    }
    assert_eq!(
        f.verifier.signature_checks(),
        1,
        "the second from the cache"
    );
}
