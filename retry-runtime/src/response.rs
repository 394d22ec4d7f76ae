//! What the middleware integrations share (features `tower` and
//! `reqwest-middleware`): a response read as a success or a failure
//! ([`ClassifyResponse`]), the failure of one attempt ([`Failure`]), which
//! requests may be sent twice ([`is_idempotent`], [`Idempotent`]), and the
//! `Retry-After` header read with bad values ignored ([`retry_after_hint`]).
//!
//! A stack's own client reports a 503 as a response, not an error: the
//! layer reads each response through [`ClassifyResponse`], and a failure
//! becomes a [`Failure`] that the policy judges like any error (its kind by
//! status, its wait from `Retry-After`). When the policy gives up on a
//! failed response, the caller gets that last response, unchanged.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::response::{ClassifyResponse, ResponseFailure};
//! use retry_runtime::ErrorKind;
//!
//! let throttled = http::Response::builder().status(429).header("retry-after", "2").body(()).unwrap();
//! assert_eq!(
//!     throttled.failure(),
//!     Some(ResponseFailure::new(ErrorKind::RateLimited, 429).with_retry_after(Some(Duration::from_secs(2))))
//! );
//! assert_eq!(http::Response::new(()).failure(), None); // 200
//! ```

use core::fmt;
use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use http::header::HeaderMap;
use http::{Method, StatusCode};

use crate::circuit::CircuitOpen;
use crate::classify::{Classify, ErrorKind, classify_status_and_hint};
use crate::stop::StopReason;
use crate::throttle::Throttled;
use crate::timeout::AttemptTimeout;

pub use crate::retry_after::{MAX_RETRY_AFTER, parse_retry_after, retry_after_hint};

/// A response that is a failure: its kind, the server's requested wait,
/// and its status code (for the log line).
///
/// What [`ClassifyResponse::failure`] returns: read its fields (a
/// [`RetryIf`](crate::RetryIf) predicate of a layer's policy matches on
/// them), and build one with [`ResponseFailure::new`] and
/// [`with_retry_after`](ResponseFailure::with_retry_after) in an impl for a
/// response of your own.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::response::{ClassifyResponse, ResponseFailure};
/// use retry_runtime::ErrorKind;
/// let busy = http::Response::builder().status(503).header("retry-after", "10").body(()).unwrap();
/// let ResponseFailure { kind, retry_after, code, .. } = busy.failure().unwrap();
/// assert_eq!((kind, retry_after, code), (ErrorKind::Unavailable, Some(Duration::from_secs(10)), 503));
/// ```
///
/// It is `#[non_exhaustive]`, so a later version can say more about a
/// failure: a struct literal does not compile outside this crate (use
/// [`ResponseFailure::new`]), and a pattern has a `..`.
///
/// ```compile_fail,E0639
/// use retry_runtime::response::ResponseFailure;
/// use retry_runtime::ErrorKind;
/// let f = ResponseFailure { kind: ErrorKind::Unavailable, retry_after: None, code: 503 }; // error[E0639]
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseFailure {
    /// What kind of failure (by status and wait:
    /// [`classify_status_and_hint`], a 403 that names a wait RateLimited).
    pub kind: ErrorKind,
    /// The wait the response asked for, if any: its `Retry-After`, or its
    /// `retry-after-ms` or `x-ms-retry-after-ms` (read first) on a 429, a
    /// 403 or beside a `Retry-After`; on a 429 without any of those that
    /// can be read (an unreadable or absurd one is passed over), the
    /// end of a spent rate limit window (`x-ratelimit-remaining: 0` and
    /// `x-ratelimit-reset`, or OpenAI's `x-ratelimit-remaining-requests: 0`
    /// and `x-ratelimit-reset-requests`, `-tokens` alike:
    /// [`response_hint`](crate::retry_after::response_hint)).
    pub retry_after: Option<Duration>,
    /// The status code, as the response gave it.
    pub code: u16,
}

impl ResponseFailure {
    /// A failure of `kind` with status `code`, asking for no wait.
    ///
    /// ```
    /// use retry_runtime::response::ResponseFailure;
    /// use retry_runtime::ErrorKind;
    /// const BUSY: ResponseFailure = ResponseFailure::new(ErrorKind::Unavailable, 503);
    /// assert_eq!((BUSY.kind, BUSY.retry_after, BUSY.code), (ErrorKind::Unavailable, None, 503));
    /// ```
    #[must_use]
    pub const fn new(kind: ErrorKind, code: u16) -> ResponseFailure {
        ResponseFailure {
            kind,
            retry_after: None,
            code,
        }
    }

    /// The wait the response asked for (`None`: none, or none that could
    /// be read; [`retry_after_hint`] reads a header map so).
    ///
    /// ```
    /// use std::time::Duration;
    /// use http::{header::RETRY_AFTER, HeaderMap};
    /// use retry_runtime::response::{retry_after_hint, ResponseFailure};
    /// use retry_runtime::ErrorKind;
    /// let mut headers = HeaderMap::new();
    /// headers.insert(RETRY_AFTER, "3".parse().unwrap());
    /// let f = ResponseFailure::new(ErrorKind::RateLimited, 429).with_retry_after(retry_after_hint(&headers));
    /// assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
    /// ```
    #[must_use]
    pub const fn with_retry_after(self, wait: Option<Duration>) -> ResponseFailure {
        ResponseFailure {
            retry_after: wait,
            ..self
        }
    }
}

