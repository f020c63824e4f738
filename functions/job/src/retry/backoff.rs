//! The schedule of waits between attempts and its limits: [`RetryPolicy`], drawn as
//! [`FullJitter`] below backon's doubling caps.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;

use super::Deadline;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
