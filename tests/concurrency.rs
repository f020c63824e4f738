//! Concurrent Lambda instances writing one table: ids come from DynamoDB's atomic counter, so
//! they never collide, and every `201` is exactly one stored row. Each task below has its own
//! SDK client, as separate sandboxes do, against the local DynamoDB (moto).

use std::collections::HashSet;

use e2e::*;
use timesheets_api::idempotency::{self, Decision};
use timesheets_api::store::dynamodb::DynamoDbStore;
use timesheets_api::store::{Insert, TimesheetStore};
use tokio::task::JoinSet;

const INSTANCES: usize = 8;
const UPLOADS_PER_INSTANCE: usize = 4;

async fn instance() -> DynamoDbStore {
    DynamoDbStore::new(dynamodb().await, stack_var("TIMESHEETS_TABLE"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_uploads_get_unique_ids_and_one_row_each() {
    let project = unique_project("Parallel");
    let mut tasks = JoinSet::new();
    for instance_index in 0..INSTANCES {
        let project = project.clone();
        tasks.spawn(async move {
            let store = instance().await;
            let mut ids = Vec::new();
            for upload in 0..UPLOADS_PER_INSTANCE {
                // Singles and batches of three, interleaved across instances.
                let count = if (instance_index + upload) % 2 == 0 {
                    1
                } else {
                    3
                };
                let entries = vec![sample_entry(&project); count];
                let first = store.reserve_ids(count as u64).await.unwrap();
                let outcome = store
                    .insert_all(first, &entries, "parallel-client")
                    .await
                    .unwrap();
                assert_eq!(outcome, Insert::Stored);
                ids.extend(first..first + count as u64);
            }
            ids
        });
    }
    let ids: Vec<u64> = tasks.join_all().await.into_iter().flatten().collect();
    let unique: HashSet<u64> = ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "an id was handed out twice: {ids:?}"
    );
    assert_eq!(rows_with_project(&project).await, ids.len());
    for id in [ids[0], ids[ids.len() - 1]] {
        assert_eq!(stored_row(id).await.unwrap()["project"], project);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_requests_with_one_idempotency_key_store_once() {
    let project = unique_project("SameKey");
    let scope_key = idempotency::scope_key("parallel-client", &project);
    let body = format!("same body for {project}");
    let fingerprint = idempotency::fingerprint(body.as_bytes());
    let mut tasks = JoinSet::new();
    for _ in 0..INSTANCES {
        let (project, scope_key, fingerprint) =
            (project.clone(), scope_key.clone(), fingerprint.clone());
        tasks.spawn(async move {
            let store = instance().await;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            match idempotency::begin(&store, &scope_key, &fingerprint, 2, now).await {
                Ok(Decision::Proceed(first)) => {
                    let entries = vec![sample_entry(&project); 2];
                    store
                        .insert_all(first, &entries, "parallel-client")
                        .await
                        .unwrap();
                    Some(first)
                }
                Ok(Decision::Replay(first)) => Some(first),
                // The first is still storing: a client would retry after Retry-After.
                Ok(Decision::InFlight) => None,
                other => panic!("unexpected {other:?}"),
            }
        });
    }
    let answers: Vec<Option<u64>> = tasks.join_all().await;
    let firsts: HashSet<u64> = answers.iter().flatten().copied().collect();
    assert_eq!(
        firsts.len(),
        1,
        "every answer names the same timesheets: {answers:?}"
    );
    assert_eq!(rows_with_project(&project).await, 2);
}

#[tokio::test]
async fn writing_the_same_ids_again_stores_nothing() {
    // What a slow first attempt meets after a retry took its key over: the ids are taken.
    for count in [1, 2] {
        let project = unique_project("Again");
        let store = instance().await;
        let entries = vec![sample_entry(&project); count];
        let first = store.reserve_ids(count as u64).await.unwrap();
        assert_eq!(
            store
                .insert_all(first, &entries, "parallel-client")
                .await
                .unwrap(),
            Insert::Stored
        );
        assert_eq!(
            store
                .insert_all(first, &entries, "parallel-client")
                .await
                .unwrap(),
            Insert::AlreadyStored,
            "{count} entries"
        );
        assert_eq!(rows_with_project(&project).await, count);
    }
}
