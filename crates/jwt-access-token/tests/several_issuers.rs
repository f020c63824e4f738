//! Several trusted issuers (`AUTH_ISSUER` listing more than one, e.g. an Auth0 custom domain
//! next to the tenant domain): each has its own discovery, JWKS and cache; the token's `iss`
//! picks the issuer before any key lookup, so an issuer's key never verifies another issuer's
//! token, and a token of an issuer not listed is refused without any fetch.

mod common;

use std::time::Duration;

use common::{
    Answer, DISCOVERED_JWKS_PATH, DISCOVERY_PATH, Harness, SAMPLE, Setup, call, claims_with,
    http_client, upload, verifier,
};
use jsonwebtoken::Algorithm;
use jwt_access_token::discovery::{EndpointKind, IssuerEndpoint};
use jwt_access_token::{JwksCache, JwksPolicy, TokenVerifier};
use serde_json::json;
use testkit::{Reply, TestKey};

/// Two issuers, each a loopback server with discovery and its own `key-1`, and a verifier
/// trusting both, in this order.
struct TwoIssuers {
    first: Harness,
    second: Harness,
    verifier: TokenVerifier,
}

impl TwoIssuers {
    async fn start() -> Self {
        let discovery = || Setup {
            discovery: true,
            ..Setup::default()
        };
        let first = Harness::with(discovery()).await;
        let second = Harness::with(discovery()).await;
        let http = http_client(Duration::from_millis(500));
        let jwks = |issuer: &Harness| {
            let endpoint = IssuerEndpoint::new(&issuer.issuer, EndpointKind::Jwks, None);
            JwksCache::new(http.clone(), endpoint, JwksPolicy::default())
        };
        let verifier = verifier(vec![Algorithm::RS256], jwks(&first)).with_issuer(jwks(&second));
        Self {
            first,
            second,
            verifier,
        }
    }

    async fn upload(&self, token: &str) -> Answer {
        call(
            &self.verifier,
            upload(Some(&format!("Bearer {token}")), SAMPLE),
        )
        .await
    }

    /// Requests each issuer's server has had.
    fn hits(&self) -> (usize, usize) {
        (self.first.server.hits(), self.second.server.hits())
    }
}

fn refused_for(answer: &Answer, why: &str) {
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.body["error"], "invalid_token");
    assert_eq!(answer.body["error_description"], why);
}

#[tokio::test]
async fn each_issuers_tokens_verify_with_its_own_keys() {
    let issuers = TwoIssuers::start().await;
    for harness in [&issuers.first, &issuers.second] {
        let answer = issuers.upload(&harness.token()).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        assert_eq!(answer.body["client"], "job-client");
        assert_eq!(harness.server.hits_for(DISCOVERY_PATH), 1);
        assert_eq!(harness.server.hits_for(DISCOVERED_JWKS_PATH), 1);
    }
}

#[tokio::test]
async fn a_key_of_one_issuer_never_verifies_a_token_naming_another() {
    let issuers = TwoIssuers::start().await;
    // Both publish `key-1`: the second issuer's key signs a token claiming the first.
    let forged = issuers
        .second
        .key
        .mint(&claims_with(json!({ "iss": issuers.first.issuer })));
    refused_for(
        &issuers.upload(&forged).await,
        "the access token's signature does not verify",
    );
    assert_eq!(issuers.hits(), (2, 0), "only the named issuer was asked");
}

#[tokio::test]
async fn an_issuer_not_listed_is_refused_without_any_fetch() {
    let issuers = TwoIssuers::start().await;
    let stranger = TestKey::generate("key-9");
    let token = stranger.mint(&claims_with(json!({ "iss": "https://elsewhere.example/" })));
    refused_for(
        &issuers.upload(&token).await,
        "the access token comes from another issuer",
    );
    assert_eq!(issuers.hits(), (0, 0));
}

#[tokio::test]
async fn without_iss_no_issuer_is_picked_and_nothing_is_fetched() {
    let issuers = TwoIssuers::start().await;
    let token = issuers.first.key.mint(&claims_with(json!({ "iss": null })));
    refused_for(
        &issuers.upload(&token).await,
        "the access token has no iss claim",
    );
    assert_eq!(issuers.hits(), (0, 0));
}

#[tokio::test]
async fn one_issuer_down_leaves_the_other_serving() {
    let issuers = TwoIssuers::start().await;
    issuers.second.server.set(Reply::Status(500));
    issuers
        .second
        .server
        .route(DISCOVERY_PATH, Reply::Status(500));
    let answer = issuers.upload(&issuers.second.token()).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.body["error"], "temporarily_unavailable");
    let answer = issuers.upload(&issuers.first.token()).await;
    assert_eq!(answer.status, 201, "{answer:?}");
}

#[tokio::test]
async fn the_init_prefetch_fetches_every_issuers_keys() {
    let issuers = TwoIssuers::start().await;
    issuers.verifier.prefetch_keys().await;
    assert_eq!(issuers.hits(), (2, 2), "discovery and JWKS of each");
    for harness in [&issuers.first, &issuers.second] {
        assert_eq!(issuers.upload(&harness.token()).await.status, 201);
    }
    assert_eq!(issuers.hits(), (2, 2), "the first tokens fetched nothing");
}

#[tokio::test]
async fn a_token_kept_as_verified_is_served_from_its_own_issuers_cache() {
    let issuers = TwoIssuers::start().await;
    let token = issuers.second.token();
    assert_eq!(issuers.upload(&token).await.status, 201);
    assert_eq!(issuers.upload(&token).await.status, 201);
    let verifier = &issuers.verifier;
    assert_eq!(verifier.signature_checks(), 1);
    assert_eq!(verifier.cached_tokens(), 1);
    assert!(verifier.is_cached(&token));
    assert_eq!(
        verifier.issuers().collect::<Vec<_>>(),
        [
            issuers.first.issuer.as_str(),
            issuers.second.issuer.as_str()
        ]
    );
}