/// Reads a response as a success or a failure.
///
/// Implemented for `http::Response<B>` and (feature `reqwest`)
/// `reqwest::Response` by status: 1xx, 2xx and 3xx are successes; 4xx and
/// 5xx failures classified by [`classify_status_and_hint`] (429
/// RateLimited, 408 Timeout, 500/502/503/504, 529, 520-524 and 425
/// Unavailable, a 403 that names a wait RateLimited, other 4xx and 5xx
/// Permanent); a
/// status outside those classes (600 to 999) is a failure of kind
/// `Unknown`. Implement it for the responses of a service of your own.
///
/// ```
/// use retry_runtime::response::{ClassifyResponse, ResponseFailure};
/// use retry_runtime::ErrorKind;
///
/// struct Reply { busy: bool }
/// impl ClassifyResponse for Reply {
///     fn failure(&self) -> Option<ResponseFailure> {
///         self.busy.then_some(ResponseFailure::new(ErrorKind::Unavailable, 1))
///     }
/// }
/// assert!(Reply { busy: true }.failure().is_some());
/// let odd = http::Response::builder().status(799).body(()).unwrap();
/// assert_eq!(odd.failure().unwrap().kind, ErrorKind::Unknown);
/// ```
#[diagnostic::on_unimplemented(
    message = "the retry layer cannot tell whether a `{Self}` is a failure",
    label = "the service's response type must implement `retry_runtime::response::ClassifyResponse`",
    note = "`http::Response<B>` and `reqwest::Response` do; for a response of your own, implement `ClassifyResponse` (`failure()`: `None` for a success), or have the service answer with an `http::Response`"
)]
pub trait ClassifyResponse {
    /// `None` for a success; for a failure, what kind and the wait it asked for.
    /// The tower layer asks it of every response its service answers with
    /// (the reqwest middleware, of every `reqwest::Response`):
    ///
    /// ```
    /// # #[cfg(feature = "tower")]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::response::{ClassifyResponse, ResponseFailure};
    /// use retry_runtime::{presets, ErrorKind};
    ///
    /// /// A job API's answer: a 200 even when its queue is full.
    /// struct Reply { queue_full: bool }
    /// impl ClassifyResponse for Reply {
    ///     fn failure(&self) -> Option<ResponseFailure> {
    ///         self.queue_full.then(|| ResponseFailure::new(ErrorKind::Unavailable, 200))
    ///     }
    /// }
    ///
    /// static CALLS: AtomicU32 = AtomicU32::new(0);
    /// let api = service_fn(|_: http::Request<()>| async {
    ///     let call = CALLS.fetch_add(1, Relaxed) + 1;
    ///     Ok::<_, Infallible>(Reply { queue_full: call == 1 })
    /// });
    /// let reply = presets::API.layer().layer(api).oneshot(http::Request::new(())).await.unwrap();
    /// assert!(!reply.queue_full);
    /// assert_eq!(CALLS.load(Relaxed), 2); // the first reply was a failure: retried
    /// # }
    /// # #[cfg(not(feature = "tower"))] fn main() {}
    /// ```
    fn failure(&self) -> Option<ResponseFailure>;

    /// Where the response came from, written after the status in a failed
    /// attempt's message (the log lines' `error`): nothing by default (an
    /// `http::Response` does not know its request's URL); a
    /// `reqwest::Response` writes ` from {url}`, its URL masked as
    /// `reqwest::HttpError` (feature `reqwest`) masks it. Called only when
    /// the message is formatted, for a line that is written. Not part of
    /// the stable API.
    #[doc(hidden)]
    fn fmt_origin(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }

    /// The response's extensions, where the tower layer's
    /// `RetryLayer::with_report` (feature `tower`) puts its
    /// [`RetryReport`]; `None` (no report) by default. Not part of the
    /// stable API.
    #[doc(hidden)]
    fn extensions_mut(&mut self) -> Option<&mut http::Extensions> {
        None
    }
}

impl<B> ClassifyResponse for http::Response<B> {
    #[inline]
    fn failure(&self) -> Option<ResponseFailure> {
        status_failure(self.status(), self.headers())
    }

    #[inline]
    fn extensions_mut(&mut self) -> Option<&mut http::Extensions> {
        Some(http::Response::extensions_mut(self))
    }
}

#[cfg(feature = "reqwest")]
impl ClassifyResponse for ::reqwest::Response {
    #[inline]
    fn failure(&self) -> Option<ResponseFailure> {
        status_failure(self.status(), self.headers())
    }

