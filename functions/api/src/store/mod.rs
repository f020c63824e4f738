//! Where timesheets and idempotency records are kept: a port the handler depends on, with a
//! DynamoDB adapter for Lambda and an in-memory one for unit tests. The policy built on these
//! primitives (what a repeated key means) lives in the `idempotency` module.

pub mod dynamodb;
pub mod id_blocks;
pub mod memory;

use std::error::Error;
use std::future::Future;

use aws_sdk_dynamodb::error::DisplayErrorContext;

use timesheets::TimesheetEntry;

/// A timesheet as stored: the entry, its id and the client that uploaded it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTimesheet {
    /// Unique id, from a block reserved on the store's atomic counter ([`id_blocks`]).
    pub id: u64,
    /// The validated entry.
    pub entry: TimesheetEntry,
    /// The uploading client (`azp`/`client_id`/`sub` of its access token).
    pub client_id: String,
}

/// The outcome of a request with an idempotency key, kept 24 hours.
///
/// The ids are reserved before the record is written, so every attempt for the same key stores
/// under the same ids (until a failed write frees the key) and the conditional writes make a
/// second store impossible. A key already recorded reserves nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The key, scoped to the client: `<client>` and `<key>` joined unambiguously.
    pub scope_key: String,
    /// SHA-256 (hex) of the request body.
    pub fingerprint: String,
    /// First of the `count` consecutive ids of this request's timesheets.
    pub first_id: u64,
    /// How many timesheets the request stores.
    pub count: u64,
    /// When the current attempt started, Unix seconds.
    pub claimed_at: i64,
    /// When the record may be forgotten, Unix seconds (the table's TTL attribute `expires_at`).
    pub expires_at: i64,
}

/// What [`TimesheetStore::claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The record was written: this request owns the key.
    Claimed,
    /// A live record for the key already exists.
    Exists(IdempotencyRecord),
}

/// What [`TimesheetStore::insert_all`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Every timesheet was written.
    Stored,
    /// An id was already taken, normally by an earlier attempt of the same request; nothing
    /// written.
    AlreadyStored,
}

/// Why the store failed; the API answers `503` and the caller may retry.
///
/// The messages carry the underlying error's own text (for the SDK, with its error context),
/// since the log line that reports a store failure prints only this error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A DynamoDB request failed: throttled, timed out, refused, or the service errored.
    #[error("timesheet store failed: {operation}: {}", DisplayErrorContext(&**source))]
    Unavailable {
        /// The DynamoDB operation, e.g. `TransactWriteItems`.
        operation: &'static str,
        /// The SDK's error.
        source: Box<dyn Error + Send + Sync>,
    },
    /// A request to DynamoDB could not be built; nothing was sent.
    #[error("timesheet store failed: {operation} request not built: {source}")]
    Build {
        /// The DynamoDB operation, e.g. `TransactWriteItems`.
        operation: &'static str,
        /// What could not be built.
        source: Box<dyn Error + Send + Sync>,
    },
    /// A stored item is not what this API writes: an attribute it reads is missing or not of
    /// its type (an id counter without a number, an idempotency record without its
    /// fingerprint). Read as empty it would be a wrong answer, so it fails like the others.
    #[error("timesheet store failed: {item} has no readable {attribute}")]
    Unreadable {
        /// Which item, e.g. `an idempotency record`.
        item: &'static str,
        /// The attribute, e.g. `fingerprint`.
        attribute: &'static str,
    },
    /// Freshly reserved ids are already taken: the id counter is behind the stored
    /// timesheets (rows written outside the API, say). Answering `201` would lose the entries;
    /// a retry reserves new ids past the taken ones.
    #[error(
        "timesheet store failed: timesheet {first_id} already exists: the id counter is behind the stored timesheets"
    )]
    IdsTaken {
        /// The first id of the reservation.
        first_id: u64,
    },
    /// An idempotency record was deleted between the failed conditional write and the read
    /// of what made it fail (another request released the key); a retry meets a settled key.
    #[error("timesheet store failed: idempotency record changed concurrently")]
    RecordChanged,
}

/// Timesheet and idempotency-record persistence.
pub trait TimesheetStore: Send + Sync {
    /// Reserves `count` consecutive new ids and returns the first. Unique across instances,
    /// not gap-free and, across instances, not in time order ([`id_blocks`]).
    fn reserve_ids(&self, count: u64) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores `entries` under ids `first_id..first_id + len`, all or nothing.
    fn insert_all(
        &self,
        first_id: u64,
        entries: &[TimesheetEntry],
        client_id: &str,
    ) -> impl Future<Output = Result<Insert, StoreError>> + Send;

    /// Whether timesheet `id` is stored (strongly consistent).
    fn is_stored(&self, id: u64) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The record of `scope_key`, expired or not (strongly consistent).
    fn find_record(
        &self,
        scope_key: &str,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>, StoreError>> + Send;

    /// Writes `record` unless a live record (not expired at `now`) has its key.
    fn claim(
        &self,
        record: &IdempotencyRecord,
        now: i64,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Moves a stale claim to `claimed_at`, only if it still has `previous_claimed_at`.
    /// Returns whether this caller won it.
    fn take_over(
        &self,
        scope_key: &str,
        previous_claimed_at: i64,
        claimed_at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the record of a request that failed before storing, so a retry starts afresh.
    fn release(&self, scope_key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the DPoP proof `proof_id` until `expires_at` (Unix seconds) unless it is
    /// recorded already: `true` the first time, `false` for a replay (RFC 9449 §11.1), across
    /// every sandbox.
    fn record_proof(
        &self,
        proof_id: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
