//! The JWKS prefetch of the init phase: it fetches discovery and the keys once, so the first
//! token waits for nothing; when it fails, nothing of it remains and the first token fetches
//! exactly as it would have without it.

mod common;

use common::{DISCOVERED_JWKS_PATH, DISCOVERY_PATH, Harness, Setup};
use testkit::Reply;
use testkit::keys::jwk_set;

fn discovery() -> Setup {
    Setup {
        discovery: true,
        ..Setup::default()
    }
}

#[tokio::test]
async fn after_a_prefetch_the_first_token_fetches_nothing() {
    let harness = Harness::with(discovery()).await;
    harness.api.verifier().prefetch_keys().await;
    assert_eq!(harness.server.hits_for(DISCOVERY_PATH), 1);
    assert_eq!(harness.server.hits_for(DISCOVERED_JWKS_PATH), 1);
    let answer = harness.upload_with(&harness.token()).await;
    assert_eq!(answer.status, 201);
    assert_eq!(
        harness.server.hits(),
        2,
        "no request to the issuer on the first token"
    );
    // A second prefetch (keys held) asks nothing either.
    harness.api.verifier().prefetch_keys().await;
    assert_eq!(harness.server.hits(), 2);
}

#[tokio::test]
async fn a_failed_prefetch_leaves_the_first_token_to_fetch_without_a_cooldown() {
    let harness = Harness::with(discovery()).await;
    harness
        .server
        .route(DISCOVERED_JWKS_PATH, Reply::Status(500));
    harness.api.verifier().prefetch_keys().await;
    harness.server.route(
        DISCOVERED_JWKS_PATH,
        Reply::Json(jwk_set(&[&harness.key]).to_string()),
    );
    // Within the 30 s cooldown a failed fetch would impose, the first token still fetches.
    let answer = harness.upload_with(&harness.token()).await;
    assert_eq!(answer.status, 201);
    assert_eq!(harness.server.hits_for(DISCOVERED_JWKS_PATH), 2);
}