    /// ` from https://api.example.com/v1/users?page=***`: the response
    /// keeps its URL (the last one, after redirects), so this reads no
    /// more than the response holds. ` from https://api.example.com/` for
    /// a response the reqwest middleware marked (its `hide_url_path`).
    fn fmt_origin(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "reqwest-middleware")]
        if self.extensions().get::<OriginOnly>().is_some() {
            return write!(f, " from {}", crate::reqwest::Origin(self.url()));
        }
        write!(f, " from {}", crate::reqwest::Masked(self.url()))
    }

    /// Its extensions, as an `http::Response`'s: the tower layer's report
    /// goes there when a `reqwest::Client` is the service it wraps.
    #[inline]
    fn extensions_mut(&mut self) -> Option<&mut http::Extensions> {
        Some(::reqwest::Response::extensions_mut(self))
    }
}

/// The mark the reqwest middleware puts in a failed response's extensions
/// with `hide_url_path`, for as long as the run judges it: its message
/// (the lines, a predicate's or a hook's view) shows the URL's origin
/// only. Taken out before the response is handed back.
#[cfg(feature = "reqwest-middleware")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct OriginOnly;

/// A response's status and headers read as [`ClassifyResponse`] does.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use retry_runtime::response::status_failure;
/// assert_eq!(status_failure(StatusCode::NO_CONTENT, &HeaderMap::new()), None);
/// assert_eq!(status_failure(StatusCode::NOT_FOUND, &HeaderMap::new()).unwrap().code, 404);
/// ```
#[inline]
pub fn status_failure(status: StatusCode, headers: &HeaderMap) -> Option<ResponseFailure> {
    let code = status.as_u16();
    if code < 400 {
        return None;
    }
    let retry_after = crate::retry_after::failure_hint(code, headers, SystemTime::now);
    Some(ResponseFailure {
        kind: classify_status_and_hint(code, retry_after),
        retry_after,
        code,
    })
}

/// Is a request with this method safe to send twice? GET, HEAD, OPTIONS,
/// TRACE, PUT and DELETE are idempotent (RFC 9110 §9.2.2); POST, PATCH,
/// CONNECT and any other method are not.
///
/// ```
/// use http::Method;
/// use retry_runtime::response::is_idempotent;
/// assert!(is_idempotent(&Method::PUT));
/// assert!(!is_idempotent(&Method::POST));
/// ```
#[inline]
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// A request extension that says "this request is safe to send again",
/// whatever its method: a POST carrying an idempotency key, say. The
/// middleware then retries it as it does a GET.
///
/// ```
/// use retry_runtime::response::Idempotent;
/// let mut req = http::Request::post("http://127.0.0.1/orders").body(()).unwrap();
/// req.extensions_mut().insert(Idempotent);
/// assert!(req.extensions().get::<Idempotent>().is_some());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Idempotent;

/// What the retries behind a response did, in the response's extensions
/// when the reqwest middleware or the tower layer is asked for it
/// ([`RetryMiddleware::with_report`](crate::reqwest_middleware::RetryMiddleware::with_report),
/// [`RetryLayer::with_report`](crate::tower::RetryLayer::with_report)):
/// the attempts made, the time spent (waits included), and, for a failed
/// response the middleware gave up on, why it stopped. The caller's
/// "how many attempts did this call take" (a metric of its own, a log line
/// with the request's id) and "why was this 503 given back" (the attempts
/// ran out, the deadline came, the request could not be sent again).
///
/// The tower layer gives one with each error too: its service's error is
/// then a [`Reported`](crate::tower::Reported) (the error and this report:
/// "unreachable after 3 attempts, 2.1s"; 0 attempts for a call its breaker
/// refused). The reqwest middleware's errors carry none.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::response::RetryReport;
/// use retry_runtime::StopReason;
/// let mut response = http::Response::new(());
/// response.extensions_mut().insert(RetryReport::new(3, Duration::from_secs(2), Some(StopReason::Attempts)));
/// let report = response.extensions().get::<RetryReport>().unwrap();
/// assert_eq!((report.attempts, report.gave_up), (3, Some(StopReason::Attempts)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryReport {
    /// Attempts made, the one that answered included (1: sent once; with
    /// an error, 0 for a call a guard refused before its first attempt, or
    /// whose service failed its `poll_ready` before it, `Permanent`).
    pub attempts: u32,
    /// Time spent, waits included.
    pub elapsed: Duration,
    /// `None` for a success (as the run read it: a response that a
    /// `with_classify_response` function turned into one, a revoked
    /// token's 404 say, or a `with_classify_sent` one, told the method, a
    /// DELETE's 404, has `None` too); for a failed response given back,
    /// why the run stopped retrying: [`Attempts`](StopReason::Attempts),
    /// [`Deadline`](StopReason::Deadline), [`Permanent`](StopReason::Permanent)
    /// (a 404 is sent once), [`SentOnce`](StopReason::SentOnce) (its
    /// method or body), a guard's refusal; with an error, always `Some`.
    pub gave_up: Option<StopReason>,
}

impl RetryReport {
    /// A report of `attempts` in `elapsed`, given up for `gave_up` if it
    /// is `Some` (for a test's stand-in response; the middleware and the
    /// layer make their own).
    ///
    /// ```
    /// let r = retry_runtime::response::RetryReport::new(1, std::time::Duration::ZERO, None);
    /// assert_eq!(r.attempts, 1);
    /// ```
    pub const fn new(attempts: u32, elapsed: Duration, gave_up: Option<StopReason>) -> Self {
        RetryReport {
            attempts,
            elapsed,
            gave_up,
        }
    }
}

