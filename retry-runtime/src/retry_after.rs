//! The `Retry-After` header's value (RFC 9110 §10.2.3), for a client of
//! any HTTP stack (features `http` or `aws`): [`retry_after_hint`] reads
//! an `http` 1 response's headers (hyper's, ureq 3's) into a wait,
//! [`parse_retry_after`] a header's value (awc's, on http 0.2, hyper
//! 0.14's, your own), [`MAX_RETRY_AFTER`] is the longest believed. The
//! tower layer and the reqwest integrations read it themselves (and
//! re-export these, as `response::` and `reqwest::`); this is for a
//! response of another client, whose error type carries the hint for
//! `Classify::retry_after`:
//!
//! ```
//! # #[cfg(feature = "http")] {
//! use std::time::{Duration, SystemTime};
//! use retry_runtime::{classify::classify_status, retry_after::parse_retry_after, Classify, ErrorKind};
//!
//! #[derive(Debug)]
//! struct Status { code: u16, retry_after: Option<Duration> }
//!
//! impl Classify for Status {
//!     fn kind(&self) -> ErrorKind { classify_status(self.code) }
//!     fn retry_after(&self) -> Option<Duration> { self.retry_after }
//! }
//!
//! // where the response is turned into the error (the header's bytes or text)
//! let header: Option<&[u8]> = Some(b"2");
//! let e = Status { code: 503, retry_after: header.and_then(|v| parse_retry_after(v, SystemTime::now())) };
//! assert_eq!((e.kind(), e.retry_after()), (ErrorKind::Unavailable, Some(Duration::from_secs(2))));
//! # }
//! ```
//!
//! Inside, the HTTP integrations read `retry-after-ms` first, the wait in
//! milliseconds that OpenAI's and Azure OpenAI's APIs send beside
//! `Retry-After`, then Azure's own `x-ms-retry-after-ms` (neither is a
//! standard header, but each is more precise than `Retry-After` where
//! both are sent; Azure's SDKs read the three in this order, each
//! unreadable one passed over for the next).

use std::time::{Duration, SystemTime};

#[cfg(any(feature = "http", feature = "aws"))]
use crate::log;

/// The longest `Retry-After` believed: a longer one (years, say) is a
/// server's mistake, ignored with a DEBUG line, so the policy's backoff
/// applies. Shorter hints are still capped by the policy's
/// [`RetryAfter::cap`](crate::RetryAfter::cap) (60s by default).
///
/// ```
/// # #[cfg(feature = "http")]
/// assert_eq!(retry_runtime::retry_after::MAX_RETRY_AFTER.as_secs(), 86_400);
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
/// - A wait beyond [`MAX_RETRY_AFTER`] (a year, a date in 9999) is `None`
///   too: a server's mistake, not a hint to sleep on.
///
/// Takes a `&HeaderValue`, a `&str` or bytes. For an `http` 1 response
/// (hyper's, ureq 3's, reqwest's), [`retry_after_hint`] reads its headers
/// whole: the millisecond headers too, and a DEBUG line for a value it
/// ignores.
///
/// ```
/// # #[cfg(feature = "reqwest")] {
/// use std::time::{Duration, UNIX_EPOCH};
/// use retry_runtime::retry_after::parse_retry_after;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO)); // past
/// assert_eq!(parse_retry_after("soon", now), None);
/// assert_eq!(parse_retry_after("31536000", now), None); // a year: beyond MAX_RETRY_AFTER
/// let header = reqwest::header::HeaderValue::from_static("3");
/// assert_eq!(parse_retry_after(&header, now), Some(Duration::from_secs(3)));
/// # }
/// ```
pub fn parse_retry_after(value: impl AsRef<[u8]>, now: SystemTime) -> Option<Duration> {
    parse_any(value.as_ref(), now).filter(|&wait| wait <= MAX_RETRY_AFTER)
}

