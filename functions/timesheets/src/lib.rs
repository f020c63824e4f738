//! What the API function and the scheduled job share: the timesheet entry and its validation,
//! the API's answer, configuration from the environment, issuer discovery and the HTTP client.

pub mod config;
pub mod discovery;
pub mod entry;
pub mod http_client;
pub mod message;
pub mod strict_json;
pub mod telemetry;

pub use entry::{EntryError, TimesheetEntry};
pub use message::{
    CreatedBatch, CreatedTimesheet, ErrorBody, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER,
    MAX_BATCH_ENTRIES,
};
