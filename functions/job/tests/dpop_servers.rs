//! DPoP against small fake servers (wiremock): a proof on every request, retries included,
//! the nonce each server hands out, and one immediate retry when a server asks for it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{VerifiedProof, ath_of, verify_proof};
use serde_json::json;
use timesheets::discovery::{EndpointKind, IssuerEndpoint};
use timesheets::{CreatedBatch, CreatedTimesheet, TimesheetEntry};
use timesheets_job::credentials::ClientCredentials;
use timesheets_job::retry::{Budget, Deadline, RetryPolicy};
use timesheets_job::token_client::{IssuedToken, TokenClient, TokenRequestError};
use timesheets_job::upload_client::{UploadClient, UploadError};
use timesheets_job::{ClientAuthentication, DpopSigner};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN_PATH: &str = "/oauth/token";
const UPLOAD_PATH: &str = "/timesheets/upload";

/// `max_attempts` attempts with waits of at most a millisecond.
fn budget(max_attempts: usize) -> Budget {
    Budget {
        policy: RetryPolicy {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
            max_attempts,
            ..RetryPolicy::default()
        },
        deadline: Deadline::after(Duration::from_secs(30)),
        attempt_timeout: Duration::from_secs(5),
    }
}

fn credentials() -> ClientCredentials {
    ClientCredentials {
        client_id: "exampleco-timesheets-job".to_owned(),
        client_secret: Some("job-secret".to_owned()),
    }
}

fn token_url(issuer: &MockServer) -> Url {
    Url::parse(&format!("{}{TOKEN_PATH}", issuer.uri())).unwrap()
}

/// The job's token client for the fake `issuer`, with DPoP when `signer` is given.
fn tokens(issuer: &MockServer, signer: Option<&Arc<DpopSigner>>) -> TokenClient {
    let endpoint = IssuerEndpoint::new(
        &format!("{}/", issuer.uri()),
        EndpointKind::Token,
        Some(token_url(issuer)),
    );
    let client = TokenClient::new(
        reqwest::Client::new(),
        endpoint,
        "https://api.exampleco.com/timesheets",
        ClientAuthentication::ClientSecretPost,
    );
    match signer {
        Some(signer) => client.with_dpop(signer.clone()),
        None => client,
    }
}

fn token_answer(token_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": "at-1", "token_type": token_type, "expires_in": 300
    }))
}

fn use_dpop_nonce(nonce: &str) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .insert_header("DPoP-Nonce", nonce)
        .set_body_json(json!({"error": "use_dpop_nonce", "error_description": "Authorization server requires nonce in DPoP proof."}))
}

/// Answers the first request with `first`, every later one with `then`.
async fn answer_first_then(
    server: &MockServer,
    at: &str,
    first: ResponseTemplate,
    then: ResponseTemplate,
) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(then)
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .get(name)
        .map(|value| value.to_str().unwrap())
}

/// The request's one DPoP proof, verified.
fn proof(request: &Request) -> VerifiedProof {
    assert_eq!(request.headers.get_all("dpop").iter().count(), 1);
    verify_proof(header(request, "dpop").unwrap())
}

#[tokio::test]
async fn the_issuer_asking_for_a_nonce_gets_it_at_once_in_a_new_proof() {
    let issuer = MockServer::start().await;
    answer_first_then(
        &issuer,
        TOKEN_PATH,
        use_dpop_nonce("issuer-nonce-1"),
        token_answer("DPoP").insert_header("DPoP-Nonce", "issuer-nonce-2"),
    )
    .await;
    let signer = Arc::new(DpopSigner::generate().unwrap());
    // One attempt in the budget: the nonce retry is not one of them.
    let token = tokens(&issuer, Some(&signer))
        .access_token(&credentials(), &budget(1))
        .await
        .expect("the retry with the nonce gets a token");
    assert_eq!((token.token_type(), token.secret()), ("DPoP", "at-1"));
    let sent = requests(&issuer).await;
    assert_eq!(sent.len(), 2);
    let (first, second) = (proof(&sent[0]), proof(&sent[1]));
    for proof in [&first, &second] {
        assert_eq!(proof.claims["htm"], "POST");
        assert_eq!(proof.claims["htu"], token_url(&issuer).as_str());
        assert_eq!(proof.claims.get("ath"), None);
        assert_eq!(proof.jkt, signer.key().thumbprint());
    }
    assert_eq!(first.claims.get("nonce"), None);
    assert_eq!(second.claims["nonce"], "issuer-nonce-1");
    assert_ne!(first.claims["jti"], second.claims["jti"]);
    // The latest nonce is kept for the next request.
    assert_eq!(
        signer.nonce(&token_url(&issuer)).as_deref(),
        Some("issuer-nonce-2")
    );
}