/// Why a request with `method` (and `marked` with [`Idempotent`] or not)
/// must be sent once; `None` when it may be repeated. The method is looked
/// at first: the extensions of an idempotent request are never searched.
#[inline]
pub(crate) fn not_repeatable(
    method: &Method,
    marked: impl FnOnce() -> bool,
) -> Option<&'static str> {
    if is_idempotent(method) || marked() {
        None
    } else {
        Some(
            "its method is not idempotent (RFC 9110 §9.2.2); a request marked with the `Idempotent` extension is retried, if its body can be copied",
        )
    }
}

/// How one attempt through a middleware failed: a response that is a
/// failure, an error of the service, the layer's per-attempt timeout, or a
/// circuit breaker's rejection. A policy judges it like any error: its
/// [`Classify`] kind and hint were taken when the attempt ended.
///
/// A [`RetryIf`](crate::RetryIf) predicate receives one:
///
/// ```
/// use retry_runtime::response::Failure;
/// use retry_runtime::{Classify, ErrorKind};
/// fn only_503<R, E>(f: &Failure<R, E>) -> bool {
///     matches!(f, Failure::Response { failure, .. } if failure.code == 503)
/// }
/// let f: Failure<(), std::io::Error> = Failure::Timeout(retry_runtime::AttemptTimeout::new(std::time::Duration::from_secs(1)));
/// assert_eq!(f.kind(), ErrorKind::Timeout);
/// assert!(!only_503(&f));
/// ```
///
/// It is `#[non_exhaustive]`: a later version may fail an attempt in a new
/// way, so a `match` on it has a `_` arm.
///
/// ```compile_fail,E0004
/// use retry_runtime::response::Failure;
/// fn answered<R, E>(f: &Failure<R, E>) -> bool {
///     match f {
///         Failure::Response { .. } => true,
///         Failure::Error { .. }
///         | Failure::Timeout(_)
///         | Failure::CircuitOpen(_)
///         | Failure::Throttled(_) => false,
///     } // error[E0004]: `_` not covered
/// }
/// ```
#[non_exhaustive]
pub enum Failure<Res, E> {
    /// The service answered, with a failure (a 503).
    Response {
        /// The response, handed back to the caller if the run gives up on it.
        response: Res,
        /// How it was read.
        failure: ResponseFailure,
    },
    /// The service failed (could not connect, the connection broke).
    Error {
        /// The service's error.
        error: E,
        /// Its kind, as the middleware's error classifier said.
        kind: ErrorKind,
        /// The wait it asks for, as the classifier read it (a
        /// `tonic::Status`'s pushback, say).
        retry_after: Option<Duration>,
        /// What found `kind` in the error's chain of causes besides the
        /// types the runtime knows: the layer's or the middleware's
        /// `with_classify` (`|_| None` without one). Asked again, of the
        /// same chain, why a `Permanent` error is permanent
        /// ([`Classify::why_permanent`]), and only for a give-up line that
        /// is written: an error of yours says why as it says its kind.
        find: for<'a> fn(&'a (dyn StdError + 'static)) -> Option<&'a (dyn Classify + 'a)>,
    },
    /// The attempt took longer than the per-attempt timeout.
    Timeout(AttemptTimeout),
    /// A circuit breaker rejected the attempt: it was not made.
    CircuitOpen(CircuitOpen),
    /// The policy's throttle rejected the call: it was not made.
    Throttled(Throttled),
}

impl<Res, E> Failure<Res, E> {
    /// Would a retried call around the middleware see this failure as the
    /// same failure, so that it may be left to that run (`nested`)? A failed
    /// response is handed back as `Ok`, which an outer run takes for a
    /// success: never. An error goes back as the middleware's error: when
    /// `same_kind(error, kind)` says the outer run classifies it as the
    /// middleware did. A timeout and an open breaker: yes.
    #[inline]
    pub(crate) fn seen_by_outer_run(&self, same_kind: impl FnOnce(&E, ErrorKind) -> bool) -> bool {
        match self {
            Failure::Response { .. } => false,
            Failure::Error { error, kind, .. } => same_kind(error, *kind),
            Failure::Timeout(_) | Failure::CircuitOpen(_) | Failure::Throttled(_) => true,
        }
    }
}

/// Its kind and hint as they were taken when the attempt ended; why it is
/// `Permanent`, asked only for a give-up line that is written, of the
/// error's chain, as its kind was found there (a `tonic::Status` whose
/// server's pushback asks not to retry, an error of yours that the layer's
/// or the middleware's `with_classify` finds, says so on their line).
impl<Res, E: StdError + 'static> Classify for Failure<Res, E> {
    #[inline]
    fn kind(&self) -> ErrorKind {
        match self {
            Failure::Response { failure, .. } => failure.kind,
            Failure::Error { kind, .. } => *kind,
            Failure::Timeout(t) => t.kind(),
            Failure::CircuitOpen(open) => open.kind(),
            Failure::Throttled(t) => t.kind(),
        }
    }
    #[inline]
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Response { failure, .. } => failure.retry_after,
            Failure::Error { retry_after, .. } => *retry_after,
            Failure::CircuitOpen(open) => open.retry_after(),
            Failure::Throttled(t) => t.retry_after(),
            Failure::Timeout(_) => None,
        }
    }
    fn why_permanent(&self) -> Option<&'static str> {
        match self {
            Failure::Error { error, find, .. } => {
                // (the middleware's error, found in as its kind is)
                #[cfg(feature = "reqwest-middleware")]
                if let Some(error) =
                    (error as &dyn core::any::Any).downcast_ref::<::reqwest_middleware::Error>()
                {
                    return crate::chain::why_permanent_of_middleware(error, *find);
                }
                crate::chain::why_permanent_in(error, *find)
            }
            _ => None,
        }
    }
}

