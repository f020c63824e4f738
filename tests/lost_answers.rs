//! DynamoDB wrote, but its answer was lost on the way back: the SDK retries the call, and the
//! retry must not turn a stored request into an error, a second copy or a `409`. A proxy between the
//! store and the local DynamoDB forwards the write and drops the connection before answering.

use e2e::proxy::{Proxy, Step};
use e2e::*;
use timesheets_api::idempotency::{self, Decision};
use timesheets_api::store::dynamodb::DynamoDbStore;
use timesheets_api::store::{Insert, TimesheetStore};

/// A store whose calls go through `proxy` to the local DynamoDB.
async fn store_behind(proxy: &Proxy) -> DynamoDbStore {
    let shared = sdk_config().await;
    let config = aws_sdk_dynamodb::config::Builder::from(&shared)
        .endpoint_url(proxy.url().as_str().trim_end_matches('/'))
        .build();
    DynamoDbStore::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        stack_var("TIMESHEETS_TABLE"),
    )
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_stored_once_and_reported_stored() {
    for count in [1, 3] {
        let project = unique_project("LostAnswer");
        let proxy = Proxy::start(&stack_var("AWS_ENDPOINT_URL"), vec![Step::ForwardThenDrop]).await;
        let direct = DynamoDbStore::new(dynamodb().await, stack_var("TIMESHEETS_TABLE"));
        let first = direct.reserve_ids(count).await.unwrap();

        let outcome = store_behind(&proxy)
            .await
            .insert_all(
                first,
                &vec![sample_entry(&project); count as usize],
                "lost-client",
            )
            .await;

        assert_eq!(outcome.unwrap(), Insert::Stored, "{count} entries");
        let seen = proxy.seen();
        assert_eq!(
            seen.iter().map(|request| request.step).collect::<Vec<_>>(),
            ["drop", "forward"],
            "the write, then the SDK's retry"
        );
        assert_eq!(seen[1].status, Some(200));
        assert_eq!(rows_with_project(&project).await, count as usize);
    }
}

#[tokio::test]
async fn a_claim_whose_answer_is_lost_still_belongs_to_its_request() {
    let project = unique_project("LostClaim");
    // Look the key up, reserve the ids, then the claim: written, its answer dropped, retried
    // by the SDK.
    let proxy = Proxy::start(
        &stack_var("AWS_ENDPOINT_URL"),
        vec![Step::Forward, Step::Forward, Step::ForwardThenDrop],
    )
    .await;
    let store = store_behind(&proxy).await;
    let scope_key = idempotency::scope_key("lost-client", &project);
    let fingerprint = idempotency::fingerprint(project.as_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    let decision = idempotency::begin(&store, &scope_key, &fingerprint, 1, now)
        .await
        .unwrap();

    // Not 409 for a key nobody else holds.
    assert!(matches!(decision, Decision::Proceed(_)), "{decision:?}");
    let steps: Vec<_> = proxy.seen().iter().map(|request| request.step).collect();
    assert_eq!(steps[..4], ["forward", "forward", "drop", "forward"]);
}
