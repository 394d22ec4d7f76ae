//! Fuzz the readers of servers' hints: the waits a failed response's
//! headers ask for (`Retry-After` in seconds or as an HTTP-date,
//! `retry-after-ms`, `x-ms-retry-after-ms`, a spent `x-ratelimit-*`
//! window, OpenAI's `x-ratelimit-reset-requests`/`-tokens` as Go
//! durations), a gRPC status's `grpc-retry-pushback-ms` and a request's
//! `grpc-timeout` (tonic), and an AWS SDK error's `Retry-After` or
//! `x-amz-retry-after`, each through the public API only.
//!
//! The input is text-like, so that the seeds and the dictionary read as
//! HTTP: its first line is the status (and a gRPC code after a space),
//! each further line a header, `name:value`, the value any bytes (not
//! UTF-8 too; a name may come again: a repeated header). A value that
//! starts with the byte 0x01 (which no header value holds) is a template
//! rendered against the clock, for a date or a reset near now:
//! `\x01d<form><offset>` an HTTP-date `offset` seconds from now (form 0:
//! IMF-fixdate, 1: RFC 850, 2: asctime), `\x01e<offset><rest>` the Unix
//! second `offset` seconds from now followed by `rest` (`.25`, say).
//!
//! Checked for every input:
//! - nothing panics (libFuzzer reports a panic as a crash);
//! - each reading is the one an independent reading of the documented
//!   rules gives (the reference below: its own parsers, exact arithmetic
//!   in `u128` nanoseconds, its own HTTP-date parser with its own
//!   calendar): delta-seconds are that many seconds, a date in the past a
//!   wait of zero, a millisecond or Go duration exact to the nanosecond
//!   (a fraction below it cut), a window's reset seconds from now below
//!   1e9 and a Unix second from it on, no HTTP hint beyond
//!   `MAX_RETRY_AFTER`; a gRPC pushback's single non-negative integer is
//!   the wait (however long) and a negative, unreadable, overflowing or
//!   repeated one makes the status `Permanent` with no wait, so that
//!   `tonic::GRPC` gives up (and waits a transient status's pushback, up to
//!   its 60s cap, otherwise);
//! - the readers that take the clock as an argument read the same input
//!   twice alike; those that read the wall clock agree with the reference
//!   at the instant before or after the call (or between the two).
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::StatusCode as AwsStatus;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;
use retry_runtime::classify::{classify_status, classify_status_and_hint};
use retry_runtime::reqwest::{retry_after_header, HttpError};
use retry_runtime::response::{status_failure, ClassifyResponse};
use retry_runtime::retry_after::{
    parse_retry_after, response_hint, retry_after_hint, MAX_RETRY_AFTER,
};
use retry_runtime::{Classify, ErrorKind};

fuzz_target!(|data: &[u8]| {
    let now = SystemTime::now();
    let input = Input::read(data, now);
    check_values(&input, now);
    check_http(&input, now);
    check_tonic(&input);
    check_aws(&input);
});

/// A response's status (a valid one, 100..=999), its gRPC code, and its
/// headers in order.
struct Input {
    status: Option<StatusCode>,
    grpc_code: i32,
    headers: HeaderMap,
}

impl Input {
    fn read(data: &[u8], now: SystemTime) -> Input {
        let mut lines = data.split(|&b| b == b'\n');
        let first = lines.next().unwrap_or_default();
        let mut numbers = first.split(|&b| b == b' ').map(|n| {
            let text = std::str::from_utf8(n).unwrap_or("");
            text.parse::<i64>().ok()
        });
        let status = numbers
            .next()
            .flatten()
            .and_then(|n| u16::try_from(n).ok())
            .and_then(|n| StatusCode::from_u16(n).ok());
        let grpc_code = numbers.next().flatten().unwrap_or(14) as i32;
        let mut headers = HeaderMap::new();
        for line in lines {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = (&line[..colon], &line[colon + 1..]);
            let Ok(name) = HeaderName::from_bytes(name) else {
                continue;
            };
            let value = render(value, now);
            // (a value no HTTP stack would hand over: skipped)
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                headers.append(name, value);
            }
        }
        Input {
            status,
            grpc_code,
            headers,
        }
    }
}

