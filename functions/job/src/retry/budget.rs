//! The invocation's time: its [`Deadline`], and the [`Budget`] every call with retries runs
//! within ([`Budget::call`] for retried calls, [`Budget::within`] for steps without retries).

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

use backon::Retryable;
use tokio::time::Instant;

use super::{Classify, RetryPolicy, Verdict};

/// The time by which the invocation must have answered (Lambda's deadline), on tokio's clock
/// so tests can pause it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub(super) Instant);

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
