//! The job's client secret across warm runs, against stand-ins for Secrets Manager (its JSON
//! protocol, through the real SDK client), the issuer and the API: the secret read once per
//! TTL, the cached one served through a Secrets Manager outage but not once the secret is
//! deleted, and a rotation (the old secret refused at once, the new one only some requests
//! later, as Auth0 propagates it) waited out within one run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::config::{
    BehaviorVersion, Credentials, Region, SharedCredentialsProvider, SharedHttpClient,
};
use serde_json::{Value, json};
use timesheets::sdk_http::SdkHttpClient;
use timesheets_job::credentials::SECRETS_MANAGER_MAX_ATTEMPTS;
use timesheets_job::{JobConfig, JobError, JobReport, RunContext, TimesheetsJob};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CLIENT_ID: &str = "timesheets-job";
const SECRET_ID: &str = "timesheets/job-credentials";

/// What Secrets Manager answers to `GetSecretValue`.
#[derive(Clone)]
enum Stored {
    /// The secret's current value, this `client_secret`.
    Secret(&'static str),
    /// `500 InternalServiceError`.
    Outage,
    /// `400 ResourceNotFoundException`: the secret was deleted.
    Deleted,
}

/// The stand-ins' state: what Secrets Manager holds, which secrets the issuer accepts, and
/// what each saw.
#[derive(Default)]
struct Stands {
    stored: Option<Stored>,
    /// The accepted secret, and how many requests with it are refused first (propagation).
    accepted: Option<(&'static str, usize)>,
    secret_reads: usize,
    /// The `client_secret` of each token request, in order.
    token_requests: Vec<String>,
    /// API answers still to refuse with `401 invalid_token`.
    api_refusals: usize,
}

type Shared = Arc<Mutex<Stands>>;

fn secrets_manager_answer(stands: &Shared) -> ResponseTemplate {
    let mut stands = stands.lock().unwrap();
    stands.secret_reads += 1;
    match stands.stored.clone().expect("a stored secret") {
        Stored::Secret(secret) => ResponseTemplate::new(200).set_body_json(json!({
            "ARN": format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET_ID}-AbCdEf"),
            "Name": SECRET_ID,
            "SecretString": json!({"client_id": CLIENT_ID, "client_secret": secret}).to_string(),
            "VersionId": format!("version-{secret}"),
        })),
        Stored::Outage => ResponseTemplate::new(500)
            .set_body_json(json!({"__type": "InternalServiceError", "message": "try again"})),
        Stored::Deleted => ResponseTemplate::new(400).set_body_json(json!({
            "__type": "ResourceNotFoundException",
            "message": "Secrets Manager can't find the specified secret."
        })),
    }
}

fn issuer_answer(stands: &Shared, request: &Request) -> ResponseTemplate {
    let secret = url::form_urlencoded::parse(&request.body)
        .find(|(name, _)| name == "client_secret")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let mut stands = stands.lock().unwrap();
    stands.token_requests.push(secret.clone());
    match &mut stands.accepted {
        Some((accepted, 0)) if *accepted == secret => ResponseTemplate::new(200).set_body_json(
            json!({"access_token": format!("at-{}", stands.token_requests.len()), "token_type": "Bearer", "expires_in": 86400}),
        ),
        Some((accepted, refusals)) if *accepted == secret => {
            *refusals -= 1;
            invalid_client()
        }
        _ => invalid_client(),
    }
}

fn invalid_client() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(
        json!({"error": "invalid_client", "error_description": "Unknown client or wrong client secret."}),
    )
}