#[tokio::test]
async fn one_nonce_retry_per_attempt_then_the_refusal_stands() {
    let issuer = MockServer::start().await;
    answer_first_then(
        &issuer,
        TOKEN_PATH,
        use_dpop_nonce("n-1"),
        use_dpop_nonce("n-2"),
    )
    .await;
    let signer = Arc::new(DpopSigner::generate().unwrap());
    let error = tokens(&issuer, Some(&signer))
        .access_token(&credentials(), &budget(6))
        .await
        .expect_err("a second request for a nonce is a refusal");
    assert!(
        matches!(&error, TokenRequestError::Rejected { status: 400, error, .. } if error == "use_dpop_nonce"),
        "{error}"
    );
    assert_eq!(requests(&issuer).await.len(), 2);
}

#[tokio::test]
async fn every_retried_attempt_carries_a_new_proof() {
    let issuer = MockServer::start().await;
    answer_first_then(
        &issuer,
        TOKEN_PATH,
        ResponseTemplate::new(503),
        token_answer("dpop"),
    )
    .await;
    let signer = Arc::new(DpopSigner::generate().unwrap());
    let token = tokens(&issuer, Some(&signer))
        .access_token(&credentials(), &budget(3))
        .await
        .unwrap();
    assert_eq!(token.token_type(), "DPoP", "token_type is case-insensitive");
    let sent = requests(&issuer).await;
    assert_eq!(sent.len(), 2);
    assert_ne!(proof(&sent[0]).claims["jti"], proof(&sent[1]).claims["jti"]);
}

#[tokio::test]
async fn dpop_off_sends_no_proof_and_takes_no_dpop_token() {
    let issuer = MockServer::start().await;
    answer_first_then(
        &issuer,
        TOKEN_PATH,
        token_answer("Bearer"),
        token_answer("DPoP"),
    )
    .await;
    let client = tokens(&issuer, None);
    let token = client
        .access_token(&credentials(), &budget(1))
        .await
        .unwrap();
    assert_eq!(token.token_type(), "Bearer");
    client.forget().await;
    let error = client
        .access_token(&credentials(), &budget(1))
        .await
        .expect_err("without DPoP a DPoP token cannot be sent");
    assert!(matches!(error, TokenRequestError::BadResponse), "{error}");
    for request in requests(&issuer).await {
        assert_eq!(header(&request, "dpop"), None);
    }
}

/// The API's answer to an upload of one entry.
fn created() -> ResponseTemplate {
    ResponseTemplate::new(201)
        .set_body_json(CreatedBatch::new(vec![CreatedTimesheet::new(14, "007")]))
}

fn asks_for_api_nonce(nonce: &str) -> ResponseTemplate {
    ResponseTemplate::new(401)
        .insert_header("DPoP-Nonce", nonce)
        .insert_header(
            "WWW-Authenticate",
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
        )
        .set_body_json(json!({"error": "use_dpop_nonce"}))
}

/// A token from a fake issuer that hands out `issuer-nonce`, as `token_type`.
async fn issued(signer: &Arc<DpopSigner>, token_type: &str) -> (MockServer, IssuedToken) {
    let issuer = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(token_answer(token_type).insert_header("DPoP-Nonce", "issuer-nonce"))
        .mount(&issuer)
        .await;
    let token = tokens(&issuer, Some(signer))
        .access_token(&credentials(), &budget(1))
        .await
        .unwrap();
    (issuer, token)
}

