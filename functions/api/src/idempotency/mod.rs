//! What a repeated `Idempotency-Key` means (IETF draft "The Idempotency-Key HTTP Header
//! Field", draft-ietf-httpapi-idempotency-key-header): same key and body → the first answer
//! again, nothing stored twice; same key, other body → `422`. The key's record is written in
//! the same transaction as the timesheets, so there is no request "still running" to answer
//! `409`: a concurrent twin either sees the committed record (a replay) or conflicts with the
//! transaction (`503`, retried). The header's own syntax is [`header`].

pub mod header;

use aws_lc_rs::digest::{SHA256, digest};

use timesheets::TimesheetEntry;

use crate::store::{
    IdempotencyRecord, ProofRecord, StoreError, TimesheetStore, UploadWrite, Written,
};

/// How long a key is remembered, in seconds (the draft suggests at least 24 h).
pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;
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

/// A stored upload: its first id and whether this answer repeats an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// The first of the upload's consecutive ids.
    pub first_id: u64,
    /// The answer of an earlier request with the same key (`Idempotent-Replayed: true`).
    pub replayed: bool,
}

/// Why an upload was not stored.
#[derive(Debug)]
pub enum Refused {
    /// The key was used with another body: `422`.
    Reused,
    /// The DPoP proof was seen before (RFC 9449 §11.1).
    ProofReplayed,
    /// The store failed: `503`.
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// What one upload asks to store: its entries, the client, its `Idempotency-Key` and body
/// bytes, and its DPoP proof's replay record.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The validated entries.
    pub entries: &'a [TimesheetEntry],
    /// The verified client.
    pub client_id: &'a str,
    /// The `Idempotency-Key`, if sent.
    pub key: Option<&'a str>,
    /// The body as sent: its fingerprint is compared with a repeated key's.
    pub body: &'a [u8],
    /// The DPoP proof, when the token is DPoP-bound.
    pub proof: Option<&'a ProofRecord>,
}

/// Stores `request` at Unix time `now` in one write (its timesheets, its key's record, its
/// proof), or answers it from the key's record: same body → the first answer again, nothing
/// stored twice; other body → [`Refused::Reused`]. Ids reserved for a request answered from a
/// record go back to the sandbox, so replays and `422`s leave no gap.
///
/// # Errors
/// [`Refused`]; nothing was stored.
pub async fn store<S: TimesheetStore>(
    store: &S,
    request: Request<'_>,
    now: i64,
) -> Result<Stored, Refused> {
    let count = request.entries.len() as u64;
    let first_id = store.reserve_ids(count).await?;
    let record = request.key.map(|key| IdempotencyRecord {
        scope_key: scope_key(request.client_id, key),
        fingerprint: fingerprint(request.body),
        first_id,
        count,
        expires_at: now + RETENTION_SECONDS,
    });
    let write = UploadWrite {
        entries: request.entries,
        first_id,
        client_id: request.client_id,
        record: record.as_ref(),
        proof: request.proof,
        now,
    };
    match store.write(&write).await? {
        Written::Stored => Ok(Stored {
            first_id,
            replayed: false,
        }),
        Written::ProofReplayed => {
            store.give_back_ids(first_id, count);
            Err(Refused::ProofReplayed)
        }
        // Freshly reserved ids taken: answering 201 would lose the entries; the retry stores
        // under later ids (these are not given back: someone has them).
        Written::IdsTaken => Err(StoreError::IdsTaken { first_id }.into()),
        Written::KeyRecorded(existing) => {
            store.give_back_ids(first_id, count);
            let same = record.as_ref().is_some_and(|sent| {
                sent.fingerprint == existing.fingerprint && sent.count == existing.count
            });
            replay(store, &existing, same, request.proof).await
        }
    }
}

