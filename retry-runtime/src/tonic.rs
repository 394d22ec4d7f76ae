//! gRPC with `tonic` (feature `tonic`): [`Classify`] for `tonic::Status`,
//! so `#[retry]` (or any policy) retries a tonic client call by its status
//! code, and waits what the server's `grpc-retry-pushback-ms` asks (as
//! grpc-go reads it; gRPC's retry design, proposal A6, allows less, see
//! below); `Status` built from a timeout
//! or a guard's rejection, so `timeout`, `circuit` and `throttle` take
//! such a call.
//!
//! | status code | ErrorKind |
//! |---|---|
//! | `UNAVAILABLE` | Unavailable |
//! | `DEADLINE_EXCEEDED` | Timeout |
//! | `RESOURCE_EXHAUSTED` | RateLimited |
//! | `ABORTED` | Interrupted |
//! | `UNKNOWN` | Unknown |
//! | `CANCELLED` "Timeout expired": tonic's deadline, the client's (`tonic::TimeoutExpired`) or a tonic server's | Timeout |
//! | `UNKNOWN`, `CANCELLED` or `INTERNAL` that tonic's client made from a transport error whose cause is transient (the connection itself reset, its pipe broken, or closed before the request was sent on it) | its cause's: Connect, Timeout, ... |
//! | any other (`CANCELLED`, `INVALID_ARGUMENT`, `NOT_FOUND`, `PERMISSION_DENIED`, `INTERNAL`, ...) | Permanent |
//!
//! The table is this library's: A6 defines no default set of retryable
//! codes (each service's config lists them), and advises retrying only
//! codes that mean the server did not process the call. [`GRPC`] retries
//! the transient kinds: `Timeout`, `Connect`, `RateLimited` and
//! `Unavailable`. Not `ABORTED` (`Interrupted`) or `UNKNOWN` (`Unknown`):
//! to retry `ABORTED` too,
//! `GRPC.retry_on(KindSet::TRANSIENT.with(ErrorKind::Interrupted))`.
//! That policy keeps [`PUSHBACK`]'s kinds for the server's pushback, so an
//! `ABORTED`'s pushback is not read (its backoff waits); to read it too,
//! add `.with_retry_after(PUSHBACK.with_kinds(
//! KindSet::TRANSIENT.with(ErrorKind::Interrupted)))`.
//! `GRPC` retries any method: for one that must not run twice, retry
//! `UNAVAILABLE` only (`retry_on = Unavailable` on the attribute), which
//! usually means the server did not take the call (A6's advice), or,
//! the sure way, send an idempotency key the server checks: a
//! `DEADLINE_EXCEEDED` or a `RESOURCE_EXHAUSTED` can come after the
//! server did the work, and so can an `UNAVAILABLE` tonic makes from a
//! keep-alive timeout or a proxy's 502, 503 or 504.
//!
//! ```
//! use retry_runtime::{retry, tonic::GRPC};
//! use tonic::{Code, Status};
//! # struct Payments { calls: u32 }
//! # impl Payments {
//! #     async fn charge(&mut self, _cents: u64) -> Result<tonic::Response<String>, Status> {
//! #         self.calls += 1;
//! #         Err(Status::deadline_exceeded("slow"))
//! #     }
//! # }
//! // not idempotent: retried only on UNAVAILABLE, as a rule a call the server did not take
//! #[retry(policy = GRPC, retry_on = Unavailable)]
//! async fn charge(payments: &mut Payments, cents: u64) -> Result<String, Status> {
//!     Ok(payments.charge(cents).await?.into_inner())
//! }
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let mut payments = Payments { calls: 0 };
//! let err = charge(&mut payments, 500).await.unwrap_err();
//! assert_eq!((err.code(), payments.calls), (Code::DeadlineExceeded, 1)); // sent once
//! # }
//! ```
//!
//! `CANCELLED` is not retried, with two exceptions: tonic's deadline, and
//! one tonic's client made from a connection closed before the request
//! was sent on it (below).
//! tonic's client ends a call at its own deadline (`Endpoint::timeout`,
//! or `Request::set_timeout`'s `grpc-timeout`) with `CANCELLED` "Timeout
//! expired", whose [`source`](std::error::Error::source) chain holds a
//! `tonic::TimeoutExpired`; a tonic server ends it at the deadline it
//! enforces (the `grpc-timeout` the client sent, or its own
//! `Server::builder().timeout(..)`) with the same `CANCELLED` "Timeout
//! expired", over the wire (no source). With `Request::set_timeout` the
//! two race, and the server's answer won about one call in twenty on a
//! multi-thread runtime. Either is a deadline, what gRPC calls
//! `DEADLINE_EXCEEDED`, so both are a `Timeout`, retried as one. Any other
//! `CANCELLED` stays `Permanent`, but for one tonic made locally (below).
//!
//! A status tonic makes from a transport error is classified by its cause:
//! a refused, reset or closed connection is `Connect`. tonic's client turns
//! an error of its channel into a `Status` that holds the error as its
//! [`source`](std::error::Error::source) (a status the server sent has
//! none): `UNAVAILABLE` "tcp connect error" when it could not connect (a
//! refused connection: nothing was sent), `UNKNOWN` "transport
//! error" for an I/O error (a broken pipe or a reset: the server closed
//! the connection), `CANCELLED` "operation was canceled" for hyper's
//! Canceled (the connection closed before the request was sent on it), and, with
//! tonic's `server` feature, `INTERNAL` for most HTTP/2 errors. An
//! `UNAVAILABLE`, `UNKNOWN`, `CANCELLED` or `INTERNAL` with a source takes the kind of its
//! source chain ([`error_kind`](crate::classify::error_kind): an
//! `io::Error`, hyper's error, ...) when that kind is transient, and the
//! code's otherwise. So a server that closes or resets the connection is
//! retried by [`GRPC`] as `Connect`, as a connection closed before the
//! response is for HTTP. A connection closed at once never reached the
//! server's code; one closed after the server read the request may have
//! (a server that crashed while handling it): for a method that must not
//! run twice, see above. An HTTP/2 stream the server resets (`RST_STREAM`)
//! keeps its code's kind: `INTERNAL` and `CANCELLED` are `Permanent`
//! (their h2 error has no cause to read), `REFUSED_STREAM` comes as
//! `UNAVAILABLE`; and a connection lost after the response's headers
//! arrived stays `UNKNOWN` (not retried by `GRPC`: the server took the
//! call). Only a failure of the connection itself is `Connect`.
//!
//! `Request::set_timeout` is a deadline per attempt: inside `#[retry]` each
//! attempt builds its request and sends its own `grpc-timeout`, so with a
//! 2s timeout each of [`GRPC`]'s 4 attempts gets 2s. A6's deadline is the
//! call's, across all its attempts. For one: give the policy a
//! `max_elapsed` (no retry starts after it; it does not end an attempt
//! already running) and set each attempt's timeout to the time left, an
//! `#[attempt]` parameter's [`remaining`](crate::Attempt::remaining). The
//! attribute's `timeout = "2s"` ends an attempt on the client only: it
//! sends no `grpc-timeout`, so the server is told the request's own
//! (`set_timeout`), or no deadline; with both, the shorter one ends the
//! attempt on the client. The same parameter sends
//! `grpc-previous-rpc-attempts`, which A6 leaves out of the first attempt
//! and sets to 1 on the second, 2 on the third
//! ([`previous_attempts`](crate::Attempt::previous_attempts)); [`for_attempt`]
//! does both, and a server's handler reads the deadline it was given with
//! [`time_left`] (for retries of its own within it):
//!
//! ```
//! use retry_runtime::{retry, tonic::GRPC, Attempt};
//! use tonic::{Request, Status};
//! # struct Client { seen: Vec<(Option<String>, Option<String>)> }
//! # impl Client {
//! #     async fn get_clip(&mut self, request: Request<u32>) -> Result<tonic::Response<String>, Status> {
//! #         let header = |key| request.metadata().get(key).map(|v| v.to_str().unwrap().to_owned());
//! #         self.seen.push((header("grpc-previous-rpc-attempts"), header("grpc-timeout")));
//! #         if self.seen.len() < 3 { return Err(Status::unavailable("restarting")) }
//! #         Ok(tonic::Response::new(format!("clip {}", request.into_inner())))
//! #     }
//! # }
//!
//! // the whole call within 5s, retries and waits included
//! #[retry(policy = GRPC, max_elapsed = "5s")]
//! async fn clip(client: &mut Client, id: u32, #[attempt] attempt: Attempt) -> Result<String, Status> {
//!     let mut request = Request::new(id);
//!     // grpc-timeout: what is left of the 5s; grpc-previous-rpc-attempts
//!     retry_runtime::tonic::for_attempt(&mut request, &attempt);
//!     Ok(client.get_clip(request).await?.into_inner())
//! }
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let mut client = Client { seen: Vec::new() };
//! assert_eq!(clip(&mut client, 7).await.unwrap(), "clip 7");
//! let previous: Vec<_> = client.seen.iter().map(|(previous, _)| previous.as_deref()).collect();
//! assert_eq!(previous, [None, Some("1"), Some("2")]);
//! assert_eq!(client.seen[0].1.as_deref(), Some("5000000u")); // 5s, in microseconds
//! assert!(client.seen.iter().all(|(_, timeout)| timeout.is_some()));
//! # }
//! ```
//!
//! Streaming calls (what a retry can repeat of them), and a hedged call on
//! a tonic client (whose methods take `&mut self`): see the crate's
//! [Where retries go](crate#where-retries-go), "gRPC with tonic".
//!
//! The server's pushback (trailing metadata `grpc-retry-pushback-ms`, a
//! decimal count of milliseconds) is the status's
//! [`retry_after`](Classify::retry_after), read as grpc-go reads it
//! (`strconv.Atoi`, 64-bit): an integer, with an optional sign and nothing
//! around it (`"300"`, `"+300"`, `"0300"`). A non-negative one is the wait,
//! however long: the policy caps it as it caps any hint
//! ([`RetryAfter::cap`](crate::RetryAfter::cap); 60s for [`GRPC`]). One
//! that is negative, unreadable (`" 300"`, `"1.5"`, `"300ms"`) or too large
//! for a 64-bit integer, or several values, asks the client not to retry:
//! such a status is `Permanent`, whatever its code, and the give-up line
//! says why (`clip failed with a non-retriable error on attempt 1 (the
//! server's grpc-retry-pushback-ms asks not to retry: negative)`, at WARN;
//! [`Classify::why_permanent`]), with a DEBUG line that shows the values.
//! This differs from A6's letter, a signed 32-bit integer without leading
//! zeros: a value above `i32::MAX` (2147483647 ms, about 24.9 days), such
//! as `"3000000000"`, is a wait here (so 60s with [`GRPC`]), where a
//! client reading A6 strictly finds it unreadable and does not retry; and
//! `"0300"` is 300ms.
//!
//! On a hedged call (the attribute's `hedge`, `.hedged()`) a pushback that
//! says not to retry differs from A6 too: its status is `Permanent`, and a
//! non-retriable failure ends a hedged call at once, cancelling the
//! attempts in flight. A6 only stops new hedges there, and lets the
//! attempts in flight answer.
//!
//! The presets honour hints for `RateLimited` only (and `api` and `job`
//! for `Unavailable` too, `job` up to an hour); [`GRPC`] honours the
//! pushback for every transient
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
//! assert_eq!(GRPC.decide(0, &busy), Decision::retry(Duration::from_millis(300)));
//!
//! let mut stop = Status::new(Code::Unavailable, "draining");
//! stop.metadata_mut().insert("grpc-retry-pushback-ms", "-1".parse().unwrap());
//! assert_eq!(stop.kind(), ErrorKind::Permanent); // the server said: do not retry
//! // and its give-up line says so
//! assert_eq!(stop.why_permanent(), Some("the server's grpc-retry-pushback-ms asks not to retry: negative"));
//!
//! let mut later = Status::new(Code::Unavailable, "maintenance");
//! later.metadata_mut().insert("grpc-retry-pushback-ms", "172800000".parse().unwrap()); // 2 days
//! assert_eq!(GRPC.decide(0, &later), Decision::retry(Duration::from_secs(60))); // GRPC's cap
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
//!
//! The guards take such a call too: `Status` is `From<`[`AttemptTimeout`]`>`
//! (`DEADLINE_EXCEEDED`), `From<`[`CircuitOpen`]`>` (`UNAVAILABLE`, with the
//! breaker's wait as the pushback, so that a retry around the call, or the
//! gRPC client a server hands the status on to, waits for the breaker; no
//! pushback from a breaker forced open, which has no wait to give) and
//! `From<`[`Throttled`]`>` (`UNAVAILABLE`, no pushback):
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{retry, tonic::GRPC, CircuitBreaker, Classify, ErrorKind};
//! # struct Client;
//! # impl Client { async fn get_clip(&mut self, id: u32) -> Result<tonic::Response<String>, tonic::Status> { Ok(tonic::Response::new(format!("clip {id}"))) } }
//!
//! static CLIPS: CircuitBreaker = CircuitBreaker::new("clips").with_recovery(Duration::from_secs(30));
//!
//! #[retry(policy = GRPC, timeout = "2s", circuit = CLIPS)]
//! async fn clip(client: &mut Client, id: u32) -> Result<String, tonic::Status> {
//!     Ok(client.get_clip(id).await?.into_inner())
//! }
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! assert_eq!(clip(&mut Client, 7).await.unwrap(), "clip 7");
//! # for _ in 0..5 { let p = CLIPS.try_acquire().unwrap(); CLIPS.record(p, retry_runtime::circuit::Outcome::Failure); }
//! // once the breaker is open: not called, UNAVAILABLE with the breaker's wait
//! let open = clip(&mut Client, 7).await.unwrap_err();
//! assert_eq!(open.code(), tonic::Code::Unavailable);
//! assert!(open.message().starts_with("circuit `clips` is open; retry after "));
//! let wait = open.retry_after().unwrap(); // its grpc-retry-pushback-ms: about 30000
//! assert!(open.kind() == ErrorKind::Unavailable && wait > Duration::from_secs(29));
//! # }
//! ```

