//! Where timesheets are kept: a port the handler depends on, with a DynamoDB adapter for
//! Lambda and an in-memory one for unit tests.

pub mod dynamodb;
pub mod memory;

use std::future::Future;

use timesheets::TimesheetEntry;

/// A timesheet as stored: the entry, its id and the client that uploaded it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTimesheet {
    /// Unique id from the store's atomic counter.
    pub id: u64,
    /// The validated entry.
    pub entry: TimesheetEntry,
    /// The uploading client (`azp`/`client_id`/`sub` of its access token).
    pub client_id: String,
}

/// The store failed; the API answers `503` and the caller may retry.
#[derive(Debug, thiserror::Error)]
#[error("timesheet store failed: {0}")]
pub struct StoreError(pub String);

/// Timesheet persistence.
pub trait TimesheetStore: Send + Sync {
    /// Stores `entry` for `client_id` under a new unique id and returns that id.
    ///
    /// # Errors
    /// [`StoreError`] when the backing store fails; nothing is stored then, though an id may
    /// have been consumed (ids are unique, not gap-free).
    fn create(
        &self,
        entry: &TimesheetEntry,
        client_id: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