/// The answer of a request whose key `existing` holds, `same` request or not.
async fn replay<S: TimesheetStore>(
    store: &S,
    existing: &IdempotencyRecord,
    same: bool,
    proof: Option<&ProofRecord>,
) -> Result<Stored, Refused> {
    if !same {
        return Err(Refused::Reused);
    }
    // The proof was cancelled with the write: recorded now, so it cannot be replayed.
    if let Some(proof) = proof
        && !store.record_proof(proof).await?
    {
        return Err(Refused::ProofReplayed);
    }
    Ok(Stored {
        first_id: existing.first_id,
        replayed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    fn entries(count: usize) -> Vec<TimesheetEntry> {
        vec![TimesheetEntry::sample(); count]
    }

    fn request<'a>(
        entries: &'a [TimesheetEntry],
        key: Option<&'a str>,
        body: &'a [u8],
        proof: Option<&'a ProofRecord>,
    ) -> Request<'a> {
        Request {
            entries,
            client_id: "c",
            key,
            body,
            proof,
        }
    }

    fn proof(id: &str) -> ProofRecord {
        ProofRecord {
            proof_id: id.to_owned(),
            expires_at: 2_000,
        }
    }

    fn outcome(stored: Result<Stored, Refused>) -> String {
        match stored {
            Ok(Stored { first_id, replayed }) => format!("{first_id} replayed={replayed}"),
            Err(refused) => format!("{refused:?}"),
        }
    }

    #[test]
    fn scope_keys_cannot_collide_across_clients() {
        assert_ne!(scope_key("a:b", "c"), scope_key("a", "b:c"));
        assert_eq!(fingerprint(b"abc").len(), 64);
        assert_ne!(fingerprint(b"abc"), fingerprint(b"abd"));
    }

    #[tokio::test]
    async fn a_repeated_key_is_answered_from_its_record_and_leaves_no_gap() {
        let memory = MemoryStore::default();
        let two = entries(2);
        let send = |key, body| store(&memory, request(&two, Some(key), body, None), 1_000);
        assert_eq!(outcome(send("k", b"f").await), "1 replayed=false");
        assert_eq!(outcome(send("k", b"f").await), "1 replayed=true");
        assert_eq!(outcome(send("k", b"g").await), "Reused");
        // The replay's and the 422's ids went back: the next key continues at 3.
        assert_eq!(outcome(send("other", b"f").await), "3 replayed=false");
        assert_eq!(memory.rows().len(), 4);
    }

    #[tokio::test]
    async fn an_expired_key_starts_afresh() {
        let memory = MemoryStore::default();
        let one = entries(1);
        let sent = request(&one, Some("k"), b"f", None);
        assert_eq!(
            outcome(store(&memory, sent, 1_000).await),
            "1 replayed=false"
        );
        let after_expiry = 1_000 + RETENTION_SECONDS + 1;
        assert_eq!(
            outcome(store(&memory, sent, after_expiry).await),
            "2 replayed=false"
        );
    }

    #[tokio::test]
    async fn a_replayed_proof_is_refused_and_stores_nothing() {
        let memory = MemoryStore::default();
        let one = entries(1);
        let first = proof("p-1");
        for (key, expected) in [(None, "1 replayed=false"), (Some("k"), "ProofReplayed")] {
            let sent = request(&one, key, b"f", Some(&first));
            assert_eq!(
                outcome(store(&memory, sent, 1_000).await),
                expected,
                "{key:?}"
            );
        }
        assert_eq!(memory.rows().len(), 1);
    }

    #[tokio::test]
    async fn a_replayed_key_records_its_new_proof() {
        let memory = MemoryStore::default();
        let one = entries(1);
        let (first, second) = (proof("p-1"), proof("p-2"));
        let send = |proof| store(&memory, request(&one, Some("k"), b"f", Some(proof)), 1_000);
        assert_eq!(outcome(send(&first).await), "1 replayed=false");
        assert_eq!(outcome(send(&second).await), "1 replayed=true");
        assert_eq!(outcome(send(&second).await), "ProofReplayed");
        assert_eq!(memory.rows().len(), 1);
    }
}
