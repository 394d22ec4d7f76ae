//! gRPC with `tonic` (feature `tonic`): [`Classify`] for `tonic::Status`
//! after gRPC's retry design (proposal A6), so `#[retry]` (or any policy)
//! retries a tonic client call by its status code, and waits what the
//! server's `grpc-retry-pushback-ms` asks.
//!
//! | status code | ErrorKind |
//! |---|---|
//! | `UNAVAILABLE` | Unavailable |
//! | `DEADLINE_EXCEEDED` | Timeout |
//! | `RESOURCE_EXHAUSTED` | RateLimited |
//! | `ABORTED` | Interrupted |
//! | `UNKNOWN` | Unknown |
//! | any other (`INVALID_ARGUMENT`, `NOT_FOUND`, `PERMISSION_DENIED`, `INTERNAL`, ...) | Permanent |
//!
//! The server's pushback (trailing metadata `grpc-retry-pushback-ms`, a
//! decimal count of milliseconds) is the status's
//! [`retry_after`](Classify::retry_after). As A6 says, a negative or
//! unreadable pushback asks the client not to retry at all, and so do
//! several pushback values (as grpc-go reads them): such a status is
//! `Permanent`, whatever its code (with a DEBUG line). A pushback of more
//! than a day, or too large to read as a number, is ignored (DEBUG line;
//! the policy's backoff applies); shorter ones are capped by the policy's
//! [`RetryAfter::cap`](crate::RetryAfter::cap). A leading `+` and spaces
//! around the number are accepted.
//!
//! The presets honour hints for `RateLimited` only (and `api` for
//! `Unavailable` too); [`GRPC`] honours the pushback for every transient
//! kind (A6 applies it to any retried code):
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{tonic::GRPC, Classify, Decision, ErrorKind};
//! use tonic::{Code, Status};
//!
//! let mut busy = Status::new(Code::Unavailable, "overloaded");
//! busy.metadata_mut().insert("grpc-retry-pushback-ms", "300".parse().unwrap());
//! assert_eq!((busy.kind(), busy.retry_after()), (ErrorKind::Unavailable, Some(Duration::from_millis(300))));
//! assert_eq!(GRPC.decide(0, &busy), Decision::Retry(Duration::from_millis(300)));
//!
//! let mut stop = Status::new(Code::Unavailable, "draining");
//! stop.metadata_mut().insert("grpc-retry-pushback-ms", "-1".parse().unwrap());
//! assert_eq!(stop.kind(), ErrorKind::Permanent); // the server said: do not retry
//! assert_eq!(Status::invalid_argument("bad id").kind(), ErrorKind::Permanent);
//! ```
//!
//! On a client call:
//!
//! ```
//! use retry_runtime::retry;
//! # struct Client;
//! # impl Client { async fn get_clip(&mut self, id: u32) -> Result<tonic::Response<String>, tonic::Status> { Ok(tonic::Response::new(format!("clip {id}"))) } }
//! #[retry(policy = retry_runtime::tonic::GRPC)]
//! async fn clip(client: &mut Client, id: u32) -> Result<String, tonic::Status> {
//!     Ok(client.get_clip(id).await?.into_inner())
//! }
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! assert_eq!(clip(&mut Client, 7).await.unwrap(), "clip 7");
//! # }
//! ```

use core::fmt;
use std::time::Duration;

use ::tonic::{Code, Status};

use crate::backoff::Backoff;
use crate::classify::{Classify, ErrorKind, KindSet};
use crate::jitter::Jitter;
use crate::log;
use crate::policy::{Policy, RetryAfter, RetryOn};

/// The metadata key of the server's pushback (gRPC A6).
pub const PUSHBACK_KEY: &str = "grpc-retry-pushback-ms";

/// The longest pushback believed; a longer one is ignored with a DEBUG line.
const MAX_PUSHBACK: Duration = Duration::from_secs(24 * 60 * 60);

