//! The job with private_key_jwt and DPoP, end to end on the stand-ins, whatever mode the stack
//! was started in: the stack's second `cargo lambda watch` (`TEST_DPOP_LAMBDA_PORT`) serves both
//! functions as `AUTH_CLIENT_AUTH=private_key_jwt AUTH_DPOP=required make run` does. The job
//! reads a secret with no client_secret, signs its assertion in moto's KMS, gets a DPoP-bound
//! token from the issuer and stores the entry through the API that takes nothing else.

use std::time::Duration;

use e2e::*;
use serde_json::Value;
use timesheets::TimesheetEntry;

/// How long the functions' log may take to show a line.
const LOG_TIMEOUT: Duration = Duration::from_secs(10);

/// The secret the job of the second watch reads, as JSON.
async fn job_secret() -> Value {
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config().await);
    let value = secrets
        .get_secret_value()
        .secret_id(stack_var("TEST_ASSERTION_SECRET_ID"))
        .send()
        .await
        .expect("GetSecretValue on the local Secrets Manager");
    serde_json::from_str(value.secret_string().expect("a string secret")).unwrap()
}

/// The text of `.local/logs/{name}` once it holds `needle`, or panics after [`LOG_TIMEOUT`].
async fn log_with(name: &str, needle: &str) -> String {
    let path = repo_root().join(".local/logs").join(name);
    let deadline = tokio::time::Instant::now() + LOG_TIMEOUT;
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} has no line with {needle:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_job_with_private_key_jwt_and_dpop_stores_the_sample_entry() {
    let client_id = stack_var("TEST_ASSERTION_CLIENT_ID");
    assert_eq!(
        job_secret().await,
        serde_json::json!({ "client_id": client_id }),
        "the job's secret holds no client_secret"
    );

    let result = invoke_job_at(&stack_var("TEST_DPOP_LAMBDA_PORT"), "schedule.json")
        .expect("the job succeeds");

    assert_eq!(result["uploaded"], 1, "{result}");
    let id = result["timesheets"][0]["id"].as_u64().expect("an id");
    assert_eq!(
        result["timesheets"][0]["message"],
        format!("Created timesheet {id} for employee 007.")
    );
    let row = stored_row(id).await.expect("the row is stored");
    let sample = TimesheetEntry::sample();
    assert_eq!(row["user_id"], sample.user_id);
    assert_eq!(row["project"], sample.project);
    assert_eq!(row["hours"], "5");
    assert_eq!(
        row["client_id"], client_id,
        "the token is the assertion client's"
    );
    // The API's 201 for this id: it takes only DPoP-bound tokens with a proof of their key.
    let stored =
        format!("timesheets created status=201 client=\"{client_id}\" first_timesheet_id={id} ");
    let log = log_with("lambda-dpop.log", &stored).await;
    assert!(
        log.contains("DPoP key generated jkt="),
        "the job made a DPoP key"
    );
}

/// The API of the second watch is in `required` mode: a bearer token of the same client, with
/// the scope `batch:upload`, stores nothing.
#[tokio::test]
async fn its_api_refuses_a_bearer_token() {
    let token = assertion_token(
        &stack_var("TEST_ASSERTION_CLIENT_ID"),
        &stack_var("TEST_SIGNING_KEY_ES256"),
    )
    .await;
    let project = unique_project("DpopRequiredBearer");
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/timesheets/upload",
            stack_var("TEST_DPOP_API_URL")
        ))
        .bearer_auth(token)
        .json(&sample_entry(&project))
        .send()
        .await
        .expect("the API answers");
    assert_eq!(answer.status(), 401);
    let challenge = answer.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(!challenge.contains("Bearer"), "{challenge}");
    assert_eq!(rows_with_project(&project).await, 0);
}
