//! Which failures are worth repeating, and the server's `Retry-After`.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use timesheets::http_client::FetchError;

/// Whether a failed call may succeed if repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Repeating cannot help: a 4xx other than 429, a malformed answer, no time left.
    Permanent,
    /// Repeat later, and not before `retry_after` when the server said so.
    Transient {
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
}

impl Verdict {
    /// Whether the call is worth repeating.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

/// A call's error that knows whether repeating the call may help.
pub trait Classify {
    /// This failure's [`Verdict`].
    fn verdict(&self) -> Verdict;
}

/// The verdict for an HTTP error `status` with the body's `error` code, if any.
///
/// Transient: 429 and every 5xx, whatever the body's `error` code. Every other status is
/// permanent.
pub fn status_verdict(status: u16, retry_after: Option<Duration>) -> Verdict {
    if status == 429 || (500..=599).contains(&status) {
        Verdict::Transient { retry_after }
    } else {
        Verdict::Permanent
    }
}

/// The verdict for a failure to reach a server or read its answer: timeouts, refused or reset
/// connections and bodies that break off are transient; an oversized or non-JSON answer and a
/// request that could not even be built are permanent.
pub fn transport_verdict(error: &FetchError) -> Verdict {
    match error {
        FetchError::Transport(error) if !error.is_builder() => {
            Verdict::Transient { retry_after: None }
        }
        _ => Verdict::Permanent,
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date measured from `now`
/// (a date in the past means no wait). `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

/// Parses one `Retry-After` value; see [`retry_after`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retried_statuses() {
        for status in [429, 500, 502, 503, 504] {
            assert!(status_verdict(status, None).is_transient(), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 413, 415, 422] {
            assert_eq!(status_verdict(status, None), Verdict::Permanent, "{status}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
    }
}
