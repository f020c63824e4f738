//! Retries of calls to the token endpoint and the API.
//!
//! - What is retried: 429 and 5xx answers (RFC 9110 §15.6, RFC 6585 §4), the API's
//!   `409 idempotency_key_in_use` (the first request with that key is still in flight),
//!   timeouts and connection failures. Nothing else: a 4xx will not change by repeating it.
//! - How long to wait: exponential backoff with full jitter (AWS Architecture Blog,
//!   "Exponential Backoff And Jitter", 2015): the n-th wait is drawn uniformly from
//!   `[0, min(max_delay, first_delay * 2^(n-1))]`; never less than the server's `Retry-After`.
//! - When to stop: after [`RetryPolicy::max_attempts`], or earlier when the next attempt could
//!   not finish before the invocation's deadline less [`RetryPolicy::deadline_margin`].
//!
//! The schedule of caps comes from `backon` (`ExponentialBuilder` without its own jitter, which
//! adds up to 100 % on top of the cap instead of drawing below it); the loop is `backon::Retryable`.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use timesheets::http_client::FetchError;
use tokio::time::Instant;

/// Whether a failed call may succeed if repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Repeating cannot help: a 4xx other than 429, a malformed answer, no time left.
    Permanent,
    /// Repeat later, and not before `retry_after` when the server said so.
    Transient {
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
}

impl Verdict {
    fn is_transient(self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

/// A call's error that knows whether repeating the call may help.
pub trait Classify {
    /// This failure's [`Verdict`].
    fn verdict(&self) -> Verdict;
}

/// The verdict for an HTTP error `status` with the body's `error` code, if any.
///
/// Transient: 429, every 5xx, and `409` with `idempotency_key_in_use` (the API's contract:
/// retry later). Every other status is permanent.
pub fn status_verdict(
    status: u16,
    error_code: Option<&str>,
    retry_after: Option<Duration>,
) -> Verdict {
    let transient = status == 429
        || (500..=599).contains(&status)
        || (status == 409 && error_code == Some("idempotency_key_in_use"));
    if transient {
        Verdict::Transient { retry_after }
    } else {
        Verdict::Permanent
    }
}

/// The verdict for a failure to reach a server or read its answer: timeouts, refused or reset
/// connections and bodies that break off are transient; an oversized or non-JSON answer and a
/// request that could not even be built are permanent.
pub fn transport_verdict(error: &FetchError) -> Verdict {
    match error {
        FetchError::Transport(error) if !error.is_builder() => {
            Verdict::Transient { retry_after: None }
        }
        _ => Verdict::Permanent,
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date measured from `now`
/// (a date in the past means no wait). `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

/// Parses one `Retry-After` value; see [`retry_after`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The time by which the invocation must have answered (Lambda's deadline), on tokio's clock
/// so tests can pause it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// `remaining` from now.
    pub fn after(remaining: Duration) -> Self {
        Self(Instant::now() + remaining)
    }

    /// A wall-clock deadline, such as `lambda_runtime::Context::deadline()`; one in the past
    /// leaves no time.
    pub fn at(deadline: SystemTime) -> Self {
        Self::after(
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        )
    }

    /// Time left at `now`.
    pub fn remaining(&self, now: Instant) -> Duration {
        self.0.saturating_duration_since(now)
    }
}

/// How calls are retried. The defaults suit a 60 s Lambda with a 10 s HTTP timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Upper bound of the first wait (default 200 ms); the bound doubles per retry.
    pub first_delay: Duration,
    /// Largest upper bound of one backoff wait (default 5 s); a longer `Retry-After` is still
    /// honoured if the deadline allows it.
    pub max_delay: Duration,
    /// Most attempts of one call, the first included (default 6).
    pub max_attempts: usize,
    /// Time kept free before the deadline to log, report and return (default 2 s).
    pub deadline_margin: Duration,
    /// An attempt is started, or waited for, only if at least this long is left before the
    /// margin (default 1 s); the attempt's timeout is cut to what is left.
    pub min_attempt: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_attempts: 6,
            deadline_margin: Duration::from_secs(2),
            min_attempt: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The waits between attempts: at most `max_attempts - 1` of them, full jitter.
    pub fn backoff(&self) -> FullJitter {
        FullJitter {
            caps: ExponentialBuilder::new()
                .with_min_delay(self.first_delay)
                .with_max_delay(self.max_delay)
                .with_factor(2.0)
                .with_max_times(self.max_attempts.saturating_sub(1))
                .build(),
            rng: fastrand::Rng::new(),
        }
    }

    /// The timeout for an attempt starting at `now`: `attempt_timeout`, cut to the time left
    /// before the margin; `None` when less than `min_attempt` is left.
    pub fn attempt_timeout(
        &self,
        attempt_timeout: Duration,
        deadline: Deadline,
        now: Instant,
    ) -> Option<Duration> {
        let usable = deadline.remaining(now).saturating_sub(self.deadline_margin);
        (usable >= self.min_attempt).then(|| attempt_timeout.min(usable))
    }

    /// The wait before the next attempt, or `None` to stop: `backoff` is the jittered wait
    /// (`None` once the attempts are used up), `retry_after` the server's minimum. Stops when
    /// less than `min_attempt` would be left before the margin after waiting.
    pub fn next_wait(
        &self,
        backoff: Option<Duration>,
        retry_after: Option<Duration>,
        deadline: Deadline,
        now: Instant,
    ) -> Option<Duration> {
        let wait = backoff?.max(retry_after.unwrap_or(Duration::ZERO));
        let usable_then = deadline
            .remaining(now)
            .saturating_sub(wait)
            .saturating_sub(self.deadline_margin);
        (usable_then >= self.min_attempt).then_some(wait)
    }
}

/// Backon's exponential caps, each wait drawn uniformly from `[0, cap]`.
#[derive(Debug)]
pub struct FullJitter {
    caps: backon::ExponentialBackoff,
    rng: fastrand::Rng,
}

impl FullJitter {
    /// The same schedule with a fixed random seed, for tests.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = fastrand::Rng::with_seed(seed);
        self
    }
}

impl Iterator for FullJitter {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let cap = self.caps.next()?;
        Some(cap.mul_f64(self.rng.f64()))
    }
}