use core::fmt;
use core::num::IntErrorKind;
use std::sync::Arc;
use std::time::Duration;

use ::tonic::metadata::{MetadataMap, MetadataValue};
use ::tonic::{Code, Status};

use crate::backoff::Backoff;
use crate::circuit::CircuitOpen;
use crate::classify::{Classify, ErrorKind, KindSet};
use crate::jitter::Jitter;
use crate::log;
use crate::policy::{Policy, RetryAfter, RetryOn};
use crate::throttle::Throttled;
use crate::timeout::AttemptTimeout;

/// The metadata key of the server's pushback (gRPC A6).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{tonic::PUSHBACK_KEY, Classify};
/// assert_eq!(PUSHBACK_KEY, "grpc-retry-pushback-ms");
/// // a server asking for 250ms (or a test standing in for one)
/// let mut busy = tonic::Status::unavailable("busy");
/// busy.metadata_mut().insert(PUSHBACK_KEY, "250".parse().unwrap());
/// assert_eq!(busy.retry_after(), Some(Duration::from_millis(250)));
/// ```
pub const PUSHBACK_KEY: &str = "grpc-retry-pushback-ms";

/// The metadata key of the count of earlier attempts that a retried call
/// sends (gRPC A6).
///
/// ```
/// assert_eq!(retry_runtime::tonic::PREVIOUS_ATTEMPTS_KEY, "grpc-previous-rpc-attempts");
/// ```
pub const PREVIOUS_ATTEMPTS_KEY: &str = "grpc-previous-rpc-attempts";

