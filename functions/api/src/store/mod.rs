//! Where timesheets, idempotency records and DPoP replay records are kept: a port the handler
//! depends on, whose write is one transaction per upload, with a DynamoDB adapter for Lambda
//! and an in-memory one for unit tests. What a repeated key means lives in the `idempotency`
//! module.

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

/// The outcome of a request with an idempotency key, kept 24 hours, written in the same
/// transaction as the request's timesheets: a record always names stored timesheets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The key, scoped to the client: `<client>` and `<key>` joined unambiguously.
    pub scope_key: String,
    /// SHA-256 (hex) of the request body.
    pub fingerprint: String,
    /// First of the `count` consecutive ids of this request's timesheets.
    pub first_id: u64,
    /// How many timesheets the request stored.
    pub count: u64,
    /// When the record may be forgotten, Unix seconds (the table's TTL attribute `expires_at`).
    pub expires_at: i64,
}

/// A DPoP proof's replay record (RFC 9449 §11.1), as the verifier hands it over, written
/// with the upload's own transaction.
pub use jwt_access_token::ProofRecord;

/// Everything one upload writes, committed together or not at all.
#[derive(Debug, Clone, Copy)]
pub struct UploadWrite<'a> {
    /// The timesheets, stored under `first_id..first_id + entries.len()`.
    pub entries: &'a [TimesheetEntry],
    /// Their first id, from [`TimesheetStore::reserve_ids`].
    pub first_id: u64,
    /// The uploading client.
    pub client_id: &'a str,
    /// The key's record, when the request carries an `Idempotency-Key`: written unless a live
    /// record (not expired at `now`) holds the key.
    pub record: Option<&'a IdempotencyRecord>,
    /// The request's DPoP proof: written unless it was seen before.
    pub proof: Option<&'a ProofRecord>,
    /// Unix seconds.
    pub now: i64,
}

/// What [`TimesheetStore::write`] did. Every outcome but `Stored` wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Every item was written.
    Stored,
    /// The DPoP proof was seen before: a replay (RFC 9449 §11.1).
    ProofReplayed,
    /// A live record holds the key: this record, as stored.
    KeyRecorded(IdempotencyRecord),
    /// An id was already taken (the id counter behind the stored timesheets).
    IdsTaken,
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
}

/// Timesheet persistence: ids, then one write per upload with its idempotency record and DPoP
/// replay record, all or nothing.
pub trait TimesheetStore: Send + Sync {
    /// Reserves `count` consecutive new ids and returns the first. Unique across instances,
    /// not gap-free and, across instances, not in time order ([`id_blocks`]).
    fn reserve_ids(&self, count: u64) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Takes back `count` ids from `first_id`, reserved and not written (their upload was
    /// answered from an earlier one), to hand them out again.
    fn give_back_ids(&self, first_id: u64, count: u64);

    /// Writes `write`'s timesheets, record and proof in one transaction, all or nothing; an
    /// item that fails its condition cancels it and says why ([`Written`]).
    fn write(
        &self,
        write: &UploadWrite<'_>,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;

    /// Records DPoP proof `proof` unless it is recorded already: `true` the first time,
    /// `false` for a replay (RFC 9449 §11.1), across every sandbox. For a request answered
    /// from an earlier upload's record, whose write was cancelled with its proof.
    fn record_proof(
        &self,
        proof: &ProofRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
