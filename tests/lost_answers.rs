//! DynamoDB wrote, but its answer was lost on the way back: the SDK retries the call, and the
//! retry must not turn a stored request into an error or a second copy. A proxy between the
//! store and the local DynamoDB forwards the write and drops the connection before answering.

use e2e::proxy::{Proxy, Step};
use e2e::*;
use testkit::keys::now;
use timesheets_api::idempotency;
use timesheets_api::store::dynamodb::DynamoDbStore;

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
    for (count, key) in [
        (1, None),
        (3, None),
        (1, Some("run-1/0")),
        (3, Some("run-1/1")),
    ] {
        let project = unique_project("LostAnswer");
        // The ids on the counter, then the one transaction: written, its answer dropped,
        // retried by the SDK.
        let proxy = Proxy::start(
            &stack_var("AWS_ENDPOINT_URL"),
            vec![Step::Forward, Step::ForwardThenDrop],
        )
        .await;
        let store = store_behind(&proxy).await;
        let entries = vec![sample_entry(&project); count];
        let body = format!("{project} {count}");
        let sent = idempotency::Request {
            entries: &entries,
            client_id: "lost-client",
            key,
            body: body.as_bytes(),
            proof: None,
        };

        let stored = idempotency::store(&store, sent, now()).await.unwrap();

        assert!(!stored.replayed, "{count} entries, key {key:?}");
        let seen = proxy.seen();
        assert_eq!(
            seen.iter().map(|request| request.step).collect::<Vec<_>>(),
            ["forward", "drop", "forward"],
            "the ids, the write, then the SDK's retry"
        );
        assert_eq!(seen[2].status, Some(200));
        assert_eq!(rows_with_project(&project).await, count);
        if key.is_some() {
            // The client's own retry, in another sandbox: the record answers it.
            let direct = DynamoDbStore::new(dynamodb().await, stack_var("TIMESHEETS_TABLE"));
            let again = idempotency::store(&direct, sent, now()).await.unwrap();
            assert_eq!((again.first_id, again.replayed), (stored.first_id, true));
            assert_eq!(rows_with_project(&project).await, count);
        }
    }
}