/// Honour the server's pushback for every transient kind, up to 60s.
///
/// ```
/// assert!(retry_runtime::tonic::PUSHBACK.kinds.contains(retry_runtime::ErrorKind::Unavailable));
/// ```
pub const PUSHBACK: RetryAfter = RetryAfter {
    kinds: KindSet::TRANSIENT,
    cap: Duration::from_secs(60),
};

/// A policy for gRPC calls: 4 attempts, exponential 100ms..5s with full
/// jitter, the transient kinds retried (UNAVAILABLE, DEADLINE_EXCEEDED,
/// RESOURCE_EXHAUSTED), the server's pushback honoured ([`PUSHBACK`]).
/// A `const`: adjust it with the `with_*` setters.
///
/// ```
/// assert_eq!(retry_runtime::tonic::GRPC.max_attempts(), 4);
/// ```
pub const GRPC: Policy<RetryOn> = Policy::new()
    .with_attempts(4)
    .with_backoff(Backoff::exponential(
        Duration::from_millis(100),
        Duration::from_secs(5),
    ))
    .with_jitter(Jitter::Full)
    .with_retry_after(PUSHBACK)
    .with_name("grpc")
    .retry_on(KindSet::TRANSIENT)
    .checked();

/// What the server's pushback says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pushback {
    /// No pushback.
    Absent,
    /// One too long to believe (more than a day): ignored.
    Absurd,
    /// Retry after this wait.
    Wait(Duration),
    /// Do not retry, and why.
    Stop(&'static str),
}

/// A status's pushback values, for its log line (listed without a `Vec`).
struct PushbackValues<'a>(&'a Status);

impl fmt::Debug for PushbackValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.metadata().get_all(PUSHBACK_KEY).iter())
            .finish()
    }
}

fn pushback(status: &Status) -> Pushback {
    let mut values = status.metadata().get_all(PUSHBACK_KEY).iter();
    let Some(value) = values.next() else {
        return Pushback::Absent;
    };
    if values.next().is_some() {
        // as grpc-go does: a server that says two things is not retried
        return Pushback::Stop("several values");
    }
    let text = value.to_str().map(str::trim).unwrap_or("");
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Pushback::Stop("unreadable");
    }
    if negative {
        return Pushback::Stop("negative");
    }
    // all digits: one that overflows is as absurd as a year
    match digits.parse::<u64>() {
        Ok(ms) if Duration::from_millis(ms) <= MAX_PUSHBACK => {
            Pushback::Wait(Duration::from_millis(ms))
        }
        _ => Pushback::Absurd,
    }
}

/// The kind of a status code, without its pushback (the table above).
///
/// ```
/// use retry_runtime::{tonic::code_kind, ErrorKind};
/// assert_eq!(code_kind(tonic::Code::ResourceExhausted), ErrorKind::RateLimited);
/// assert_eq!(code_kind(tonic::Code::NotFound), ErrorKind::Permanent);
/// ```
pub const fn code_kind(code: Code) -> ErrorKind {
    match code {
        Code::Unavailable => ErrorKind::Unavailable,
        Code::DeadlineExceeded => ErrorKind::Timeout,
        Code::ResourceExhausted => ErrorKind::RateLimited,
        Code::Aborted => ErrorKind::Interrupted,
        Code::Unknown => ErrorKind::Unknown,
        _ => ErrorKind::Permanent,
    }
}

