//! The product's main path on the local stand-ins: the scheduled function reads its client
//! credentials from Secrets Manager (moto), gets an access token from a real OAuth 2.0 issuer,
//! and uploads through the API function (cargo lambda) into DynamoDB (moto).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e::proxy::{Proxy, Step};
use e2e::*;
use serde_json::{Value, json};
use timesheets::TimesheetEntry;
use timesheets::config::ProcessEnv;
use timesheets::discovery::{EndpointKind, IssuerEndpoint};
use timesheets::entry::SAMPLE_ENTRY;
use timesheets_job::client_assertion::{AssertionAlgorithm, AssertionConfig, AssertionSigner};
use timesheets_job::credentials::ClientCredentials;
use timesheets_job::retry::{Budget, Deadline, RetryPolicy};
use timesheets_job::token_client::TokenClient;
use timesheets_job::{
    ClientAuthentication, DpopSigner, JobConfig, JobError, JobReport, RunContext, TimesheetsJob,
};
use url::Url;

/// The sample entry as JSON, on `project`.
fn entry(project: &str) -> Value {
    let mut entry: Value = serde_json::from_str(SAMPLE_ENTRY).unwrap();
    entry["project"] = json!(project);
    entry
}

#[tokio::test]
async fn scheduled_job_uploads_the_sample_entry_into_dynamodb() {
    let result = invoke_job("schedule.json").expect("the job succeeds");
    assert_eq!(result["uploaded"], 1, "{result}");
    let created = &result["timesheets"][0];
    let id = created["id"].as_u64().expect("an id");
    let sample = TimesheetEntry::sample();
    assert_eq!(
        created["message"],
        format!("Created timesheet {id} for employee {}.", sample.user_id)
    );
    let row = stored_row(id).await.expect("the row is stored");
    assert_eq!(row["user_id"], sample.user_id);
    assert_eq!(row["project"], sample.project);
    assert_eq!(row["date"], sample.date);
    assert_eq!(row["hours"], "5");
    assert_eq!(row["client_id"], stack_var("TEST_JOB_CLIENT_ID"));
}

#[tokio::test]
async fn upload_with_the_job_clients_token_is_created() {
    let token = access_token(
        &stack_var("TEST_JOB_CLIENT_ID"),
        &stack_var("TEST_JOB_CLIENT_SECRET"),
    )
    .await;
    let project = unique_project("Direct");
    let answer = upload(Some(&token), &entry(&project)).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let id = answer.body["id"].as_u64().unwrap();
    assert_eq!(
        answer.body["message"],
        format!("Created timesheet {id} for employee 007.")
    );
    assert_eq!(rows_with_project(&project).await, 1);
}

#[tokio::test]
async fn upload_without_a_token_is_401_and_stores_nothing() {
    let project = unique_project("NoToken");
    let answer = upload(None, &entry(&project)).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="timesheets""#)
    );
    assert_eq!(rows_with_project(&project).await, 0);
}

