//! Retries of calls to the token endpoint and the API.
//!
//! - What is retried ([`classify`]): 429 and 5xx answers (RFC 9110 §15.6, RFC 6585 §4),
//!   timeouts and connection failures. Nothing else: a 4xx will not change by repeating it
//!   (the API has no "key still in flight" answer: an upload and its key's record are one
//!   transaction, docs/http-api.md).
//! - How long to wait ([`backoff`]): exponential backoff with full jitter (AWS Architecture
//!   Blog, "Exponential Backoff And Jitter", 2015): the n-th wait is drawn uniformly from
//!   `[0, min(max_delay, first_delay * 2^(n-1))]`; never less than the server's `Retry-After`.
//! - When to stop ([`budget`]): after [`RetryPolicy::max_attempts`], or earlier when the next
//!   attempt could not finish before the invocation's deadline less
//!   [`RetryPolicy::deadline_margin`].
//!
//! The schedule of caps comes from `backon` (`ExponentialBuilder` without its own jitter, which
//! adds up to 100 % on top of the cap instead of drawing below it); the loop is `backon::Retryable`.

pub mod backoff;
pub mod budget;
pub mod classify;

pub use backoff::{FullJitter, RetryPolicy};
pub use budget::{Attempted, Budget, Deadline, GaveUp, OutOfTime};
pub use classify::{
    Classify, Verdict, parse_retry_after, retry_after, status_verdict, transport_verdict,
};
