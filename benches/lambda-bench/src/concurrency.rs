//! One API process serving several invocations at once (Lambda Managed Instances,
//! `AWS_LAMBDA_MAX_CONCURRENCY`), next to today's one at a time: throughput, CPU per request,
//! p50/p99 latency and peak RSS with 8 and 16 invocations in flight, for a refused body (the
//! work is the function's CPU) and a stored body (the wait is DynamoDB's). Each figure from a
//! fresh process.
//!
//! The stored body runs against a local DynamoDB of its own whose requests each wait
//! [`DYNAMODB_LATENCY`] before they are applied, outside its one-at-a-time lock: the wait a
//! request to DynamoDB spends on the network and in the service. Without it the stand-in
//! answers in its own CPU time on the same two cores, and concurrency would measure the
//! stand-in. Its CPU over the run says how busy it was.

use std::time::{Duration, Instant};

use crate::dynamodb::LocalDynamoDb;
use crate::function::Function;
use crate::report::{self, Row};
use crate::scenarios::{REFUSED_BODY, Setup, status};
use testkit::upload_event::{stored_body, upload_event};

/// The modeled wait of each DynamoDB request of the stored-body runs: DynamoDB documents
/// single-digit-millisecond latency (<https://aws.amazon.com/dynamodb/features/>); 5 ms is its
/// middle.
pub const DYNAMODB_LATENCY: Duration = Duration::from_millis(5);
/// Invocations in flight in the concurrent runs; today's mode has one.
const LEVELS: [usize; 2] = [8, 16];
/// Invocations before the measured ones, per process.
const WARM_UP: usize = 64;
/// Measured invocations per process: refused bodies take microseconds, stored ones
/// milliseconds of the local DynamoDB.
const REFUSED: usize = 1_600;
const STORED: usize = 320;

/// One workload: its name, body, answer status and whether each request has a new token.
struct Workload {
    name: &'static str,
    body: String,
    status: u64,
    new_token: bool,
    count: usize,
}

/// What one process did over the measured invocations.
struct Run {
    throughput: f64,
    cpu_per_request: Duration,
    p50: Duration,
    p99: Duration,
    peak_rss: u64,
    /// The local DynamoDB's CPU over the run divided by its wall time.
    dynamodb_busy: Option<f64>,
}