/// Tell the server about `attempt` as gRPC's A6 asks of a retried call:
/// `grpc-previous-rpc-attempts` (left out of the first attempt, 1 on the
/// second), and, under a policy with a `max_elapsed`, the time left as
/// the request's deadline (`grpc-timeout`, with `Request::set_timeout`), so
/// that the call's deadline holds across its attempts. For the request an
/// `#[attempt]` parameter's (or the context form's) attempt builds.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{tonic::for_attempt, Attempt};
/// let mut first = tonic::Request::new(7u32);
/// for_attempt(&mut first, &Attempt::new(1, 4).with_remaining(Duration::from_secs(5)));
/// assert!(first.metadata().get("grpc-previous-rpc-attempts").is_none());
/// assert_eq!(first.metadata().get("grpc-timeout").unwrap(), "5000000u");
/// let mut third = tonic::Request::new(7u32);
/// for_attempt(&mut third, &Attempt::new(3, 4)); // no max_elapsed: no deadline set
/// assert_eq!(third.metadata().get("grpc-previous-rpc-attempts").unwrap(), "2");
/// assert!(third.metadata().get("grpc-timeout").is_none());
/// ```
pub fn for_attempt<T>(request: &mut ::tonic::Request<T>, attempt: &crate::Attempt) {
    if let Some(left) = attempt.remaining {
        request.set_timeout(left);
    }
    if attempt.number > 1 {
        let previous = MetadataValue::from(attempt.previous_attempts());
        request
            .metadata_mut()
            .insert(PREVIOUS_ATTEMPTS_KEY, previous);
    }
}

/// The deadline an incoming request carries (its `grpc-timeout`, which a
/// caller's `Request::set_timeout` or [`for_attempt`] sent), as the time
/// it gave the call: for a handler that calls a downstream with retries,
/// to keep them within it (`policy.with_max_elapsed(left)`, `timeout =
/// left`; docs/policies.md, "A deadline across calls"). Read as gRPC's spec writes
/// it, 1 to 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`); `None`
/// without one, or for a value written otherwise. The time the request
/// spent on its way is not known here: it is at most this.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tonic::time_left;
/// let mut request = tonic::Request::new(());
/// assert_eq!(time_left(&request), None);
/// request.set_timeout(Duration::from_millis(1500));
/// assert_eq!(time_left(&request), Some(Duration::from_millis(1500)));
/// request.metadata_mut().insert("grpc-timeout", "2S".parse().unwrap());
/// assert_eq!(time_left(&request), Some(Duration::from_secs(2)));
/// request.metadata_mut().insert("grpc-timeout", "soon".parse().unwrap());
/// assert_eq!(time_left(&request), None);
/// ```
pub fn time_left<T>(request: &::tonic::Request<T>) -> Option<Duration> {
    let value = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    grpc_timeout(value)
}