fn api_answer(stands: &Shared, request: &Request) -> ResponseTemplate {
    let mut stands = stands.lock().unwrap();
    if stands.api_refusals > 0 {
        stands.api_refusals -= 1;
        return ResponseTemplate::new(401)
            .insert_header("WWW-Authenticate", r#"Bearer error="invalid_token""#)
            .set_body_json(json!({"error": "invalid_token", "error_description": "expired"}));
    }
    let entries: Vec<Value> = serde_json::from_slice(&request.body).expect("a JSON array");
    let timesheets: Vec<Value> = (1..=entries.len())
        .map(|id| json!({"message": format!("Created timesheet {id} for employee 007."), "id": id}))
        .collect();
    ResponseTemplate::new(201).set_body_json(
        json!({"message": format!("Created {} timesheets.", entries.len()), "timesheets": timesheets}),
    )
}

/// A job built as `main` builds it, its secret kept for `ttl`, against fresh stand-ins.
async fn job_on_stands(ttl: Duration) -> (TimesheetsJob, Shared, [MockServer; 3]) {
    let stands = Shared::default();
    let servers = [
        MockServer::start().await,
        MockServer::start().await,
        MockServer::start().await,
    ];
    let [secrets_manager, issuer, api] = &servers;
    let shared = stands.clone();
    Mock::given(method("POST"))
        .and(header("x-amz-target", "secretsmanager.GetSecretValue"))
        .respond_with(move |_: &Request| secrets_manager_answer(&shared))
        .mount(secrets_manager)
        .await;
    let shared = stands.clone();
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(move |request: &Request| issuer_answer(&shared, request))
        .mount(issuer)
        .await;
    let shared = stands.clone();
    Mock::given(method("POST"))
        .and(path("/timesheets/upload"))
        .respond_with(move |request: &Request| api_answer(&shared, request))
        .mount(api)
        .await;

    let issuer_url = format!("{}/", issuer.uri());
    let token_url = format!("{}/oauth/token", issuer.uri());
    let api_url = api.uri();
    let ttl_seconds = ttl.as_secs().to_string();
    let env = HashMap::from([
        ("AUTH_ISSUER", issuer_url.as_str()),
        ("AUTH_TOKEN_URL", token_url.as_str()),
        ("AUTH_AUDIENCE", "https://api.exampleco.com/timesheets"),
        ("CREDENTIALS_SECRET_ID", SECRET_ID),
        ("CREDENTIALS_CACHE_TTL_SECONDS", ttl_seconds.as_str()),
        ("API_URL", api_url.as_str()),
        ("HTTP_TIMEOUT_SECONDS", "5"),
    ]);
    let config = JobConfig::from_source(&env).expect("a valid configuration");
    let http = timesheets::http_client::build(config.http_timeout).expect("an HTTP client");
    let sdk_config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )))
        .endpoint_url(secrets_manager.uri())
        .http_client(SharedHttpClient::new(SdkHttpClient::new(http.clone())))
        .build();
    let job = TimesheetsJob::from_config(&config, &sdk_config, http)
        .await
        .expect("the job builds");
    (job, stands, servers)
}

async fn run(job: &TimesheetsJob, id: &str) -> Result<JobReport, JobError> {
    let event = json!({"id": id, "entries": [
        {"user_id": "007", "date": "2017-05-10T17:40:20.095Z", "project": "StoreZero", "hours": 5}
    ]});
    job.run(&event, RunContext::new(id, Duration::from_secs(60)))
        .await
}

fn set(stands: &Shared, change: impl FnOnce(&mut Stands)) {
    change(&mut stands.lock().unwrap());
}

fn seen<T>(stands: &Shared, read: impl FnOnce(&Stands) -> T) -> T {
    read(&stands.lock().unwrap())
}

