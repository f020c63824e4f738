//! The job's guarantees under faults, proven on the local stack: the job runs in-process and
//! talks through a scripted proxy (`support/proxy.rs`) to the real API under cargo lambda, the
//! real issuer and moto.
//!
//! - Whatever the API path does (503, an answer later than the job's timeout, a connection
//!   dropped after the batch was stored, 429 with `Retry-After`), a run of N entries leaves
//!   exactly N timesheets, and delivering the same event again leaves N.
//! - A 429 from the token endpoint is retried, and warm runs reuse the one token.
//! - A refused secret is re-read: unchanged, the run fails at once; rotated, the run asks with
//!   the new one until the issuer accepts it (Auth0 takes up to 30 s).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use e2e::proxy::{Proxy, Seen, Step};
use e2e::*;
use serde_json::{Value, json};
use timesheets::config::ProcessEnv;
use timesheets_job::{
    ClientAuthentication, JobConfig, JobError, JobReport, RunContext, TimesheetsJob,
};

/// The job's bound on one HTTP attempt in these tests.
const HTTP_TIMEOUT: Duration = Duration::from_secs(3);
/// Time the invocation has, as the SAM template's 60 s timeout gives it.
const INVOCATION_TIME: Duration = Duration::from_secs(60);
/// Bound on one run in the tests: past it the test fails instead of hanging.
const RUN_BOUND: Duration = Duration::from_secs(75);
/// Entries given to the job: three batches (98, 98, 54).
const N: usize = 250;

async fn job(configure: impl FnOnce(&mut JobConfig)) -> TimesheetsJob {
    let mut config = JobConfig::from_source(&ProcessEnv).expect("stack environment");
    config.http_timeout = HTTP_TIMEOUT;
    configure(&mut config);
    let http = http_client(config.http_timeout);
    TimesheetsJob::from_config(&config, &sdk_config().await, http)
        .await
        .expect("the job builds")
}

async fn run(job: &TimesheetsJob, event: &Value, request_id: &str) -> Result<JobReport, JobError> {
    let context = RunContext::new(request_id, INVOCATION_TIME);
    tokio::time::timeout(RUN_BOUND, job.run(event, context))
        .await
        .expect("the run ends within its bound")
}

fn entries(project: &str, count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| {
            json!({"user_id": format!("{:03}", i % 1000), "date": "2017-05-10T17:40:20.095Z",
                   "project": project, "hours": (i % 8 + 1)})
        })
        .collect()
}

fn ids(report: &JobReport) -> Vec<u64> {
    report.timesheets.iter().map(|t| t.id).collect()
}

