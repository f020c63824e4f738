//! A value kept in memory across warm invocations, with the semantics of AWS's own Secrets
//! Manager caches (`aws_secretsmanager_caching`, the Secrets Manager Agent): kept for a TTL,
//! then read again; when that read fails transiently the kept value is served and kept for
//! another TTL (their `ignore_transient_errors`); a forced refresh bypasses the kept value and
//! never falls back to it (their `refresh_now`).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::retry::Classify;

/// One cached value of type `T`. Reads are serialised: concurrent callers wait for one read.
#[derive(Debug)]
pub(super) struct TtlCache<T> {
    ttl: Duration,
    entry: Mutex<Option<Entry<T>>>,
}

#[derive(Debug)]
struct Entry<T> {
    value: T,
    fresh_until: Instant,
}

impl<T: Clone> TtlCache<T> {
    /// An empty cache keeping each value for `ttl` (0: every call reads).
    pub(super) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entry: Mutex::new(None),
        }
    }

    /// The kept value while younger than the TTL; else `read`'s, kept for the TTL.
    ///
    /// # Errors
    /// `read`'s error when nothing is kept or the failure is permanent ([`Classify`]); a
    /// permanent failure also drops the kept value, so a deleted or denied secret stays
    /// unusable.
    pub(super) async fn get<E, F>(&self, read: impl FnOnce() -> F) -> Result<T, E>
    where
        E: Classify + fmt::Display,
        F: Future<Output = Result<T, E>>,
    {
        let mut entry = self.entry.lock().await;
        if let Some(kept) = entry
            .as_ref()
            .filter(|kept| Instant::now() < kept.fresh_until)
        {
            return Ok(kept.value.clone());
        }
        match read().await {
            Ok(value) => Ok(self.keep(&mut entry, value)),
            Err(error) if error.verdict().is_transient() && entry.is_some() => {
                tracing::warn!(%error, "serving the cached value: the refresh failed transiently");
                let stale = entry.take().map(|kept| kept.value).expect("checked above");
                Ok(self.keep(&mut entry, stale))
            }
            Err(error) => {
                if !error.verdict().is_transient() {
                    *entry = None;
                }
                Err(error)
            }
        }
    }

    /// `read`'s value whatever is kept (after the kept value was refused), kept for the TTL.
    ///
    /// # Errors
    /// `read`'s error, never answered with the kept value: that value is the one refused. A
    /// permanent failure drops it, as in [`Self::get`].
    pub(super) async fn refresh<E, F>(&self, read: impl FnOnce() -> F) -> Result<T, E>
    where
        E: Classify,
        F: Future<Output = Result<T, E>>,
    {
        let mut entry = self.entry.lock().await;
        match read().await {
            Ok(value) => Ok(self.keep(&mut entry, value)),
            Err(error) => {
                if !error.verdict().is_transient() {
                    *entry = None;
                }
                Err(error)
            }
        }
    }

    fn keep(&self, entry: &mut Option<Entry<T>>, value: T) -> T {
        *entry = Some(Entry {
            value: value.clone(),
            fresh_until: Instant::now() + self.ttl,
        });
        value
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;

    use super::*;
    use crate::retry::Verdict;

    const TTL: Duration = Duration::from_secs(300);

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Failure {
        transient: bool,
    }

    impl fmt::Display for Failure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(if self.transient {
                "throttled"
            } else {
                "secret deleted"
            })
        }
    }

    impl Classify for Failure {
        fn verdict(&self) -> Verdict {
            if self.transient {
                Verdict::Transient { retry_after: None }
            } else {
                Verdict::Permanent
            }
        }
    }

    const THROTTLED: Failure = Failure { transient: true };
    const DELETED: Failure = Failure { transient: false };

    /// A source answering a script in order, counting its reads.
    struct Source {
        answers: RefCell<VecDeque<Result<&'static str, Failure>>>,
        reads: Cell<usize>,
    }

    impl Source {
        fn new(answers: impl IntoIterator<Item = Result<&'static str, Failure>>) -> Self {
            Self {
                answers: RefCell::new(answers.into_iter().collect()),
                reads: Cell::new(0),
            }
        }

        async fn read(&self) -> Result<&'static str, Failure> {
            self.reads.set(self.reads.get() + 1);
            self.answers
                .borrow_mut()
                .pop_front()
                .expect("no read beyond the script")
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_value_is_read_once_per_ttl() {
        let cache = TtlCache::new(TTL);
        let source = Source::new([Ok("v1"), Ok("v2")]);
        assert_eq!(cache.get(|| source.read()).await, Ok("v1"));
        tokio::time::advance(TTL - Duration::from_secs(1)).await;
        assert_eq!(cache.get(|| source.read()).await, Ok("v1"));
        assert_eq!(source.reads.get(), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(|| source.read()).await, Ok("v2"));
        assert_eq!(source.reads.get(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_ttl_reads_every_time() {
        let cache = TtlCache::new(Duration::ZERO);
        let source = Source::new([Ok("v1"), Ok("v2")]);
        assert_eq!(cache.get(|| source.read()).await, Ok("v1"));
        assert_eq!(cache.get(|| source.read()).await, Ok("v2"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_serves_the_kept_value_for_another_ttl() {
        let cache = TtlCache::new(TTL);
        let source = Source::new([Ok("v1"), Err(THROTTLED), Ok("v2")]);
        assert_eq!(cache.get(|| source.read()).await, Ok("v1"));
        tokio::time::advance(TTL).await;
        assert_eq!(cache.get(|| source.read()).await, Ok("v1"));
        // Kept again: no read until the next TTL has passed.
        tokio::time::advance(TTL - Duration::from_secs(1)).await;
        assert_eq!(cache.get(|| source.read()).await, Ok("v1"));
        assert_eq!(source.reads.get(), 2);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(|| source.read()).await, Ok("v2"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_with_nothing_kept_is_an_error() {
        let cache = TtlCache::new(TTL);
        let source = Source::new([Err(THROTTLED), Ok("v1")]);
        assert_eq!(cache.get(|| source.read()).await, Err(THROTTLED));
        assert_eq!(cache.get(|| source.read()).await, Ok("v1"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_failure_is_never_served_over_and_drops_the_value() {
        let cache = TtlCache::new(TTL);
        let source = Source::new([Ok("v1"), Err(DELETED), Err(THROTTLED)]);
        assert_eq!(cache.get(|| source.read()).await, Ok("v1"));
        tokio::time::advance(TTL).await;
        assert_eq!(cache.get(|| source.read()).await, Err(DELETED));
        // Dropped: a later outage has nothing to fall back on.
        assert_eq!(cache.get(|| source.read()).await, Err(THROTTLED));
    }

    #[tokio::test(start_paused = true)]
    async fn a_forced_refresh_reads_at_once_and_keeps_the_new_value() {
        let cache = TtlCache::new(TTL);
        let source = Source::new([Ok("old"), Ok("new")]);
        assert_eq!(cache.get(|| source.read()).await, Ok("old"));
        assert_eq!(cache.refresh(|| source.read()).await, Ok("new"));
        assert_eq!(cache.get(|| source.read()).await, Ok("new"));
        assert_eq!(source.reads.get(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_forced_refresh_never_answers_with_the_refused_value() {
        let cache = TtlCache::new(TTL);
        let source = Source::new([Ok("old"), Err(THROTTLED), Err(DELETED), Err(THROTTLED)]);
        assert_eq!(cache.get(|| source.read()).await, Ok("old"));
        assert_eq!(cache.refresh(|| source.read()).await, Err(THROTTLED));
        // A transient failure leaves the kept value to get() until its TTL ends...
        assert_eq!(cache.get(|| source.read()).await, Ok("old"));
        // ...a permanent one drops it.
        assert_eq!(cache.refresh(|| source.read()).await, Err(DELETED));
        assert_eq!(cache.get(|| source.read()).await, Err(THROTTLED));
    }
}