/// A failed response by its status, and where it came from when the
/// response knows (a `reqwest::Response`: `HTTP 503 Service Unavailable
/// from https://api.example.com/v1/users?page=***`, the URL masked as a
/// `reqwest::HttpError`'s, feature `reqwest`; an `http::Response` does not
/// know its request's URL); an error with its causes, its
/// `source()` chain after its own message (`client error (Connect): tcp
/// connect error: Connection refused`), as [`Causes`](crate::Causes) shows
/// it: the error is a client's or a service's, not one whose message the
/// user can make say why, and a log line is where the reason is read.
///
/// Displayed when `Res: ClassifyResponse` (the response is asked where it
/// came from): a `Failure` of a response type of your own needs that
/// impl to be shown, as the layer's and the middleware's already need it.
impl<Res: ClassifyResponse, E: StdError + 'static> fmt::Display for Failure<Res, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Response { response, failure } => {
                write!(f, "HTTP {}", failure.code)?;
                // (529, which the standard does not name, as the providers
                // and `HttpError` name it)
                let reason = StatusCode::from_u16(failure.code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .or((failure.code == 529).then_some("Overloaded"));
                if let Some(reason) = reason {
                    write!(f, " {reason}")?;
                }
                response.fmt_origin(f)?;
                if let Some(wait) = failure.retry_after {
                    write!(f, " (Retry-After: {})", crate::log::ShownWait(wait))?;
                }
                Ok(())
            }
            Failure::Error { error, .. } => crate::Causes(error).fmt(f),
            Failure::Timeout(t) => t.fmt(f),
            Failure::CircuitOpen(open) => open.fmt(f),
            Failure::Throttled(t) => t.fmt(f),
        }
    }
}

/// Written for a log line as [`Display`](fmt::Display) is, not with the
/// response's and the error's own `Debug`: a failed response by its
/// [`ResponseFailure`] and its URL as the message shows it (a
/// `reqwest::Response`'s, masked; its headers, `Set-Cookie` among them,
/// and its body left out), an error by its `Debug` with the URL a
/// `reqwest::Error` writes whole there masked (feature `reqwest`). A
/// predicate's `tracing::debug!(?failure)` leaves a response's headers and
/// body out and masks a URL as the run's lines do; an error's own `Debug`
/// can show more than its message (its fields, its causes' fields), so
/// for the lines' text log `%failure` (its [`Display`](fmt::Display)).
///
/// ```
/// use retry_runtime::response::{ClassifyResponse, Failure};
/// let page = http::Response::builder().status(503).header("set-cookie", "session=s3cret").body(()).unwrap();
/// let failure = page.failure().unwrap();
/// let f: Failure<_, std::io::Error> = Failure::Response { response: page, failure };
/// let shown = format!("{f:?}");
/// assert!(shown.starts_with("Response { url: None, failure: ResponseFailure { kind: Unavailable,"), "{shown}");
/// assert!(!shown.contains("s3cret"), "{shown}");
/// ```
impl<Res: ClassifyResponse, E: fmt::Debug + 'static> fmt::Debug for Failure<Res, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Response { response, failure } => {
                /// ` from {url}`, as the message writes it
                struct Origin<'a, R>(&'a R);
                impl<R: ClassifyResponse> fmt::Display for Origin<'_, R> {
                    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        self.0.fmt_origin(f)
                    }
                }
                let from = Origin(response).to_string();
                f.debug_struct("Response")
                    .field("url", &from.strip_prefix(" from "))
                    .field("failure", failure)
                    .finish_non_exhaustive()
            }
            Failure::Error {
                error,
                kind,
                retry_after,
                ..
            } => f
                .debug_struct("Error")
                .field("error", &MaskedDebug(error))
                .field("kind", kind)
                .field("retry_after", retry_after)
                .finish_non_exhaustive(),
            Failure::Timeout(t) => f.debug_tuple("Timeout").field(t).finish(),
            Failure::CircuitOpen(open) => f.debug_tuple("CircuitOpen").field(open).finish(),
            Failure::Throttled(t) => f.debug_tuple("Throttled").field(t).finish(),
        }
    }
}

