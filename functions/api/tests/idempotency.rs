//! Batch uploads and Idempotency-Key through the whole handler.

mod common;

use common::*;
use lambda_http::Request;
use serde_json::json;

fn with_key(mut request: Request, key: &str) -> Request {
    request
        .headers_mut()
        .insert("idempotency-key", key.parse().unwrap());
    request
}

fn batch(count: usize) -> String {
    format!("[{}]", vec![SAMPLE; count].join(","))
}

#[tokio::test]
async fn a_batch_is_stored_whole_with_one_id_per_entry() {
    let harness = Harness::start().await;
    let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
    let answer = harness.call(upload(Some(&authorization), &batch(3))).await;
    assert_eq!(answer.status, 201);
    assert_eq!(
        answer.body,
        json!({"message": "Created 3 timesheets.", "timesheets": [
            {"id": 1, "message": "Created timesheet 1 for employee 007."},
            {"id": 2, "message": "Created timesheet 2 for employee 007."},
            {"id": 3, "message": "Created timesheet 3 for employee 007."}
        ]})
    );
    assert_eq!(harness.stored(), 3);
}

#[tokio::test]
async fn one_bad_entry_rejects_the_whole_batch() {
    let harness = Harness::start().await;
    let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
    let bad = SAMPLE.replace("\"hours\": 5", "\"hours\": 0");
    let body = format!("[{SAMPLE}, {SAMPLE}, {bad}]");
    let answer = harness.call(upload(Some(&authorization), &body)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["error_description"],
        "entry [2]: `hours` must be a number greater than 0 and at most 24"
    );
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_answer() {
    let harness = Harness::start().await;
    let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
    let first = harness
        .call(with_key(upload(Some(&authorization), &batch(2)), "run-1/0"))
        .await;
    let again = harness
        .call(with_key(upload(Some(&authorization), &batch(2)), "run-1/0"))
        .await;
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(harness.stored(), 2);
}

#[tokio::test]
async fn replays_are_marked() {
    let harness = Harness::start().await;
    let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
    let request = || with_key(upload(Some(&authorization), SAMPLE), "k-1");
    let first = harness.api.handle(request()).await;
    assert_eq!(first.headers().get("idempotent-replayed"), None);
    let again = harness.api.handle(request()).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let harness = Harness::start().await;
    let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
    harness
        .call(with_key(upload(Some(&authorization), SAMPLE), "k-2"))
        .await;
    let other = SAMPLE.replace("StoreZero", "Sentinel");
    let answer = harness
        .call(with_key(upload(Some(&authorization), &other), "k-2"))
        .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["error"], "idempotency_key_reused");
    assert_eq!(harness.stored(), 1);
}

#[tokio::test]
async fn keys_are_scoped_to_the_client() {
    let harness = Harness::start().await;
    let first_client = format!("Bearer {}", harness.key.mint(&valid_claims()));
    let other_client = format!(
        "Bearer {}",
        harness.key.mint(&claims_with(
            json!({"azp": "other-client", "sub": "other-client@clients"})
        ))
    );
    let first = harness
        .call(with_key(upload(Some(&first_client), SAMPLE), "shared-key"))
        .await;
    let second = harness
        .call(with_key(upload(Some(&other_client), SAMPLE), "shared-key"))
        .await;
    assert_eq!(first.body["id"], 1);
    assert_eq!(second.status, 201);
    assert_ne!(second.body["id"], 1);
    assert_eq!(harness.stored(), 2);
}

#[tokio::test]
async fn a_key_recorded_elsewhere_is_answered_from_its_record() {
    use timesheets::TimesheetEntry;
    use timesheets_api::idempotency::{RETENTION_SECONDS, fingerprint, scope_key};
    use timesheets_api::store::{IdempotencyRecord, TimesheetStore, UploadWrite};

    let harness = Harness::start().await;
    // Another sandbox stored this key's upload under id 100, with its record.
    let now = testkit::keys::now();
    let entry = TimesheetEntry::from_json(&serde_json::from_str(SAMPLE).unwrap()).unwrap();
    let record = IdempotencyRecord {
        scope_key: scope_key("job-client", "elsewhere"),
        fingerprint: fingerprint(SAMPLE.as_bytes()),
        first_id: 100,
        count: 1,
        expires_at: now + RETENTION_SECONDS,
    };
    let write = UploadWrite {
        entries: &[entry],
        first_id: 100,
        client_id: "job-client",
        record: Some(&record),
        proof: None,
        now,
    };
    harness.api.store().write(&write).await.unwrap();
    let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
    let request = || with_key(upload(Some(&authorization), SAMPLE), "elsewhere");
    let answer = harness.api.handle(request()).await;
    assert_eq!(answer.status(), 201);
    assert_eq!(answer.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(harness.call(request()).await.body["id"], 100);
    assert_eq!(harness.stored(), 1);
}

#[tokio::test]
async fn a_malformed_key_is_400() {
    let harness = Harness::start().await;
    let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
    let answer = harness
        .call(with_key(
            upload(Some(&authorization), SAMPLE),
            &"x".repeat(300),
        ))
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "invalid_idempotency_key");
    assert_eq!(harness.stored(), 0);
}

#[tokio::test]
async fn ids_already_taken_are_503_and_the_retry_stores_under_new_ids() {
    use timesheets::TimesheetEntry;
    use timesheets_api::store::{TimesheetStore, UploadWrite};

    for key in [None, Some("run-9/0")] {
        let harness = Harness::start().await;
        // A row written outside the API at id 1, the counter still at 0 (e.g. a partial import).
        let imported = TimesheetEntry::from_json(&serde_json::from_str(SAMPLE).unwrap()).unwrap();
        let write = UploadWrite {
            entries: &[imported],
            first_id: 1,
            client_id: "import",
            record: None,
            proof: None,
            now: 0,
        };
        harness.api.store().write(&write).await.unwrap();
        let authorization = format!("Bearer {}", harness.key.mint(&valid_claims()));
        let request = || {
            let request = upload(Some(&authorization), SAMPLE);
            match key {
                Some(key) => with_key(request, key),
                None => request,
            }
        };
        let refused = harness.call(request()).await;
        assert_eq!(refused.status, 503, "{key:?}: {}", refused.body);
        assert_eq!(refused.body["error"], "temporarily_unavailable");
        assert_eq!(refused.retry_after.as_deref(), Some("5"));
        // Never a 201 for entries that were not stored; the retry stores them under id 2.
        let retried = harness.call(request()).await;
        assert_eq!(retried.status, 201, "{key:?}: {}", retried.body);
        assert_eq!(retried.body["id"], 2);
        assert_eq!(harness.stored(), 2);
    }
}
