//! The function figures: cold starts (init, first request) and warm CPU per request, for the
//! API function and the hello-world baseline, each in processes of their own.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::dpop::DpopClient;
use crate::function::Function;
use crate::issuer::{AUDIENCE, Issuer};
use crate::profile::Target;
use crate::report::{self, Row};
use testkit::upload_event::{stored_body, upload_event, with_key};

/// Cold starts per function; the figures are medians.
const COLD_STARTS: usize = 11;
/// Warm invocations before any figure, and per round; rounds per figure.
const WARM_UP: usize = 100;
const PER_ROUND: usize = 200;
const ROUNDS: usize = 11;
/// Rounds against the local DynamoDB, whose every write takes milliseconds.
const STORED_PER_ROUND: usize = 30;
const STORED_ROUNDS: usize = 5;

/// A body the API refuses with `400 invalid_body` once the token passed.
pub const REFUSED_BODY: &str = r#"{"user_id": "007"}"#;

/// The two functions and what they run against.
pub struct Setup<'a> {
    pub api: &'a Path,
    pub hello: &'a Path,
    /// The one-`PutItem` function (`benches/hello-put`), the floor of a stored request.
    pub hello_put: Option<&'a Path>,
    /// The job's bootstrap, for its init figure; `None` when not given.
    pub job: Option<&'a Path>,
    pub issuer: &'a Issuer,
    /// The API's AWS environment; `stored` says whether it reaches a seeded local DynamoDB.
    pub aws_env: Vec<(String, String)>,
    pub stored: bool,
}