/// A value's `Debug`, the URL that a `reqwest::Error` in it writes whole
/// (`url: "..."`) masked as the messages mask it (feature `reqwest`;
/// see `reqwest::url_in_debug` for the types looked into).
pub(crate) struct MaskedDebug<'a, T>(pub(crate) &'a T);

impl<T: fmt::Debug + 'static> fmt::Debug for MaskedDebug<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "reqwest")]
        if let Some(url) = crate::reqwest::url_in_debug(self.0) {
            return if f.alternate() {
                crate::reqwest::write_masking(f, &format_args!("{:#?}", self.0), url)
            } else {
                crate::reqwest::write_masking(f, &format_args!("{:?}", self.0), url)
            };
        }
        fmt::Debug::fmt(self.0, f)
    }
}

impl<Res, E> From<AttemptTimeout> for Failure<Res, E> {
    #[inline]
    fn from(t: AttemptTimeout) -> Self {
        Failure::Timeout(t)
    }
}

/// The run needed another attempt but had no request left to send. Cannot
/// happen (a request that cannot be copied ends the run with its attempt);
/// the middleware returns this error rather than panic if it ever did.
///
/// ```
/// assert_eq!(
///     retry_runtime::response::NotReplayable.to_string(),
///     "the request could not be copied for another attempt"
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotReplayable;

impl fmt::Display for NotReplayable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request could not be copied for another attempt")
    }
}

impl StdError for NotReplayable {}

impl<Res, E> From<CircuitOpen> for Failure<Res, E> {
    #[inline]
    fn from(open: CircuitOpen) -> Self {
        Failure::CircuitOpen(open)
    }
}

impl<Res, E> From<Throttled> for Failure<Res, E> {
    #[inline]
    fn from(t: Throttled) -> Self {
        Failure::Throttled(t)
    }
}

/// A `BoxError` (`Box<dyn Error + Send + Sync>`, the error of tower's own
/// middleware: `Buffer`, `Timeout`, `LoadShed`, `ConcurrencyLimit`'s
/// stacks) as an error type: the [tower layer](crate::tower) takes a
/// service whose error is a [`std::error::Error`], which a `BoxError` is
/// not. Make the stack's errors `BoxedError`s below the layer with a
/// [`BoxErrorsLayer`](crate::tower::BoxErrorsLayer) (feature `tower`):
///
/// ```text
/// let svc = ServiceBuilder::new()
///     .layer(presets::API.layer())
///     .layer(BoxErrorsLayer::new())
///     .buffer(64)
///     .service(client);
/// ```
///
/// (Not `.map_err(BoxedError::from)`: awaited in a spawned task or an axum
/// handler, a stack with tower's `MapErr` over a `Buffer` does not compile,
/// "implementation of `FnOnce` is not general enough"; the named
/// [`BoxErrors`](crate::tower::BoxErrors) service does.)
///
/// It is transparent: it displays as the boxed error, reports its causes,
/// and the layer classifies the boxed error (and its chain) as it would
/// the error itself ([`error_kind`](crate::classify::error_kind); tower's `Elapsed` and `Overloaded`
/// with [`with_classify`](crate::tower::RetryLayer::with_classify)).
///
/// ```
/// use retry_runtime::{classify::error_kind, response::BoxedError, Classify, ErrorKind};
/// let boxed: Box<dyn std::error::Error + Send + Sync> =
///     Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
/// let e = BoxedError::from(boxed);
/// assert_eq!(e.to_string(), "connection refused");
/// assert_eq!(error_kind(&e), ErrorKind::Connect);
/// assert_eq!(e.kind(), ErrorKind::Connect);
/// ```
pub struct BoxedError(
    /// The boxed error.
    pub Box<dyn StdError + Send + Sync>,
);

impl From<Box<dyn StdError + Send + Sync>> for BoxedError {
    fn from(error: Box<dyn StdError + Send + Sync>) -> Self {
        BoxedError(error)
    }
}

impl fmt::Debug for BoxedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for BoxedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for BoxedError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// The boxed error's kind and hint, by its chain
/// ([`error_kind`](crate::classify::error_kind)).
impl Classify for BoxedError {
    fn kind(&self) -> ErrorKind {
        (*self.0).kind()
    }
    fn retry_after(&self) -> Option<Duration> {
        (*self.0).retry_after()
    }
    fn why_permanent(&self) -> Option<&'static str> {
        (*self.0).why_permanent()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::RETRY_AFTER;

    /// A `BoxedError` is the error it boxes: its cause, and the wait that
    /// error's chain asks for (a breaker's rejection here), as `Classify`.
    #[test]
    fn a_boxed_error_keeps_its_cause_and_its_wait() {
        #[derive(Debug)]
        struct Rejected(CircuitOpen);
        impl fmt::Display for Rejected {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("rejected")
            }
        }
        impl StdError for Rejected {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let open = CircuitOpen::new("db", Duration::from_secs(4));
        let boxed = BoxedError(Box::new(Rejected(open)));
        let cause = boxed.source().and_then(|e| e.downcast_ref::<CircuitOpen>());
        assert_eq!(cause, Some(&open));
        assert_eq!(boxed.kind(), ErrorKind::Unavailable);
        assert_eq!(boxed.retry_after(), Some(Duration::from_secs(4)));
    }

