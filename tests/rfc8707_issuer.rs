//! The job against an issuer that follows RFC 8707 and RFC 6749 §3.3 instead of Auth0: the
//! local issuer's standards mode, for the stack's client `TEST_RFC8707_CLIENT_ID` (allowed
//! `batch:upload batch:read`, private_key_jwt with the ES256 key `TEST_SIGNING_KEY_ES256`).
//! Such an issuer ignores `audience`, takes `resource`, and grants only the scopes asked for.

use serde_json::{Value, json};
use timesheets::config::{ProcessEnv, VarSource};
use timesheets::entry::SAMPLE_ENTRY;
use timesheets_job::{JobConfig, JobError, JobReport, RunContext, TimesheetsJob};

use e2e::*;

/// The secret the test job reads: `{"client_id"}` of the standards-mode client.
const SECRET_ID: &str = "timesheets/rfc8707-credentials";

/// The stack's environment with some variables set otherwise.
struct Overridden(Vec<(&'static str, String)>);

impl VarSource for Overridden {
    fn var(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(set, _)| *set == name)
            .map(|(_, value)| value.clone())
            .or_else(|| ProcessEnv.var(name))
    }
}

/// Stores the standards-mode client's secret in moto (again, if another test did first).
async fn put_secret() {
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config().await);
    let body = json!({"client_id": stack_var("TEST_RFC8707_CLIENT_ID")}).to_string();
    let created = client
        .create_secret()
        .name(SECRET_ID)
        .secret_string(&body)
        .send()
        .await;
    if let Err(error) = created {
        let exists = error
            .as_service_error()
            .is_some_and(|error| error.is_resource_exists_exception());
        assert!(exists, "CreateSecret: {error}");
        client
            .put_secret_value()
            .secret_id(SECRET_ID)
            .secret_string(&body)
            .send()
            .await
            .expect("PutSecretValue");
    }
}

/// The job as the Lambda builds it, as the standards-mode client, with the token request
/// variables `token_request` (`AUTH_TOKEN_*`) set.
async fn job_with(token_request: &[(&'static str, &str)]) -> TimesheetsJob {
    put_secret().await;
    let mut variables = vec![
        ("AUTH_CLIENT_AUTH", "private_key_jwt".to_owned()),
        ("AUTH_SIGNING_KEY_ID", stack_var("TEST_SIGNING_KEY_ES256")),
        ("AUTH_ASSERTION_ALG", "ES256".to_owned()),
        // Blank is unset: the kid is the key's thumbprint, as the issuer registered it.
        ("AUTH_ASSERTION_KID", String::new()),
        ("CREDENTIALS_SECRET_ID", SECRET_ID.to_owned()),
    ];
    variables.extend(
        token_request
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
    let config = JobConfig::from_source(&Overridden(variables)).expect("stack environment");
    let http = http_client(config.http_timeout);
    TimesheetsJob::from_config(&config, &sdk_config().await, http)
        .await
        .unwrap()
}

/// One run with the sample entry on `project`.
async fn run(job: &TimesheetsJob, project: &str) -> Result<JobReport, JobError> {
    let mut entry: Value = serde_json::from_str(SAMPLE_ENTRY).unwrap();
    entry["project"] = json!(project);
    job.run(
        &json!({"entries": [entry]}),
        RunContext::new(project, std::time::Duration::from_secs(60)),
    )
    .await
}

/// The run failed on the API's answer `expected` and stored nothing on `project`.
async fn assert_refused_by_the_api(
    result: Result<JobReport, JobError>,
    project: &str,
    expected: &str,
) {
    let error = result.expect_err("the API must refuse the token");
    assert!(matches!(error, JobError::Upload(_)), "{error}");
    assert!(error.to_string().contains(expected), "{error}");
    assert_eq!(rows_with_project(project).await, 0);
}

#[tokio::test]
async fn with_resource_and_scope_the_job_stores_the_entry() {
    let audience = stack_var("AUTH_AUDIENCE");
    let job = job_with(&[
        ("AUTH_TOKEN_SEND_AUDIENCE", "false"),
        ("AUTH_TOKEN_RESOURCE", &audience),
        ("AUTH_TOKEN_SCOPE", "batch:upload"),
    ])
    .await;
    let project = unique_project("Rfc8707");
    let report = run(&job, &project)
        .await
        .unwrap_or_else(|error| panic!("the run failed: {error}"));
    assert_eq!(report.uploaded, 1);
    assert_eq!(rows_with_project(&project).await, 1);
    let created = &report.timesheets[0];
    assert_eq!(
        created.message,
        format!("Created timesheet {} for employee 007.", created.id)
    );
    let row = stored_row(created.id).await.expect("the row is stored");
    assert_eq!(row["client_id"], stack_var("TEST_RFC8707_CLIENT_ID"));
    assert_eq!(row["project"], project);
}

#[tokio::test]
async fn auth0s_request_alone_gets_an_opaque_token_the_api_refuses() {
    let job = job_with(&[]).await;
    let project = unique_project("Rfc8707Audience");
    assert_refused_by_the_api(
        run(&job, &project).await,
        &project,
        "HTTP 401 invalid_token",
    )
    .await;
}

#[tokio::test]
async fn a_resource_without_scope_gets_a_token_without_batch_upload() {
    let audience = stack_var("AUTH_AUDIENCE");
    let job = job_with(&[("AUTH_TOKEN_RESOURCE", &audience)]).await;
    let project = unique_project("Rfc8707NoScope");
    assert_refused_by_the_api(
        run(&job, &project).await,
        &project,
        "HTTP 403 insufficient_scope",
    )
    .await;
}