impl Setup<'_> {
    /// The API's environment: AWS, its issuer and audience.
    pub fn api_env(&self) -> Vec<(String, String)> {
        let mut env = self.aws_env.clone();
        env.push(("AUTH_ISSUER".to_owned(), self.issuer.url()));
        env.push(("AUTH_AUDIENCE".to_owned(), AUDIENCE.to_owned()));
        env
    }

    pub fn start_api(&self) -> Result<Function, String> {
        Function::start(self.api, "timesheets-api", &self.api_env())
    }

    /// The API taking DPoP-bound tokens with a proof only (`AUTH_DPOP=required`).
    pub fn start_api_dpop_required(&self) -> Result<Function, String> {
        let mut env = self.api_env();
        env.push(("AUTH_DPOP".to_owned(), "required".to_owned()));
        Function::start(self.api, "timesheets-api", &env)
    }

    /// The job with the variables it requires; it only starts and polls, so nothing it names
    /// needs to answer.
    fn start_job(&self, job: &Path) -> Result<Function, String> {
        let mut env = self.aws_env.clone();
        for (name, value) in [
            ("AUTH_ISSUER", self.issuer.url()),
            ("AUTH_AUDIENCE", AUDIENCE.to_owned()),
            ("API_URL", "http://127.0.0.1:9".to_owned()),
            (
                "CREDENTIALS_SECRET_ID",
                "timesheets/job-credentials".to_owned(),
            ),
        ] {
            env.push((name.to_owned(), value));
        }
        Function::start(job, "timesheets-job", &env)
    }

    /// The one-`PutItem` function with the API's environment, when given and stored.
    fn start_hello_put(&self) -> Result<Option<Function>, String> {
        match self.hello_put {
            Some(bootstrap) if self.stored => {
                Function::start(bootstrap, "hello-put", &self.api_env()).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn start_hello(&self) -> Result<Function, String> {
        Function::start(self.hello, "hello-lambda", &[])
    }
}

/// Median figures of one function.
#[derive(Default)]
struct Cold {
    init: Duration,
    first_request: Duration,
}

/// The HTTP status of a lambda_http answer, 0 when it has none.
pub fn status(answer: &Value) -> u64 {
    answer["statusCode"].as_u64().unwrap_or(0)
}

/// Invokes `function` with `event` and checks the answer's status.
pub fn expect(function: &mut Function, event: &[u8], wanted: u64) -> Result<Duration, String> {
    let answer = function.invoke(event)?;
    if status(&answer.body) != wanted {
        return Err(format!(
            "expected status {wanted}, got the answer {}",
            answer.body
        ));
    }
    Ok(answer.latency)
}

/// Median cold-start figures of the hello-world function, the API and the job (init only).
struct ColdStarts {
    hello: Cold,
    api: Cold,
    job_init: Option<Duration>,
}

fn cold_starts(setup: &Setup) -> Result<ColdStarts, String> {
    let (mut hello, mut api, mut job) = (Vec::new(), Vec::new(), Vec::new());
    let token = setup.issuer.token(0);
    let refused = upload_event(&token, REFUSED_BODY);
    // Alternated, so a busy moment of the machine falls on all of them.
    for _ in 0..COLD_STARTS {
        let mut function = setup.start_hello()?;
        let latency = expect(&mut function, &refused, 200)?;
        hello.push((function.init, latency));
        let mut function = setup.start_api()?;
        let latency = expect(&mut function, &refused, 400)?;
        api.push((function.init, latency));
        if let Some(bootstrap) = setup.job {
            job.push(setup.start_job(bootstrap)?.init);
        }
    }
    let medians = |samples: Vec<(Duration, Duration)>| {
        let (mut init, mut first): (Vec<_>, Vec<_>) = samples.into_iter().unzip();
        Cold {
            init: report::median(&mut init),
            first_request: report::median(&mut first),
        }
    };
    Ok(ColdStarts {
        hello: medians(hello),
        api: medians(api),
        job_init: (!job.is_empty()).then(|| report::median(&mut job)),
    })
}

/// CPU per invocation over one round of `events`, and each invocation's latency; `None` when
/// a thread ended meanwhile (its time would be missing from the figure).
fn cpu_round(
    function: &mut Function,
    events: &[Vec<u8>],
    wanted: u64,
) -> Result<Option<(Duration, Vec<Duration>)>, String> {
    let threads = function.threads();
    let before = function.cpu();
    let mut latencies = Vec::with_capacity(events.len());
    for event in events {
        latencies.push(expect(function, event, wanted)?);
    }
    let spent = function.cpu().saturating_sub(before);
    Ok((function.threads() == threads).then(|| (spent / events.len() as u32, latencies)))
}

/// One warm figure being measured: a function, the events of its round `n`, the status
/// they must get, and the rounds measured so far.
struct Series<'a> {
    function: &'a mut Function,
    events: Box<dyn Fn(usize) -> Vec<Vec<u8>> + 'a>,
    wanted: u64,
    samples: Vec<Duration>,
    latencies: Vec<Duration>,
}

impl<'a> Series<'a> {
    fn new(
        function: &'a mut Function,
        wanted: u64,
        events: impl Fn(usize) -> Vec<Vec<u8>> + 'a,
    ) -> Self {
        Self {
            function,
            events: Box::new(events),
            wanted,
            samples: Vec::new(),
            latencies: Vec::new(),
        }
    }
}

/// The medians of one series: CPU per invocation (of the rounds) and latency (of every
/// invocation, event written → answer read).
#[derive(Clone, Copy)]
struct Figure {
    cpu: Duration,
    latency: Duration,
}

/// Median figures of each series over `rounds` rounds, the series' rounds taken in turn so
/// that a change in the machine's load falls on all of them.
fn cpu_per_request(series: &mut [Series], rounds: usize) -> Result<Vec<Figure>, String> {
    for attempt in 0..rounds * 3 {
        if series.iter().all(|one| one.samples.len() >= rounds) {
            break;
        }
        for one in series.iter_mut().filter(|one| one.samples.len() < rounds) {
            let events = (one.events)(attempt);
            if let Some((cpu, latencies)) = cpu_round(one.function, &events, one.wanted)? {
                one.samples.push(cpu);
                one.latencies.extend(latencies);
            }
        }
    }
    series
        .iter_mut()
        .map(|one| match one.samples.len() >= rounds {
            true => Ok(Figure {
                cpu: report::median(&mut one.samples),
                latency: report::median(&mut one.latencies),
            }),
            false => Err("threads kept ending during the rounds".to_owned()),
        })
        .collect()
}

/// Warm figures, each function in one process as one sandbox serves it. The DPoP and stored
/// figures need the local DynamoDB (a DPoP request writes its proof's replay record first).
struct Warm {
    hello: Figure,
    hello_rss: u64,
    same_refused: Figure,
    new_refused: Duration,
    dpop_refused: Option<Figure>,
    same_stored: Option<Figure>,
    new_stored: Option<Duration>,
    dpop_stored: Option<Figure>,
    /// The job's request: same token, a new `Idempotency-Key` each, body stored.
    keyed_stored: Option<Figure>,
    /// The one-`PutItem` function.
    put: Option<Figure>,
    peak_rss: u64,
    dpop_peak_rss: Option<u64>,
}

fn warm(setup: &Setup) -> Result<Warm, String> {
    let issuer = setup.issuer;
    let token = issuer.token(1);
    let refused = upload_event(&token, REFUSED_BODY);
    let hello_event = upload_event("unused", REFUSED_BODY);
    let fresh = issuer.tokens(10_000, ((ROUNDS * 3) * PER_ROUND) as u64);
    let client = DpopClient::new(issuer, 2);
    let mut hello = setup.start_hello()?;
    let mut api = setup.start_api()?;
    let mut api_again = setup.start_api()?;
    let mut api_dpop = match setup.stored {
        true => Some(setup.start_api_dpop_required()?),
        false => None,
    };
    for _ in 0..WARM_UP {
        expect(&mut hello, &hello_event, 200)?;
        expect(&mut api, &refused, 400)?;
        expect(&mut api_again, &refused, 400)?;
    }
    if let Some(function) = api_dpop.as_mut() {
        for event in client.events(WARM_UP, REFUSED_BODY) {
            expect(function, &event, 400)?;
        }
    }
    let repeated = |event: &Vec<u8>| vec![event.clone(); PER_ROUND];
    let figures = {
        let mut series = vec![
            Series::new(&mut hello, 200, |_| repeated(&hello_event)),
            Series::new(&mut api, 400, |_| repeated(&refused)),
            Series::new(&mut api_again, 400, |round| {
                fresh[round * PER_ROUND..(round + 1) * PER_ROUND]
                    .iter()
                    .map(|token| upload_event(token, REFUSED_BODY))
                    .collect()
            }),
        ];
        if let Some(function) = api_dpop.as_mut() {
            series.push(Series::new(function, 400, |_| {
                client.events(PER_ROUND, REFUSED_BODY)
            }));
        }
        cpu_per_request(&mut series, ROUNDS)?
    };
    let mut put = setup.start_hello_put()?;
    let measures_put = put.is_some();
    let (same_stored, new_stored, dpop_stored, keyed_stored, put_figure) = if setup.stored {
        let mut api_keyed = setup.start_api()?;
        let body = stored_body();
        let stored = upload_event(&token, &body);
        let fresh_stored = issuer.tokens(100_000, (STORED_ROUNDS * 3 * STORED_PER_ROUND) as u64);
        let keyed = |round: usize| {
            (0..STORED_PER_ROUND)
                .map(|at| with_key(&stored, &format!("bench-{round}-{at}")))
                .collect()
        };
        let mut series = vec![
            Series::new(&mut api_keyed, 201, keyed),
            Series::new(&mut api, 201, |_| vec![stored.clone(); STORED_PER_ROUND]),
            Series::new(&mut api_again, 201, |round| {
                fresh_stored[round * STORED_PER_ROUND..(round + 1) * STORED_PER_ROUND]
                    .iter()
                    .map(|token| upload_event(token, &body))
                    .collect()
            }),
        ];
        if let Some(function) = put.as_mut() {
            series.push(Series::new(function, 201, |_| {
                vec![stored.clone(); STORED_PER_ROUND]
            }));
        }
        if let Some(function) = api_dpop.as_mut() {
            series.push(Series::new(function, 201, |_| {
                client.events(STORED_PER_ROUND, &body)
            }));
        }
        let figures = cpu_per_request(&mut series, STORED_ROUNDS)?;
        let put_at = 3;
        let dpop_at = put_at + usize::from(measures_put);
        (
            Some(figures[1]),
            Some(figures[2].cpu),
            figures.get(dpop_at).copied(),
            Some(figures[0]),
            measures_put.then(|| figures[put_at]),
        )
    } else {
        (None, None, None, None, None)
    };
    Ok(Warm {
        hello: figures[0],
        hello_rss: hello.peak_rss(),
        same_refused: figures[1],
        new_refused: figures[2].cpu,
        dpop_refused: figures.get(3).copied(),
        same_stored,
        new_stored,
        dpop_stored,
        keyed_stored,
        put: put_figure,
        peak_rss: api.peak_rss().max(api_again.peak_rss()),
        dpop_peak_rss: api_dpop.as_ref().map(Function::peak_rss),
    })
}

/// The warm refused-body requests of both functions, for `make profile`: the API with the
/// same token and with a new token each, and the hello-world function.
pub fn profile_targets<'a>(setup: &'a Setup, fresh: &'a [String]) -> Vec<Target<'a>> {
    let token = setup.issuer.token(2);
    vec![
        Target {
            name: "timesheets-api-same-token",
            bootstrap: setup.api,
            env: setup.api_env(),
            event: Box::new(move |_| upload_event(&token, REFUSED_BODY)),
            status: 400,
        },
        Target {
            name: "timesheets-api-new-token",
            bootstrap: setup.api,
            env: setup.api_env(),
            event: Box::new(move |i| upload_event(&fresh[i % fresh.len()], REFUSED_BODY)),
            status: 400,
        },
        Target {
            name: "hello-lambda",
            bootstrap: setup.hello,
            env: Vec::new(),
            event: Box::new(|_| upload_event("unused", REFUSED_BODY)),
            status: 200,
        },
    ]
}

/// Measures everything and returns the table rows.
pub fn rows(setup: &Setup) -> Result<Vec<Row>, String> {
    let ColdStarts {
        hello: hello_cold,
        api: api_cold,
        job_init,
    } = cold_starts(setup)?;
    let warm = warm(setup)?;
    let (hello, hello_rss) = (warm.hello, warm.hello_rss);
    let us = report::duration;
    let cpu_row = |name: &str, ours: Duration, allowance: u64| {
        Row::new(
            name,
            us(hello.cpu),
            us(ours),
            Some(report::ratio(ours, hello.cpu)),
        )
        .target(
            &format!("≤ hello + {allowance} µs"),
            ours <= hello.cpu + Duration::from_micros(allowance),
        )
    };
    let not_measured = || "not measured: no local DynamoDB".to_owned();
    let measured = |name: &str, baseline: Duration, ours: Option<Duration>| match ours {
        Some(ours) => Row::new(
            name,
            us(baseline),
            us(ours),
            Some(report::ratio(ours, baseline)),
        ),
        None => Row::new(name, us(baseline), not_measured(), None),
    };
    // What DPoP adds to the bearer figure of the same rounds, next to the same baseline.
    let added =
        |name: &str, baseline: Duration, bearer: Option<Duration>, dpop: Option<Duration>| {
            let difference = bearer.zip(dpop);
            let ours = difference.map_or_else(not_measured, |(b, d)| report::difference(d, b));
            Row::new(name, us(baseline), ours, None)
        };
    let cpu = |figure: Option<Figure>| figure.map(|f| f.cpu);
    let latency = |figure: Option<Figure>| figure.map(|f| f.latency);
    let same_refused = Some(warm.same_refused);
    let init_ratio = report::ratio(api_cold.init, hello_cold.init);
    let mut rows = vec![
        Row::new(
            "init (spawn → first /invocation/next)",
            us(hello_cold.init),
            us(api_cold.init),
            Some(init_ratio),
        )
        .target("≤ 2.00× hello", init_ratio <= 2.0),
        job_init.map_or_else(
            || {
                Row::new(
                    "job init",
                    us(hello_cold.init),
                    "not measured: no --job".to_owned(),
                    None,
                )
            },
            |job| {
                let ratio = report::ratio(job, hello_cold.init);
                Row::new(
                    "job init (spawn → first /invocation/next)",
                    us(hello_cold.init),
                    us(job),
                    Some(ratio),
                )
                .target("≤ 2.00× hello", ratio <= 2.0)
            },
        ),
        Row::new(
            "first request after init (JWKS from a loopback issuer)",
            us(hello_cold.first_request),
            us(api_cold.first_request),
            Some(report::ratio(
                api_cold.first_request,
                hello_cold.first_request,
            )),
        )
        .target("≤ 5 ms", api_cold.first_request <= Duration::from_millis(5)),
        cpu_row(
            "CPU per warm request, same token, body refused (400)",
            warm.same_refused.cpu,
            25,
        ),
        cpu_row(
            "CPU per warm request, new token each, body refused (400)",
            warm.new_refused,
            60,
        ),
        measured(
            "CPU per warm request, AUTH_DPOP=required: same DPoP-bound token, new proof each, body refused (400)",
            hello.cpu,
            cpu(warm.dpop_refused),
        ),
        added(
            "  DPoP adds to the bearer token (same token, body refused): CPU",
            hello.cpu,
            cpu(same_refused),
            cpu(warm.dpop_refused),
        ),
        measured(
            "CPU per warm request, same token, body stored (201, local DynamoDB)",
            hello.cpu,
            cpu(warm.same_stored),
        ),
        measured(
            "CPU per warm request, new token each, body stored (201, local DynamoDB)",
            hello.cpu,
            warm.new_stored,
        ),
        measured(
            "CPU per warm request, AUTH_DPOP=required: same DPoP-bound token, new proof each, body stored (201)",
            hello.cpu,
            cpu(warm.dpop_stored),
        ),
        added(
            "  DPoP adds to the bearer token (same token, body stored): CPU",
            hello.cpu,
            cpu(warm.same_stored),
            cpu(warm.dpop_stored),
        ),
        measured(
            "latency per warm request, same token, body refused (400)",
            hello.latency,
            latency(same_refused),
        ),
        measured(
            "latency per warm request, AUTH_DPOP=required, body refused (400)",
            hello.latency,
            latency(warm.dpop_refused),
        ),
        added(
            "  DPoP adds to the bearer token (body refused): latency",
            hello.latency,
            latency(same_refused),
            latency(warm.dpop_refused),
        ),
        measured(
            "latency per warm request, same token, body stored (201)",
            hello.latency,
            latency(warm.same_stored),
        ),
        measured(
            "latency per warm request, AUTH_DPOP=required, body stored (201)",
            hello.latency,
            latency(warm.dpop_stored),
        ),
        added(
            "  DPoP adds to the bearer token (body stored): latency",
            hello.latency,
            latency(warm.same_stored),
            latency(warm.dpop_stored),
        ),
        Row::new(
            "peak RSS",
            report::megabytes(hello_rss),
            report::megabytes(warm.peak_rss),
            Some(warm.peak_rss as f64 / hello_rss as f64),
        )
        .target("≤ 12 MB", warm.peak_rss <= 12_000_000),
    ];
    rows.extend(floor_rows(&warm));
    if let Some(dpop_rss) = warm.dpop_peak_rss {
        rows.push(Row::new(
            "peak RSS, AUTH_DPOP=required",
            report::megabytes(hello_rss),
            report::megabytes(dpop_rss),
            Some(dpop_rss as f64 / hello_rss as f64),
        ));
    }
    Ok(rows)
}

/// A stored request against the floor of any stored request, the one-`PutItem` function
/// (its figure in the baseline column): the job's request (a new `Idempotency-Key` each) and
/// with DPoP, CPU and latency, on the same rounds.
fn floor_rows(warm: &Warm) -> Vec<Row> {
    let Some(put) = warm.put else {
        return vec![Row::new(
            "stored request vs one PutItem",
            "not measured: no --hello-put or no local DynamoDB".to_owned(),
            "—".to_owned(),
            None,
        )];
    };
    let us = report::duration;
    let mut rows = Vec::new();
    let cases = [
        ("Idempotency-Key", warm.keyed_stored, true),
        ("AUTH_DPOP=required, no key", warm.dpop_stored, false),
    ];
    for (case, figure, targeted) in cases {
        let Some(figure) = figure else { continue };
        for (what, ours, floor) in [
            ("CPU", figure.cpu, put.cpu),
            ("latency", figure.latency, put.latency),
        ] {
            let ratio = report::ratio(ours, floor);
            let row = Row::new(
                &format!("{what} per stored request, {case}; baseline: one PutItem (hello-put)"),
                us(floor),
                us(ours),
                Some(ratio),
            );
            rows.push(match targeted {
                true => row.target("≤ 1.30× one PutItem", ratio <= 1.3),
                false => row,
            });
        }
    }
    rows
}