/// By its code ([`code_kind`]), unless the server's pushback says not to
/// retry; the pushback is the hint. See the [module docs](self).
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// assert_eq!(tonic::Status::unavailable("down").kind(), ErrorKind::Unavailable);
/// assert_eq!(tonic::Status::deadline_exceeded("slow").kind(), ErrorKind::Timeout);
/// assert_eq!(tonic::Status::aborted("conflict").kind(), ErrorKind::Interrupted);
/// ```
impl Classify for Status {
    fn kind(&self) -> ErrorKind {
        match pushback(self) {
            Pushback::Stop(why) => {
                log::pushback_stops(&PushbackValues(self), why);
                ErrorKind::Permanent
            }
            Pushback::Absent | Pushback::Absurd | Pushback::Wait(_) => code_kind(self.code()),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match pushback(self) {
            Pushback::Wait(wait) => Some(wait),
            Pushback::Absurd => {
                if let Some(value) = self.metadata().get(PUSHBACK_KEY) {
                    log::retry_after_ignored(value, "it asks for more than a day");
                }
                None
            }
            Pushback::Absent | Pushback::Stop(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_pushback(code: Code, value: &str) -> Status {
        let mut s = Status::new(code, "x");
        s.metadata_mut()
            .insert(PUSHBACK_KEY, value.parse().unwrap());
        s
    }

    #[test]
    fn codes_after_a6() {
        let cases = [
            (Code::Unavailable, ErrorKind::Unavailable),
            (Code::DeadlineExceeded, ErrorKind::Timeout),
            (Code::ResourceExhausted, ErrorKind::RateLimited),
            (Code::Aborted, ErrorKind::Interrupted),
            (Code::Unknown, ErrorKind::Unknown),
            (Code::InvalidArgument, ErrorKind::Permanent),
            (Code::NotFound, ErrorKind::Permanent),
            (Code::Internal, ErrorKind::Permanent),
            (Code::Cancelled, ErrorKind::Permanent),
            (Code::Ok, ErrorKind::Permanent),
        ];
        for (code, kind) in cases {
            let s = Status::new(code, "x");
            assert_eq!((s.kind(), s.retry_after()), (kind, None), "{code:?}");
        }
    }

    #[test]
    fn pushback_values() {
        let s = with_pushback(Code::Unavailable, " 250 ");
        assert_eq!(s.retry_after(), Some(Duration::from_millis(250)));
        assert_eq!(s.kind(), ErrorKind::Unavailable);
        for stop in [
            "-1",
            "-9999999999",
            "-99999999999999999999999",
            "soon",
            "1.5",
            "",
            "300ms",
            "1e3",
            "+",
            "--5",
        ] {
            let s = with_pushback(Code::Unavailable, stop);
            assert_eq!(
                (s.kind(), s.retry_after()),
                (ErrorKind::Permanent, None),
                "{stop:?}"
            );
        }
        let absurd = with_pushback(Code::ResourceExhausted, "31536000000"); // a year
        assert_eq!(
            (absurd.kind(), absurd.retry_after()),
            (ErrorKind::RateLimited, None)
        );
        let zero = with_pushback(Code::Unavailable, "0");
        assert_eq!(zero.retry_after(), Some(Duration::ZERO));
        for read_as_300 in ["+300", "0300", " 300"] {
            let s = with_pushback(Code::Unavailable, read_as_300);
            assert_eq!(s.retry_after(), Some(Duration::from_millis(300)));
        }
        // too large for any integer: as absurd as a year, ignored (it made
        // the status Permanent, as if it were unreadable)
        for huge in ["9223372036854775808", "99999999999999999999999999"] {
            let s = with_pushback(Code::Unavailable, huge);
            assert_eq!(
                (s.kind(), s.retry_after()),
                (ErrorKind::Unavailable, None),
                "{huge}"
            );
        }
    }

    /// Several pushback values: not retried, as grpc-go does, whatever
    /// their order (the first one won, so "300" then "-1" waited 300ms).
    #[test]
    fn several_pushback_values_stop() {
        for values in [["300", "-1"], ["-1", "300"], ["300", "300"]] {
            let mut s = Status::new(Code::Unavailable, "x");
            for v in values {
                s.metadata_mut().append(PUSHBACK_KEY, v.parse().unwrap());
            }
            assert_eq!(
                (s.kind(), s.retry_after()),
                (ErrorKind::Permanent, None),
                "{values:?}"
            );
        }
    }
}