/// A `grpc-timeout` value: 1 to 8 ASCII digits, then its unit.
fn grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Honour the server's pushback for every transient kind, up to 60s (a
/// longer one waits 60s).
///
/// [`GRPC`] has it. A policy made from a preset or [`Policy::new`] honours
/// the pushback only for its own [`RetryAfter`] kinds (`RateLimited`, and
/// `Unavailable` too for `api` and `job`): start a gRPC policy from
/// [`GRPC`], or add this.
///
/// ```
/// use retry_runtime::{presets, tonic, ErrorKind};
/// assert!(tonic::PUSHBACK.kinds().contains(ErrorKind::Unavailable));
/// // a preset's own kinds leave an UNAVAILABLE's pushback unread
/// assert!(!presets::QUICK.retry_after().kinds().contains(ErrorKind::Unavailable));
/// let p = presets::QUICK.with_retry_after(tonic::PUSHBACK);
/// assert!(p.retry_after().kinds().contains(ErrorKind::Unavailable));
/// ```
pub const PUSHBACK: RetryAfter = RetryAfter::DEFAULT
    .with_kinds(KindSet::TRANSIENT)
    .with_cap(Duration::from_secs(60));

/// A policy for gRPC calls: 4 attempts, exponential 100ms..5s with full
/// jitter, the transient kinds retried (UNAVAILABLE, DEADLINE_EXCEEDED,
/// RESOURCE_EXHAUSTED, and a refused, reset or closed connection), the
/// server's pushback honoured up to 60s ([`PUSHBACK`]). Not retried:
/// `ABORTED` (`Interrupted`), `UNKNOWN` (`Unknown`) and the rest
/// (`Permanent`). A `const`: adjust it with the `with_*` setters.
///
/// It has no `max_elapsed`: with three pushbacks of a minute a call takes
/// three minutes. Bound the call with
/// [`with_max_elapsed`](Policy::with_max_elapsed) (or the attribute's
/// `max_elapsed = "10s"`); see the [module docs](self) for a deadline sent
/// to the server too. It retries any method: for one that must not run
/// twice, see the module docs.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{tonic::GRPC, ErrorKind, KindSet, Policy, RetryOn};
/// assert_eq!((GRPC.max_attempts(), GRPC.max_elapsed()), (4, None));
///
/// // the call within 10s, waits included; ABORTED retried too
/// const CLIPS: Policy<RetryOn> = GRPC
///     .with_max_elapsed(Duration::from_secs(10))
///     .retry_on(KindSet::TRANSIENT.with(ErrorKind::Interrupted));
/// assert_eq!(CLIPS.max_elapsed(), Some(Duration::from_secs(10)));
/// ```
///
/// In a policy file (feature `serde`) it is the preset `grpc`: `preset =
/// "grpc"` (or `"grpc"` alone) reads it, the table's other keys set over
/// it, and a policy made from it is written back so while it keeps its
/// name; one given a name (`.with_name`, a `name` key, a
/// `config::named_map` key) is written with its
/// `name` and every other key, as any named policy, without `preset`.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use retry_runtime::{tonic::GRPC, Policy, RetryOn};
/// let clips: Policy<RetryOn> = toml::from_str("preset = \"grpc\"\nmax_elapsed = \"10s\"\n")?;
/// assert_eq!((clips.max_attempts(), clips.retry_after()), (GRPC.max_attempts(), GRPC.retry_after()));
/// let written = toml::to_string(&clips)?;
/// assert!(written.starts_with("preset = \"grpc\"\nattempts = 4\n"), "{written}");
///
/// let named: Policy<RetryOn> = toml::from_str("preset = \"grpc\"\nname = \"clips\"\n")?;
/// let written = toml::to_string(&named)?;
/// assert!(written.starts_with("name = \"clips\"\nattempts = 4\n"), "{written}");
/// assert!(!written.contains("preset"), "{written}");
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const GRPC: Policy<RetryOn> = Policy::new()
    .with_max_attempts(4)
    .with_backoff(Backoff::exponential(
        Duration::from_millis(100),
        Duration::from_secs(5),
    ))
    .with_jitter(Jitter::Full)
    .with_retry_after(PUSHBACK)
    .with_stock_name("grpc")
    .retry_on(KindSet::TRANSIENT)
    .checked();

