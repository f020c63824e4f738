//! `make load`: 8 sandboxes of the release API against the local DynamoDB, 20,000 entries
//! uploaded as singles and batches, each upload with its own `Idempotency-Key`; 10 % of the
//! uploads sent twice at the same moment (to two sandboxes), 5 % sent again after their answer
//! was dropped. Printed: stored rows, distinct ids, replays, counter writes, uploads per
//! second, and the ceiling the counter writes imply at 1,000 writes per second on one key
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html>).
//! Figures are printed with their targets, never asserted.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::dynamodb::{LocalDynamoDb, TABLE};
use crate::function::Function;
use crate::issuer::Issuer;
use crate::scenarios::Setup;
use testkit::upload_event;

const SANDBOXES: usize = 8;
const ENTRIES: usize = 20_000;
/// Upload sizes, in turn: singles and batches up to the API's limit.
const SIZES: [usize; 8] = [1, 1, 1, 5, 1, 20, 1, 98];
/// Ids per counter write in each sandbox (`TIMESHEETS_ID_BLOCK_SIZE`).
const BLOCK: u64 = 1_000;
/// Writes per second one partition key takes.
const KEY_WRITES_PER_SECOND: f64 = 1_000.0;
/// Attempts of one upload answered `503` (a transaction conflict), as the job retries.
const ATTEMPTS: usize = 6;

/// How an upload is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sending {
    Once,
    /// Twice at the same moment, to two sandboxes.
    Twins,
    /// Once, its answer dropped, then again.
    AnswerDropped,
}

/// One upload: its key, its body (one entry or a batch) and how it is sent.
struct Upload {
    key: String,
    body: String,
    sending: Sending,
}

fn uploads() -> Vec<Upload> {
    let mut uploads = Vec::new();
    let mut left = ENTRIES;
    while left > 0 {
        let at = uploads.len();
        let entries = SIZES[at % SIZES.len()].min(left);
        left -= entries;
        let entry = |n: usize| {
            json!({"user_id": format!("{:03}", n % 1000), "date": "2017-05-10T17:40:20.095Z",
                   "project": "LoadTest", "hours": n % 8 + 1})
        };
        let body = match entries {
            1 => entry(at).to_string(),
            _ => Value::Array((0..entries).map(|n| entry(at + n)).collect()).to_string(),
        };
        let sending = match at % 20 {
            0 | 1 => Sending::Twins,
            2 => Sending::AnswerDropped,
            _ => Sending::Once,
        };
        uploads.push(Upload {
            key: format!("load-{at}"),
            body,
            sending,
        });
    }
    uploads
}

/// The sandboxes not serving an upload right now.
struct Pool {
    idle: Mutex<Vec<Function>>,
    freed: Condvar,
}

impl Pool {
    /// `count` sandboxes, taken together (a pair waits for two).
    fn take(&self, count: usize) -> Vec<Function> {
        let mut idle = self.idle.lock().expect("pool lock");
        while idle.len() < count {
            idle = self.freed.wait(idle).expect("pool lock");
        }
        let at = idle.len() - count;
        idle.split_off(at)
    }

    fn give(&self, functions: Vec<Function>) {
        self.idle.lock().expect("pool lock").extend(functions);
        self.freed.notify_all();
    }
}

/// One `201`: its ids and whether it was a replay.
struct Created {
    ids: Vec<u64>,
    replayed: bool,
}

/// Sends `event` to `function` until it is answered other than `503`.
fn send(function: &mut Function, event: &[u8], retries: &AtomicUsize) -> Result<Created, String> {
    for _ in 0..ATTEMPTS {
        let answer = function.invoke(event)?.body;
        match answer["statusCode"].as_u64() {
            Some(201) => {
                let body: Value = serde_json::from_str(answer["body"].as_str().unwrap_or("{}"))
                    .map_err(|error| format!("a 201 without JSON: {error}"))?;
                let ids = match body.get("timesheets") {
                    Some(list) => list
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t["id"].as_u64())
                        .collect(),
                    None => body["id"].as_u64().into_iter().collect(),
                };
                let replayed = answer["headers"]["idempotent-replayed"] == "true";
                return Ok(Created { ids, replayed });
            }
            Some(503) => {
                retries.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(20));
            }
            _ => return Err(format!("unexpected answer {answer}")),
        }
    }
    Err("503 after every attempt".to_owned())
}

/// Every answer of `upload`, in the order they came.
fn serve(
    pool: &Pool,
    upload: &Upload,
    token: &str,
    retries: &AtomicUsize,
) -> Result<Vec<Created>, String> {
    let event = upload_event::with_key(
        &upload_event::upload_event(token, &upload.body),
        &upload.key,
    );
    let count = if upload.sending == Sending::Twins {
        2
    } else {
        1
    };
    let mut functions = pool.take(count);
    let answers = match upload.sending {
        Sending::Once => vec![send(&mut functions[0], &event, retries)],
        Sending::AnswerDropped => {
            let _dropped = send(&mut functions[0], &event, retries);
            vec![send(&mut functions[0], &event, retries)]
        }
        Sending::Twins => thread::scope(|scope| {
            let sent: Vec<_> = functions
                .iter_mut()
                .map(|function| scope.spawn(|| send(function, &event, retries)))
                .collect();
            sent.into_iter()
                .map(|one| one.join().expect("a sender thread"))
                .collect()
        }),
    };
    pool.give(functions);
    answers.into_iter().collect()
}