/// A value, its template rendered against the clock.
fn render(value: &[u8], now: SystemTime) -> Vec<u8> {
    let Some(template) = value.strip_prefix(b"\x01") else {
        return value.to_vec();
    };
    let now_secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (kind, rest) = template.split_first().unwrap_or((&b'?', b""));
    match kind {
        b'd' => {
            let (form, offset) = rest.split_first().unwrap_or((&b'0', b""));
            let offset = leading_int(offset).0;
            let at = now_secs.saturating_add(offset);
            if at < 0 {
                return value.to_vec();
            }
            format_date(at as u64, *form).into_bytes()
        }
        b'e' => {
            let (offset, rest) = leading_int(rest);
            let at = now_secs.saturating_add(offset).max(0);
            let mut out = at.to_string().into_bytes();
            out.extend_from_slice(rest);
            out
        }
        _ => value.to_vec(),
    }
}

/// The signed decimal integer at the start of `bytes` (0 if none,
/// saturated), and what follows it.
fn leading_int(bytes: &[u8]) -> (i64, &[u8]) {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    let magnitude = digits[..n].iter().fold(0i64, |v, &d| {
        v.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    (if negative { -magnitude } else { magnitude }, &digits[n..])
}

// ---------------------------------------------------------------------
// The reference: the documented rules, read independently (exact
// arithmetic in u128 nanoseconds, saturating where the reader refuses).

const NANOS_PER_SEC: u128 = 1_000_000_000;

fn max_nanos() -> u128 {
    MAX_RETRY_AFTER.as_nanos()
}

/// A wait the HTTP readers believe: at most `MAX_RETRY_AFTER`.
fn capped(nanos: Option<u128>) -> Option<Duration> {
    nanos
        .filter(|&n| n <= max_nanos())
        .map(|n| Duration::from_nanos(n as u64))
}

fn nanos_since_epoch(now: SystemTime) -> u128 {
    now.duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

/// A value's text with its surrounding whitespace (Unicode's: the rules
/// say "whitespace") taken off; `None` when it is not UTF-8.
fn text(value: &[u8]) -> Option<&str> {
    Some(
        std::str::from_utf8(value)
            .ok()?
            .trim_matches(char::is_whitespace),
    )
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Decimal digits as a number, saturated.
fn number(digits: &str) -> u128 {
    digits.bytes().fold(0u128, |v, d| {
        v.saturating_mul(10).saturating_add(u128::from(d - b'0'))
    })
}

/// `unit` times the fraction `0.<digits>`, rounded down: the digits
/// multiplied from the last one up, the carry of the first being the
/// whole part (exact for any number of digits).
fn fraction_of(digits: &str, unit: u128) -> u128 {
    digits
        .bytes()
        .rev()
        .fold(0u128, |carry, d| (u128::from(d - b'0') * unit + carry) / 10)
}

/// `<digits>[.<digits>]` (no sign, no exponent; the fraction may be empty)
/// in `unit`s, as nanoseconds.
fn decimal(value: &[u8], unit: u128) -> Option<u128> {
    let t = text(value)?;
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    if !all_digits(whole) || !(fraction.is_empty() || all_digits(fraction)) {
        return None;
    }
    Some(
        number(whole)
            .saturating_mul(unit)
            .saturating_add(fraction_of(fraction, unit)),
    )
}

/// `Retry-After`: delay-seconds, or an HTTP-date taken from `now` (a past
/// one is zero); not capped.
fn retry_after(value: &[u8], now: SystemTime) -> Option<u128> {
    let t = text(value)?;
    if t.is_empty() {
        return None;
    }
    if all_digits(t) {
        return Some(number(t).saturating_mul(NANOS_PER_SEC));
    }
    let at = u128::from(http_date(t)?) * NANOS_PER_SEC;
    Some(at.saturating_sub(nanos_since_epoch(now)))
}

const WDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Two (or four) ASCII digits.
fn digits_at(s: &str) -> Option<i64> {
    s.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| number(s) as i64)
}

/// An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850, asctime), as Unix
/// seconds: its fields in range, its weekday the date's, years 1970-9999
/// (what a `SystemTime` from 1970 holds, and the dates' four digits).
fn http_date(t: &str) -> Option<u64> {
    if !t.is_ascii() {
        return None;
    }
    let b = t.as_bytes();
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let (wday, day, month, year, hms) = if b.len() == 29
        && at(3, b',')
        && at(4, b' ')
        && at(7, b' ')
        && at(11, b' ')
        && at(16, b' ')
        && &t[25..] == " GMT"
    {
        // Sun, 06 Nov 1994 08:49:37 GMT
        let wday = WDAYS.iter().position(|&w| w == &t[..3])?;
        (
            wday,
            digits_at(&t[5..7])?,
            &t[8..11],
            digits_at(&t[12..16])?,
            &t[17..25],
        )
    } else if let Some((name, rest)) = t.split_once(", ") {
        // Sunday, 06-Nov-94 08:49:37 GMT
        let wday = WEEKDAYS.iter().position(|&w| w == name)?;
        let r = rest.as_bytes();
        // (httpdate, which the readers use, does not look at the byte
        // between the date and the time, r[9]: `21-Oct-15x07:28:00` is
        // read as the date it plainly means, a leniency let be; see
        // FUZZING.md)
        if r.len() != 22 || r[2] != b'-' || r[6] != b'-' || &rest[18..] != " GMT" {
            return None;
        }
        let yy = digits_at(&rest[7..9])?;
        let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
        (
            wday,
            digits_at(&rest[..2])?,
            &rest[3..6],
            year,
            &rest[10..18],
        )
    } else if b.len() == 24 && at(3, b' ') && at(7, b' ') && at(10, b' ') && at(19, b' ') {
        // Sun Nov  6 08:49:37 1994
        let wday = WDAYS.iter().position(|&w| w == &t[..3])?;
        let day = match &t[8..10] {
            d if d.as_bytes()[0] == b' ' => digits_at(&d[1..])?,
            d => digits_at(d)?,
        };
        (wday, day, &t[4..7], digits_at(&t[20..24])?, &t[11..19])
    } else {
        return None;
    };
    let h = hms.as_bytes();
    if h[2] != b':' || h[5] != b':' {
        return None;
    }
    let (hour, minute, second) = (
        digits_at(&hms[..2])?,
        digits_at(&hms[3..5])?,
        digits_at(&hms[6..])?,
    );
    let month = MONTHS.iter().position(|&m| m == month)? as i64 + 1;
    if !(1970..=9999).contains(&year)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // 1970-01-01 was a Thursday
    if (days + 3).rem_euclid(7) != wday as i64 {
        return None;
    }
    Some((days * 86_400 + hour * 3600 + minute * 60 + second) as u64)
}

/// The date `at` (Unix seconds) in one of the three forms, for the
/// templates (and the reference's own check of its parser).
fn format_date(at: u64, form: u8) -> String {
    let days = (at / 86_400) as i64;
    let secs = at % 86_400;
    // civil from days (the inverse of days_from_civil)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let wday = (days + 3).rem_euclid(7) as usize;
    let mon = MONTHS[(month - 1) as usize];
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match form % 3 {
        0 => format!(
            "{}, {day:02} {mon} {year:04} {h:02}:{m:02}:{s:02} GMT",
            WDAYS[wday]
        ),
        1 => format!(
            "{}, {day:02}-{mon}-{:02} {h:02}:{m:02}:{s:02} GMT",
            WEEKDAYS[wday],
            year % 100
        ),
        _ => format!(
            "{} {mon} {day:>2} {h:02}:{m:02}:{s:02} {year:04}",
            WDAYS[wday]
        ),
    }
}

/// A duration as Go's `time.ParseDuration` writes it: an optional `+`,
/// `0`, or numbers (a fraction allowed) each with its unit; no minus.
fn go_duration(value: &[u8]) -> Option<u128> {
    let t = text(value)?;
    let mut rest = t.strip_prefix('+').unwrap_or(t);
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0u128;
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole = &rest[..n];
        rest = &rest[n..];
        let mut fraction = "";
        if let Some(after) = rest.strip_prefix('.') {
            let m = after.bytes().take_while(u8::is_ascii_digit).count();
            fraction = &after[..m];
            rest = &after[m..];
        }
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_end = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit: u128 = match &rest[..unit_end] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SEC,
            "m" => 60 * NANOS_PER_SEC,
            "h" => 3600 * NANOS_PER_SEC,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total = total
            .saturating_add(number(whole).saturating_mul(unit))
            .saturating_add(fraction_of(fraction, unit));
    }
    Some(total)
}

/// Is a window's `remaining` header there and `0` (HTTP's spaces aside)?
fn spent(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|v| v.as_bytes().trim_ascii() == b"0")
}

/// The wait a response's own wait headers ask for: `retry-after-ms`, else
/// `x-ms-retry-after-ms`, each when readable and at most a day, else
/// `Retry-After` (the first value of each).
fn told(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        let wait = headers
            .get(name)
            .and_then(|v| capped(decimal(v.as_bytes(), 1_000_000)));
        if wait.is_some() {
            return wait;
        }
    }
    capped(retry_after(headers.get("retry-after")?.as_bytes(), now))
}

