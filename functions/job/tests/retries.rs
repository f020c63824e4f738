//! The retry loop ([`Budget::call`]) and the deadline bound ([`Budget::within`]) against
//! scripted failures, on tokio's paused clock: waits are checked without sleeping for real.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use timesheets_job::retry::{
    Attempted, Budget, Classify, Deadline, GaveUp, OutOfTime, RetryPolicy, Verdict, status_verdict,
};
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum TestError {
    #[error("HTTP {0}")]
    Status(u16, Option<Duration>),
    #[error("out of time")]
    OutOfTime,
}

impl From<OutOfTime> for TestError {
    fn from(_: OutOfTime) -> Self {
        Self::OutOfTime
    }
}

impl Classify for TestError {
    fn verdict(&self) -> Verdict {
        match self {
            Self::Status(status, retry_after) => status_verdict(*status, *retry_after),
            Self::OutOfTime => Verdict::Permanent,
        }
    }
}

fn budget(remaining: Duration) -> Budget {
    Budget {
        policy: RetryPolicy::default(),
        deadline: Deadline::after(remaining),
        attempt_timeout: Duration::from_secs(10),
    }
}

#[tokio::test(start_paused = true)]
async fn work_without_retries_still_ends_before_the_deadline() {
    let budget = budget(Duration::from_secs(12));
    let started = Instant::now();
    let hanging = budget.within(tokio::time::sleep(Duration::from_secs(60)));
    assert_eq!(hanging.await, Err(OutOfTime));
    // 12 s left less the 2 s margin.
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(budget.within(async { 7 }).await, Ok(7));
}

/// Runs a call whose attempts answer `script` in order (then 200), recording each
/// attempt's start time and timeout.
async fn scripted(
    budget: Budget,
    script: Vec<Result<u16, TestError>>,
) -> (Attempted<u16, TestError>, Vec<(Instant, Duration)>) {
    let script = Mutex::new(VecDeque::from(script));
    let starts = Mutex::new(Vec::new());
    let outcome = budget
        .call("test", |timeout| {
            starts.lock().unwrap().push((Instant::now(), timeout));
            let next = script.lock().unwrap().pop_front().unwrap_or(Ok(200));
            async move { next }
        })
        .await;
    (outcome, starts.into_inner().unwrap())
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_until_success() {
    let (outcome, starts) = scripted(
        budget(Duration::from_secs(60)),
        vec![
            Err(TestError::Status(503, None)),
            Err(TestError::Status(429, None)),
        ],
    )
    .await;
    assert_eq!(outcome.result, Ok(200));
    assert_eq!(outcome.attempts, 3);
    assert_eq!(outcome.gave_up, None);
    assert_eq!(starts.len(), 3);
    // Full jitter under caps of 200 ms then 400 ms.
    assert!(starts[1].0 - starts[0].0 <= Duration::from_millis(200));
    assert!(starts[2].0 - starts[1].0 <= Duration::from_millis(400));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_waited_for() {
    let (outcome, starts) = scripted(
        budget(Duration::from_secs(60)),
        vec![Err(TestError::Status(429, Some(Duration::from_secs(3))))],
    )
    .await;
    assert_eq!(outcome.result, Ok(200));
    assert!(starts[1].0 - starts[0].0 >= Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn permanent_failures_are_not_retried() {
    for status in [400, 401, 403, 413, 415, 422] {
        let (outcome, _) = scripted(
            budget(Duration::from_secs(60)),
            vec![Err(TestError::Status(status, None))],
        )
        .await;
        assert_eq!(outcome.result, Err(TestError::Status(status, None)));
        assert_eq!(outcome.attempts, 1, "{status}");
        assert_eq!(outcome.gave_up, None);
    }
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded() {
    let (outcome, starts) = scripted(
        budget(Duration::from_secs(600)),
        vec![Err(TestError::Status(503, None)); 20],
    )
    .await;
    assert_eq!(outcome.result, Err(TestError::Status(503, None)));
    assert_eq!(outcome.attempts, 6);
    assert_eq!(starts.len(), 6);
    assert_eq!(outcome.gave_up, Some(GaveUp::Attempts));
}

#[tokio::test(start_paused = true)]
async fn retries_stop_before_the_deadline() {
    let begin = Instant::now();
    // 4 s left: margin 2 s, so a 429 asking for 5 s is not waited for.
    let (outcome, starts) = scripted(
        budget(Duration::from_secs(4)),
        vec![Err(TestError::Status(429, Some(Duration::from_secs(5))))],
    )
    .await;
    assert_eq!(
        outcome.result,
        Err(TestError::Status(429, Some(Duration::from_secs(5))))
    );
    assert_eq!(outcome.gave_up, Some(GaveUp::Deadline));
    assert_eq!(starts.len(), 1);
    // The attempt's timeout was cut to the 2 s left before the margin.
    assert_eq!(starts[0].1, Duration::from_secs(2));
    assert!(Instant::now() - begin < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn no_attempt_when_the_deadline_is_too_near() {
    let (outcome, starts) = scripted(budget(Duration::from_millis(2_500)), vec![]).await;
    assert_eq!(outcome.result, Err(TestError::OutOfTime));
    assert_eq!(outcome.attempts, 0);
    assert!(starts.is_empty());
}