/// No attempt was made: less than [`RetryPolicy::min_attempt`] was left before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not attempted: the invocation's deadline is too near")]
pub struct OutOfTime;

/// Why a transient failure was not retried further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GaveUp {
    /// [`RetryPolicy::max_attempts`] were made.
    Attempts,
    /// Waiting for another attempt would run past the deadline less the margin.
    Deadline,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Attempts => "attempts used up",
            Self::Deadline => "invocation deadline near",
        })
    }
}

/// The result of a call with retries.
#[derive(Debug)]
pub struct Attempted<T, E> {
    /// The last attempt's result.
    pub result: Result<T, E>,
    /// Attempts made (0 when none could start in time).
    pub attempts: u32,
    /// Set when the call ended on a transient error that was not retried further.
    pub gave_up: Option<GaveUp>,
}

/// What every call with retries needs: the policy, the invocation's deadline and the bound on
/// one attempt (`HTTP_TIMEOUT_SECONDS`).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// How to retry.
    pub policy: RetryPolicy,
    /// When the invocation must have answered.
    pub deadline: Deadline,
    /// Bound on one attempt.
    pub attempt_timeout: Duration,
}

impl Budget {
    /// Calls `attempt` (given its timeout) until it succeeds, fails permanently, the attempts
    /// are used up or the deadline is near. `what` names the call in the retry log lines.
    pub async fn call<T, E, F, Fut>(&self, what: &'static str, mut attempt: F) -> Attempted<T, E>
    where
        F: FnMut(Duration) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Classify + From<OutOfTime> + fmt::Display,
    {
        let attempts = Cell::new(0_u32);
        let gave_up = Cell::new(None);
        let policy = self.policy;
        let deadline = self.deadline;
        let result = (|| {
            let call = policy
                .attempt_timeout(self.attempt_timeout, deadline, Instant::now())
                .map(|timeout| {
                    attempts.set(attempts.get() + 1);
                    attempt(timeout)
                });
            async move {
                match call {
                    Some(call) => call.await,
                    None => Err(E::from(OutOfTime)),
                }
            }
        })
        .retry(policy.backoff())
        .sleep(tokio::time::sleep)
        .when(|error: &E| error.verdict().is_transient())
        .adjust(|error: &E, backoff| {
            let Verdict::Transient { retry_after } = error.verdict() else {
                return None;
            };
            let wait = policy.next_wait(backoff, retry_after, deadline, Instant::now());
            if wait.is_none() {
                gave_up.set(Some(if backoff.is_none() {
                    GaveUp::Attempts
                } else {
                    GaveUp::Deadline
                }));
            }
            wait
        })
        .notify(|error: &E, wait: Duration| {
            tracing::warn!(
                call = what,
                attempt = attempts.get(),
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                %error,
                "transient failure; retrying"
            );
        })
        .await;
        Attempted {
            result,
            attempts: attempts.get(),
            gave_up: gave_up.get(),
        }
    }

    /// Runs `work` for no longer than the deadline less the margin: for steps with their own
    /// timeouts but no view of the deadline (discovery, a Secrets Manager read), so a hanging
    /// dependency fails the run in time to log and report instead of Lambda killing it.
    ///
    /// # Errors
    /// [`OutOfTime`] when that time runs out first.
    pub async fn within<T>(&self, work: impl Future<Output = T>) -> Result<T, OutOfTime> {
        let usable = self
            .deadline
            .remaining(Instant::now())
            .saturating_sub(self.policy.deadline_margin);
        tokio::time::timeout(usable, work)
            .await
            .map_err(|_| OutOfTime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;

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
                Self::Status(status, retry_after) => status_verdict(*status, None, *retry_after),
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

    #[test]
    fn retried_statuses() {
        for status in [429, 500, 502, 503, 504] {
            assert!(
                status_verdict(status, None, None).is_transient(),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 409, 413, 415, 422] {
            assert_eq!(
                status_verdict(status, Some("invalid_body"), None),
                Verdict::Permanent,
                "{status}"
            );
        }
        assert_eq!(
            status_verdict(409, Some("idempotency_key_in_use"), None),
            Verdict::Transient { retry_after: None }
        );
        assert_eq!(
            status_verdict(422, Some("idempotency_key_reused"), None),
            Verdict::Permanent
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn full_jitter_stays_under_doubling_caps() {
        let policy = RetryPolicy::default();
        let caps_ms = [200, 400, 800, 1600, 3200];
        let mut firsts = Vec::new();
        for seed in 0..500 {
            let waits: Vec<Duration> = policy.backoff().with_seed(seed).collect();
            assert_eq!(waits.len(), policy.max_attempts - 1);
            for (wait, cap) in waits.iter().zip(caps_ms) {
                assert!(*wait <= Duration::from_millis(cap), "{wait:?} > {cap} ms");
            }
            firsts.push(waits[0].as_secs_f64());
        }
        // Full jitter: uniform on [0, cap], so the mean is near cap / 2 and small waits occur.
        let mean = firsts.iter().sum::<f64>() / firsts.len() as f64;
        assert!((0.08..0.12).contains(&mean), "mean first wait {mean} s");
        assert!(firsts.iter().any(|&wait| wait < 0.02));
    }

    #[test]
    fn caps_stop_doubling_at_max_delay() {
        let policy = RetryPolicy {
            max_attempts: 10,
            ..RetryPolicy::default()
        };
        let max = policy
            .backoff()
            .with_seed(7)
            .fold(Duration::ZERO, Duration::max);
        assert!(max <= policy.max_delay);
        assert!(
            max > Duration::from_secs(3),
            "late waits reach towards the cap"
        );
    }

    #[test]
    fn deadline_stops_waits_and_cuts_timeouts() {
        let policy = RetryPolicy::default();
        let now = Instant::now();
        let deadline = Deadline(now + Duration::from_secs(10));
        let ten = Duration::from_secs(10);
        // 10 s left, 2 s margin: an attempt may take 8 s.
        assert_eq!(
            policy.attempt_timeout(ten, deadline, now),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            policy.attempt_timeout(ten, deadline, now + Duration::from_millis(8_500)),
            None
        );
        let wait = Some(Duration::from_millis(300));
        assert_eq!(policy.next_wait(wait, None, deadline, now), wait);
        // Retry-After is a minimum...
        assert_eq!(
            policy.next_wait(wait, Some(Duration::from_secs(2)), deadline, now),
            Some(Duration::from_secs(2))
        );
        // ...unless it runs past the deadline less margin and one minimal attempt.
        assert_eq!(
            policy.next_wait(wait, Some(Duration::from_secs(8)), deadline, now),
            None
        );
        assert_eq!(policy.next_wait(None, None, deadline, now), None);
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
}
