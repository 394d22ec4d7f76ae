//! The `Retry-After` header's value (RFC 9110 §10.2.3), read by the HTTP
//! integrations (features `reqwest` and `tower`) and the AWS SDK's
//! classification (feature `aws`); public as
//! `retry_runtime::reqwest::parse_retry_after` and
//! `retry_runtime::response::parse_retry_after`.

use std::time::{Duration, SystemTime};

use crate::log;

/// The longest `Retry-After` believed: a longer one (years, say) is a
/// server's mistake, ignored with a DEBUG line, so the policy's backoff
/// applies. Shorter hints are still capped by the policy's
/// [`RetryAfter::cap`](crate::RetryAfter::cap) (60s by default).
///
/// ```
/// # #[cfg(feature = "reqwest")]
/// assert_eq!(retry_runtime::reqwest::MAX_RETRY_AFTER.as_secs(), 86_400);
/// ```
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Parse a `Retry-After` value (RFC 9110 §10.2.3): either delay-seconds
/// (`120`) or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`; the obsolete
/// RFC 850 and asctime forms are read too), the latter taken relative to
/// `now` (pass `SystemTime::now()`).
///
/// - A date in the past (or `now` itself) is a wait of zero, never negative.
/// - Surrounding whitespace is ignored. A value that is neither form
///   (negative, fractional, empty, not UTF-8, a number too large for `u64`)
///   is `None`: no hint, so the policy's backoff applies.
///
/// Takes a `&HeaderValue`, a `&str` or bytes.
///
/// ```
/// # #[cfg(feature = "reqwest")] {
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use retry_runtime::reqwest::parse_retry_after;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO)); // past
/// assert_eq!(parse_retry_after("soon", now), None);
/// let header = reqwest::header::HeaderValue::from_static("3");
/// assert_eq!(parse_retry_after(&header, now), Some(Duration::from_secs(3)));
/// # }
/// ```
pub fn parse_retry_after(value: impl AsRef<[u8]>, now: SystemTime) -> Option<Duration> {
    let text = core::str::from_utf8(value.as_ref()).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A `Retry-After` value as a hint the run may act on: [`parse_retry_after`]
/// relative to `now`, or `None`, with a DEBUG line, for a value that cannot
/// be read or that asks for more than [`MAX_RETRY_AFTER`]. (Out of line: a
/// header is read on a failure, never on the success path.)
#[inline(never)]
pub(crate) fn read(value: &[u8], now: SystemTime) -> Option<Duration> {
    let shown = || String::from_utf8_lossy(value);
    match parse_retry_after(value, now) {
        None => {
            log::retry_after_ignored(
                "Retry-After",
                &shown(),
                "it is neither delay-seconds nor an HTTP-date",
            );
            None
        }
        Some(wait) if wait > MAX_RETRY_AFTER => {
            log::retry_after_ignored("Retry-After", &shown(), "it asks for more than a day");
            None
        }
        Some(wait) => Some(wait),
    }
}
