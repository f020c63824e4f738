//! The floor of any stored request: a lambda_http function that makes one conditional
//! `PutItem` of a timesheet-sized item per request, through the API function's own SDK client
//! set-up (the functions' one reqwest client, `sdk_config`, the API's DynamoDB timeouts) and
//! its single-thread runtime, and answers `201`. No token, no body parsing, no id counter.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, Response, run, service_fn};
use timesheets::TimesheetEntry;
use timesheets::config::ProcessEnv;
use timesheets_api::ApiConfig;
use timesheets_api::store::dynamodb::item;

/// Items written by this process, for a key no other process or request uses.
static WRITTEN: AtomicU64 = AtomicU64::new(0);

async fn put_one(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    entry: &TimesheetEntry,
) -> Result<Response<Body>, Error> {
    let serial = WRITTEN.fetch_add(1, Ordering::Relaxed);
    let mut stored = item::timesheet(serial, entry, "floor", "2017-05-10T17:40:20Z");
    let key = format!("FLOOR#{}-{serial}", std::process::id());
    stored.insert(item::PARTITION_KEY.to_owned(), AttributeValue::S(key));
    client
        .put_item()
        .table_name(table)
        .set_item(Some(stored))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await?;
    Ok(Response::builder()
        .status(201)
        .header("content-type", "application/json")
        .body(r#"{"message": "stored"}"#.into())?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = ApiConfig::from_source(&ProcessEnv)?;
    let http = timesheets::http_client::build_bounded_by_caller()?;
    let aws = timesheets::sdk_http::sdk_config(&http).await;
    let client = aws_sdk_dynamodb::Client::from_conf(config.dynamodb(&aws));
    let (client, table, entry) = (&client, config.table.as_str(), &TimesheetEntry::sample());
    run(service_fn(move |_: Request| put_one(client, table, entry))).await
}