/// Stored timesheet rows and their distinct `id`s, read back from the table.
fn stored_rows(dynamodb: &LocalDynamoDb) -> Result<(usize, usize), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let http =
        timesheets::http_client::build_bounded_by_caller().map_err(|error| error.to_string())?;
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "load",
        ))
        .endpoint_url(&dynamodb.endpoint)
        .http_client(timesheets::sdk_http::SdkHttpClient::new(http))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    runtime.block_on(async {
        let (mut rows, mut ids) = (0, HashSet::new());
        let mut pages = client
            .scan()
            .table_name(TABLE)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|error| format!("scan: {error}"))?;
            let is_timesheet = item
                .get("pk")
                .and_then(|pk| pk.as_s().ok())
                .is_some_and(|pk| pk.starts_with("TIMESHEET#"));
            if is_timesheet {
                rows += 1;
                if let Some(id) = item.get("id").and_then(|id| id.as_n().ok()) {
                    ids.insert(id.clone());
                }
            }
        }
        Ok((rows, ids.len()))
    })
}

/// `make load`.
pub fn run(api: &Path, repo: &Path, issuer: &Issuer) -> ExitCode {
    match load(api, repo, issuer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("lambda-bench --load: {why}");
            ExitCode::FAILURE
        }
    }
}

fn load(api: &Path, repo: &Path, issuer: &Issuer) -> Result<(), String> {
    let dynamodb = LocalDynamoDb::start(repo)?;
    let mut aws_env = dynamodb.env();
    aws_env.push(("TIMESHEETS_ID_BLOCK_SIZE".to_owned(), BLOCK.to_string()));
    let setup = Setup {
        api,
        hello: api,
        hello_put: None,
        job: None,
        issuer,
        aws_env,
        stored: true,
    };
    let functions = (0..SANDBOXES)
        .map(|_| setup.start_api())
        .collect::<Result<Vec<_>, _>>()?;
    let pool = Pool {
        idle: Mutex::new(functions),
        freed: Condvar::new(),
    };
    let uploads = uploads();
    let token = issuer.token(9);
    let (next, retries) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let before = dynamodb.requests_by_operation()?;
    let started = Instant::now();
    let answers: Vec<Result<Vec<(usize, Created)>, String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..SANDBOXES)
            .map(|_| {
                scope.spawn(|| {
                    let mut served = Vec::new();
                    loop {
                        let at = next.fetch_add(1, Ordering::Relaxed);
                        let Some(upload) = uploads.get(at) else {
                            return Ok(served);
                        };
                        for created in serve(&pool, upload, &token, &retries)? {
                            served.push((at, created));
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker"))
            .collect()
    });
    let elapsed = started.elapsed();
    let after = dynamodb.requests_by_operation()?;
    let counter_writes = after.get("UpdateItem").copied().unwrap_or(0)
        - before.get("UpdateItem").copied().unwrap_or(0);
    let mut first_ids: HashMap<usize, Vec<u64>> = HashMap::new();
    let (mut replays, mut same_ids) = (0, true);
    for (at, created) in answers
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
    {
        if created.replayed {
            replays += 1;
        }
        match first_ids.get(&at) {
            Some(ids) => same_ids &= *ids == created.ids,
            None => {
                first_ids.insert(at, created.ids);
            }
        }
    }
    let answered_ids: HashSet<u64> = first_ids.values().flatten().copied().collect();
    let duplicates = uploads
        .iter()
        .filter(|u| u.sending != Sending::Once)
        .count();
    let (rows, distinct_ids) = stored_rows(&dynamodb)?;
    let uploads_per_second = uploads.len() as f64 / elapsed.as_secs_f64();
    // An upload of n entries takes n ids: per counter write, this many single-entry uploads
    // (the counter's worst case), or this mix's uploads.
    let writes = counter_writes.max(1) as f64;
    let ceiling = KEY_WRITES_PER_SECOND * ENTRIES as f64 / writes;
    let mix_ceiling = KEY_WRITES_PER_SECOND * uploads.len() as f64 / writes;
    let write_bound = ENTRIES as u64 / BLOCK + SANDBOXES as u64;
    let met = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "lambda-bench --load: {SANDBOXES} sandboxes of the release API, local DynamoDB, blocks of {BLOCK} ids"
    );
    println!(
        "uploads: {} ({ENTRIES} entries), {duplicates} sent twice (10 % at the same moment, 5 % after a dropped answer), {} retried 503s",
        uploads.len(),
        retries.load(Ordering::Relaxed)
    );
    println!(
        "stored rows: {rows} (target {ENTRIES}: {})",
        met(rows == ENTRIES)
    );
    println!(
        "distinct ids: {distinct_ids} in the table, {} answered (target {ENTRIES}: {})",
        answered_ids.len(),
        met(distinct_ids == ENTRIES && answered_ids.len() == ENTRIES)
    );
    println!(
        "replays: {replays} of {duplicates} duplicates, each with the first answer's ids: {} ({})",
        same_ids,
        met(replays == duplicates && same_ids)
    );
    println!(
        "counter writes: {counter_writes} (target ≤ {write_bound}: {})",
        met(counter_writes <= write_bound)
    );
    println!(
        "uploads per second: {uploads_per_second:.0} (this machine, moto serialising every request)"
    );
    println!(
        "ceiling the counter writes imply at 1,000 writes/s on one key: {ceiling:.0} single-entry uploads/s (target ≥ 100,000: {}), {mix_ceiling:.0} uploads/s of this mix",
        met(ceiling >= 100_000.0)
    );
    Ok(())
}