fn first_seen<'a>(seen: &'a [Seen], step: &str, status: u16) -> &'a Seen {
    seen.iter()
        .find(|s| s.step == step && s.status == Some(status))
        .unwrap_or_else(|| panic!("no {step} answered {status} in {seen:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_the_api_path_leave_exactly_n_timesheets() {
    let project = unique_project("Faults");
    let proxy = Proxy::start(
        &stack_var("API_URL"),
        vec![
            Step::error(503, "service_unavailable", None),
            Step::DelayThenForward(HTTP_TIMEOUT + Duration::from_secs(2)),
            Step::Forward,
            Step::ForwardThenDrop,
            Step::Forward,
            Step::error(429, "rate_limited", Some(1)),
        ],
    )
    .await;
    let job = job(|config| config.api_url = proxy.url()).await;
    let event = json!({"id": format!("{project}-run"), "entries": entries(&project, N)});

    let started = std::time::Instant::now();
    let first = run(&job, &event, "first-delivery")
        .await
        .expect("the run survives the faults");
    let first_duration = started.elapsed();
    let seen = proxy.seen();
    assert_eq!(proxy.steps_left(), 0, "every fault was injected: {seen:#?}");
    assert_eq!(first.uploaded, N);
    assert_eq!(ids(&first).iter().collect::<HashSet<_>>().len(), N);
    assert_eq!(
        first.batches.iter().map(|b| b.entries).collect::<Vec<_>>(),
        [98, 98, 54]
    );
    assert_eq!(rows_with_project(&project).await, N);

    let batch = |key: &Option<String>| {
        first
            .batches
            .iter()
            .find(|b| Some(&b.idempotency_key) == key.as_ref())
            .unwrap_or_else(|| panic!("no batch with key {key:?}"))
    };
    // Answered 503, then stored by a later attempt.
    assert!(batch(&first_seen(&seen, "answer", 503).idempotency_key).attempts >= 2);
    // Answered too late for the job, which tried again.
    let delayed = seen.iter().find(|s| s.step == "delay").unwrap();
    assert!(batch(&delayed.idempotency_key).attempts >= 2);
    // Stored by the API, answer lost: the retry got the stored answer back, nothing new.
    let dropped = first_seen(&seen, "drop", 201);
    assert!(batch(&dropped.idempotency_key).replayed, "{first:#?}");
    // 429 with Retry-After: 1 is honoured before the next attempt with that key.
    let limited = first_seen(&seen, "answer", 429);
    let next = seen
        .iter()
        .find(|s| s.at > limited.at && s.idempotency_key == limited.idempotency_key)
        .expect("a retry after the 429");
    assert!(
        next.at - limited.at >= Duration::from_secs(1),
        "retried after {:?}",
        next.at - limited.at
    );
    let requests_first = seen.len();
    assert!(
        requests_first <= 3 * 6,
        "{requests_first} requests for 3 batches"
    );

    // The same event again (Lambda's or the scheduler's redelivery): every batch is replayed.
    let second = run(&job, &event, "second-delivery")
        .await
        .expect("the redelivery succeeds");
    assert!(
        second.batches.iter().all(|b| b.replayed && b.attempts == 1),
        "{second:#?}"
    );
    assert_eq!(ids(&second), ids(&first));
    assert_eq!(second.uploaded, N);
    assert_eq!(rows_with_project(&project).await, N);
    assert_eq!(proxy.seen().len(), requests_first + 3);
    eprintln!(
        "faults: first run {first_duration:?}, {requests_first} API requests, attempts per batch {:?}; late request answered {:?}",
        first.batches.iter().map(|b| b.attempts).collect::<Vec<_>>(),
        proxy
            .seen()
            .iter()
            .find(|s| s.step == "delay")
            .and_then(|s| s.status),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_429_is_retried_and_warm_runs_reuse_one_token() {
    let token_endpoint = discovered_token_endpoint().await;
    let proxy = Proxy::start(
        token_endpoint.origin().ascii_serialization().as_str(),
        vec![Step::error(429, "too_many_requests", None)],
    )
    .await;
    let via_proxy = proxy.url().join(token_endpoint.path()).unwrap();
    let job = job(|config| config.token_url = Some(via_proxy)).await;

    let project = unique_project("WarmRuns");
    for run_index in 0..10 {
        let event =
            json!({"id": format!("{project}-{run_index}"), "entries": entries(&project, 1)});
        let report = run(&job, &event, &format!("warm-{run_index}"))
            .await
            .unwrap_or_else(|error| panic!("run {run_index}: {error}"));
        assert_eq!(report.uploaded, 1, "run {run_index}");
    }
    let seen = proxy.seen();
    let statuses: Vec<_> = seen.iter().map(|s| (s.step, s.status)).collect();
    assert_eq!(
        statuses,
        [("answer", Some(429)), ("forward", Some(200))],
        "one refused and one issued token request for ten runs"
    );
    assert_eq!(rows_with_project(&project).await, 10);
}

/// How long the issuer refuses a rotated secret in these tests (Auth0: up to 30 s).
const ROTATION_DELAY: Duration = Duration::from_secs(5);

/// A management call to the local issuer (`infra/local/issuer/rotation.mjs`); its JSON answer.
async fn issuer_management(path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", stack_var("AUTH_ISSUER")))
        .json(&body)
        .send()
        .await
        .expect("the local issuer answers");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.expect("a JSON answer")
}

/// `{"client_id", "client_secret"}` as the job's secret holds it.
fn secret_value(client: &Value) -> String {
    json!({"client_id": client["client_id"], "client_secret": client["client_secret"]}).to_string()
}

/// A secret in moto holding `value`, under a name no other test uses; its id.
async fn new_secret(secrets: &aws_sdk_secretsmanager::Client, value: String) -> String {
    let secret_id = unique_project("timesheets/rotation");
    secrets
        .create_secret()
        .name(&secret_id)
        .secret_string(value)
        .send()
        .await
        .expect("CreateSecret on moto");
    secret_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_secret_that_did_not_change_fails_the_run_at_once() {
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config().await);
    let stale = "stale-client-secret-0123456789";
    let stored = json!({"client_id": stack_var("TEST_JOB_CLIENT_ID"), "client_secret": stale});
    let secret_id = new_secret(&secrets, stored.to_string()).await;
    let token_endpoint = discovered_token_endpoint().await;
    let tokens = Proxy::start(&token_endpoint.origin().ascii_serialization(), vec![]).await;
    let token_url = tokens.url().join(token_endpoint.path()).unwrap();
    let job = job(|config| {
        config.secret_id = secret_id.clone();
        config.client_auth = ClientAuthentication::ClientSecretPost;
        config.assertion = None;
        config.token_url = Some(token_url);
    })
    .await;
    let project = unique_project("WrongSecret");

    // The re-read after the refusal gives the same value: no rotation, so no waiting.
    let started = Instant::now();
    let error = run(&job, &json!({"entries": entries(&project, 1)}), &project)
        .await
        .expect_err("a wrong secret fails the run");
    assert!(
        started.elapsed() < ROTATION_DELAY,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), "TokenRequestFailed");
    let message = error.to_string();
    assert!(message.contains("HTTP 401 invalid_client"), "{message}");
    assert!(!message.contains(stale));
    assert_eq!(tokens.seen().len(), 1, "one token request");
    assert_eq!(rows_with_project(&project).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_during_a_secret_rotation_waits_until_the_new_secret_is_accepted() {
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config().await);
    // A client of its own: rotating it leaves the other tests' clients alone.
    let client = issuer_management("api/v2/clients", json!({"scope": "batch:upload"})).await;
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let secret_id = new_secret(&secrets, secret_value(&client)).await;
    let token_endpoint = discovered_token_endpoint().await;
    let tokens = Proxy::start(&token_endpoint.origin().ascii_serialization(), vec![]).await;
    // Run 2's first upload is refused, so that run asks the issuer for a new token; run 1's
    // token would otherwise last it 24 h.
    let api = Proxy::start(
        &stack_var("API_URL"),
        vec![Step::Forward, Step::error(401, "invalid_token", None)],
    )
    .await;
    let token_url = tokens.url().join(token_endpoint.path()).unwrap();
    let job = job(|config| {
        config.secret_id = secret_id.clone();
        config.client_auth = ClientAuthentication::ClientSecretPost;
        config.assertion = None;
        config.token_url = Some(token_url);
        config.api_url = api.url();
    })
    .await;
    let project = unique_project("Rotation");
    let event = |run_index: usize| json!({"id": format!("{project}-{run_index}"), "entries": entries(&project, 1)});

    // Run 1 caches the secret (TTL 300 s) and keeps its token.
    let first = run(&job, &event(1), "rotation-1").await.expect("run 1");
    assert_eq!(first.uploaded, 1);

    // Rotation, as in Auth0 then Secrets Manager: the cached secret is refused from now on,
    // the new one only after ROTATION_DELAY.
    let rotated = issuer_management(
        &format!(
            "api/v2/clients/{client_id}/rotate-secret?delay_seconds={}",
            ROTATION_DELAY.as_secs()
        ),
        json!({}),
    )
    .await;
    let rotated_at = Instant::now();
    secrets
        .put_secret_value()
        .secret_id(&secret_id)
        .secret_string(secret_value(&rotated))
        .send()
        .await
        .expect("PutSecretValue on moto");

    let second = run(&job, &event(2), "rotation-2")
        .await
        .expect("run 2 waits out the rotation");
    assert_eq!(second.uploaded, 1);
    assert!(
        rotated_at.elapsed() >= ROTATION_DELAY,
        "{:?}",
        rotated_at.elapsed()
    );
    let statuses: Vec<Option<u16>> = tokens.seen().iter().map(|seen| seen.status).collect();
    // Run 1's token; the cached secret refused; the new one refused until the delay ended.
    let (first_token, rest) = statuses.split_first().expect("token requests");
    let (last_token, waited) = rest.split_last().expect("run 2's token requests");
    assert_eq!(
        (*first_token, *last_token),
        (Some(200), Some(200)),
        "{statuses:?}"
    );
    assert!(waited.len() >= 2, "{statuses:?}");
    assert!(
        waited.iter().all(|status| *status == Some(401)),
        "{statuses:?}"
    );
    assert_eq!(rows_with_project(&project).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_fails_the_run_after_the_others_and_its_redelivery_completes_it() {
    let project = unique_project("Partial");
    let proxy = Proxy::start(
        &stack_var("API_URL"),
        vec![Step::error(400, "invalid_body", None)],
    )
    .await;
    let job = job(|config| config.api_url = proxy.url()).await;
    let event = json!({"id": format!("{project}-run"), "entries": entries(&project, 150)});

    let Err(JobError::Upload(report)) = run(&job, &event, "first").await else {
        panic!("a refused batch fails the run");
    };
    assert_eq!(report.batches.len(), 2);
    let refused = &report.batches[0];
    assert_eq!(refused.attempts, 1, "a 400 is not retried");
    assert!(
        refused
            .error
            .as_deref()
            .unwrap()
            .contains("HTTP 400 invalid_body")
    );
    // 150 entries: a full batch, refused, then the rest.
    let rest = 150 - timesheets::MAX_BATCH_ENTRIES;
    assert_eq!(
        report.batches[1].ids.len(),
        rest,
        "the next batch was still sent"
    );
    assert_eq!(report.uploaded, rest);
    assert_eq!(rows_with_project(&project).await, rest);

    // The redelivery stores the missing batch and replays the stored one.
    let report = run(&job, &event, "second")
        .await
        .expect("the redelivery succeeds");
    assert_eq!(
        report
            .batches
            .iter()
            .map(|b| b.replayed)
            .collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(report.uploaded, 150);
    assert_eq!(rows_with_project(&project).await, 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_401_gets_one_new_token_per_run() {
    let token_endpoint = discovered_token_endpoint().await;
    let project = unique_project("Refresh");

    // One 401: a new token and the batch goes through. Two: the new token is not renewed
    // again and the run fails. Either way exactly two token requests.
    for (refusals, succeeds) in [(1, true), (2, false)] {
        let tokens = Proxy::start(&token_endpoint.origin().ascii_serialization(), vec![]).await;
        let api = Proxy::start(
            &stack_var("API_URL"),
            vec![Step::error(401, "invalid_token", None); refusals],
        )
        .await;
        let token_url = tokens.url().join(token_endpoint.path()).unwrap();
        let job = job(|config| {
            config.api_url = api.url();
            config.token_url = Some(token_url);
        })
        .await;
        let event = json!({"id": format!("{project}-{refusals}"), "entries": entries(&project, 1)});
        let result = run(&job, &event, "refresh").await;
        assert_eq!(result.is_ok(), succeeds, "{refusals} refusals: {result:?}");
        assert_eq!(tokens.seen().len(), 2, "{refusals} refusals: one refresh");
        assert_eq!(api.seen().len(), 2, "{refusals} refusals");
    }
    assert_eq!(rows_with_project(&project).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expires_mid_run_is_renewed_before_the_next_batch() {
    let token_endpoint = discovered_token_endpoint().await;
    // The first token is a real one, announced to live 2 s: it is renewed 1 s in.
    let short_lived = json!({
        "access_token": access_token(&stack_var("TEST_JOB_CLIENT_ID"), &stack_var("TEST_JOB_CLIENT_SECRET")).await,
        "token_type": "Bearer",
        "expires_in": 2,
    });
    let tokens = Proxy::start(
        &token_endpoint.origin().ascii_serialization(),
        vec![Step::Answer {
            status: 200,
            retry_after: None,
            body: short_lived,
        }],
    )
    .await;
    // The first batch takes 1.5 s, so the first token has lapsed when the second one starts.
    let api = Proxy::start(
        &stack_var("API_URL"),
        vec![Step::DelayThenForward(Duration::from_millis(1500))],
    )
    .await;
    let token_url = tokens.url().join(token_endpoint.path()).unwrap();
    let job = job(|config| {
        config.api_url = api.url();
        config.token_url = Some(token_url);
    })
    .await;
    let project = unique_project("ShortToken");
    let event = json!({"id": format!("{project}-run"), "entries": entries(&project, 150)});

    let report = run(&job, &event, "short-token")
        .await
        .expect("the run succeeds");

    assert_eq!(report.uploaded, 150);
    let steps: Vec<_> = tokens.seen().iter().map(|s| (s.step, s.status)).collect();
    assert_eq!(
        steps,
        [("answer", Some(200)), ("forward", Some(200))],
        "a new token for the second batch, before the API refuses the old one"
    );
    assert_eq!(rows_with_project(&project).await, 150);
}