async fn upload(api: &MockServer, token: &IssuedToken, budget: Budget) -> Result<u32, UploadError> {
    let client = UploadClient::new(reqwest::Client::new(), &Url::parse(&api.uri()).unwrap());
    let entries = [TimesheetEntry::sample()];
    let attempted = budget
        .call("upload", |timeout| {
            client.upload_batch(token, &entries, "run-1-batch-0", timeout)
        })
        .await;
    attempted.result.map(|_| attempted.attempts)
}

#[tokio::test]
async fn the_api_gets_the_dpop_token_with_its_own_nonce_in_a_new_proof() {
    let signer = Arc::new(DpopSigner::generate().unwrap());
    let (_issuer, token) = issued(&signer, "DPoP").await;
    let api = MockServer::start().await;
    answer_first_then(
        &api,
        UPLOAD_PATH,
        asks_for_api_nonce("api-nonce-1"),
        created(),
    )
    .await;
    assert_eq!(upload(&api, &token, budget(1)).await.unwrap(), 1);
    let sent = requests(&api).await;
    assert_eq!(sent.len(), 2);
    let upload_url = format!("{}{UPLOAD_PATH}", api.uri());
    let proofs: Vec<VerifiedProof> = sent.iter().map(proof).collect();
    for (request, proof) in sent.iter().zip(&proofs) {
        assert_eq!(header(request, "authorization"), Some("DPoP at-1"));
        assert_eq!(header(request, "idempotency-key"), Some("run-1-batch-0"));
        assert_eq!(proof.claims["htm"], "POST");
        assert_eq!(proof.claims["htu"], upload_url.as_str());
        assert_eq!(proof.claims["ath"], ath_of("at-1"));
        assert_eq!(proof.jkt, signer.key().thumbprint());
    }
    // One key, one header, for every proof of the sandbox.
    assert_eq!(proofs[0].header, proofs[1].header);
    // The issuer's nonce is not the API's.
    assert_eq!(proofs[0].claims.get("nonce"), None);
    assert_eq!(proofs[1].claims["nonce"], "api-nonce-1");
    assert_ne!(proofs[0].claims["jti"], proofs[1].claims["jti"]);
}

#[tokio::test]
async fn api_retries_carry_new_proofs_and_a_second_nonce_request_is_a_refusal() {
    let signer = Arc::new(DpopSigner::generate().unwrap());
    let (_issuer, token) = issued(&signer, "DPoP").await;
    let api = MockServer::start().await;
    answer_first_then(&api, UPLOAD_PATH, ResponseTemplate::new(503), created()).await;
    assert_eq!(upload(&api, &token, budget(3)).await.unwrap(), 2);
    let sent = requests(&api).await;
    assert_eq!(sent.len(), 2);
    assert_ne!(proof(&sent[0]).claims["jti"], proof(&sent[1]).claims["jti"]);

    let asking = MockServer::start().await;
    answer_first_then(
        &asking,
        UPLOAD_PATH,
        asks_for_api_nonce("api-nonce-1"),
        asks_for_api_nonce("api-nonce-2"),
    )
    .await;
    let error = upload(&asking, &token, budget(6)).await.unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    assert_eq!(requests(&asking).await.len(), 2);
}

#[tokio::test]
async fn a_bearer_answer_to_a_dpop_request_is_sent_as_bearer() {
    let signer = Arc::new(DpopSigner::generate().unwrap());
    let (issuer, token) = issued(&signer, "Bearer").await;
    assert!(header(&requests(&issuer).await[0], "dpop").is_some());
    assert_eq!(token.token_type(), "Bearer");
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(UPLOAD_PATH))
        .respond_with(created())
        .mount(&api)
        .await;
    upload(&api, &token, budget(1)).await.unwrap();
    let sent = requests(&api).await;
    assert_eq!(header(&sent[0], "authorization"), Some("Bearer at-1"));
    assert_eq!(header(&sent[0], "dpop"), None);
}
