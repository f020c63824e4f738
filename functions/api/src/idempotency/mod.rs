//! What a repeated `Idempotency-Key` means (IETF draft "The Idempotency-Key HTTP Header
//! Field", draft-ietf-httpapi-idempotency-key-header): same key and body → the first answer
//! again, nothing stored twice; same key, other body → `422`; first still running → `409`.
//! The header's own syntax is [`header`].

pub mod header;

use aws_lc_rs::digest::{SHA256, digest};

use crate::store::{Claim, IdempotencyRecord, StoreError, TimesheetStore};

/// How long a key is remembered, in seconds (the draft suggests at least 24 h).
pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;
/// How long a claim counts as in flight (`409` to a retry), in seconds: longer than the API
/// function's `Timeout` (10 s in `infra/template.yaml`, checked by `tests/infra`), after which
/// Lambda has stopped the first attempt and a retry may take its ids over. Only latency hangs
/// on it: the conditional writes let at most one attempt store, whenever it runs.
pub const IN_FLIGHT_SECONDS: i64 = 15;

/// The key scoped to the client, so one client can never replay another's answers.
pub fn scope_key(client: &str, key: &str) -> String {
    format!("{}:{client}:{key}", client.len())
}

/// SHA-256 of the body bytes, hex: the request fingerprint the draft asks to compare.
pub fn fingerprint(body: &[u8]) -> String {
    digest(&SHA256, body)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Store the entries under these freshly reserved ids (starting at this one).
    Proceed(u64),
    /// The first attempt with this key died before storing: store under its ids (starting at
    /// this one). Finding them taken means that attempt was only slow and stored them itself.
    TakeOver(u64),
    /// Already stored under ids starting at this one: answer as the first time.
    Replay(u64),
    /// The first request with this key is still running: `409`.
    InFlight,
    /// The key was used with another body: `422`.
    Reused,
}

/// Claims `scope_key` for a request of `count` entries with `fingerprint`, at Unix time `now`.
/// A key already recorded is answered from its record, reserving no ids, so replays, `409`s
/// and `422`s leave no gap in the ids.
///
/// # Errors
/// [`StoreError`] when the store fails.
pub async fn begin<S: TimesheetStore>(
    store: &S,
    scope_key: &str,
    fingerprint: &str,
    count: u64,
    now: i64,
) -> Result<Decision, StoreError> {
    if let Some(existing) = store.find_record(scope_key).await?
        && existing.expires_at >= now
    {
        return decide(store, existing, fingerprint, count, now).await;
    }
    let first_id = store.reserve_ids(count).await?;
    let record = IdempotencyRecord {
        scope_key: scope_key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        first_id,
        count,
        claimed_at: now,
        expires_at: now + RETENTION_SECONDS,
    };
    match store.claim(&record, now).await? {
        Claim::Claimed => Ok(Decision::Proceed(first_id)),
        // Our own claim, met when the SDK retried the write after a lost answer: the fresh
        // `first_id` in it is ours alone.
        Claim::Exists(existing) if existing == record => Ok(Decision::Proceed(first_id)),
        // Another request claimed the key since the read: its record decides.
        Claim::Exists(existing) => decide(store, existing, fingerprint, count, now).await,
    }
}

/// What a request meets when `existing` holds its key.
async fn decide<S: TimesheetStore>(
    store: &S,
    existing: IdempotencyRecord,
    fingerprint: &str,
    count: u64,
    now: i64,
) -> Result<Decision, StoreError> {
    if existing.fingerprint != fingerprint || existing.count != count {
        return Ok(Decision::Reused);
    }
    // All of a request's timesheets are written in one transaction: the first tells for all.
    if store.is_stored(existing.first_id).await? {
        return Ok(Decision::Replay(existing.first_id));
    }
    if now - existing.claimed_at < IN_FLIGHT_SECONDS {
        return Ok(Decision::InFlight);
    }
    // The first attempt died before storing; take over with its ids, so if it was merely slow
    // the conditional writes still let only one of us store.
    if store
        .take_over(&existing.scope_key, existing.claimed_at, now)
        .await?
    {
        Ok(Decision::TakeOver(existing.first_id))
    } else {
        Ok(Decision::InFlight)
    }
}