#[tokio::test]
async fn token_without_batch_upload_is_403_and_stores_nothing() {
    let token = reader_token().await;
    let project = unique_project("Reader");
    let answer = upload(Some(&token), &entry(&project)).await;
    assert_eq!(answer.status, 403, "{:?}", answer.body);
    assert_eq!(answer.body["error"], "insufficient_scope");
    assert!(
        answer
            .challenge
            .unwrap()
            .contains(r#"scope="batch:upload""#)
    );
    assert_eq!(rows_with_project(&project).await, 0);
}

/// The job as the Lambda runs it, with `AUTH_CLIENT_AUTH` and the secret of `secret_var`.
async fn job_with(client_auth: ClientAuthentication, secret_var: Option<&str>) -> TimesheetsJob {
    let mut config = JobConfig::from_source(&ProcessEnv).expect("stack environment");
    config.client_auth = client_auth;
    if let Some(name) = secret_var {
        config.secret_id = stack_var(name);
    }
    let http = http_client(config.http_timeout);
    TimesheetsJob::from_config(&config, &sdk_config().await, http)
        .await
        .unwrap()
}

/// One run of the job with one entry on `project`, 60 s before its deadline.
async fn run_one_entry(job: &TimesheetsJob, project: &str) -> Result<JobReport, JobError> {
    job.run(
        &json!({"entries": [entry(project)]}),
        RunContext::new(project, std::time::Duration::from_secs(60)),
    )
    .await
}

/// The run failed getting its token with the issuer's `401 invalid_client` and stored nothing
/// on `project`; the error's message, for more checks.
async fn invalid_client_message(result: Result<JobReport, JobError>, project: &str) -> String {
    let error = result.expect_err("the issuer must refuse the client");
    assert!(matches!(error, JobError::Token(_)), "{error}");
    let message = error.to_string();
    assert!(message.contains("HTTP 401 invalid_client"), "{message}");
    assert_eq!(rows_with_project(project).await, 0);
    message
}

/// The job reads the secret that holds a wrong client_secret: the run fails with the issuer's
/// `401 invalid_client`, without the secret in its message and with nothing stored.
async fn assert_wrong_secret_is_invalid_client(client_auth: ClientAuthentication, name: &str) {
    let job = job_with(client_auth, Some("TEST_WRONG_SECRET_ID")).await;
    let project = unique_project(name);
    let message = invalid_client_message(run_one_entry(&job, &project).await, &project).await;
    assert!(!message.contains(&stack_var("TEST_JOB_CLIENT_SECRET")));
}

#[tokio::test]
async fn wrong_client_secret_fails_the_job_with_invalid_client() {
    assert_wrong_secret_is_invalid_client(ClientAuthentication::ClientSecretPost, "WrongSecret")
        .await;
}

#[tokio::test]
async fn client_secret_basic_with_a_wrong_secret_is_invalid_client() {
    assert_wrong_secret_is_invalid_client(ClientAuthentication::ClientSecretBasic, "BasicWrong")
        .await;
}

#[tokio::test]
async fn client_secret_basic_gets_a_token_and_stores_the_entry() {
    let job = job_with(ClientAuthentication::ClientSecretBasic, None).await;
    let project = unique_project("Basic");
    let report = run_one_entry(&job, &project)
        .await
        .expect("the issuer accepts the Basic credentials");
    assert_eq!(report.uploaded, 1);
    assert_eq!(rows_with_project(&project).await, 1);
}

/// The job as the tests' private_key_jwt client, signing with its `alg` key in moto's KMS and
/// `aud` = `audience` (the issuer when `None`); the `kid` is left to the job (the key's RFC 7638
/// thumbprint, as `make public-jwk` printed it for the issuer).
async fn job_signing_with(alg: AssertionAlgorithm, audience: Option<&str>) -> TimesheetsJob {
    job_signing_through(alg, audience, None).await
}

/// [`job_signing_with`], asking for tokens at `token_url` (a proxy) instead of the discovered
/// endpoint.
async fn job_signing_through(
    alg: AssertionAlgorithm,
    audience: Option<&str>,
    token_url: Option<Url>,
) -> TimesheetsJob {
    let mut config = JobConfig::from_source(&ProcessEnv).expect("stack environment");
    config.token_url = token_url;
    config.client_auth = ClientAuthentication::PrivateKeyJwt;
    config.secret_id = stack_var("TEST_ASSERTION_SECRET_ID");
    config.assertion = Some(AssertionConfig {
        key_id: stack_var(&format!("TEST_SIGNING_KEY_{}", alg.name())),
        alg,
        kid: None,
        audience: audience.map_or_else(|| config.issuer.clone(), str::to_owned),
    });
    let http = http_client(config.http_timeout);
    TimesheetsJob::from_config(&config, &sdk_config().await, http)
        .await
        .unwrap()
}

#[tokio::test]
async fn private_key_jwt_signed_in_kms_gets_a_token_and_stores_the_entry() {
    for alg in [AssertionAlgorithm::RS256, AssertionAlgorithm::ES256] {
        let job = job_signing_with(alg, None).await;
        let project = unique_project(&format!("KeyJwt{}", alg.name()));
        let report = job
            .run(
                &json!({"entries": [entry(&project)]}),
                RunContext::new(&project, std::time::Duration::from_secs(60)),
            )
            .await
            .unwrap_or_else(|error| panic!("{}: the issuer refused: {error}", alg.name()));
        assert_eq!(report.uploaded, 1, "{}", alg.name());
        assert_eq!(rows_with_project(&project).await, 1, "{}", alg.name());
    }
}

/// A proxy in front of the issuer's token endpoint that applies `step` to the first request,
/// and the job as the private_key_jwt client asking through it with `aud` = `audience`.
async fn assertion_through_proxy(step: Step, audience: Option<&str>) -> (Proxy, TimesheetsJob) {
    let token_endpoint = discovered_token_endpoint().await;
    let proxy = Proxy::start(&token_endpoint.origin().ascii_serialization(), vec![step]).await;
    let token_url = proxy.url().join(token_endpoint.path()).unwrap();
    let job = job_signing_through(AssertionAlgorithm::ES256, audience, Some(token_url)).await;
    (proxy, job)
}

/// The job sent one token request and no other: a refused assertion is not retried.
fn assert_one_token_request(proxy: &Proxy, step: &str) {
    let seen: Vec<_> = proxy.seen().iter().map(|s| (s.step, s.status)).collect();
    assert_eq!(seen, [(step, Some(401))], "one request, refused, no retry");
}

#[tokio::test]
async fn an_assertion_for_another_audience_fails_the_job_with_invalid_client() {
    let (proxy, job) =
        assertion_through_proxy(Step::Forward, Some("https://elsewhere.example/")).await;
    let project = unique_project("KeyJwtAudience");
    let message = invalid_client_message(run_one_entry(&job, &project).await, &project).await;
    assert!(message.contains("aud must be"), "{message}");
    assert_one_token_request(&proxy, "forward");
}

/// The issuer sees the job's assertion twice (a captured request replayed first): it refuses
/// the job's own, and the job reports that without a retry.
#[tokio::test]
async fn a_replayed_client_assertion_fails_the_job_with_invalid_client() {
    let (proxy, job) = assertion_through_proxy(Step::ReplayThenForward, None).await;
    let project = unique_project("KeyJwtReplay");
    let message = invalid_client_message(run_one_entry(&job, &project).await, &project).await;
    assert!(message.contains("used before (jti)"), "{message}");
    assert_one_token_request(&proxy, "replay");
}

/// Asks the local issuer for a token through the job's token client with DPoP on, in one
/// attempt: a `DPoP` token for `credentials` whose `cnf.jkt` is the thumbprint of the job's key.
/// With `ISSUER_DPOP_NONCE=required make up` the issuer first answers `use_dpop_nonce`, and the
/// one attempt is still enough: the retry with the nonce, with a new proof and a new assertion,
/// is part of it.
async fn assert_dpop_token_bound_to_the_job_key(
    tokens: TokenClient,
    credentials: ClientCredentials,
    issuer: &str,
) {
    let signer = Arc::new(DpopSigner::generate().unwrap());
    let tokens = tokens.with_dpop(signer.clone());
    let budget = Budget {
        policy: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        deadline: Deadline::after(Duration::from_secs(60)),
        attempt_timeout: Duration::from_secs(10),
    };
    let token = tokens
        .access_token(&credentials, &budget)
        .await
        .expect("the issuer grants a token to a DPoP request");
    assert_eq!(token.token_type(), "DPoP");
    let payload = token.secret().split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["cnf"]["jkt"], signer.key().thumbprint(), "{claims}");
    assert_eq!(claims["azp"], credentials.client_id);
    let nonces_required = std::env::var("ISSUER_DPOP_NONCE").is_ok_and(|mode| mode == "required");
    let issuer = Url::parse(issuer).unwrap();
    assert_eq!(signer.nonce(&issuer).is_some(), nonces_required);
}