/// A spent window's reset: seconds from now below 1e9, else a Unix second
/// (a past one is zero).
fn window(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if !spent(headers, "x-ratelimit-remaining") {
        return None;
    }
    let at = decimal(headers.get("x-ratelimit-reset")?.as_bytes(), NANOS_PER_SEC)?;
    let wait = if at < 1_000_000_000 * NANOS_PER_SEC {
        at
    } else {
        at.saturating_sub(nanos_since_epoch(now))
    };
    capped(Some(wait))
}

/// OpenAI's spent windows: the longest of their readable resets.
fn openai(headers: &HeaderMap) -> Option<Duration> {
    [
        (
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ),
        ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
    ]
    .into_iter()
    .filter(|(remaining, _)| spent(headers, remaining))
    .filter_map(|(_, reset)| capped(go_duration(headers.get(reset)?.as_bytes())))
    .max()
}

/// What `response_hint` documents for a failed response.
fn failure(code: u16, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if code != 429 && code != 403 && !headers.contains_key("retry-after") {
        return None;
    }
    match told(headers, now) {
        None if code == 429 => window(headers, now).or_else(|| openai(headers)),
        wait => wait,
    }
}

/// A reading of the wall clock agrees with the reference at `before` or
/// `after` (the instants around the call), or lies between the two.
fn agrees(
    what: &str,
    got: Option<Duration>,
    model: impl Fn(SystemTime) -> Option<Duration>,
    before: SystemTime,
    after: SystemTime,
    input: &Input,
) {
    let (early, late) = (model(before), model(after));
    let between = matches!((got, early, late), (Some(g), Some(e), Some(l)) if l <= g && g <= e);
    assert!(
        got == early || got == late || between,
        "{what}: read {got:?}, the rules say {early:?} (or {late:?} a moment later) for {:?} {:?}",
        input.status,
        input.headers,
    );
}

