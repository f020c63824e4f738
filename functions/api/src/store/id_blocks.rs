//! Timesheet ids handed out from blocks reserved on the table's counter, as a database sequence
//! caches values (PostgreSQL `CREATE SEQUENCE … CACHE`): the counter item takes one write per
//! block instead of one per request. One partition key takes at most 1,000 writes per second
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html>),
//! so a per-request counter capped the whole API there; per block it caps it at 1,000 blocks.
//!
//! Ids stay unique: each block comes from one atomic `ADD` on the counter, and a sandbox hands
//! out each id of its blocks once. They are neither gap-free nor ordered across sandboxes: ids
//! left in a sandbox's blocks when it ends are never used, and two sandboxes hand out ids from
//! their own blocks at the same time.

use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use super::StoreError;

/// Default of `TIMESHEETS_ID_BLOCK_SIZE`: ids reserved per counter write.
pub const DEFAULT_BLOCK_SIZE: u64 = 100;

/// Free ranges kept at most: a leftover too short for a batch is kept for later singles, and
/// ids given back are kept, until this many; past it the shortest is dropped (a gap).
const KEPT_RANGES: usize = 4;

/// One sandbox's unused ids. Safe to share between concurrent requests: the free ranges sit
/// behind a lock held for no await, and one refill at a time goes to the counter.
#[derive(Debug)]
pub struct IdBlocks {
    size: u64,
    free: Mutex<Vec<Range<u64>>>,
    refill: tokio::sync::Mutex<()>,
}

impl IdBlocks {
    /// Blocks of `size` ids (at least 1), none reserved yet.
    pub fn new(size: u64) -> Self {
        Self {
            size: size.max(1),
            free: Mutex::new(Vec::new()),
            refill: tokio::sync::Mutex::new(()),
        }
    }

    /// The first of `count` consecutive ids no one else has: from a free range of this
    /// sandbox, else from a new block of `max(size, count)` ids, whose first id
    /// `reserve_block(ids)` returns (one counter write).
    ///
    /// # Errors
    /// `reserve_block`'s [`StoreError`]; nothing is handed out then.
    pub async fn reserve<F, R>(&self, count: u64, reserve_block: F) -> Result<u64, StoreError>
    where
        F: FnOnce(u64) -> R,
        R: Future<Output = Result<u64, StoreError>>,
    {
        if let Some(first) = self.take(count) {
            return Ok(first);
        }
        let _refilling = self.refill.lock().await;
        // Another request may have refilled while this one waited.
        if let Some(first) = self.take(count) {
            return Ok(first);
        }
        let ids = self.size.max(count);
        let first = reserve_block(ids).await?;
        self.give_back(first + count..first + ids);
        Ok(first)
    }

    /// Takes `ids` back, unused (their request stored nothing), to hand them out again.
    pub fn give_back(&self, ids: Range<u64>) {
        if ids.is_empty() {
            return;
        }
        let mut free = self.free();
        free.push(ids);
        if free.len() > KEPT_RANGES
            && let Some(shortest) = (0..free.len()).min_by_key(|&at| free[at].end - free[at].start)
        {
            free.swap_remove(shortest);
        }
    }

    fn take(&self, count: u64) -> Option<u64> {
        let mut free = self.free();
        let at = free
            .iter()
            .position(|range| range.end - range.start >= count)?;
        let first = free[at].start;
        free[at].start += count;
        if free[at].is_empty() {
            free.swap_remove(at);
        }
        Some(first)
    }

    /// The free ranges; a panic while they were held left them consistent (each change is
    /// one assignment), so a poisoned lock is used as is.
    fn free(&self) -> std::sync::MutexGuard<'_, Vec<Range<u64>>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// A counter as DynamoDB's `ADD`: each call reserves `ids` after the last.
    #[derive(Default)]
    struct Counter {
        last: AtomicU64,
        writes: AtomicU64,
    }

    impl Counter {
        async fn reserve(&self, ids: u64) -> Result<u64, StoreError> {
            self.writes.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(self.last.fetch_add(ids, Ordering::SeqCst) + 1)
        }
    }

    async fn reserve_all(blocks: &IdBlocks, counter: &Counter, counts: &[u64]) -> Vec<u64> {
        let mut firsts = Vec::new();
        for &count in counts {
            let first = blocks.reserve(count, |ids| counter.reserve(ids));
            firsts.push(first.await.unwrap());
        }
        firsts
    }

    #[tokio::test]
    async fn one_counter_write_serves_a_block() {
        let (blocks, counter) = (IdBlocks::new(10), Counter::default());
        assert_eq!(reserve_all(&blocks, &counter, &[1, 3, 6]).await, [1, 2, 5]);
        assert_eq!(counter.writes.load(Ordering::SeqCst), 1);
        assert_eq!(reserve_all(&blocks, &counter, &[1]).await, [11]);
        assert_eq!(counter.writes.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_rest_too_short_for_a_batch_still_serves_singles() {
        let (blocks, counter) = (IdBlocks::new(10), Counter::default());
        assert_eq!(
            reserve_all(&blocks, &counter, &[8, 5, 2, 1]).await,
            [1, 11, 9, 16]
        );
        assert_eq!(counter.writes.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_batch_larger_than_a_block_gets_a_block_of_its_size() {
        let (blocks, counter) = (IdBlocks::new(10), Counter::default());
        assert_eq!(reserve_all(&blocks, &counter, &[25, 1]).await, [1, 26]);
        assert_eq!(counter.last.load(Ordering::SeqCst), 35);
    }

    #[tokio::test]
    async fn ids_given_back_are_handed_out_again() {
        let (blocks, counter) = (IdBlocks::new(10), Counter::default());
        assert_eq!(reserve_all(&blocks, &counter, &[3]).await, [1]);
        blocks.give_back(1..4);
        assert_eq!(reserve_all(&blocks, &counter, &[7, 3]).await, [4, 1]);
        assert_eq!(counter.writes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_refill_hands_out_nothing() {
        let (blocks, counter) = (IdBlocks::new(10), Counter::default());
        let failed = blocks
            .reserve(1, |_| async { Err(StoreError::IdsTaken { first_id: 0 }) })
            .await;
        assert!(failed.is_err());
        assert_eq!(reserve_all(&blocks, &counter, &[1]).await, [1]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_requests_get_unique_ids_with_one_write_per_block() {
        let blocks = Arc::new(IdBlocks::new(100));
        let counter = Arc::new(Counter::default());
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..8u64 {
            let (blocks, counter) = (blocks.clone(), counter.clone());
            tasks.spawn(async move {
                let mut ids = Vec::new();
                for request in 0..50u64 {
                    let count = 1 + (task + request) % 3;
                    let first = blocks.reserve(count, |ids| counter.reserve(ids));
                    let first = first.await.unwrap();
                    ids.extend(first..first + count);
                }
                ids
            });
        }
        let ids: Vec<u64> = tasks.join_all().await.into_iter().flatten().collect();
        let unique: HashSet<u64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "an id was handed out twice");
        // 800 ids in blocks of 100: 8 writes, and at most one more per rest dropped.
        assert!(counter.writes.load(Ordering::SeqCst) <= 8 + KEPT_RANGES as u64 + 1);
    }
}