/// [`parse_retry_after`] of any size (so that [`read`] can say why it
/// ignores a value): delay-seconds past `u64` read as `Duration::MAX`,
/// absurd rather than unreadable.
fn parse_any(value: &[u8], now: SystemTime) -> Option<Duration> {
    let text = core::str::from_utf8(value).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // (digits only: an error is an overflow)
        return Some(
            text.parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The value of a `retry-after-ms` header: a non-negative number of
/// milliseconds, a fraction allowed (`"1500"`, `"20.5"`); `None` for
/// anything else. A number past `Duration`'s range is `Duration::MAX`
/// (absurd, not unreadable: its DEBUG line says so).
#[cfg(feature = "http")]
pub(crate) fn parse_millis(value: &[u8]) -> Option<Duration> {
    parse_decimal(value, 1_000_000)
}

/// A non-negative decimal number of units of `unit_nanos` nanoseconds, a
/// fraction allowed (`"1500"`, `" 20.5 "`, `"5."`): surrounding whitespace
/// ignored, no sign, no exponent; `None` for anything else. A number past
/// `Duration`'s range is `Duration::MAX`.
#[cfg(feature = "http")]
fn parse_decimal(value: &[u8], unit_nanos: u64) -> Option<Duration> {
    let text = core::str::from_utf8(value).ok()?.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    Some(scaled(whole, fraction, unit_nanos))
}

/// `whole.fraction` (ASCII digits, either may be empty) units of
/// `unit_nanos` nanoseconds, exact to the nanosecond, a finer fraction
/// cut; `Duration::MAX` past `Duration`'s range.
#[cfg(feature = "http")]
fn scaled(whole: &str, fraction: &str, unit_nanos: u64) -> Duration {
    let whole = if whole.is_empty() {
        0
    } else {
        // (digits only: an error is an overflow)
        match whole.parse::<u64>() {
            Ok(whole) => whole,
            Err(_) => return Duration::MAX,
        }
    };
    // the fraction's nanoseconds, rounded down: its digits multiplied by
    // the unit from the last one up, the first one's carry being the
    // whole nanoseconds (exact for any number of digits; each carry is
    // below the unit, so no step overflows)
    let fraction = fraction.bytes().rev().fold(0u64, |carry, b| {
        (u64::from(b - b'0') * unit_nanos + carry) / 10
    });
    let nanos = u128::from(whole) * u128::from(unit_nanos) + u128::from(fraction);
    match u64::try_from(nanos / 1_000_000_000) {
        Ok(secs) => Duration::new(secs, (nanos % 1_000_000_000) as u32),
        Err(_) => Duration::MAX,
    }
}

/// The wait a response's headers ask for: `retry-after-ms`, else Azure's
/// `x-ms-retry-after-ms`, when it is there and can be read (a value beyond
/// [`MAX_RETRY_AFTER`] is ignored), else `Retry-After` ([`read`]); an
/// unreadable or absurd value is ignored with a DEBUG line naming its
/// header. `now` is asked only when one of the headers is there.
#[cfg(feature = "http")]
#[inline]
pub(crate) fn from_headers<'a>(
    headers: &'a http::HeaderMap,
    now: impl FnOnce() -> SystemTime,
) -> Option<Duration> {
    let millis = headers.get(&RETRY_AFTER_MS);
    let x_ms = headers.get(&X_MS_RETRY_AFTER_MS);
    let seconds = headers.get(http::header::RETRY_AFTER);
    if millis.is_none() && x_ms.is_none() && seconds.is_none() {
        return None; // the usual failure: no call, no clock read
    }
    let named = |name, v: Option<&'a http::HeaderValue>| v.map(|v| (name, v.as_bytes()));
    read_headers(
        [
            named("retry-after-ms", millis),
            named("x-ms-retry-after-ms", x_ms),
        ],
        seconds.map(http::HeaderValue::as_bytes),
        now(),
    )
}

/// The wait the `Retry-After` header in `headers` asks for: seconds or an
/// HTTP-date (see [`parse_retry_after`]). A value that cannot be read
/// (negative, fractional, garbage) or that is absurd (beyond
/// [`MAX_RETRY_AFTER`]) is ignored with a DEBUG line on the
/// `retry_runtime` target: no hint, so the policy's backoff applies. A
/// `retry-after-ms` header (the wait in milliseconds, which OpenAI's and
/// Azure OpenAI's APIs send beside `Retry-After`), else Azure's
/// `x-ms-retry-after-ms`, comes first when it can be read. A header sent
/// twice is read by its first value (a gRPC pushback sent twice, by
/// contrast, stops the retries, as grpc-go has it). For any client
/// on `http` 1 (feature `http`: hyper, ureq 3, a sync client with no async
/// runtime), to put in the error its `Classify::retry_after` returns. It
/// reads the headers of any response; what the tower layer and the reqwest
/// integrations read, by status (a 429's spent rate limit window too), is
/// [`response_hint`], to pair with
/// [`classify_status_and_hint`](crate::classify::classify_status_and_hint)
/// (a 403 with a wait is a rate limit's).
///
/// ```
/// use std::time::Duration;
/// use http::{header::RETRY_AFTER, HeaderMap};
/// use retry_runtime::retry_after::retry_after_hint;
/// let mut h = HeaderMap::new();
/// h.insert(RETRY_AFTER, "3".parse().unwrap());
/// assert_eq!(retry_after_hint(&h), Some(Duration::from_secs(3)));
/// for bad in ["-1", "soon", "31536000"] { // negative, garbage, a year
///     h.insert(RETRY_AFTER, bad.parse().unwrap());
///     assert_eq!(retry_after_hint(&h), None, "{bad}");
/// }
/// h.insert("retry-after-ms", "20.5".parse().unwrap()); // OpenAI's, in ms
/// assert_eq!(retry_after_hint(&h), Some(Duration::from_micros(20_500)));
/// ```
#[cfg(feature = "http")]
#[inline]
pub fn retry_after_hint(headers: &http::HeaderMap) -> Option<Duration> {
    from_headers(headers, SystemTime::now)
}

/// The wait a failed response with status `code` asks for, as the tower
/// layer, the reqwest middleware and `HttpError` read it: its
/// `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` (as
/// [`retry_after_hint`] reads them) on a 429, on a 403 (GitHub's secondary
/// rate limit: such a 403 is RateLimited, see
/// [`classify_status_and_hint`](crate::classify::classify_status_and_hint))
/// and beside a `Retry-After`; on a 429 that names none of them that can
/// be read (an unreadable or absurd one is passed over, with its DEBUG
/// line), a spent rate limit window: `x-ratelimit-remaining: 0` and
/// `x-ratelimit-reset` (the second since the Unix epoch when it starts
/// again, GitHub's and Discord's, a fraction allowed; a small value is
/// seconds from now), until then, else OpenAI's spent windows, `x-ratelimit-remaining-requests:
/// 0` or `x-ratelimit-remaining-tokens: 0` with its
/// `x-ratelimit-reset-requests` or `-tokens` (a duration as Go writes
/// one, `6m0s`, `1.5s`, `20ms`; the longest of those spent). A 403 is not judged by the window: an API that sends the
/// window on every response (Discord) may answer a request that spent its
/// last slot with a 403 of its own (missing permissions), which no wait
/// fixes ([`window_hint`] reads a window whatever the status). For a
/// client of your own, beside `classify_status_and_hint`.
///
/// ```
/// use std::time::Duration;
/// use http::HeaderMap;
/// use retry_runtime::{classify::classify_status_and_hint, retry_after::response_hint, ErrorKind};
/// let mut h = HeaderMap::new();
/// h.insert("x-ratelimit-remaining", "0".parse().unwrap());
/// h.insert("x-ratelimit-reset", "30".parse().unwrap());
/// assert_eq!(response_hint(429, &h), Some(Duration::from_secs(30)));
/// assert_eq!(response_hint(403, &h), None); // a 403 of its own, the window spent
/// assert_eq!(classify_status_and_hint(403, response_hint(403, &h)), ErrorKind::Permanent);
/// h.insert("retry-after", "60".parse().unwrap()); // GitHub's secondary rate limit
/// assert_eq!(classify_status_and_hint(403, response_hint(403, &h)), ErrorKind::RateLimited);
///
/// let mut openai = HeaderMap::new(); // OpenAI's 429 without a Retry-After
/// openai.insert("x-ratelimit-remaining-requests", "0".parse().unwrap());
/// openai.insert("x-ratelimit-reset-requests", "1m30s".parse().unwrap());
/// assert_eq!(response_hint(429, &openai), Some(Duration::from_secs(90)));
/// ```
#[cfg(feature = "http")]
#[inline]
pub fn response_hint(code: u16, headers: &http::HeaderMap) -> Option<Duration> {
    failure_hint(code, headers, SystemTime::now)
}

/// The wait until a spent rate limit window starts again, whatever the
/// status: `x-ratelimit-remaining: 0` with `x-ratelimit-reset` (GitHub's,
/// Discord's; read as [`response_hint`] reads it on a 429), else OpenAI's
/// spent windows (`x-ratelimit-remaining-requests: 0` with
/// `x-ratelimit-reset-requests`, the same for `-tokens`, the longer wait);
/// `None` when no window is spent. Only the windows: a `Retry-After` is
/// [`retry_after_hint`]'s. [`response_hint`] reads a window on a 429
/// alone, as a 403 with a spent window may be a 403 of its own (Discord's
/// missing permissions on a route's last request); for an API whose 403
/// with a spent window is its rate limit (GitHub's primary limit), read it
/// here in a `Classify` or `with_classify_response` of yours, as
/// docs/classification.md shows. A reset already past on this machine's
/// clock (a server's clock behind it) is a wait of zero: a
/// [`RetryAfter::with_floor`](crate::RetryAfter::with_floor) keeps a wait.
///
/// ```
/// use std::time::Duration;
/// use http::HeaderMap;
/// use retry_runtime::retry_after::window_hint;
/// let mut h = HeaderMap::new(); // GitHub's primary limit, answered 403
/// h.insert("x-ratelimit-remaining", "0".parse().unwrap());
/// h.insert("x-ratelimit-reset", "30".parse().unwrap()); // (GitHub sends a Unix second; this small one, seconds from now)
/// assert_eq!(window_hint(&h), Some(Duration::from_secs(30)));
/// h.insert("x-ratelimit-remaining", "4999".parse().unwrap()); // a permission 403
/// assert_eq!(window_hint(&h), None);
/// ```
#[cfg(feature = "http")]
pub fn window_hint(headers: &http::HeaderMap) -> Option<Duration> {
    window_reset(headers, SystemTime::now).or_else(|| openai_reset(headers))
}

/// [`response_hint`] with the clock given. The headers outside the
/// standard's are looked up only on a 429, a 403 or beside a
/// `Retry-After` (a name of theirs is hashed at each lookup, and the
/// usual failure, a 5xx without a hint, pays for one lookup).
#[cfg(feature = "http")]
#[inline]
pub(crate) fn failure_hint(
    code: u16,
    headers: &http::HeaderMap,
    now: impl Fn() -> SystemTime,
) -> Option<Duration> {
    if code == 429 || code == 403 || headers.contains_key(http::header::RETRY_AFTER) {
        failure_hint_of(code, headers, now)
    } else {
        None
    }
}

/// [`failure_hint`]'s reading, out of line: a response with a hint is rare.
#[cfg(feature = "http")]
#[cold]
#[inline(never)]
fn failure_hint_of(
    code: u16,
    headers: &http::HeaderMap,
    now: impl Fn() -> SystemTime,
) -> Option<Duration> {
    match from_headers(headers, &now) {
        None if code == 429 => window_reset(headers, now).or_else(|| openai_reset(headers)),
        told => told,
    }
}

/// `retry-after-ms`, the wait in milliseconds OpenAI's and Azure OpenAI's
/// APIs send beside `Retry-After`.
#[cfg(feature = "http")]
const RETRY_AFTER_MS: http::HeaderName = http::HeaderName::from_static("retry-after-ms");

/// `x-ms-retry-after-ms`, the same in Azure's services' older spelling.
#[cfg(feature = "http")]
const X_MS_RETRY_AFTER_MS: http::HeaderName = http::HeaderName::from_static("x-ms-retry-after-ms");

/// `x-ratelimit-remaining`, the requests left in a rate limit's window
/// (GitHub's, GitLab's and others' spelling).
#[cfg(feature = "http")]
const X_RATELIMIT_REMAINING: http::HeaderName =
    http::HeaderName::from_static("x-ratelimit-remaining");

/// `x-ratelimit-reset`, when that window starts again.
#[cfg(feature = "http")]
const X_RATELIMIT_RESET: http::HeaderName = http::HeaderName::from_static("x-ratelimit-reset");

/// Values of `x-ratelimit-reset` from here on are seconds since the Unix
/// epoch (September 2001 on); smaller ones, seconds from now.
#[cfg(feature = "http")]
const EPOCH_FROM: Duration = Duration::from_secs(1_000_000_000);

/// The wait until a rate limit's window starts again, when the response
/// says no request is left in it (`x-ratelimit-remaining: 0`) and when it
/// starts again (`x-ratelimit-reset`, see [`read_reset`]); `None` for any
/// other response. Out of line: such a response is rare.
#[cfg(feature = "http")]
#[cold]
#[inline(never)]
fn window_reset(headers: &http::HeaderMap, now: impl FnOnce() -> SystemTime) -> Option<Duration> {
    let left = headers.get(&X_RATELIMIT_REMAINING)?;
    if left.as_bytes().trim_ascii() != b"0" {
        return None;
    }
    read_reset(headers.get(&X_RATELIMIT_RESET)?.as_bytes(), now())
}

/// An `x-ratelimit-reset` value as a wait from `now`: seconds since the
/// Unix epoch (GitHub's `1372700873`; Discord's with a fraction, read to
/// the nanosecond, a finer one cut), a time
/// already past being a wait of zero, or, below [`EPOCH_FROM`], seconds
/// from now (the IETF draft's `RateLimit-Reset` reading). A value that is
/// not a number of seconds, or a wait beyond [`MAX_RETRY_AFTER`], is
/// ignored with a DEBUG line, as a `Retry-After` is.
#[cfg(feature = "http")]
fn read_reset(value: &[u8], now: SystemTime) -> Option<Duration> {
    let shown = || String::from_utf8_lossy(value);
    let Some(at) = parse_decimal(value, 1_000_000_000) else {
        let why = "it is not a number of seconds";
        log::retry_after_ignored("x-ratelimit-reset", &shown(), why);
        return None;
    };
    let wait = if at < EPOCH_FROM {
        at
    } else {
        match SystemTime::UNIX_EPOCH.checked_add(at) {
            Some(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
            None => Duration::MAX,
        }
    };
    if wait > MAX_RETRY_AFTER {
        log::retry_after_ignored("x-ratelimit-reset", &shown(), "it asks for more than a day");
        return None;
    }
    Some(wait)
}

/// OpenAI's rate limits, each a pair: the requests (or tokens) left in
/// the window, and the time until it is full again.
#[cfg(feature = "http")]
const OPENAI_WINDOWS: [(&str, &str); 2] = [
    (
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
    ),
    ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
];

/// The wait until OpenAI's spent rate limits start again: for each of
/// its windows that says nothing is left (`x-ratelimit-remaining-requests:
/// 0`, `x-ratelimit-remaining-tokens: 0`), its reset
/// (`x-ratelimit-reset-requests: 6m0s`, a duration as Go writes one, see
/// [`parse_go_duration`]), the longest of them; `None` when none is spent.
/// A reset that cannot be read, or beyond [`MAX_RETRY_AFTER`], is ignored
/// with a DEBUG line. Out of line: such a response is rare.
#[cfg(feature = "http")]
#[cold]
#[inline(never)]
fn openai_reset(headers: &http::HeaderMap) -> Option<Duration> {
    let mut longest = None;
    for (remaining, reset) in OPENAI_WINDOWS {
        let spent = headers
            .get(remaining)
            .is_some_and(|v| v.as_bytes().trim_ascii() == b"0");
        let Some(value) = headers.get(reset).filter(|_| spent) else {
            continue;
        };
        let shown = || String::from_utf8_lossy(value.as_bytes());
        match parse_go_duration(value.as_bytes()) {
            Some(wait) if wait <= MAX_RETRY_AFTER => longest = longest.max(Some(wait)),
            Some(_) => log::retry_after_ignored(reset, &shown(), "it asks for more than a day"),
            None => log::retry_after_ignored(reset, &shown(), "it is not a duration"),
        }
    }
    longest
}

/// A duration as Go's `time.Duration` writes it, which OpenAI's
/// `x-ratelimit-reset-*` headers hold: numbers (a fraction allowed), each
/// with its unit, `h`, `m`, `s`, `ms`, `us` (or `µs`) or `ns`: `6m0s`,
/// `1.5s`, `20ms`, `1h2m3s`; as Go's `time.ParseDuration` reads one,
/// also a leading `+` and a bare `0`. `None` for anything else (a minus
/// sign, any other bare number, an unknown unit); a sum past `Duration`'s
/// range is `Duration::MAX` (absurd, not unreadable: its DEBUG line says
/// so).
#[cfg(feature = "http")]
fn parse_go_duration(value: &[u8]) -> Option<Duration> {
    let text = core::str::from_utf8(value).ok()?.trim();
    // Go's sign: a `+` is read, a `-` is no wait (a reset in the past)
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest == "0" {
        return Some(Duration::ZERO); // Go's one number without a unit
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let unit_nanos: u64 = match unit {
            "h" => 3_600_000_000_000,
            "m" => 60_000_000_000,
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ns" => 1,
            _ => return None,
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        // exact, in whole nanoseconds, a finer fraction cut
        total = total.saturating_add(scaled(whole, fraction, unit_nanos));
        rest = after;
    }
    Some(total)
}

/// [`from_headers`]'s reading: the first millisecond header (its name, its
/// value) that can be read, else `Retry-After`.
#[cfg(feature = "http")]
#[inline(never)]
fn read_headers(
    millis: [Option<(&'static str, &[u8])>; 2],
    retry_after: Option<&[u8]>,
    now: SystemTime,
) -> Option<Duration> {
    for (name, value) in millis.into_iter().flatten() {
        let shown = || String::from_utf8_lossy(value);
        match parse_millis(value) {
            Some(wait) if wait <= MAX_RETRY_AFTER => return Some(wait),
            Some(_) => log::retry_after_ignored(name, &shown(), "it asks for more than a day"),
            None => log::retry_after_ignored(name, &shown(), "it is not a number of milliseconds"),
        }
    }
    read(retry_after?, now)
}

/// A `Retry-After` value as a hint the run may act on: [`parse_retry_after`]
/// relative to `now`, or `None`, with a DEBUG line, for a value that cannot
/// be read or that asks for more than [`MAX_RETRY_AFTER`]. (Called on a
/// failure only, never on the success path.)
#[cfg(any(feature = "http", feature = "aws"))]
pub(crate) fn read(value: &[u8], now: SystemTime) -> Option<Duration> {
    let shown = || String::from_utf8_lossy(value);
    match parse_any(value, now) {
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

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;

    #[test]
    fn retry_after_ms_reads_milliseconds_and_fractions_only() {
        let ms = Duration::from_millis;
        assert_eq!(parse_millis(b"1500"), Some(ms(1500)));
        assert_eq!(parse_millis(b" 20.5 "), Some(Duration::from_micros(20_500)));
        assert_eq!(parse_millis(b"0"), Some(Duration::ZERO));
        assert_eq!(
            parse_millis(b"1.0000009"),
            Some(Duration::from_nanos(1_000_000))
        );
        for bad in ["", "-1", "1e3", "abc", ".5", "5.", "1.2.3"] {
            let read = parse_millis(bad.as_bytes());
            // "5." is five milliseconds: a fraction of no digits
            if bad == "5." {
                assert_eq!(read, Some(ms(5)));
            } else {
                assert_eq!(read, None, "{bad:?}");
            }
        }
        // past Duration's range: absurd, not unreadable
        assert_eq!(parse_millis(b"99999999999999999999"), Some(Duration::MAX));
    }

    /// A number too large to hold is absurd, not unreadable: its DEBUG
    /// line says it asks for more than a day (it said "it is neither
    /// delay-seconds nor an HTTP-date", "not a number of seconds" or
    /// "not a number of milliseconds" of twenty digits), as it does for a
    /// smaller number past a day.
    #[test]
    fn a_number_too_large_to_hold_is_logged_as_absurd() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let huge = "99999999999999999999";
        let mut h = http::HeaderMap::new();
        for name in ["retry-after-ms", "x-ms-retry-after-ms", "retry-after"] {
            h.insert(name, http::HeaderValue::from_static(huge));
        }
        h.insert("x-ratelimit-remaining", http::HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", http::HeaderValue::from_static(huge));
        h.insert(
            "x-ratelimit-remaining-requests",
            http::HeaderValue::from_static("0"),
        );
        h.insert(
            "x-ratelimit-reset-requests",
            http::HeaderValue::from_static("99999999999999999999h"),
        );
        let lines = crate::log::captured(|| assert_eq!(failure_hint(429, &h, || now), None));
        for name in [
            "retry-after-ms",
            "x-ms-retry-after-ms",
            "Retry-After",
            "x-ratelimit-reset",
        ] {
            let line = format!("ignoring {name} \"{huge}\": it asks for more than a day");
            assert!(lines.contains(&line), "{line}\n{lines}");
        }
        let line = "ignoring x-ratelimit-reset-requests \"99999999999999999999h\": it asks for more than a day";
        assert!(lines.contains(line), "{lines}");
        assert!(!lines.contains("not a"), "{lines}");
        assert!(!lines.contains("neither"), "{lines}");
    }

    #[test]
    fn retry_after_ms_comes_first_and_falls_back_to_retry_after() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let s = Duration::from_secs;
        let ms = |v: &'static [u8]| [Some(("retry-after-ms", v)), None];
        assert_eq!(
            read_headers(ms(b"300"), Some(b"1"), now),
            Some(Duration::from_millis(300))
        );
        assert_eq!(read_headers([None, None], Some(b"1"), now), Some(s(1)));
        // unreadable or absurd milliseconds: the seconds header decides
        assert_eq!(read_headers(ms(b"soon"), Some(b"2"), now), Some(s(2)));
        assert_eq!(read_headers(ms(b"864000000"), Some(b"2"), now), Some(s(2))); // ten days
        assert_eq!(read_headers(ms(b"soon"), None, now), None);
        assert_eq!(read_headers([None, None], None, now), None);
    }

    /// OpenAI's `retry-after-ms`, then Azure's `x-ms-retry-after-ms`, then
    /// `Retry-After`, as Azure's SDKs read them; the clock only asked when
    /// one is there.
    #[test]
    fn headers_are_read_in_azures_order() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hint = |pairs: &[(&'static str, &'static str)]| {
            let mut h = http::HeaderMap::new();
            for (name, value) in pairs {
                h.insert(*name, http::HeaderValue::from_static(value));
            }
            from_headers(&h, || now)
        };
        let ms = Duration::from_millis;
        let all = [
            ("retry-after-ms", "100"),
            ("x-ms-retry-after-ms", "200"),
            ("retry-after", "3"),
        ];
        assert_eq!(hint(&all), Some(ms(100)));
        assert_eq!(hint(&all[1..]), Some(ms(200)));
        assert_eq!(hint(&all[2..]), Some(ms(3000)));
        assert_eq!(
            hint(&[("x-ms-retry-after-ms", "250.5")]),
            Some(Duration::from_micros(250_500))
        );
        // an unreadable x-ms value falls back to Retry-After
        assert_eq!(
            hint(&[("x-ms-retry-after-ms", "soon"), ("retry-after", "2")]),
            Some(ms(2000))
        );
        // an unreadable retry-after-ms falls back to x-ms, as Azure's SDKs do
        let both = [("retry-after-ms", "soon"), ("x-ms-retry-after-ms", "250")];
        assert_eq!(hint(&both), Some(ms(250)));
        // a readable retry-after-ms wins over x-ms even when x-ms is unreadable
        assert_eq!(
            hint(&[("retry-after-ms", "5"), ("x-ms-retry-after-ms", "x")]),
            Some(ms(5))
        );
        let no_clock = || -> SystemTime { panic!("the clock read with no hint header") };
        assert_eq!(from_headers(&http::HeaderMap::new(), no_clock), None);
        // a spent window is not one of these headers (`failure_hint` reads it)
        let mut spent = http::HeaderMap::new();
        spent.insert("x-ratelimit-remaining", http::HeaderValue::from_static("0"));
        spent.insert(
            "x-ratelimit-reset",
            http::HeaderValue::from_static("1000060"),
        );
        assert_eq!(from_headers(&spent, no_clock), None);
    }

    /// GitHub's primary rate limit on a 429: no Retry-After, no request
    /// left in the window, and when it starts again (epoch seconds); a
    /// Retry-After or a millisecond header, when sent too, comes first. A
    /// 403 is not judged by the window (Discord sends it on every
    /// response, and a 403 of its own may spend the last slot).
    #[test]
    fn a_spent_windows_reset_is_a_429s_wait() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = |code, pairs: &[(&'static str, &'static str)]| {
            let mut h = http::HeaderMap::new();
            for (name, value) in pairs {
                h.insert(*name, http::HeaderValue::from_static(value));
            }
            failure_hint(code, &h, || now)
        };
        let hint = |pairs: &[(&'static str, &'static str)]| at(429, pairs);
        let window = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000120"),
        ];
        assert_eq!(at(403, &window), None);
        assert_eq!(at(503, &window), None);
        let s = Duration::from_secs;
        let spent = |reset| [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)];
        assert_eq!(hint(&spent("1700000120")), Some(s(120)));
        assert_eq!(
            hint(&spent(" 1700000000.25 ")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            hint(&spent("1700000000.5")),
            Some(Duration::from_millis(500))
        );
        assert_eq!(hint(&spent("1699999000")), Some(Duration::ZERO)); // past
        assert_eq!(hint(&spent("30")), Some(s(30))); // seconds from now
        assert_eq!(hint(&spent("86401")), None); // more than a day from now
        assert_eq!(hint(&spent("1800000000")), None); // years away
        assert_eq!(hint(&spent("18446744073709551615")), None); // past SystemTime's range
        for bad in ["soon", "-5", "", "1e9"] {
            assert_eq!(hint(&spent(bad)), None, "{bad:?}");
        }
        // requests left, or no reset: no wait
        let left = [
            ("x-ratelimit-remaining", "1"),
            ("x-ratelimit-reset", "1700000120"),
        ];
        assert_eq!(hint(&left), None);
        assert_eq!(hint(&[("x-ratelimit-remaining", "0")]), None);
        assert_eq!(hint(&[("x-ratelimit-reset", "1700000120")]), None);
        // a server's own wait comes first
        let told = [
            ("retry-after", "60"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000120"),
        ];
        assert_eq!(hint(&told), Some(s(60))); // an unreadable or absurd one is passed over for the window, as
        // response_hint's docs say ("none that can be read")
        for bad in ["soon", "31536000"] {
            let told = [
                ("retry-after", bad),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700000120"),
            ];
            assert_eq!(hint(&told), Some(s(120)), "{bad}");
        }
    }

    /// Found by the `hints` fuzz target: a reset's fraction was read as
    /// milliseconds' digits a thousand times over, so to the microsecond
    /// only (`30.0000005` was 30s, half a microsecond early;
    /// `0.0000000019`, zero). Read to the nanosecond now, as the
    /// millisecond headers are.
    #[test]
    fn a_resets_fraction_is_read_to_the_nanosecond() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let reset = |value: &str| read_reset(value.as_bytes(), now);
        assert_eq!(reset("30.0000005"), Some(Duration::new(30, 500)));
        assert_eq!(reset("0.999999999"), Some(Duration::new(0, 999_999_999)));
        assert_eq!(reset("0.0000000019"), Some(Duration::from_nanos(1)));
        assert_eq!(reset("1700000000.0000009"), Some(Duration::from_nanos(900)));
        assert_eq!(reset("1700000001.25"), Some(Duration::from_millis(1250)));
        // (and the millisecond headers, which share the reading)
        assert_eq!(parse_millis(b"0.0000019"), Some(Duration::from_nanos(1)));
    }

    /// OpenAI's 429 without a Retry-After: its spent windows'
    /// `x-ratelimit-reset-*`, Go durations, the longest of those spent.
    #[test]
    fn openais_spent_windows_reset_is_a_429s_wait() {
        let hint = |code, pairs: &[(&'static str, &'static str)]| {
            let mut h = http::HeaderMap::new();
            for (name, value) in pairs {
                h.insert(*name, http::HeaderValue::from_static(value));
            }
            failure_hint(code, &h, SystemTime::now)
        };
        let s = Duration::from_secs;
        let requests = |reset| {
            [
                ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", reset),
                ("x-ratelimit-remaining-tokens", "149000"),
                ("x-ratelimit-reset-tokens", "6m0s"),
            ]
        };
        assert_eq!(hint(429, &requests("7s")), Some(s(7)));
        assert_eq!(
            hint(429, &requests("20ms")),
            Some(Duration::from_millis(20))
        );
        assert_eq!(
            hint(429, &requests("1m30.5s")),
            Some(Duration::from_millis(90_500))
        );
        assert_eq!(hint(503, &requests("7s")), None); // a 429's reading only
        assert_eq!(hint(429, &requests("soon")), None);
        assert_eq!(hint(429, &requests("25h")), None); // beyond a day
        let both = [
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "2s"),
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-tokens", "1m0s"),
        ];
        assert_eq!(hint(429, &both), Some(s(60)));
        // nothing spent (a quota error, say): no wait
        let left = [
            ("x-ratelimit-remaining-requests", "3"),
            ("x-ratelimit-reset-requests", "7s"),
        ];
        assert_eq!(hint(429, &left), None);
        // the server's own wait comes first
        let told = [
            ("retry-after", "1"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "7s"),
        ];
        assert_eq!(hint(429, &told), Some(s(1)));
    }

    #[test]
    fn go_durations_are_read_as_go_writes_them() {
        let d = |v: &str| parse_go_duration(v.as_bytes());
        assert_eq!(d("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(d("1h2m3s"), Some(Duration::from_secs(3723)));
        assert_eq!(d(" 1.5s "), Some(Duration::from_millis(1500)));
        assert_eq!(d("250us"), Some(Duration::from_micros(250)));
        assert_eq!(d("250\u{b5}s"), Some(Duration::from_micros(250)));
        assert_eq!(d("0s"), Some(Duration::ZERO));
        assert_eq!(d("0.3s"), Some(Duration::from_millis(300))); // exact, no float
        assert_eq!(d(".5ms"), Some(Duration::from_micros(500)));
        for bad in ["", "7", "s", "-1s", "1.2.3s", "1d", "1e3s", ".s"] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
        // past Duration's range: absurd, not unreadable
        assert_eq!(d("9999999999999999999999h"), Some(Duration::MAX));
    }

    /// The edges of the rules, exact: a wait of exactly a day is believed
    /// and one a nanosecond longer is not, in every header read to the
    /// nanosecond; a window's reset of 999999999 is seconds from now and
    /// one of 1000000000 a Unix second (September 2001, past).
    #[test]
    fn a_day_and_the_epochs_edge_are_exact() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let day = Some(MAX_RETRY_AFTER);
        let window = |reset: &'static str| {
            let mut h = http::HeaderMap::new();
            h.insert("x-ratelimit-remaining", http::HeaderValue::from_static("0"));
            h.insert("x-ratelimit-reset", http::HeaderValue::from_static(reset));
            failure_hint(429, &h, || now)
        };
        let header = |name: &'static str, value: &'static str| {
            let mut h = http::HeaderMap::new();
            h.insert(name, http::HeaderValue::from_static(value));
            if name.starts_with("x-ratelimit-reset-") {
                let remaining = name.replace("reset", "remaining");
                h.insert(
                    http::HeaderName::from_bytes(remaining.as_bytes()).unwrap(),
                    http::HeaderValue::from_static("0"),
                );
            }
            failure_hint(429, &h, || now)
        };
        for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
            assert_eq!(header(name, "86400000"), day, "{name}");
            assert_eq!(header(name, "86400000.000000"), day, "{name}");
            assert_eq!(header(name, "86400000.000001"), None, "{name}");
        }
        assert_eq!(header("retry-after", "86400"), day);
        assert_eq!(header("retry-after", "86401"), None);
        for name in ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"] {
            assert_eq!(header(name, "24h"), day, "{name}");
            assert_eq!(header(name, "23h59m59.999999999s0.000000001s"), day);
            assert_eq!(header(name, "24h1ns"), None, "{name}");
            assert_eq!(header(name, "1440.0000000000000001m"), day, "{name}");
            assert_eq!(header(name, "1440.00000000002m"), None, "{name}");
        }
        // a reset: seconds from now, and a Unix second
        assert_eq!(window("86400"), day);
        assert_eq!(window("86400.000000001"), None);
        assert_eq!(window("1700086400"), day);
        assert_eq!(window("1700086400.000000001"), None);
        assert_eq!(
            window("1700086399.999999999"),
            Some(Duration::new(86_399, 999_999_999))
        );
        // the epoch's edge: below it seconds from now (years: no wait),
        // from it on a Unix second (2001: past, no wait to make)
        assert_eq!(window("999999999"), None);
        assert_eq!(window("999999999.999999999"), None);
        assert_eq!(window("1000000000"), Some(Duration::ZERO));
    }

    /// Found by the `hints` fuzz target: a fraction was cut to its first
    /// 18 digits before it was scaled, which for minutes and hours can
    /// lose a whole nanosecond (`0.0000000000002777777777778h` is
    /// 1.0000000000001ns, read as 0ns). Exact now for any number of
    /// digits.
    #[test]
    fn a_go_durations_long_fraction_is_cut_at_the_nanosecond() {
        let d = |v: &str| parse_go_duration(v.as_bytes());
        let ns = Duration::from_nanos;
        assert_eq!(d("0.0000000000002777777777778h"), Some(ns(1)));
        assert_eq!(d("0.0000000000002777777777777h"), Some(ns(0)));
        assert_eq!(d("0.0000000000166666666667m"), Some(ns(1)));
        assert_eq!(d("1.0000000000166666666667m"), Some(ns(60_000_000_001)));
        assert_eq!(
            d("0.99999999999999999999999999999h"),
            Some(ns(3_599_999_999_999))
        );
        assert_eq!(
            d("0.9999999999999999999999999999999999999999s"),
            Some(ns(999_999_999))
        );
    }

    /// What Go's `time.ParseDuration` reads, read alike: a bare `0`, a
    /// leading `+`, units in any order and repeated, either micro sign,
    /// an hour's fraction, a fraction longer than nanoseconds (cut, not
    /// rounded); a minus sign, a space inside, bytes that are not UTF-8 or
    /// a sum past `Duration`'s range are no wait (and no panic).
    #[test]
    fn go_durations_follow_gos_parser() {
        let d = |v: &[u8]| parse_go_duration(v);
        let s = Duration::from_secs;
        assert_eq!(d(b"0"), Some(Duration::ZERO));
        assert_eq!(d(b"+0"), Some(Duration::ZERO));
        assert_eq!(d(b"+1s"), Some(s(1)));
        assert_eq!(d(b"+1m30s"), Some(s(90)));
        assert_eq!(d(b"1s2m"), Some(s(121)));
        assert_eq!(d(b"1s1s"), Some(s(2)));
        assert_eq!(d(b"1.5h"), Some(s(5400)));
        assert_eq!(d(b"1.s"), Some(s(1)));
        assert_eq!(d("3\u{3bc}s".as_bytes()), Some(Duration::from_micros(3)));
        assert_eq!(
            d(b"0.1234567891234567891234s"),
            Some(Duration::from_nanos(123_456_789))
        );
        assert_eq!(
            d(b"1.999999999999999999999ns"),
            Some(Duration::from_nanos(1))
        );
        assert_eq!(d(b"18446744073709551615s"), Some(s(u64::MAX)));
        for bad in [
            &b"-1s"[..],
            b"-0",
            b"+",
            b"++1s",
            b"+-1s",
            b"0 s",
            b"1s 2m",
            b"\xb5s",
            b"1\xff",
            b"1\xc2\xb5",
            b"1S",
            b"1sec",
            b"1 s",
        ] {
            assert_eq!(d(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        // a sum past Duration's range: absurd (more than a day), not
        // unreadable, so that its DEBUG line says so
        for absurd in [
            &b"18446744073709551615s1s"[..],
            b"18446744073709551616s",
            b"5124095576030432h",
            b"99999999999999999999.9h",
        ] {
            assert_eq!(d(absurd), Some(Duration::MAX), "{absurd:?}");
        }
    }
}

/// The readers' documented rules as properties, on values written the
/// way servers write them (and on any bytes): what the `hints` fuzz
/// target checks (see FUZZING.md), kept in every test run.
#[cfg(all(test, feature = "http"))]
mod properties {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::{
        Just, Strategy, any, prop_assert, prop_assert_eq, prop_oneof, proptest,
    };

    const NOW_SECS: u64 = 1_700_000_000;

    /// A clock at some instant of a second near 2023's end.
    fn now_at(nanos: u32) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(NOW_SECS, nanos % 1_000_000_000)
    }

    /// Whitespace a server or a proxy may put around a value.
    fn padding() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just(""), Just(" "), Just("\t"), Just("  "), Just(" \t ")]
    }

    /// ASCII digits, as a string.
    fn digits(most: usize) -> impl Strategy<Value = String> {
        vec(0u8..10, 0..most).prop_map(|d| d.iter().map(|d| char::from(b'0' + d)).collect())
    }

    /// Nanoseconds of `0.<fraction>` units of `unit` nanoseconds, cut: by
    /// division, for a fraction of at most 20 digits.
    fn fraction_nanos(fraction: &str, unit: u128) -> u128 {
        let scale = 10u128.pow(fraction.len() as u32);
        fraction.parse::<u128>().unwrap_or(0) * unit / scale
    }

    fn from_nanos(nanos: u128) -> Duration {
        Duration::new(
            (nanos / 1_000_000_000) as u64,
            (nanos % 1_000_000_000) as u32,
        )
    }

    /// A duration as Go's `time.Duration.String` writes it (`6m0s`,
    /// `1h0m0.5s`, `1.5ms`, `250µs`, `7ns`, `0s`).
    fn go_string(d: Duration) -> String {
        let nanos = d.as_nanos();
        let trimmed = |whole: u128, fraction: u128, width: usize| {
            let fraction = format!("{fraction:0width$}");
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                whole.to_string()
            } else {
                format!("{whole}.{fraction}")
            }
        };
        if nanos == 0 {
            return "0s".into();
        }
        if nanos < 1_000 {
            return format!("{nanos}ns");
        }
        if nanos < 1_000_000 {
            return format!("{}\u{b5}s", trimmed(nanos / 1_000, nanos % 1_000, 3));
        }
        if nanos < 1_000_000_000 {
            return format!("{}ms", trimmed(nanos / 1_000_000, nanos % 1_000_000, 6));
        }
        let (secs, fraction) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
        let seconds = format!("{}s", trimmed(secs % 60, fraction, 9));
        match (secs / 3600, secs / 60 % 60) {
            (0, 0) => seconds,
            (0, m) => format!("{m}m{seconds}"),
            (h, m) => format!("{h}h{m}m{seconds}"),
        }
    }

    #[test]
    fn go_string_writes_as_go_does() {
        let ms = Duration::from_millis;
        assert_eq!(go_string(Duration::from_secs(360)), "6m0s");
        assert_eq!(go_string(ms(1500)), "1.5s");
        assert_eq!(go_string(ms(3_600_500)), "1h0m0.5s");
        assert_eq!(go_string(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(go_string(Duration::from_nanos(250_000)), "250\u{b5}s");
        assert_eq!(go_string(Duration::from_nanos(7)), "7ns");
    }

    fn map(pairs: &[(&'static str, String)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, http::HeaderValue::from_str(value).unwrap());
        }
        h
    }

    proptest! {
        /// Delay-seconds read as exactly that many seconds (leading zeros
        /// and surrounding whitespace aside), refused beyond a day.
        #[test]
        fn delay_seconds_are_that_many_seconds(
            n in prop_oneof![0u64..=100_000, any::<u64>()],
            zeros in 0usize..3, before in padding(), after in padding(), nanos in any::<u32>()
        ) {
            let value = format!("{before}{}{n}{after}", "0".repeat(zeros));
            let read = parse_retry_after(&value, now_at(nanos));
            let wait = Duration::from_secs(n);
            prop_assert_eq!(read, (wait <= MAX_RETRY_AFTER).then_some(wait), "{:?}", value);
            prop_assert_eq!(read, parse_retry_after(&value, now_at(nanos)));
        }

        /// A sign, a fraction or an exponent is no delay-seconds: no hint.
        #[test]
        fn signed_or_fractional_seconds_are_refused(
            n in 0u64..100_000, fraction in 0u32..1000,
            form in 0usize..5
        ) {
            let value = match form {
                0 => format!("-{n}"),
                1 => format!("+{n}"),
                2 => format!("{n}.{fraction}"),
                3 => format!("{n}e1"),
                _ => format!("{n} s"),
            };
            prop_assert_eq!(parse_retry_after(&value, now_at(0)), None, "{:?}", value);
        }

        /// An HTTP-date is a wait from now: a past one zero, one more
        /// than a day ahead none.
        #[test]
        fn an_http_date_is_a_wait_from_now(
            offset in prop_oneof![-100_000i64..=100_000, -400_000_000i64..400_000_000],
            nanos in any::<u32>()
        ) {
            let now = now_at(nanos);
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS.saturating_add_signed(offset));
            let value = httpdate::fmt_http_date(at);
            let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
            let expected = (wait <= MAX_RETRY_AFTER).then_some(wait);
            prop_assert_eq!(parse_retry_after(&value, now), expected, "{}", value);
            let asctime = format!("{}{}", &value[..3], {
                // `Sun, 06 Nov 1994 08:49:37 GMT` as `Sun Nov  6 08:49:37 1994`
                let day = value[5..7].trim_start_matches('0');
                format!(" {} {day:>2} {} {}", &value[8..11], &value[17..25], &value[12..16])
            });
            prop_assert_eq!(parse_retry_after(&asctime, now), expected, "{}", asctime);
        }

        /// A millisecond header's value, a fraction allowed, exact to the
        /// nanosecond (a finer fraction cut); refused beyond a day.
        #[test]
        fn milliseconds_are_read_to_the_nanosecond(
            whole in prop_oneof![0u64..100_000_000, any::<u64>()], fraction in digits(25),
            before in padding(), after in padding()
        ) {
            let value = if fraction.is_empty() {
                format!("{before}{whole}{after}")
            } else {
                format!("{before}{whole}.{fraction}{after}")
            };
            let nanos = u128::from(whole) * 1_000_000 + fraction_nanos(&fraction[..fraction.len().min(20)], 1_000_000);
            prop_assert_eq!(parse_millis(value.as_bytes()), Some(from_nanos(nanos)));
            let h = map(&[("retry-after-ms", value.clone()), ("retry-after", "7".into())]);
            let expected = if from_nanos(nanos) <= MAX_RETRY_AFTER { from_nanos(nanos) } else { Duration::from_secs(7) };
            prop_assert_eq!(from_headers(&h, || now_at(0)), Some(expected));
        }

        /// `retry-after-ms`, else `x-ms-retry-after-ms`, else
        /// `Retry-After`, each when it can be read and asks a day or less;
        /// a header sent twice is read by its first value.
        #[test]
        fn the_wait_headers_are_read_in_order(
            values in vec(prop_oneof![
                (0u64..100_000_000).prop_map(|n| n.to_string()),
                Just("soon".to_string()),
                Just("-5".to_string()),
                Just("100000000000".to_string()),
            ], 3),
            present in vec(any::<bool>(), 3), repeated in any::<bool>()
        ) {
            let names = ["retry-after-ms", "x-ms-retry-after-ms", "retry-after"];
            let mut pairs = Vec::new();
            for ((name, value), present) in names.iter().zip(&values).zip(&present) {
                if *present {
                    pairs.push((*name, value.clone()));
                    if repeated {
                        pairs.push((*name, "1".to_string()));
                    }
                }
            }
            let read = |v: &str, unit: u64| {
                let n: u64 = v.parse().ok()?;
                let wait = Duration::from_nanos(n.checked_mul(unit)?);
                (wait <= MAX_RETRY_AFTER).then_some(wait)
            };
            // the first present one that reads, or what the last present reads
            let expected = names
                .iter()
                .zip(&values)
                .zip(&present)
                .filter(|(_, present)| **present)
                .find_map(|((name, value), _)| match *name {
                    "retry-after" => Some(read(value, 1_000_000_000)),
                    _ => read(value, 1_000_000).map(Some),
                })
                .flatten();
            let h = map(&pairs);
            prop_assert_eq!(from_headers(&h, || now_at(0)), expected, "{:?}", pairs);
        }

        /// A spent window's reset: seconds from now below 1e9, a Unix
        /// second from there (a past one zero); exact to the nanosecond;
        /// nothing beyond a day.
        #[test]
        fn a_windows_reset_is_a_wait_from_now(
            offset in prop_oneof![-1_000i64..=1_000, -200_000i64..200_000],
            relative in any::<bool>(), fraction in digits(12), nanos in any::<u32>()
        ) {
            let now = now_at(nanos);
            let whole = if relative { offset.unsigned_abs() } else { NOW_SECS.saturating_add_signed(offset) };
            let value = if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") };
            let at = u128::from(whole) * 1_000_000_000 + fraction_nanos(&fraction, 1_000_000_000);
            let wait = if relative {
                at
            } else {
                at.saturating_sub(now.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos())
            };
            let expected = (wait <= MAX_RETRY_AFTER.as_nanos()).then(|| from_nanos(wait));
            let h = map(&[("x-ratelimit-remaining", "0".into()), ("x-ratelimit-reset", value.clone())]);
            prop_assert_eq!(failure_hint(429, &h, || now), expected, "{}", value);
            // a 403 is not judged by its window, nor any other status
            prop_assert_eq!(failure_hint(403, &h, || now), None);
            prop_assert_eq!(failure_hint(503, &h, || now), None);
        }

        /// A duration as Go writes it reads back as itself, and a sum of
        /// parts in any units as their exact sum (a fraction below the
        /// nanosecond cut); OpenAI's wait is the longest spent window's.
        #[test]
        fn go_durations_read_exactly(
            d in (0u64..90_000_000_000_000).prop_map(Duration::from_nanos),
            parts in vec((0u64..100_000, digits(20), 0usize..6), 1..4),
            plus in any::<bool>(), spent in any::<bool>(), other in 0u64..200_000
        ) {
            prop_assert_eq!(parse_go_duration(go_string(d).as_bytes()), Some(d), "{}", go_string(d));
            const UNITS: [(&str, u128); 6] = [
                ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
                ("ms", 1_000_000), ("us", 1_000), ("ns", 1),
            ];
            let mut text = String::from(if plus { "+" } else { "" });
            let mut nanos = 0u128;
            for (whole, fraction, unit) in &parts {
                let (name, unit_nanos) = UNITS[*unit];
                text += &if fraction.is_empty() { format!("{whole}{name}") } else { format!("{whole}.{fraction}{name}") };
                nanos += u128::from(*whole) * unit_nanos + fraction_nanos(fraction, unit_nanos);
            }
            prop_assert_eq!(parse_go_duration(text.as_bytes()), Some(from_nanos(nanos)), "{}", text);
            // as OpenAI's spent windows: the longest of those spent
            let other_wait = Duration::from_millis(other);
            let h = map(&[
                ("x-ratelimit-remaining-requests", "0".into()),
                ("x-ratelimit-reset-requests", text.clone()),
                ("x-ratelimit-remaining-tokens", if spent { "0".into() } else { "5".into() }),
                ("x-ratelimit-reset-tokens", go_string(other_wait)),
            ]);
            let candidates = [Some(from_nanos(nanos)), spent.then_some(other_wait)];
            let expected = candidates.into_iter().flatten().filter(|w| *w <= MAX_RETRY_AFTER).max();
            prop_assert_eq!(failure_hint(429, &h, SystemTime::now), expected, "{:?}", h);
        }

        /// Any bytes in any of the headers the readers look at: no panic,
        /// nothing beyond a day, the same reading twice, and a 403's wait
        /// only from its own wait headers.
        #[test]
        fn any_value_reads_within_a_day(
            values in vec((0usize..9, vec(any::<u8>(), 0..40)), 0..8),
            code in prop_oneof![Just(429u16), Just(403), Just(503), 100u16..1000],
            nanos in any::<u32>()
        ) {
            const NAMES: [&str; 9] = [
                "retry-after", "retry-after-ms", "x-ms-retry-after-ms", "x-ratelimit-remaining",
                "x-ratelimit-reset", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
                "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
            ];
            let mut h = http::HeaderMap::new();
            for (name, bytes) in &values {
                if let Ok(value) = http::HeaderValue::from_bytes(bytes) {
                    h.append(NAMES[*name], value);
                }
                let read = parse_retry_after(bytes, now_at(nanos));
                prop_assert!(read.is_none_or(|w| w <= MAX_RETRY_AFTER));
                prop_assert!(parse_millis(bytes).is_none() || core::str::from_utf8(bytes).is_ok());
            }
            let read = failure_hint(code, &h, || now_at(nanos));
            prop_assert!(read.is_none_or(|w| w <= MAX_RETRY_AFTER), "{:?}", read);
            prop_assert_eq!(read, failure_hint(code, &h, || now_at(nanos)));
            if code == 403 {
                prop_assert_eq!(read, from_headers(&h, || now_at(nanos)));
            }
        }
    }
}