#[tokio::test]
async fn a_run_during_a_rotation_asks_with_the_new_secret_until_it_is_accepted() {
    let (job, stands, _servers) = job_on_stands(Duration::from_secs(300)).await;
    set(&stands, |s| {
        s.stored = Some(Stored::Secret("old-secret"));
        s.accepted = Some(("old-secret", 0));
    });
    let first = run(&job, "run-1").await.expect("run 1 with the old secret");
    assert_eq!(first.uploaded, 1);

    // Rotation: the old secret is refused at once, the new one for its first two requests.
    // The new value is in Secrets Manager, but the job has the old one cached, and its
    // kept token is refused by the API, so run 2 asks the issuer again.
    set(&stands, |s| {
        s.stored = Some(Stored::Secret("new-secret"));
        s.accepted = Some(("new-secret", 2));
        s.api_refusals = 1;
    });
    let second = run(&job, "run-2")
        .await
        .expect("run 2 waits out the rotation");
    assert_eq!(second.uploaded, 1);
    assert_eq!(
        second.timesheets[0].message,
        "Created timesheet 1 for employee 007."
    );
    assert_eq!(
        seen(&stands, |s| s.token_requests.clone()),
        [
            "old-secret",
            "old-secret",
            "new-secret",
            "new-secret",
            "new-secret"
        ]
    );
    // Read at run 1, and once more, bypassing the cache, after the refusal.
    assert_eq!(seen(&stands, |s| s.secret_reads), 2);

    // The new value is now the cached one.
    set(&stands, |s| s.api_refusals = 1);
    run(&job, "run-3")
        .await
        .expect("run 3 with the cached new secret");
    assert_eq!(seen(&stands, |s| s.token_requests.len()), 6);
    assert_eq!(seen(&stands, |s| s.secret_reads), 2);
}

#[tokio::test]
async fn a_refused_secret_that_did_not_change_fails_the_run_at_once() {
    let (job, stands, _servers) = job_on_stands(Duration::from_secs(300)).await;
    set(&stands, |s| {
        s.stored = Some(Stored::Secret("wrong-secret"));
        s.accepted = Some(("right-secret", 0));
    });
    let started = Instant::now();
    let error = run(&job, "run-1")
        .await
        .expect_err("a wrong secret fails the run");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), "TokenRequestFailed");
    assert_eq!(
        error.to_string(),
        "getting an access token failed: token endpoint answered HTTP 401 invalid_client: \
         Unknown client or wrong client secret."
    );
    assert_eq!(seen(&stands, |s| s.token_requests.len()), 1);
    assert_eq!(seen(&stands, |s| s.secret_reads), 2);
}

#[tokio::test]
async fn the_secret_is_read_once_per_ttl() {
    // With a TTL of 0 every token lookup reads it: a run's first one and one before its batch.
    for (ttl, reads) in [(Duration::from_secs(300), 1), (Duration::ZERO, 4)] {
        let (job, stands, _servers) = job_on_stands(ttl).await;
        set(&stands, |s| {
            s.stored = Some(Stored::Secret("the-secret"));
            s.accepted = Some(("the-secret", 0));
        });
        run(&job, "run-1").await.expect("run 1");
        run(&job, "run-2").await.expect("run 2");
        assert_eq!(seen(&stands, |s| s.secret_reads), reads, "TTL {ttl:?}");
        assert_eq!(
            seen(&stands, |s| s.token_requests.len()),
            1,
            "the token is kept"
        );
    }
}

#[tokio::test]
async fn an_outage_serves_the_cached_secret_but_a_deleted_secret_fails_the_run() {
    let (job, stands, _servers) = job_on_stands(Duration::ZERO).await;
    set(&stands, |s| {
        s.stored = Some(Stored::Secret("the-secret"));
        s.accepted = Some(("the-secret", 0));
    });
    run(&job, "run-1").await.expect("run 1");

    set(&stands, |s| s.stored = Some(Stored::Outage));
    let report = run(&job, "run-2")
        .await
        .expect("the cached secret stands in");
    assert_eq!(report.uploaded, 1);
    // Each of the run's two lookups: the SDK's attempts at the 500, then the cached value.
    assert_eq!(
        seen(&stands, |s| s.secret_reads),
        2 + 2 * SECRETS_MANAGER_MAX_ATTEMPTS as usize
    );

    set(&stands, |s| s.stored = Some(Stored::Deleted));
    let error = run(&job, "run-3")
        .await
        .expect_err("a deleted secret is not served from the cache");
    assert_eq!(error.kind(), "CredentialsUnavailable");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "reading secret {SECRET_ID} from Secrets Manager failed: "
        )) && message.contains("ResourceNotFoundException"),
        "{message}"
    );
    assert!(!message.contains("the-secret"), "{message}");
}