/// The job's token client for the local issuer, authenticating by `client_auth`.
fn token_client(config: &JobConfig, client_auth: ClientAuthentication) -> TokenClient {
    let endpoint = IssuerEndpoint::new(
        &config.issuer,
        EndpointKind::Token,
        config.token_url.clone(),
    );
    TokenClient::new(
        http_client(config.http_timeout),
        endpoint,
        config.audience.clone(),
        client_auth,
    )
}

#[tokio::test]
async fn the_job_with_dpop_on_gets_a_token_bound_to_its_key() {
    let config = JobConfig::from_source(&ProcessEnv).expect("stack environment");
    let credentials = ClientCredentials {
        client_id: stack_var("TEST_JOB_CLIENT_ID"),
        client_secret: Some(stack_var("TEST_JOB_CLIENT_SECRET")),
    };
    let tokens = token_client(&config, ClientAuthentication::ClientSecretPost);
    assert_dpop_token_bound_to_the_job_key(tokens, credentials, &config.issuer).await;
}

#[tokio::test]
async fn dpop_with_private_key_jwt_gets_a_token_bound_to_the_job_key() {
    let config = JobConfig::from_source(&ProcessEnv).expect("stack environment");
    let alg = AssertionAlgorithm::ES256;
    let assertion = AssertionConfig {
        key_id: stack_var(&format!("TEST_SIGNING_KEY_{}", alg.name())),
        alg,
        kid: None,
        audience: config.issuer.clone(),
    };
    let kms = aws_sdk_kms::Client::new(&sdk_config().await);
    let tokens = token_client(&config, ClientAuthentication::PrivateKeyJwt)
        .with_signer(AssertionSigner::new(kms, assertion));
    let credentials = ClientCredentials {
        client_id: stack_var("TEST_ASSERTION_CLIENT_ID"),
        client_secret: None,
    };
    assert_dpop_token_bound_to_the_job_key(tokens, credentials, &config.issuer).await;
}