/// Ends the claim made at `claimed_at` after a write that failed and may or may not have
/// landed: the key keeps its ids, and the client's retry takes them over at once instead of
/// waiting out [`IN_FLIGHT_SECONDS`]; the conditional writes still let only one attempt store.
///
/// # Errors
/// [`StoreError`] when the store fails; the claim then simply runs out.
pub async fn abandon<S: TimesheetStore>(
    store: &S,
    scope_key: &str,
    claimed_at: i64,
) -> Result<(), StoreError> {
    // Claim time 0 is long past; a retry that took over meanwhile keeps its claim.
    store.take_over(scope_key, claimed_at, 0).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::{Insert, TimesheetStore};
    use timesheets::TimesheetEntry;

    fn entry() -> TimesheetEntry {
        TimesheetEntry::sample()
    }

    #[test]
    fn scope_keys_cannot_collide_across_clients() {
        assert_ne!(scope_key("a:b", "c"), scope_key("a", "b:c"));
        assert_eq!(fingerprint(b"abc").len(), 64);
        assert_ne!(fingerprint(b"abc"), fingerprint(b"abd"));
    }

    #[tokio::test]
    async fn a_dead_first_attempt_is_taken_over_with_its_ids() {
        let store = MemoryStore::default();
        let first = begin(&store, "1:c:k", "f", 1, 1_000).await.unwrap();
        assert_eq!(first, Decision::Proceed(1));
        // Still within the in-flight window: the retry must wait.
        assert_eq!(
            begin(&store, "1:c:k", "f", 1, 1_010).await.unwrap(),
            Decision::InFlight
        );
        // Past it: the retry takes over the same ids.
        let later = 1_000 + IN_FLIGHT_SECONDS;
        assert_eq!(
            begin(&store, "1:c:k", "f", 1, later).await.unwrap(),
            Decision::TakeOver(1)
        );
        assert_eq!(
            store.insert_all(1, &[entry()], "c").await.unwrap(),
            Insert::Stored
        );
        // The slow first attempt finally writes: nothing is stored twice.
        assert_eq!(
            store.insert_all(1, &[entry()], "c").await.unwrap(),
            Insert::AlreadyStored
        );
        assert_eq!(store.rows().len(), 1);
        assert_eq!(
            begin(&store, "1:c:k", "f", 1, later + 1).await.unwrap(),
            Decision::Replay(1)
        );
        assert_eq!(
            begin(&store, "1:c:k", "g", 1, later + 1).await.unwrap(),
            Decision::Reused
        );
    }

    #[tokio::test]
    async fn an_abandoned_claim_is_taken_over_at_once_with_its_ids() {
        let store = MemoryStore::default();
        assert_eq!(
            begin(&store, "1:c:k", "f", 2, 1_000).await.unwrap(),
            Decision::Proceed(1)
        );
        abandon(&store, "1:c:k", 1_000).await.unwrap();
        assert_eq!(
            begin(&store, "1:c:k", "f", 2, 1_001).await.unwrap(),
            Decision::TakeOver(1)
        );
        // The retry's claim stands: abandoning the old one again changes nothing.
        abandon(&store, "1:c:k", 1_000).await.unwrap();
        assert_eq!(
            begin(&store, "1:c:k", "f", 2, 1_002).await.unwrap(),
            Decision::InFlight
        );
    }

    #[tokio::test]
    async fn a_recorded_key_reserves_no_ids() {
        let store = MemoryStore::default();
        assert_eq!(
            begin(&store, "1:c:a", "f", 2, 1_000).await.unwrap(),
            Decision::Proceed(1)
        );
        assert_eq!(
            begin(&store, "1:c:a", "f", 2, 1_001).await.unwrap(),
            Decision::InFlight
        );
        store.insert_all(1, &[entry(), entry()], "c").await.unwrap();
        assert_eq!(
            begin(&store, "1:c:a", "f", 2, 1_002).await.unwrap(),
            Decision::Replay(1)
        );
        assert_eq!(
            begin(&store, "1:c:a", "g", 2, 1_003).await.unwrap(),
            Decision::Reused
        );
        // The next new key continues right after the first two ids.
        assert_eq!(
            begin(&store, "1:c:b", "f", 1, 1_004).await.unwrap(),
            Decision::Proceed(3)
        );
    }

    #[tokio::test]
    async fn expired_keys_start_afresh() {
        let store = MemoryStore::default();
        begin(&store, "1:c:k", "f", 1, 1_000).await.unwrap();
        store.insert_all(1, &[entry()], "c").await.unwrap();
        let after_expiry = 1_000 + RETENTION_SECONDS + 1;
        let decision = begin(&store, "1:c:k", "f", 1, after_expiry).await.unwrap();
        assert!(matches!(decision, Decision::Proceed(id) if id > 1));
    }
}
