//! What the API function and the scheduled job share: the timesheet entry and its validation,
//! the API's answer, configuration from the environment, issuer discovery, and the one HTTP client (TLS
//! configuration, AWS SDK transport).

pub mod config;
pub mod entry;
pub mod http_client;
pub mod message;
pub mod sdk_http;
pub mod telemetry;
pub mod tls;

pub use jwt_access_token::{discovery, strict_json};

pub use entry::{EntryError, TimesheetEntry};
pub use message::{
    CreatedBatch, CreatedTimesheet, ErrorBody, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER,
    MAX_BATCH_ENTRIES,
};
