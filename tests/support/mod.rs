//! Access to the local stack started by `infra/local/stack.sh up` (through `make test`):
//! its URLs and test clients come from the environment that script writes to `.local/stack.env`.

pub mod api_process;
pub mod gateway_answer;
pub mod proxy;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use timesheets::discovery::{EndpointKind, IssuerEndpoint};
use timesheets_job::ClientAuthentication;
use timesheets_job::client_assertion::{AssertionAlgorithm, AssertionConfig, AssertionSigner};
use timesheets_job::credentials::ClientCredentials;
use timesheets_job::retry::{Budget, Deadline, RetryPolicy};
use timesheets_job::token_client::TokenClient;

/// A variable of the local stack's environment.
///
/// # Panics
/// When unset: these tests run through `make test`, which starts the stand-ins first.
pub fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests with `make test`, which starts the local stand-ins")
    })
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// An access token for a registered client from the local issuer (client-credentials grant).
pub async fn access_token(client_id: &str, client_secret: &str) -> String {
    let token_url = format!("{}token", stack_var("AUTH_ISSUER"));
    let response = reqwest::Client::new()
        .post(token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("audience", &stack_var("AUTH_AUDIENCE")),
        ])
        .send()
        .await
        .expect("the local issuer answers");
    assert_eq!(response.status(), 200, "token request for {client_id}");
    let body: Value = response.json().await.expect("token response JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// The local issuer's token endpoint, as its discovery document names it (the job's own
/// discovery, [`IssuerEndpoint`]).
pub async fn discovered_token_endpoint() -> url::Url {
    IssuerEndpoint::new(&stack_var("AUTH_ISSUER"), EndpointKind::Token, None)
        .url(&http_client(Duration::from_secs(10)), None)
        .await
}

/// A valid access token without the scope `batch:upload`: the reader client's. With
/// `AUTH_CLIENT_AUTH=private_key_jwt` the stack gave that client no secret but an ES256 key in
/// moto's KMS (`TEST_READER_SIGNING_KEY`).
pub async fn reader_token() -> String {
    let client_id = stack_var("TEST_READER_CLIENT_ID");
    match std::env::var("TEST_READER_CLIENT_SECRET") {
        Ok(secret) => access_token(&client_id, &secret).await,
        Err(_) => assertion_token(&client_id, &stack_var("TEST_READER_SIGNING_KEY")).await,
    }
}

/// A bearer access token for `client_id`, authenticated by a private_key_jwt assertion that the
/// job's token client signs with the ES256 key `key_id` in moto's KMS.
pub async fn assertion_token(client_id: &str, key_id: &str) -> String {
    let issuer = stack_var("AUTH_ISSUER");
    let assertion = AssertionConfig {
        key_id: key_id.to_owned(),
        alg: AssertionAlgorithm::ES256,
        kid: None,
        audience: issuer.clone(),
    };
    let kms = aws_sdk_kms::Client::new(&sdk_config().await);
    let endpoint = IssuerEndpoint::new(&issuer, EndpointKind::Token, None);
    let tokens = TokenClient::new(
        http_client(Duration::from_secs(10)),
        endpoint,
        stack_var("AUTH_AUDIENCE"),
        ClientAuthentication::PrivateKeyJwt,
    )
    .with_signer(AssertionSigner::new(kms, assertion));
    let credentials = ClientCredentials {
        client_id: client_id.to_owned(),
        client_secret: None,
    };
    let budget = Budget {
        policy: RetryPolicy::default(),
        deadline: Deadline::after(Duration::from_secs(60)),
        attempt_timeout: Duration::from_secs(10),
    };
    let token = tokens
        .access_token(&credentials, &budget)
        .await
        .unwrap_or_else(|error| panic!("the issuer refused {client_id}'s assertion: {error}"));
    assert_eq!(token.token_type(), "Bearer");
    token.secret().to_owned()
}

/// What a client sees of an API answer.
#[derive(Debug)]
pub struct ApiAnswer {
    /// HTTP status.
    pub status: u16,
    /// The `WWW-Authenticate` header, if any.
    pub challenge: Option<String>,
    /// The JSON body.
    pub body: Value,
}

/// `POST {API_URL}/timesheets/upload` with `body`, through cargo lambda's function URL emulation.
pub async fn upload(token: Option<&str>, body: &Value) -> ApiAnswer {
    let mut request = reqwest::Client::new()
        .post(format!("{}/timesheets/upload", stack_var("API_URL")))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = response.json().await.expect("the API answers JSON");
    ApiAnswer {
        status,
        challenge,
        body,
    }
}

/// Invokes the deployed-locally scheduled function with an event file of `events/`, through
/// `cargo lambda invoke`; returns its JSON result or the error text.
pub fn invoke_job(event_file: &str) -> Result<Value, String> {
    invoke_job_at(&stack_var("LAMBDA_PORT"), event_file)
}

/// [`invoke_job`] on the `cargo lambda watch` at `port` (the stack's second one,
/// `TEST_DPOP_LAMBDA_PORT`, serves the functions with private_key_jwt and DPoP required).
pub fn invoke_job_at(port: &str, event_file: &str) -> Result<Value, String> {
    let output = Command::new("cargo")
        .current_dir(repo_root())
        .args(["lambda", "invoke", "timesheets-job", "--data-file"])
        .arg(repo_root().join("events").join(event_file))
        .args(["--invoke-address", "127.0.0.1", "--invoke-port", port])
        .args(["--output-format", "json"])
        .output()
        .expect("cargo lambda runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        serde_json::from_str(&stdout).map_err(|error| format!("not JSON ({error}): {stdout}"))
    } else {
        Err(format!(
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The stack environment's AWS SDK configuration, sending through the same kind of client
/// as the functions' ([`timesheets::sdk_http`]).
pub async fn sdk_config() -> aws_config::SdkConfig {
    timesheets::sdk_http::sdk_config(&http_client(std::time::Duration::from_secs(10))).await
}

/// The functions' HTTP client with `timeout` per exchange.
pub fn http_client(timeout: std::time::Duration) -> reqwest::Client {
    timesheets::http_client::build(timeout).expect("HTTP client")
}

/// A DynamoDB client for the local table.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// The stored timesheet with this id, as attribute name → text.
pub async fn stored_row(id: u64) -> Option<HashMap<String, String>> {
    let item = dynamodb()
        .await
        .get_item()
        .table_name(stack_var("TIMESHEETS_TABLE"))
        .key("pk", AttributeValue::S(format!("TIMESHEET#{id}")))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem on the local table")
        .item?;
    Some(
        item.into_iter()
            .map(|(name, value)| {
                let text = match value {
                    AttributeValue::S(text) | AttributeValue::N(text) => text,
                    other => format!("{other:?}"),
                };
                (name, text)
            })
            .collect(),
    )
}

/// How many stored timesheets have `project`.
pub async fn rows_with_project(project: &str) -> usize {
    stored_ids_with_project(project).await.len()
}

/// The ids of the stored timesheets that have `project`, in no order, over every page of the
/// scan (one page stops at 1 MB, which a table filled by repeated runs passes).
pub async fn stored_ids_with_project(project: &str) -> Vec<u64> {
    let client = dynamodb().await;
    let mut ids = Vec::new();
    let mut start = None;
    loop {
        let output = client
            .scan()
            .table_name(stack_var("TIMESHEETS_TABLE"))
            // `project` is a DynamoDB reserved word.
            .filter_expression("#project = :project")
            .expression_attribute_names("#project", "project")
            .expression_attribute_values(":project", AttributeValue::S(project.to_owned()))
            .projection_expression("id")
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan on the local table");
        for item in output.items() {
            let id = match item.get("id") {
                Some(AttributeValue::N(id)) => id.parse().expect("a timesheet id is a number"),
                other => panic!("a timesheet row without a numeric id: {other:?}"),
            };
            ids.push(id);
        }
        start = output.last_evaluated_key;
        if start.is_none() {
            return ids;
        }
    }
}

/// The scenario's sample entry (employee 007, 5 hours) on `project`.
pub fn sample_entry(project: &str) -> timesheets::TimesheetEntry {
    timesheets::TimesheetEntry {
        project: project.to_owned(),
        ..timesheets::TimesheetEntry::sample()
    }
}

/// A project name no other test uses, so row counts are not disturbed by parallel tests.
pub fn unique_project(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{label}-{nanos}")
}