// ---------------------------------------------------------------------
// The checks.

/// Each header's value alone, against the clock given.
fn check_values(input: &Input, now: SystemTime) {
    for value in input.headers.values() {
        let bytes = value.as_bytes();
        let read = parse_retry_after(bytes, now);
        assert_eq!(
            read,
            capped(retry_after(bytes, now)),
            "parse_retry_after({:?})",
            String::from_utf8_lossy(bytes)
        );
        assert_eq!(read, parse_retry_after(value, now), "read twice");
        if let Some(t) = text(bytes) {
            // the reference's own dates read back as written
            if let Some(at) = http_date(t) {
                // (RFC 850's two-digit year holds 1970 to 2069 only)
                let forms = if at < 3_155_760_000 { 0..3 } else { 0..1 };
                for form in forms.chain(2..3) {
                    assert_eq!(http_date(&format_date(at, form)), Some(at), "{t}");
                }
            }
        }
    }
}

/// The HTTP readers: the headers alone, and as a failed response's.
fn check_http(input: &Input, now: SystemTime) {
    let h = &input.headers;
    let read = retry_after_header(h, now);
    assert_eq!(read, told(h, now), "retry_after_header({h:?})");
    assert_eq!(read, retry_after_header(h, now), "read twice");

    let before = SystemTime::now();
    let read = retry_after_hint(h);
    let after = SystemTime::now();
    agrees(
        "retry_after_hint",
        read,
        |t| told(h, t),
        before,
        after,
        input,
    );

    let Some(status) = input.status else {
        return;
    };
    let code = status.as_u16();
    let before = SystemTime::now();
    let hint = response_hint(code, h);
    let by_status = status_failure(status, h);
    let mut response = http::Response::new(());
    *response.status_mut() = status;
    *response.headers_mut() = h.clone();
    let by_response = response.failure();
    // the reqwest middleware's reading: a reqwest::Response's failure
    let by_reqwest = reqwest::Response::from(response.map(|()| "")).failure();
    let error = HttpError::from_head(status, h);
    let after = SystemTime::now();
    let model = |t| failure(code, h, t);
    agrees("response_hint", hint, model, before, after, input);
    if let Some(wait) = hint {
        assert!(wait <= MAX_RETRY_AFTER);
    }
    let kind_of = |hint: Option<Duration>| {
        if code == 403 && hint.is_some() {
            ErrorKind::RateLimited
        } else {
            classify_status(code)
        }
    };
    let readings = [
        ("status_failure", by_status),
        ("http::Response::failure", by_response),
        ("reqwest::Response::failure", by_reqwest),
    ];
    for (what, failed) in readings {
        if code < 400 {
            assert_eq!(failed, None, "{what}: {code} is no failure");
            continue;
        }
        let failed = failed.unwrap_or_else(|| panic!("{what}: {code} is a failure"));
        assert_eq!(failed.code, code);
        agrees(what, failed.retry_after, model, before, after, input);
        assert_eq!(failed.kind, kind_of(failed.retry_after), "{what}");
        assert_eq!(
            failed.kind,
            classify_status_and_hint(code, failed.retry_after)
        );
    }
    agrees(
        "HttpError",
        error.retry_after(),
        model,
        before,
        after,
        input,
    );
    assert_eq!(error.kind(), kind_of(error.retry_after()), "HttpError");
}

