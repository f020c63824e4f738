//! What Lambda tells one invocation: its request id and its deadline.

use std::time::{Duration, SystemTime};

use crate::retry::Deadline;

/// Time assumed left when the runtime's deadline is missing or already past, which Lambda never
/// sends but local emulators do (`cargo lambda watch` sends 600000 ms after the epoch): the
/// template's timeout.
const DEADLINE_WHEN_UNSET: Duration = Duration::from_secs(60);

/// What Lambda tells one invocation.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Lambda's request id, the same on Lambda's asynchronous retries of one event: names the
    /// run when the event has no `id`.
    pub request_id: String,
    /// When the invocation must have answered; retries stop before it.
    pub deadline: Deadline,
}

impl RunContext {
    /// A run named `request_id` with `remaining` time (tests, local runs).
    pub fn new(request_id: impl Into<String>, remaining: Duration) -> Self {
        Self {
            request_id: request_id.into(),
            deadline: Deadline::after(remaining),
        }
    }

    /// The invocation's request id and deadline; a deadline already past when the invocation
    /// starts is not a real one (local emulators send such), and 60 s from now is used instead.
    pub fn from_lambda(context: &lambda_runtime::Context) -> Self {
        let deadline = if context.deadline() > SystemTime::now() {
            Deadline::at(context.deadline())
        } else {
            tracing::warn!(
                deadline_epoch_ms = context.deadline,
                "the runtime's deadline is already past: assuming {}s",
                DEADLINE_WHEN_UNSET.as_secs()
            );
            Deadline::after(DEADLINE_WHEN_UNSET)
        };
        Self {
            request_id: context.request_id.clone(),
            deadline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time_left(deadline_ms: u64) -> Duration {
        let mut context = lambda_runtime::Context::default();
        context.request_id = "req-1".to_owned();
        context.deadline = deadline_ms;
        let run = RunContext::from_lambda(&context);
        assert_eq!(run.request_id, "req-1");
        run.deadline.remaining(tokio::time::Instant::now())
    }

    #[test]
    fn the_lambda_deadline_bounds_the_run() {
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let left = time_left(now_ms + 30_000);
        assert!(left > Duration::from_secs(29) && left <= Duration::from_secs(30));
    }

    #[test]
    fn a_missing_or_past_deadline_gets_the_default() {
        // 0: no header; 600000: what `cargo lambda watch` sends.
        for deadline_ms in [0, 600_000] {
            let left = time_left(deadline_ms);
            assert!(left > Duration::from_secs(59) && left <= DEADLINE_WHEN_UNSET);
        }
    }
}
