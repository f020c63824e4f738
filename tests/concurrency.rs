//! Concurrent Lambda instances writing one table: ids come in blocks from DynamoDB's atomic
//! counter, so they never collide, and every `201` is exactly one stored row. Each task below
//! has its own SDK client and store, as separate sandboxes do, against the local DynamoDB.

use std::collections::HashSet;

use e2e::*;
use testkit::keys::now;
use timesheets_api::idempotency::{self, Refused, Stored};
use timesheets_api::store::dynamodb::DynamoDbStore;
use timesheets_api::store::{TimesheetStore, UploadWrite, Written};
use tokio::task::JoinSet;

const INSTANCES: usize = 8;
const UPLOADS_PER_INSTANCE: usize = 4;

async fn instance() -> DynamoDbStore {
    DynamoDbStore::new(dynamodb().await, stack_var("TIMESHEETS_TABLE"))
}

/// An upload of `entries` by `parallel-client`, with `key` and `body` if given.
fn request<'a>(
    entries: &'a [timesheets::TimesheetEntry],
    key: Option<&'a str>,
    body: &'a str,
) -> idempotency::Request<'a> {
    idempotency::Request {
        entries,
        client_id: "parallel-client",
        key,
        body: body.as_bytes(),
        proof: None,
    }
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
                let stored = idempotency::store(&store, request(&entries, None, ""), now())
                    .await
                    .unwrap();
                assert!(!stored.replayed);
                ids.extend(stored.first_id..stored.first_id + count as u64);
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
    let body = format!("same body for {project}");
    let mut tasks = JoinSet::new();
    for _ in 0..INSTANCES {
        let (project, body) = (project.clone(), body.clone());
        tasks.spawn(async move {
            let store = instance().await;
            let entries = vec![sample_entry(&project); 2];
            match idempotency::store(&store, request(&entries, Some(&project), &body), now()).await
            {
                Ok(stored) => Some(stored),
                // A transaction conflict: a client would retry after Retry-After.
                Err(Refused::Store(_)) => None,
                Err(other) => panic!("unexpected {other:?}"),
            }
        });
    }
    let answers: Vec<Option<Stored>> = tasks.join_all().await;
    let firsts: HashSet<u64> = answers.iter().flatten().map(|s| s.first_id).collect();
    assert_eq!(
        firsts.len(),
        1,
        "every answer names the same timesheets: {answers:?}"
    );
    let stores = answers.iter().flatten().filter(|s| !s.replayed).count();
    assert!(stores <= 1, "stored more than once: {answers:?}");
    assert_eq!(rows_with_project(&project).await, 2);
}

#[tokio::test]
async fn writing_the_same_ids_again_stores_nothing() {
    // What ids taken by rows written outside the API meet: the transaction is cancelled.
    for count in [1, 2] {
        let project = unique_project("Again");
        let store = instance().await;
        let entries = vec![sample_entry(&project); count];
        let first_id = store.reserve_ids(count as u64).await.unwrap();
        let write = UploadWrite {
            entries: &entries,
            first_id,
            client_id: "parallel-client",
            record: None,
            proof: None,
            now: now(),
        };
        assert_eq!(store.write(&write).await.unwrap(), Written::Stored);
        assert_eq!(
            store.write(&write).await.unwrap(),
            Written::IdsTaken,
            "{count} entries"
        );
        assert_eq!(rows_with_project(&project).await, count);
    }
}