/// What the server's pushback says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pushback {
    /// No pushback.
    Absent,
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
    // As grpc-go reads it (`strconv.Atoi`, which `i64::from_str` matches:
    // an optional sign, decimal digits, nothing around them, at most
    // `i64::MAX`); anything else, or a negative value, stops the retries.
    match value.to_str().map(str::parse::<i64>) {
        Ok(Ok(ms)) => match u64::try_from(ms) {
            Ok(ms) => Pushback::Wait(Duration::from_millis(ms)),
            Err(_) => Pushback::Stop("negative"),
        },
        Ok(Err(e)) => match e.kind() {
            IntErrorKind::PosOverflow => Pushback::Stop("too large for an integer"),
            IntErrorKind::NegOverflow => Pushback::Stop("negative"),
            _ => Pushback::Stop("unreadable"),
        },
        Err(_) => Pushback::Stop("unreadable"),
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

/// The text of tonic's `TimeoutExpired`, the message of the `CANCELLED` a
/// tonic client or server ends a call with at its deadline.
const TIMEOUT_EXPIRED: &str = "Timeout expired";

/// Did tonic end the call at its deadline? Its `CANCELLED` "Timeout
/// expired" has a `tonic::TimeoutExpired` in its source chain when the
/// client's timer ended it, and that message (the error's text) when a
/// tonic server did, over the wire.
fn tonic_deadline(status: &Status) -> bool {
    if status.message() == TIMEOUT_EXPIRED {
        return true;
    }
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        if e.is::<::tonic::TimeoutExpired>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The kind of the transport error tonic made `status` from, if that
/// error's chain classifies ([`error_kind`](crate::classify::error_kind))
/// as a transient kind: a refused, reset or closed connection is
/// `Connect`. A status the server sent has no
/// [`source`](std::error::Error::source); one tonic's client made from a
/// transport error holds that error. (tonic makes such an error
/// `UNAVAILABLE` when it could not connect, `UNKNOWN`, or `CANCELLED` for
/// hyper's "operation was canceled", or, with its `server` feature,
/// `INTERNAL` for an HTTP/2 error.)
fn transport_kind(status: &Status) -> Option<ErrorKind> {
    let kind = crate::classify::error_kind(std::error::Error::source(status)?);
    kind.is_transient().then_some(kind)
}

/// By its code ([`code_kind`]), unless the server's pushback says not to
/// retry, or it is tonic's deadline (`CANCELLED` "Timeout expired", from
/// the client's timer or a tonic server's: `Timeout`), or tonic's client
/// made it from a transport error whose cause is transient (an
/// `UNAVAILABLE`, `UNKNOWN`, `CANCELLED` or `INTERNAL` with a
/// [`source`](std::error::Error::source): a refused, reset or closed
/// connection is `Connect`, so `retry_on = Connect` retries a call that
/// never reached the server); the pushback is the hint. See the
/// [module docs](self).
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// assert_eq!(tonic::Status::unavailable("down").kind(), ErrorKind::Unavailable);
/// assert_eq!(tonic::Status::deadline_exceeded("slow").kind(), ErrorKind::Timeout);
/// assert_eq!(tonic::Status::aborted("conflict").kind(), ErrorKind::Interrupted);
///
/// // tonic's client deadline (`Endpoint::timeout`, `Request::set_timeout`)
/// let timeout: Box<dyn std::error::Error + Send + Sync> = Box::new(tonic::TimeoutExpired(()));
/// let expired = tonic::Status::from_error(timeout);
/// assert_eq!((expired.code(), expired.kind()), (tonic::Code::Cancelled, ErrorKind::Timeout));
/// // a tonic server's deadline, over the wire
/// assert_eq!(tonic::Status::cancelled("Timeout expired").kind(), ErrorKind::Timeout);
/// assert_eq!(tonic::Status::cancelled("client went away").kind(), ErrorKind::Permanent);
///
/// // made by tonic's client from a transport error: by its cause
/// let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
/// let broken = tonic::Status::from_error(Box::new(reset));
/// assert_eq!((broken.code(), broken.kind()), (tonic::Code::Unknown, ErrorKind::Connect));
/// assert_eq!(tonic::Status::unknown("sent by the server").kind(), ErrorKind::Unknown);
///
/// // tonic's client could not connect: nothing was sent
/// let mut refused = tonic::Status::unavailable("tcp connect error");
/// refused.set_source(std::sync::Arc::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)));
/// assert_eq!(refused.kind(), ErrorKind::Connect);
/// assert_eq!(tonic::Status::unavailable("overloaded").kind(), ErrorKind::Unavailable); // the server's
/// ```
impl Classify for Status {
    fn kind(&self) -> ErrorKind {
        match pushback(self) {
            Pushback::Stop(why) => {
                log::pushback_stops(&PushbackValues(self), why);
                ErrorKind::Permanent
            }
            Pushback::Absent | Pushback::Wait(_) => kind_without_pushback(self),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match pushback(self) {
            Pushback::Wait(wait) => Some(wait),
            Pushback::Absent | Pushback::Stop(_) => None,
        }
    }

    /// A status whose server's pushback asks not to retry says so, and
    /// why: the give-up line reads `... on attempt 1 (the server's
    /// grpc-retry-pushback-ms asks not to retry: negative)`. Not for a
    /// status `Permanent` by its code and cause alone (a NOT_FOUND: the
    /// pushback changed nothing). (Read only for a line that is written;
    /// no DEBUG line of its own.)
    fn why_permanent(&self) -> Option<&'static str> {
        match pushback(self) {
            Pushback::Stop(why) if kind_without_pushback(self) != ErrorKind::Permanent => {
                Some(stop_said(why))
            }
            Pushback::Stop(_) | Pushback::Absent | Pushback::Wait(_) => None,
        }
    }
}

/// A status's kind by its code and its cause, as if it had no pushback.
fn kind_without_pushback(status: &Status) -> ErrorKind {
    match status.code() {
        Code::Cancelled if tonic_deadline(status) => ErrorKind::Timeout,
        code @ (Code::Unknown | Code::Cancelled | Code::Internal | Code::Unavailable) => {
            transport_kind(status).unwrap_or(code_kind(code))
        }
        code => code_kind(code),
    }
}

/// A stopping pushback's reason (`why`, as its DEBUG line's `reason`) as
/// the give-up line says it.
fn stop_said(why: &'static str) -> &'static str {
    macro_rules! asks {
        ($why:literal) => {
            concat!(
                "the server's grpc-retry-pushback-ms asks not to retry: ",
                $why
            )
        };
    }
    match why {
        "negative" => asks!("negative"),
        "unreadable" => asks!("unreadable"),
        "too large for an integer" => asks!("too large for an integer"),
        _ => asks!("several values"),
    }
}

/// An attempt that outlived `#[retry(timeout)]` (or
/// [`timeout`](crate::timeout())) on a call returning `Status`:
/// `DEADLINE_EXCEEDED` (a deadline the client set, as gRPC's own), so
/// [`GRPC`] retries it ([`ErrorKind::Timeout`]). Its message is the
/// timeout's, its [`source`](std::error::Error::source) the
/// [`AttemptTimeout`].
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{AttemptTimeout, Classify, ErrorKind};
/// use tonic::{Code, Status};
///
/// let status = Status::from(AttemptTimeout::new(Duration::from_secs(2)));
/// assert_eq!((status.code(), status.message()), (Code::DeadlineExceeded, "attempt timed out after 2s"));
/// assert_eq!(status.kind(), ErrorKind::Timeout);
/// ```
impl From<AttemptTimeout> for Status {
    fn from(timeout: AttemptTimeout) -> Status {
        let mut status = Status::deadline_exceeded(timeout.to_string());
        status.set_source(Arc::new(timeout));
        status
    }
}

/// A call an open circuit breaker turned away (`#[retry(circuit = NAME)]`
/// on a call returning `Status`): `UNAVAILABLE`, with the breaker's wait as
/// the pushback (`grpc-retry-pushback-ms`, in whole milliseconds rounded
/// up), so that a retry around the call ([`Classify`] for `Status` reads
/// it back) or a gRPC client this status is returned to waits for the
/// breaker rather than calling again at once. A breaker
/// [forced open](crate::CircuitBreaker::force_open) has no wait to give
/// (it rejects until a reset): no pushback, so the retry waits its own
/// backoff. Its message is the rejection's, its
/// [`source`](std::error::Error::source) the [`CircuitOpen`].
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{CircuitOpen, Classify, ErrorKind};
/// use tonic::{Code, Status};
///
/// let status = Status::from(CircuitOpen::new("clips", Duration::from_secs(30)));
/// assert_eq!((status.code(), status.message()), (Code::Unavailable, "circuit `clips` is open; retry after 30s"));
/// assert_eq!(status.metadata().get("grpc-retry-pushback-ms").unwrap(), "30000");
/// assert_eq!((status.kind(), status.retry_after()), (ErrorKind::Unavailable, Some(Duration::from_secs(30))));
///
/// let forced = Status::from(CircuitOpen::new_forced("clips"));
/// assert!(forced.metadata().get("grpc-retry-pushback-ms").is_none());
/// assert_eq!((forced.kind(), forced.retry_after()), (ErrorKind::Unavailable, None));
/// ```
impl From<CircuitOpen> for Status {
    fn from(open: CircuitOpen) -> Status {
        let mut metadata = MetadataMap::new();
        if let Some(wait) = open.retry_after() {
            metadata.insert(PUSHBACK_KEY, pushback_value(wait));
        }
        let mut status = Status::with_metadata(Code::Unavailable, open.to_string(), metadata);
        status.set_source(Arc::new(open));
        status
    }
}

/// A call an adaptive throttle rejected (`#[retry(throttle = NAME)]` on a
/// call returning `Status`): `UNAVAILABLE`, without a pushback (a throttle
/// has no wait to give). Its message is the rejection's, its
/// [`source`](std::error::Error::source) the [`Throttled`].
///
/// ```
/// use retry_runtime::{Classify, ErrorKind, Throttled};
/// use tonic::{Code, Status};
///
/// let status = Status::from(Throttled::new("clips", 0.75));
/// assert_eq!(status.code(), Code::Unavailable);
/// assert!(status.message().starts_with("throttle `clips` rejected the call locally"));
/// assert!(status.metadata().get("grpc-retry-pushback-ms").is_none());
/// assert_eq!((status.kind(), status.retry_after()), (ErrorKind::Unavailable, None));
/// ```
impl From<Throttled> for Status {
    fn from(rejection: Throttled) -> Status {
        let mut status = Status::unavailable(rejection.to_string());
        status.set_source(Arc::new(rejection));
        status
    }
}

/// A wait as a pushback value: whole milliseconds, rounded up (never ask
/// for less than the wait), at most `i64::MAX` (what a reader takes for a
/// wait, not for an unreadable value that stops the retries).
fn pushback_value(wait: Duration) -> MetadataValue<::tonic::metadata::Ascii> {
    let ms = wait.as_millis() + u128::from(wait.subsec_nanos() % 1_000_000 != 0);
    let max = i64::MAX.unsigned_abs();
    MetadataValue::from(u64::try_from(ms).map_or(max, |ms| ms.min(max)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn grpc_timeouts_as_the_spec_writes_them() {
        use super::grpc_timeout;
        let d = |v| grpc_timeout(v);
        assert_eq!(d("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(d("99999999H"), Some(Duration::from_secs(99_999_999 * 3600)));
        assert_eq!(d("5M"), Some(Duration::from_secs(300)));
        assert_eq!(d("250m"), Some(Duration::from_millis(250)));
        assert_eq!(d("0n"), Some(Duration::ZERO));
        for bad in [
            "",
            "S",
            "123456789S",
            "-1S",
            "1.5S",
            "10",
            "10s",
            " 1S",
            "1 S",
            "1é",
        ] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
    }

    use super::*;
    use crate::policy::Decision;
    use crate::stop::StopReason;

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
        for (value, ms) in [
            ("250", 250),
            ("0", 0),
            ("+300", 300),
            ("0300", 300),
            ("-0", 0),
        ] {
            let s = with_pushback(Code::Unavailable, value);
            assert_eq!(
                (s.kind(), s.retry_after()),
                (ErrorKind::Unavailable, Some(Duration::from_millis(ms))),
                "{value:?}"
            );
        }
        // what grpc-go's strconv.Atoi rejects, or a negative value: do not
        // retry (spaces around the number were read as 300)
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
            "-",
            "--5",
            " 300",
            "300 ",
            " 250 ",
            "\t300",
            "3 00",
            "1_000",
        ] {
            let s = with_pushback(Code::Unavailable, stop);
            assert_eq!(
                (s.kind(), s.retry_after()),
                (ErrorKind::Permanent, None),
                "{stop:?}"
            );
        }
    }

    /// Too large for a 64-bit integer: grpc-go's Atoi fails and the call is
    /// not retried (it was ignored, and the code's kind retried on the
    /// backoff).
    #[test]
    fn an_overflowing_pushback_stops() {
        for huge in [
            "9223372036854775808",  // i64::MAX + 1
            "18446744073709551616", // u64::MAX + 1
            "99999999999999999999999999",
        ] {
            let s = with_pushback(Code::Unavailable, huge);
            assert_eq!(
                (s.kind(), s.retry_after()),
                (ErrorKind::Permanent, None),
                "{huge}"
            );
            assert_eq!(GRPC.decide(0, &s), Decision::give_up(StopReason::Permanent));
        }
    }

    /// The reason a stopping pushback gives is the log line's documented
    /// `reason` field: an overflow says which way it overflowed (a huge
    /// negative value is negative, not unreadable).
    #[test]
    fn a_stopping_pushback_says_why() {
        for (value, why) in [
            ("-1", "negative"),
            ("-99999999999999999999999", "negative"),
            ("9223372036854775808", "too large for an integer"),
            ("soon", "unreadable"),
        ] {
            let s = with_pushback(Code::Unavailable, value);
            assert_eq!(pushback(&s), Pushback::Stop(why), "{value}");
            // and the give-up line's words, the same reason
            let said = format!("the server's grpc-retry-pushback-ms asks not to retry: {why}");
            assert_eq!(s.why_permanent(), Some(&*said), "{value}");
        }
        let mut two = with_pushback(Code::Unavailable, "100");
        two.metadata_mut()
            .append(PUSHBACK_KEY, "200".parse().unwrap());
        assert_eq!(pushback(&two), Pushback::Stop("several values"));
        let said = "the server's grpc-retry-pushback-ms asks not to retry: several values";
        assert_eq!(two.why_permanent(), Some(said));
        // no pushback, or a wait: nothing to say
        assert_eq!(Status::not_found("gone").why_permanent(), None);
        assert_eq!(
            with_pushback(Code::Unavailable, "300").why_permanent(),
            None
        );
        // a status Permanent by its code: the pushback changed nothing
        let not_found = with_pushback(Code::NotFound, "-1");
        assert_eq!(not_found.kind(), ErrorKind::Permanent);
        assert_eq!(not_found.why_permanent(), None);
        // one Permanent only by the pushback, whatever its code's kind
        for code in [Code::Unknown, Code::ResourceExhausted, Code::Aborted] {
            let stopped = with_pushback(code, "-1");
            assert_eq!(stopped.kind(), ErrorKind::Permanent, "{code:?}");
            assert!(stopped.why_permanent().is_some(), "{code:?}");
        }
    }

    /// A long pushback is honoured, capped by the policy as any hint (it
    /// was ignored over a day, and the policy's backoff of 100ms..5s used).
    #[test]
    fn a_long_pushback_waits_the_policys_cap() {
        let cap = PUSHBACK.cap();
        for long in [
            "86400000",            // a day
            "86400001",            // a day and a millisecond
            "172800000",           // 2 days
            "31536000000",         // a year
            "9223372036854775807", // i64::MAX
        ] {
            let s = with_pushback(Code::ResourceExhausted, long);
            let ms: u64 = long.parse().unwrap();
            assert_eq!(
                (s.kind(), s.retry_after()),
                (ErrorKind::RateLimited, Some(Duration::from_millis(ms))),
                "{long}"
            );
            assert_eq!(GRPC.decide(0, &s), Decision::retry(cap), "{long}");
        }
        // below the cap, the pushback itself
        let s = with_pushback(Code::Unavailable, "1500");
        assert_eq!(
            GRPC.decide(0, &s),
            Decision::retry(Duration::from_millis(1500))
        );
    }

    /// A wrapper error, as tonic's transport puts around the timeout.
    #[derive(Debug)]
    struct Wrapped(Box<dyn std::error::Error + Send + Sync>);
    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("transport error")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    /// tonic's client deadline is CANCELLED "Timeout expired" caused by a
    /// `TimeoutExpired`, a tonic server's the same text over the wire:
    /// a Timeout (it was Permanent, never retried); any other CANCELLED
    /// stays Permanent.
    #[test]
    fn tonics_client_deadline_is_a_timeout() {
        let expired = || Box::new(::tonic::TimeoutExpired(()));
        let direct = Status::from_error(expired());
        let wrapped = Status::from_error(Box::new(Wrapped(expired())));
        for status in [direct, wrapped] {
            assert_eq!(status.code(), Code::Cancelled, "{status:?}");
            assert_eq!(
                (status.kind(), status.retry_after()),
                (ErrorKind::Timeout, None),
                "{status:?}"
            );
            assert!(matches!(GRPC.decide(0, &status), Decision::Retry { .. }));
        }
        // a tonic server's deadline, over the wire (no source): the same
        // text, a Timeout too (it was Permanent: sent once)
        assert_eq!(::tonic::TimeoutExpired(()).to_string(), TIMEOUT_EXPIRED);
        let server = Status::cancelled("Timeout expired");
        assert_eq!(server.kind(), ErrorKind::Timeout);
        let mut other = Status::cancelled("the client went away");
        assert_eq!(other.kind(), ErrorKind::Permanent);
        other.set_source(Arc::new(Wrapped("gone".into())));
        assert_eq!(other.kind(), ErrorKind::Permanent);
        // a pushback that says stop still does
        let mut stop = Status::from_error(expired());
        stop.metadata_mut()
            .insert(PUSHBACK_KEY, "-1".parse().unwrap());
        assert_eq!(stop.kind(), ErrorKind::Permanent);
    }

    /// A status tonic's client makes from a transport error is classified
    /// by that error's chain when it is transient; one the server sends (no
    /// source) by its code, as is a local one whose cause is not transient.
    #[test]
    fn a_local_status_takes_its_causes_transient_kind() {
        let reset = || std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        for code in [
            Code::Unknown,
            Code::Cancelled,
            Code::Internal,
            Code::Unavailable,
        ] {
            let mut status = Status::new(code, "transport error");
            assert_eq!(status.kind(), code_kind(code), "{code:?}, no source");
            status.set_source(Arc::new(Wrapped(Box::new(reset()))));
            assert_eq!(status.kind(), ErrorKind::Connect, "{code:?}");
            assert!(matches!(GRPC.decide(0, &status), Decision::Retry { .. }));
            let mut unknown_cause = Status::new(code, "x");
            unknown_cause.set_source(Arc::new(Wrapped("no kind".into())));
            assert_eq!(unknown_cause.kind(), code_kind(code), "{code:?}");
        }
        // other codes keep theirs, whatever their cause
        for code in [Code::InvalidArgument, Code::Aborted] {
            let mut status = Status::new(code, "x");
            status.set_source(Arc::new(Wrapped(Box::new(reset()))));
            assert_eq!(status.kind(), code_kind(code), "{code:?}");
        }
        // a pushback that says stop still does
        let mut stop = Status::from_error(Box::new(reset()));
        assert_eq!(stop.kind(), ErrorKind::Connect);
        stop.metadata_mut()
            .insert(PUSHBACK_KEY, "-1".parse().unwrap());
        assert_eq!(stop.kind(), ErrorKind::Permanent);
    }

    /// A server on 127.0.0.1 that closes each connection at once: tonic's
    /// channel fails the call with hyper's Canceled ("connection closed"),
    /// which tonic makes a CANCELLED: Connect, with the feature `tonic`
    /// alone too (hyper's error was known to the `tower` feature only).
    #[tokio::test]
    async fn a_connection_the_server_closes_is_connect() {
        use tower::ServiceExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // (stopped with the test's runtime, also when the test fails)
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                drop(socket);
            }
        });
        let channel = ::tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy();
        let request = http::Request::post(format!("http://{addr}/clips.Clips/Get"))
            .body(::tonic::body::Body::empty())
            .unwrap();
        let err = channel.oneshot(request).await.unwrap_err();
        // as tonic's client makes its status of the channel's error
        let status = Status::from_error(Box::new(err));
        assert!(
            matches!(status.code(), Code::Cancelled | Code::Unknown),
            "{status:?}"
        );
        assert_eq!(status.kind(), ErrorKind::Connect, "{status:?}");
    }

    /// A guard's rejection or a timeout as a `Status` classifies as the
    /// rejection itself does, its wait read back from the pushback.
    #[test]
    fn guards_round_trip_through_a_status() {
        for wait in [
            Duration::ZERO,
            Duration::from_millis(250),
            Duration::from_secs(30),
            Duration::from_millis(30_001),
        ] {
            let open = CircuitOpen::new("clips", wait);
            let status = Status::from(open);
            assert_eq!(status.code(), Code::Unavailable);
            assert_eq!(
                (status.kind(), status.retry_after()),
                (open.kind(), open.retry_after()),
                "{wait:?}"
            );
            let held =
                std::error::Error::source(&status).and_then(|e| e.downcast_ref::<CircuitOpen>());
            assert_eq!(held, Some(&open));
        }
        // forced open: no pushback, so the policy's own backoff applies (the
        // recovery timeout it used to carry was a wait the breaker never keeps)
        let status = Status::from(CircuitOpen::new_forced("clips"));
        assert_eq!(
            (status.code(), status.message()),
            (
                Code::Unavailable,
                "circuit `clips` is forced open; calls are rejected until a reset"
            )
        );
        assert!(status.metadata().get(PUSHBACK_KEY).is_none());
        assert_eq!(
            (status.kind(), status.retry_after()),
            (ErrorKind::Unavailable, None)
        );
        // a wait between milliseconds is rounded up, never told short
        let status = Status::from(CircuitOpen::new("clips", Duration::from_micros(1_500)));
        assert_eq!(status.retry_after(), Some(Duration::from_millis(2)));
        // a wait too long for the pushback is the longest one, not a stop
        let status = Status::from(CircuitOpen::new("clips", Duration::MAX));
        assert_eq!(
            (status.kind(), status.retry_after()),
            (
                ErrorKind::Unavailable,
                Some(Duration::from_millis(i64::MAX.unsigned_abs()))
            )
        );
        assert_eq!(
            GRPC.decide(0, &status),
            Decision::retry(PUSHBACK.cap()),
            "capped as any hint"
        );

        let throttled = Throttled::new("clips", 0.5);
        let status = Status::from(throttled);
        assert_eq!(
            (status.code(), status.kind(), status.retry_after()),
            (Code::Unavailable, ErrorKind::Unavailable, None)
        );
        assert!(status.metadata().get(PUSHBACK_KEY).is_none());
        let held = std::error::Error::source(&status).and_then(|e| e.downcast_ref::<Throttled>());
        assert_eq!(held, Some(&throttled));

        let timeout = AttemptTimeout {
            after: Duration::from_secs(2),
        };
        let status = Status::from(timeout);
        assert_eq!(
            (status.code(), status.kind(), status.retry_after()),
            (Code::DeadlineExceeded, ErrorKind::Timeout, None)
        );
        assert_eq!(status.message(), "attempt timed out after 2s");
        let held =
            std::error::Error::source(&status).and_then(|e| e.downcast_ref::<AttemptTimeout>());
        assert_eq!(held, Some(&timeout));
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

    proptest::proptest! {
        /// gRPC's pushback as grpc-go reads it: any 64-bit integer, an
        /// optional sign and leading zeros, is the wait when it is not
        /// negative (however long: the policy caps it) and stops the
        /// retries when it is; either way the kind is the code's, or
        /// Permanent with its why.
        #[test]
        fn a_pushbacks_integer_is_the_wait_or_a_stop(
            ms in proptest::prelude::any::<i64>(), plus: bool, zeros in 0usize..3,
            code in proptest::prelude::prop_oneof![
                proptest::prelude::Just(Code::Unavailable),
                proptest::prelude::Just(Code::ResourceExhausted),
                proptest::prelude::Just(Code::NotFound),
            ]
        ) {
            let sign = if ms < 0 { "-" } else if plus { "+" } else { "" };
            let value = format!("{sign}{}{}", "0".repeat(zeros), ms.unsigned_abs());
            let s = with_pushback(code, &value);
            let (kind, wait, why) = (s.kind(), s.retry_after(), s.why_permanent());
            match u64::try_from(ms) {
                Ok(ms) => {
                    proptest::prop_assert_eq!((kind, wait, why), (code_kind(code), Some(Duration::from_millis(ms)), None));
                }
                Err(_) => {
                    proptest::prop_assert_eq!((kind, wait), (ErrorKind::Permanent, None), "{}", value);
                    let said = (code_kind(code) != ErrorKind::Permanent).then_some(
                        "the server's grpc-retry-pushback-ms asks not to retry: negative",
                    );
                    proptest::prop_assert_eq!(why, said);
                }
            }
        }

        /// Any visible ASCII (what metadata holds) as the pushback: no
        /// panic; a wait only for an integer of digits, with an optional
        /// `+`, that a `u64` of milliseconds holds; otherwise no wait and
        /// Permanent; the same reading twice.
        #[test]
        fn any_pushback_is_a_wait_or_a_stop(
            bytes in proptest::collection::vec(0x20u8..0x7f, 0..24)
        ) {
            let value = String::from_utf8(bytes).unwrap();
            let Ok(parsed) = value.parse::<tonic::metadata::MetadataValue<_>>() else {
                return Ok(());
            };
            let mut s = Status::new(Code::Unavailable, "x");
            s.metadata_mut().insert(PUSHBACK_KEY, parsed);
            let read = (s.kind(), s.retry_after());
            proptest::prop_assert_eq!(read, (s.kind(), s.retry_after()));
            let digits = value.strip_prefix('+').unwrap_or(&value);
            let integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            match digits.parse::<u64>() {
                Ok(ms) if integer && ms <= i64::MAX as u64 => {
                    proptest::prop_assert_eq!(read, (ErrorKind::Unavailable, Some(Duration::from_millis(ms))));
                }
                // ("-0" is zero, not negative)
                _ if value.strip_prefix('-').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b == b'0')) => {
                    proptest::prop_assert_eq!(read, (ErrorKind::Unavailable, Some(Duration::ZERO)));
                }
                _ => proptest::prop_assert_eq!(read, (ErrorKind::Permanent, None), "{:?}", value),
            }
        }
    }
}