    /// A failed response's `retry-after-ms` (OpenAI's) is its wait on a
    /// 429, or beside a `Retry-After`; a 503 with it alone keeps the
    /// backoff (the usual failure looks up one header, not two).
    #[test]
    fn retry_after_ms_is_read_on_a_429_or_beside_retry_after() {
        let hint = |code, headers: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (name, value) in headers {
                h.insert(*name, value.parse().unwrap());
            }
            status_failure(StatusCode::from_u16(code).unwrap(), &h)
                .unwrap()
                .retry_after
        };
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(hint(429, &[("retry-after-ms", "300")]), ms(300));
        assert_eq!(
            hint(429, &[("retry-after-ms", "300"), ("retry-after", "2")]),
            ms(300)
        );
        assert_eq!(
            hint(503, &[("retry-after-ms", "300"), ("retry-after", "2")]),
            ms(300)
        );
        assert_eq!(hint(503, &[("retry-after", "2")]), ms(2000));
        assert_eq!(hint(503, &[("retry-after-ms", "300")]), None);
        // unreadable milliseconds: the seconds decide
        assert_eq!(
            hint(429, &[("retry-after-ms", "soon"), ("retry-after", "2")]),
            ms(2000)
        );
        // Azure's x-ms-retry-after-ms, as retry-after-ms, after it
        assert_eq!(hint(429, &[("x-ms-retry-after-ms", "250")]), ms(250));
        assert_eq!(
            hint(503, &[("x-ms-retry-after-ms", "250"), ("retry-after", "2")]),
            ms(250)
        );
        assert_eq!(hint(503, &[("x-ms-retry-after-ms", "250")]), None);
        assert_eq!(
            hint(
                429,
                &[("retry-after-ms", "100"), ("x-ms-retry-after-ms", "250")]
            ),
            ms(100)
        );
    }

    #[test]
    fn statuses_by_class() {
        let h = HeaderMap::new();
        for code in [100, 200, 204, 301, 304, 399] {
            let s = StatusCode::from_u16(code).unwrap();
            assert_eq!(status_failure(s, &h), None, "{code}");
        }
        let kinds = [
            (400, ErrorKind::Permanent),
            (401, ErrorKind::Permanent),
            (404, ErrorKind::Permanent),
            (408, ErrorKind::Timeout),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Unavailable),
            (501, ErrorKind::Permanent),
            (503, ErrorKind::Unavailable),
            (600, ErrorKind::Unknown),
            (999, ErrorKind::Unknown),
        ];
        for (code, kind) in kinds {
            let s = StatusCode::from_u16(code).unwrap();
            let f = status_failure(s, &h).unwrap();
            assert_eq!((f.kind, f.code, f.retry_after), (kind, code, None));
        }
    }

    /// GitHub's secondary rate limit answers 403 with a Retry-After:
    /// RateLimited, with it; a 403 without one (a spent window alone, or
    /// requests left) Permanent.
    #[test]
    fn a_403_that_names_a_wait_is_rate_limited() {
        let judged = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (name, value) in pairs {
                h.insert(*name, http::HeaderValue::from_static(value));
            }
            let f = status_failure(StatusCode::FORBIDDEN, &h).unwrap();
            (f.kind, f.retry_after)
        };
        let s = Duration::from_secs;
        assert_eq!(
            judged(&[("retry-after", "60")]),
            (ErrorKind::RateLimited, Some(s(60)))
        );
        // a spent window alone is not a 403's wait (Discord's 403 "missing
        // permissions" may spend the last slot)
        let spent = [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "30")];
        assert_eq!(judged(&spent), (ErrorKind::Permanent, None));
        let left = [("x-ratelimit-remaining", "4"), ("x-ratelimit-reset", "30")];
        assert_eq!(judged(&left), (ErrorKind::Permanent, None));
        assert_eq!(judged(&[]), (ErrorKind::Permanent, None));
        assert_eq!(
            judged(&[("retry-after", "soon")]),
            (ErrorKind::Permanent, None)
        );
        // a 429 reads the window too; a 404 or a 503 does not
        let at = |code: u16| {
            status_failure(StatusCode::from_u16(code).unwrap(), &{
                let mut h = HeaderMap::new();
                h.insert("x-ratelimit-remaining", http::HeaderValue::from_static("0"));
                h.insert("x-ratelimit-reset", http::HeaderValue::from_static("30"));
                h
            })
            .unwrap()
        };
        assert_eq!(at(429).retry_after, Some(s(30)));
        assert_eq!(
            (at(404).kind, at(404).retry_after),
            (ErrorKind::Permanent, None)
        );
        assert_eq!(at(503).retry_after, None);
    }

    #[test]
    fn bad_retry_after_values_are_ignored() {
        let mut h = HeaderMap::new();
        for bad in ["-5", "1.5", "later", "99999999999999999999", "31536000"] {
            h.insert(RETRY_AFTER, bad.parse().unwrap());
            assert_eq!(retry_after_hint(&h), None, "{bad}");
        }
        h.insert(RETRY_AFTER, "86400".parse().unwrap());
        assert_eq!(retry_after_hint(&h), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn methods() {
        for m in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            assert_eq!(not_repeatable(&m.parse().unwrap(), || false), None, "{m}");
        }
        for m in ["POST", "PATCH", "CONNECT", "PURGE"] {
            assert!(
                not_repeatable(&m.parse().unwrap(), || false).is_some(),
                "{m}"
            );
            assert_eq!(not_repeatable(&m.parse().unwrap(), || true), None, "{m}");
        }
    }

    /// A failure of a response that does not know its URL (an
    /// `http::Response`): the status alone.
    type Of<E> = Failure<http::Response<()>, E>;

    #[test]
    fn failures_display_and_classify() {
        let f: Of<std::io::Error> = Failure::Response {
            response: http::Response::new(()),
            failure: ResponseFailure {
                kind: ErrorKind::RateLimited,
                retry_after: Some(Duration::from_secs(2)),
                code: 429,
            },
        };
        assert_eq!(
            f.to_string(),
            "HTTP 429 Too Many Requests (Retry-After: 2s)"
        );
        // an HTTP-date's wait, measured to the nanosecond, is shown to the millisecond
        let measured: Of<std::io::Error> = Failure::Response {
            response: http::Response::new(()),
            failure: ResponseFailure {
                kind: ErrorKind::RateLimited,
                retry_after: Some(Duration::new(2, 871_323_474)),
                code: 429,
            },
        };
        assert_eq!(
            measured.to_string(),
            "HTTP 429 Too Many Requests (Retry-After: 2.871s)"
        );
        assert_eq!(measured.retry_after(), Some(Duration::new(2, 871_323_474)));
        assert_eq!(
            (f.kind(), f.retry_after()),
            (ErrorKind::RateLimited, Some(Duration::from_secs(2)))
        );
        let odd: Of<std::io::Error> = Failure::Response {
            response: http::Response::new(()),
            failure: ResponseFailure {
                kind: ErrorKind::Unknown,
                retry_after: None,
                code: 799,
            },
        };
        assert_eq!(odd.to_string(), "HTTP 799");
        // an AI provider's "overloaded", named as `HttpError` names it
        let overloaded: Of<std::io::Error> = Failure::Response {
            response: http::Response::new(()),
            failure: ResponseFailure {
                kind: ErrorKind::Unavailable,
                retry_after: None,
                code: 529,
            },
        };
        assert_eq!(overloaded.to_string(), "HTTP 529 Overloaded");
        let e: Of<std::io::Error> = Failure::Error {
            error: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            kind: ErrorKind::Connect,
            retry_after: Some(Duration::from_millis(300)),
            find: crate::chain::no_classify,
        };
        assert_eq!(e.kind(), ErrorKind::Connect);
        assert_eq!(e.retry_after(), Some(Duration::from_millis(300)));
    }

    /// `Debug` was derived: a failed response's own `Debug` (every header,
    /// `Set-Cookie` among them) and a `reqwest::Error`'s (its URL whole).
    /// A predicate's `tracing::debug!(?failure)` showed them. A response
    /// is shown by its failure and its URL as the message shows it, an
    /// error with the URL masked.
    #[cfg(feature = "reqwest")]
    #[tokio::test]
    async fn debug_shows_no_header_and_masks_the_url() {
        let page = http::Response::builder()
            .status(503)
            .header("set-cookie", "session=SECRET")
            .body(())
            .unwrap();
        let failure = page.failure().unwrap();
        let f: Of<std::io::Error> = Failure::Response {
            response: page,
            failure,
        };
        assert_eq!(
            format!("{f:?}"),
            "Response { url: None, failure: ResponseFailure { kind: Unavailable, retry_after: None, code: 503 }, .. }"
        );
        let (error, port) = crate::reqwest::refused("/p?api_key=SECRET").await;
        assert!(format!("{error:?}").contains("SECRET"));
        let f: Failure<::reqwest::Response, ::reqwest::Error> = Failure::Error {
            error,
            kind: ErrorKind::Connect,
            retry_after: None,
            find: crate::chain::no_classify,
        };
        for shown in [format!("{f:?}"), format!("{f:#?}")] {
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(
                shown.contains(&format!("http://127.0.0.1:{port}/p?api_key=***")),
                "{shown}"
            );
        }
        assert!(
            format!("{f:?}").starts_with("Error { error: reqwest::Error { kind: Request, url: \"")
        );
    }

    /// A client's error shows why it failed, which its own message often
    /// leaves to its `source()` (hyper-util's "client error (Connect)").
    #[test]
    fn an_error_shows_its_causes() {
        #[derive(Debug)]
        struct Client(std::io::Error);
        impl fmt::Display for Client {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl StdError for Client {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e: Of<Client> = Failure::Error {
            error: Client(refused),
            kind: ErrorKind::Connect,
            retry_after: None,
            find: crate::chain::no_classify,
        };
        assert_eq!(e.to_string(), "client error (Connect): connection refused");
    }
}
