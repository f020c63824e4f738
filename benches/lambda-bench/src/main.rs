//! `make bench`: every performance figure of the API function next to its baseline, and what
//! each authentication mode of both functions adds per request, in one run on this machine.
//! Figures are printed, never asserted: the targets are in the table.
//!
//! Usage: `lambda-bench --api BOOTSTRAP --hello BOOTSTRAP [--hello-put BOOTSTRAP]
//! [--job BOOTSTRAP] [--repo DIR] [--profile OUT_DIR]` with release builds of `timesheets-api`,
//! `hello-lambda`, `hello-put` (the floor of a stored request) and `timesheets-job` (the
//! Makefile builds them; the job is measured for its init only);
//! `--profile` runs warm requests under callgrind instead (`make profile`), `--load` the
//! load test of `make load` (the API only; no `--hello`), `--only-concurrency` the
//! table of one API process serving 8 and 16 invocations at once, alone.

mod concurrency;
mod crypto;
mod dpop;
mod dynamodb;
mod function;
mod issuer;
mod kms;
mod load;
mod modes;
mod profile;
mod report;
mod requests;
mod scenarios;
mod sizes;

use std::path::PathBuf;
use std::process::ExitCode;

fn argument(name: &str) -> Option<PathBuf> {
    let mut args = std::env::args().skip_while(|arg| arg != name);
    args.next()?;
    args.next().map(PathBuf::from)
}

/// AWS settings pointing nowhere: enough for the refused-body figures, which never reach
/// DynamoDB.
fn unreachable_aws_env() -> Vec<(String, String)> {
    let mut env = dynamodb::LocalDynamoDb::placeholder_env();
    env.push((
        "AWS_ENDPOINT_URL".to_owned(),
        "http://127.0.0.1:9".to_owned(),
    ));
    env
}

fn profile(
    api: &std::path::Path,
    hello: &std::path::Path,
    issuer: &issuer::Issuer,
    out_dir: &std::path::Path,
) -> ExitCode {
    let setup = scenarios::Setup {
        api,
        hello,
        hello_put: None,
        job: None,
        issuer,
        aws_env: unreachable_aws_env(),
        stored: false,
    };
    let fresh = issuer.tokens(500_000, 400);
    for target in scenarios::profile_targets(&setup, &fresh) {
        if let Err(why) = profile::run(&target, out_dir) {
            eprintln!("lambda-bench: profiling {}: {why}", target.name);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let load = std::env::args().any(|arg| arg == "--load");
    let (api, hello) = (argument("--api"), argument("--hello"));
    let (Some(api), true) = (api, load || hello.is_some()) else {
        eprintln!(
            "usage: lambda-bench --api BOOTSTRAP --hello BOOTSTRAP [--job BOOTSTRAP] [--repo DIR] [--only-concurrency]\n       lambda-bench --load --api BOOTSTRAP [--repo DIR]"
        );
        return ExitCode::from(2);
    };
    let job = argument("--job");
    let hello_put = argument("--hello-put");
    let repo = argument("--repo").unwrap_or_else(|| PathBuf::from("."));
    println!(
        "lambda-bench: {} cores; medians; CPU is user+system of the function process",
        std::thread::available_parallelism().map_or(0, usize::from)
    );

    let issuer = issuer::Issuer::start();
    if load {
        return load::run(&api, &repo, &issuer);
    }
    let hello = hello.expect("required above unless --load");
    if let Some(out_dir) = argument("--profile") {
        return profile(&api, &hello, &issuer, &out_dir);
    }
    // The concurrency table alone (a shorter run).
    let only_concurrency = std::env::args().any(|arg| arg == "--only-concurrency");
    let verify_rows = if only_concurrency {
        Vec::new()
    } else {
        let rows = crypto::rows(&crypto::measure(&issuer));
        report::print_table(
            "Token verification (in process, release build)",
            "raw RSA-2048 PKCS#1 v1.5 verify (aws-lc-rs)",
            "timesheets-api",
            &rows,
        );
        rows
    };

    let dynamodb = dynamodb::LocalDynamoDb::start(&repo)
        .inspect_err(|why| eprintln!("lambda-bench: local DynamoDB not started: {why}"))
        .ok();
    let aws_env = dynamodb
        .as_ref()
        .map_or_else(unreachable_aws_env, dynamodb::LocalDynamoDb::env);
    let setup = scenarios::Setup {
        api: &api,
        hello: &hello,
        hello_put: hello_put.as_deref(),
        job: job.as_deref(),
        issuer: &issuer,
        aws_env,
        stored: dynamodb.is_some(),
    };
    let modeled = dynamodb.as_ref().and_then(|_| {
        dynamodb::LocalDynamoDb::start_with_latency(&repo, concurrency::DYNAMODB_LATENCY)
            .inspect_err(|why| eprintln!("lambda-bench: local DynamoDB not started: {why}"))
            .ok()
    });
    let concurrency_rows = match concurrency::rows(&setup, modeled.as_ref()) {
        Ok(rows) => rows,
        Err(why) => {
            eprintln!("lambda-bench: {why}");
            return ExitCode::FAILURE;
        }
    };
    drop(modeled);
    report::print_table(
        &format!(
            "One API process, invocations in flight (AWS_LAMBDA_MAX_CONCURRENCY): 8 and 16; \
             stored body: each DynamoDB request waits {} ms",
            concurrency::DYNAMODB_LATENCY.as_millis()
        ),
        "one at a time (today)",
        "concurrent",
        &concurrency_rows,
    );
    if only_concurrency {
        return ExitCode::SUCCESS;
    }
    let function_rows = match scenarios::rows(&setup) {
        Ok(rows) => rows,
        Err(why) => {
            eprintln!("lambda-bench: {why}");
            return ExitCode::FAILURE;
        }
    };
    let request_rows = match dynamodb.as_ref().map(|db| requests::rows(&setup, db)) {
        Some(Ok(rows)) => rows,
        Some(Err(why)) => {
            eprintln!("lambda-bench: {why}");
            return ExitCode::FAILURE;
        }
        None => Vec::new(),
    };
    let kms = kms::measure(&repo, dynamodb.as_ref());
    drop(dynamodb);
    report::print_table(
        "Release bootstraps under a local Lambda Runtime API (127.0.0.1)",
        "hello-world lambda_http",
        "timesheets-api",
        &function_rows,
    );
    if !request_rows.is_empty() {
        report::print_table(
            "DynamoDB requests per stored upload (release API, local DynamoDB)",
            "the floor",
            "timesheets-api",
            &request_rows,
        );
    }
    let modes = modes::measure(&issuer);
    report::print_table(
        "What each authentication mode adds per request (in process, release build)",
        "raw aws-lc-rs operation",
        "timesheets-api / -job",
        &modes::rows(&modes, &kms),
    );
    println!("\n{}", modes::kms_note(&modes, &kms));
    let mut size_rows = sizes::rows(&repo);
    size_rows.push(sizes::local_row(&repo, &api, &hello));
    report::print_table(
        "Deployment package (make build: sam build, arm64)",
        "hello-world lambda_http",
        "timesheets-api",
        &size_rows,
    );
    let missed = [
        &verify_rows,
        &function_rows,
        &request_rows,
        &concurrency_rows,
        &size_rows,
    ]
    .iter()
    .any(|rows| report::any_missed(rows));
    println!(
        "\n{}",
        if missed {
            "Some targets are missed: see MISSED above and docs/performance.md for where the time goes."
        } else {
            "Every figure meets its target."
        }
    );
    ExitCode::SUCCESS
}