/// The server's pushback, as the reference reads it.
#[derive(Debug, PartialEq)]
enum Pushback {
    Absent,
    Wait(u64),
    Stop,
}

/// One value, an integer with an optional sign and nothing around it (as
/// grpc-go's `strconv.Atoi`, 64-bit): non-negative is the wait; anything
/// else, or several values, stops.
fn pushback(headers: &HeaderMap) -> Pushback {
    let values: Vec<&[u8]> = headers
        .get_all("grpc-retry-pushback-ms")
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let [value] = values[..] else {
        return if values.is_empty() {
            Pushback::Absent
        } else {
            Pushback::Stop
        };
    };
    let (negative, digits) = match value.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, value),
    };
    let Some(digits) = std::str::from_utf8(digits).ok().filter(|d| all_digits(d)) else {
        return Pushback::Stop;
    };
    let n = number(digits);
    match (negative, n) {
        (_, 0) => Pushback::Wait(0),
        (true, _) => Pushback::Stop,
        (false, n) if n > i64::MAX as u128 => Pushback::Stop,
        (false, n) => Pushback::Wait(n as u64),
    }
}

/// A `grpc-timeout`: 1 to 8 ASCII digits and a unit (H, M, S, m, u, n).
fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.as_bytes();
    let (unit, digits) = value.split_last()?;
    let digits = std::str::from_utf8(digits).ok()?;
    if !all_digits(digits) || digits.len() > 8 {
        return None;
    }
    let n = number(digits) as u64;
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

