//! DynamoDB requests per stored upload, counted where they arrive (the local DynamoDB's own
//! count, `aws_server.py`): without a key, with an `Idempotency-Key`, and with a key and a DPoP
//! proof (`AUTH_DPOP=required`). Each is one `TransactWriteItems`, plus one `UpdateItem` of the
//! id counter per block of `TIMESHEETS_ID_BLOCK_SIZE` (100) ids.

use crate::dpop::DpopClient;
use crate::dynamodb::LocalDynamoDb;
use crate::report::Row;
use crate::scenarios::{self, Setup};
use testkit::upload_event;
use timesheets_api::store::id_blocks::DEFAULT_BLOCK_SIZE;

/// Uploads per figure, one entry each, in a new sandbox: two blocks of ids.
const UPLOADS: usize = 200;

/// Requests per upload when a new sandbox of `start` stores `events`, each answered `201`.
fn per_upload(
    dynamodb: &LocalDynamoDb,
    start: impl Fn() -> Result<crate::function::Function, String>,
    events: &[Vec<u8>],
) -> Result<f64, String> {
    let mut function = start()?;
    let before = dynamodb.requests()?;
    for event in events {
        scenarios::expect(&mut function, event, 201)?;
    }
    let arrived = dynamodb.requests()? - before;
    Ok(arrived as f64 / events.len() as f64)
}

/// The three rows, each with its target: 1 + 1 / 100.
///
/// # Errors
/// A sentence saying which upload or count failed.
pub fn rows(setup: &Setup, dynamodb: &LocalDynamoDb) -> Result<Vec<Row>, String> {
    let body = upload_event::stored_body();
    let token = setup.issuer.token(7);
    let plain: Vec<Vec<u8>> = (0..UPLOADS)
        .map(|_| upload_event::upload_event(&token, &body))
        .collect();
    let with_keys: Vec<Vec<u8>> = plain
        .iter()
        .enumerate()
        .map(|(at, event)| upload_event::with_key(event, &format!("bench-key-{at}")))
        .collect();
    let client = DpopClient::new(setup.issuer, 8);
    let dpop_with_keys: Vec<Vec<u8>> = client
        .events(UPLOADS, &body)
        .iter()
        .enumerate()
        .map(|(at, event)| upload_event::with_key(event, &format!("bench-dpop-key-{at}")))
        .collect();
    let figures = [
        (
            "no Idempotency-Key",
            per_upload(dynamodb, || setup.start_api(), &plain)?,
        ),
        (
            "Idempotency-Key",
            per_upload(dynamodb, || setup.start_api(), &with_keys)?,
        ),
        (
            "Idempotency-Key + DPoP proof (AUTH_DPOP=required)",
            per_upload(
                dynamodb,
                || setup.start_api_dpop_required(),
                &dpop_with_keys,
            )?,
        ),
    ];
    // The API runs with the default block size: the bench sets no TIMESHEETS_ID_BLOCK_SIZE.
    let target = 1.0 + 1.0 / DEFAULT_BLOCK_SIZE as f64;
    Ok(figures
        .into_iter()
        .map(|(case, requests)| {
            Row::new(
                &format!(
                    "DynamoDB requests per stored upload, {case} (counted at the local DynamoDB)"
                ),
                "1 PutItem".to_owned(),
                format!("{requests:.2}"),
                None,
            )
            .target(
                &format!("≤ {target:.2} (1 + 1 per {DEFAULT_BLOCK_SIZE}-id block)"),
                requests <= target + 1e-9,
            )
        })
        .collect())
}