/// The rows of the concurrency table; stored-body rows only with a local DynamoDB, started
/// with [`DYNAMODB_LATENCY`].
///
/// # Errors
/// When a function fails, or any answer is not the status its request calls for.
pub fn rows(setup: &Setup, dynamodb: Option<&LocalDynamoDb>) -> Result<Vec<Row>, String> {
    let refused = |new_token, name| Workload {
        name,
        body: REFUSED_BODY.to_owned(),
        status: 400,
        new_token,
        count: REFUSED,
    };
    let stored = |new_token, name| Workload {
        name,
        body: stored_body(),
        status: 201,
        new_token,
        count: STORED,
    };
    let mut workloads = vec![
        refused(false, "refused body, same token"),
        refused(true, "refused body, new token each"),
    ];
    if dynamodb.is_some() {
        workloads.push(stored(false, "stored body, same token"));
        workloads.push(stored(true, "stored body, new token each"));
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let mut rows = Vec::new();
    let mut serial = 1_000_000;
    for workload in &workloads {
        let mut payloads = |count: usize| {
            serial += count as u64;
            payloads(setup, workload, serial, count)
        };
        let today = run(setup, dynamodb, None, &payloads(workload.count), workload)?;
        for level in LEVELS {
            let ours = run(
                setup,
                dynamodb,
                Some(level),
                &payloads(workload.count),
                workload,
            )?;
            rows.extend(compare(workload, level, &today, &ours, cores));
        }
    }
    Ok(rows)
}

/// `count` upload events of `workload` after `WARM_UP` warm-up ones, tokens from `serial` on.
fn payloads(setup: &Setup, workload: &Workload, serial: u64, count: usize) -> Vec<Vec<u8>> {
    let total = WARM_UP + count;
    let tokens = if workload.new_token {
        setup.issuer.tokens(serial, total as u64)
    } else {
        vec![setup.issuer.token(serial); total]
    };
    tokens
        .iter()
        .map(|token| upload_event(token, &workload.body))
        .collect()
}

/// One fresh API process, `concurrency` in flight (`None`: today's mode, one at a time).
fn run(
    setup: &Setup,
    dynamodb: Option<&LocalDynamoDb>,
    concurrency: Option<usize>,
    payloads: &[Vec<u8>],
    workload: &Workload,
) -> Result<Run, String> {
    let mut env = setup.api_env();
    // Later entries win: this DynamoDB, not the one of `setup`.
    env.extend(dynamodb.map(LocalDynamoDb::env).unwrap_or_default());
    if let Some(level) = concurrency {
        env.push(("AWS_LAMBDA_MAX_CONCURRENCY".to_owned(), level.to_string()));
    }
    let in_flight = concurrency.unwrap_or(1);
    let mut function = Function::start(setup.api, "timesheets-api", &env)?;
    let (warm, measured) = payloads.split_at(WARM_UP);
    function.invoke_concurrently(warm, in_flight)?;
    let (cpu, db_cpu, started) = (
        function.cpu(),
        dynamodb.map(LocalDynamoDb::cpu),
        Instant::now(),
    );
    let answers = function.invoke_concurrently(measured, in_flight)?;
    let wall = started.elapsed();
    let cpu = function.cpu() - cpu;
    let dynamodb_busy = dynamodb
        .zip(db_cpu)
        .map(|(db, before)| (db.cpu() - before).as_secs_f64() / wall.as_secs_f64());
    if let Some(wrong) = answers.iter().find(|a| status(&a.body) != workload.status) {
        return Err(format!(
            "{} at concurrency {in_flight}: expected {}, got {}",
            workload.name, workload.status, wrong.body
        ));
    }
    let mut latencies: Vec<Duration> = answers.iter().map(|answer| answer.latency).collect();
    latencies.sort_unstable();
    let at = |quantile: f64| latencies[((latencies.len() - 1) as f64 * quantile) as usize];
    Ok(Run {
        throughput: measured.len() as f64 / wall.as_secs_f64(),
        cpu_per_request: cpu / measured.len() as u32,
        p50: at(0.50),
        p99: at(0.99),
        peak_rss: function.peak_rss(),
        dynamodb_busy,
    })
}

/// The rows of one workload at `level`, against today's mode; targets at 16 only.
fn compare(workload: &Workload, level: usize, today: &Run, ours: &Run, cores: f64) -> Vec<Row> {
    let name = |figure: &str| format!("{}: {figure} at {level}", workload.name);
    let at_16 = level == 16;
    let stored = workload.status == 201;
    let per_second = |run: &Run| {
        format!(
            "{:.0}/s ({:.0}/s per core)",
            run.throughput,
            run.throughput / cores
        )
    };
    let gain = ours.throughput / today.throughput;
    let mut throughput = Row::new(
        &name("throughput"),
        per_second(today),
        per_second(ours),
        Some(gain),
    );
    let cpu_ratio = report::ratio(ours.cpu_per_request, today.cpu_per_request);
    let mut cpu = Row::new(
        &name("CPU per request"),
        report::duration(today.cpu_per_request),
        report::duration(ours.cpu_per_request),
        Some(cpu_ratio),
    );
    let rss_ratio = ours.peak_rss as f64 / today.peak_rss as f64;
    let mut rss = Row::new(
        &name("peak RSS"),
        report::megabytes(today.peak_rss),
        report::megabytes(ours.peak_rss),
        Some(rss_ratio),
    );
    if at_16 {
        throughput = match stored {
            true => throughput.target("≥ 6×", gain >= 6.0),
            false => throughput.target("≥ 1.5×", gain >= 1.5),
        };
        if !stored {
            cpu = cpu.target("≤ 1.2×", cpu_ratio <= 1.2);
        }
        rss = rss.target("≤ 2×", rss_ratio <= 2.0);
    }
    let latency = |run: &Run| {
        format!(
            "{} / {}",
            report::duration(run.p50),
            report::duration(run.p99)
        )
    };
    let mut rows = vec![
        throughput,
        cpu,
        Row::new(
            &name("latency p50 / p99"),
            latency(today),
            latency(ours),
            None,
        ),
        rss,
    ];
    if let (Some(before), Some(busy)) = (today.dynamodb_busy, ours.dynamodb_busy) {
        let percent = |share: f64| format!("{:.0} % of a core", share * 100.0);
        rows.push(Row::new(
            &name("local DynamoDB busy"),
            percent(before),
            percent(busy),
            None,
        ));
    }
    rows
}