fn check_tonic(input: &Input) {
    use retry_runtime::tonic::GRPC;
    use retry_runtime::StopReason;
    use tonic::metadata::MetadataMap;
    use tonic::{Code, Status};

    let h = &input.headers;
    let expected = pushback(h);
    let mut statuses = vec![Status::with_metadata(
        Code::from_i32(input.grpc_code),
        "from the fuzzer",
        MetadataMap::from_headers(h.clone()),
    )];
    // as tonic's client makes it from a response's trailers (without
    // `grpc-status-details-bin`, whose invalid base64 panics in tonic's
    // `from_header_map` itself: an `expect`, not this crate's reading)
    let mut trailers = h.clone();
    trailers.remove("grpc-status-details-bin");
    statuses.extend(Status::from_header_map(&trailers));
    for status in &statuses {
        let base = match status.code() {
            Code::Cancelled if status.message() == "Timeout expired" => ErrorKind::Timeout,
            code => retry_runtime::tonic::code_kind(code),
        };
        let (kind, wait) = (status.kind(), status.retry_after());
        assert_eq!(
            (kind, wait),
            (status.kind(), status.retry_after()),
            "read twice"
        );
        let why = status.why_permanent();
        // and what tonic::GRPC (retries the transient kinds, honours the
        // pushback up to 60s) decides after the first attempt
        let decided = GRPC.decide(0, status);
        match expected {
            Pushback::Absent => assert_eq!((kind, wait, why), (base, None, None)),
            Pushback::Wait(ms) => {
                let wait = Duration::from_millis(ms);
                assert_eq!((kind, status.retry_after(), why), (base, Some(wait), None));
                if base.is_transient() {
                    let capped = wait.min(Duration::from_secs(60));
                    assert_eq!(decided.wait(), Some(capped), "{status:?}");
                }
            }
            Pushback::Stop => {
                assert_eq!((kind, wait), (ErrorKind::Permanent, None), "{status:?}");
                assert_eq!(why.is_some(), base != ErrorKind::Permanent, "{status:?}");
                // the server said: do not retry
                assert_eq!(decided.reason(), Some(StopReason::Permanent), "{status:?}");
            }
        }
        if !base.is_transient() {
            assert_eq!(decided.wait(), None, "{status:?}");
        }
    }
    let request =
        tonic::Request::from_parts(MetadataMap::from_headers(h.clone()), Default::default(), ());
    assert_eq!(
        retry_runtime::tonic::time_left(&request),
        grpc_timeout(h),
        "{h:?}"
    );
}

/// An AWS SDK error's hint: the response's `Retry-After` (first value),
/// else `x-amz-retry-after` (digits only, milliseconds).
fn aws_hint(headers: &[(String, String)], now: SystemTime) -> Option<Duration> {
    let first = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_bytes())
    };
    if let Some(value) = first("retry-after") {
        return capped(retry_after(value, now));
    }
    let t = text(first("x-amz-retry-after")?)?;
    if !all_digits(t) {
        return None;
    }
    capped(Some(number(t).saturating_mul(1_000_000)))
}

fn check_aws(input: &Input) {
    let code = input.status.map_or(503, |s| s.as_u16());
    let Ok(status) = AwsStatus::try_from(code) else {
        return;
    };
    let mut response = HttpResponse::new(status, SdkBody::empty());
    // the SDK's headers hold UTF-8 only
    let mut held = Vec::new();
    for (name, value) in &input.headers {
        let Ok(value) = std::str::from_utf8(value.as_bytes()) else {
            continue;
        };
        let (name, value) = (name.as_str().to_owned(), value.to_owned());
        if response
            .headers_mut()
            .try_append(name.clone(), value.clone())
            .is_ok()
        {
            held.push((name, value));
        }
    }
    let error: SdkError<ErrorMetadata, HttpResponse> =
        SdkError::service_error(ErrorMetadata::builder().build(), response);
    let before = SystemTime::now();
    let read = error.retry_after();
    let after = SystemTime::now();
    agrees("aws", read, |t| aws_hint(&held, t), before, after, input);
}
