//! [`RetryError`]: the detailed outcome of a run that gave up.

use core::fmt;
use std::time::Duration;

use crate::classify::{Classify, ErrorKind};
use crate::stop::StopReason;

/// A run that gave up: how many attempts, how long, why, and the last error
/// (never lost). Returned by the detailed form
/// ([`Retry::detailed`](crate::Retry::detailed)) and by [`Run::into_error`](crate::Run::into_error).
///
/// `elapsed` is the time since the first attempt started: the detailed form
/// reads the clock when the run starts. A [`Run`](crate::Run) driven by
/// hand reads it then only when its policy has a `max_elapsed` limit or a
/// `before_sleep`/`on_give_up` callback, or after [`Run::timed`](crate::Run::timed);
/// otherwise it reads no clock on its way, and `elapsed` is 0.
///
/// ```
/// use retry_runtime::{Policy, StopReason};
/// let _paused = retry_runtime::testing::pause();
/// let err = Policy::new().with_max_attempts(2).retry(|| Err::<(), _>("boom")).detailed().call().unwrap_err();
/// assert_eq!(err.attempts, 2);
/// assert_eq!(err.reason, StopReason::Attempts);
/// assert_eq!(err.to_string(), "operation failed after 2 attempts (attempts exhausted): boom");
/// assert_eq!(err.into_inner(), "boom");
/// ```
///
/// It is `Clone`, `PartialEq` and `Eq` when the error type is. Equality
/// includes `elapsed`, which is measured time (a few nanoseconds apart
/// between two runs even under [`testing::pause`](crate::testing::pause)),
/// so a test compares two runs by their other fields; `==` holds between an
/// error and its clone (one kept, one handed on):
///
/// ```
/// use retry_runtime::{Policy, StopReason};
/// let _paused = retry_runtime::testing::pause();
/// let give_up = |e| Policy::new().with_max_attempts(2).retry(|| Err::<(), _>(e)).detailed().call().unwrap_err();
/// let err = give_up("boom");
/// assert_eq!(err.clone(), err);
/// let other = give_up("bust");
/// assert_eq!((other.attempts, other.reason), (2, StopReason::Attempts));
/// assert_eq!((err.attempts, err.reason, err.last_error), (2, StopReason::Attempts, "boom"));
/// assert_ne!(other.last_error, "boom");
/// ```
///
/// Its [`source`](std::error::Error::source) is the last error itself,
/// although its message ends with it too: a reporter of the whole chain
/// (anyhow's `{:#}`) so shows the last error's message twice. That is the
/// price of keeping the last error in the chain: boxed (`?` into a
/// `Box<dyn Error + Send + Sync>`), the chain is the only way to reach it,
/// and [`error_kind`](crate::classify::error_kind), an outer run's
/// classifier and the `Retry-After` reading walk it. A refused connection
/// given up on stays `Connect`, boxed or not (unboxed, it is [`Classify`]
/// when its error type is):
///
/// ```
/// use retry_runtime::{Classify, ErrorKind, Policy};
/// let _paused = retry_runtime::testing::pause();
/// let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let err = Policy::new().retry(|| Err::<(), _>(refused())).detailed().call().unwrap_err();
/// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
/// assert_eq!(boxed.kind(), ErrorKind::Connect);
/// ```
///
/// It is a [`std::error::Error`] when its error type is one: with an
/// operation that fails with a `Box<dyn Error + Send + Sync>`, an
/// `anyhow::Error`, a `String` or a `&str` (none of which is a
/// `std::error::Error`), `?` on the detailed result does not compile.
/// [`into_std_error`](RetryError::into_std_error) makes it one, its message
/// and its chain kept: `.map_err(RetryError::into_std_error)?` into a
/// `Box<dyn Error + Send + Sync>` or an `anyhow::Result` alike; for an
/// `anyhow::Error`, `.map_err(RetryError::into_anyhow)?` (feature
/// `anyhow`) keeps its kind too. (Or keep the last error alone:
/// `.map_err(RetryError::into_inner)?`.)
///
/// ```
/// use retry_runtime::{Policy, RetryError};
/// type BoxError = Box<dyn std::error::Error + Send + Sync>;
///
/// fn get_user(id: u32) -> Result<String, BoxError> {
///     Err(format!("user {id}: 503").into())
/// }
///
/// fn handler() -> Result<String, BoxError> {
///     let ok = Policy::new()
///         .with_name("get_user")
///         .with_max_attempts(2)
///         .retry(|| get_user(7))
///         .detailed()
///         .call()
///         .map_err(RetryError::into_std_error)?; // `?` alone: RetryError<BoxError> is not an Error
///     Ok(ok.value)
/// }
///
/// let _paused = retry_runtime::testing::pause();
/// let err = handler().unwrap_err();
/// assert_eq!(err.to_string(), "get_user failed after 2 attempts (attempts exhausted): user 7: 503");
/// assert_eq!(err.source().unwrap().to_string(), "user 7: 503");
/// ```
///
/// Its message ends with the last error, and its `source()` returns that
/// error too (so that a classifier walking the chain still sees a refused
/// connection): a reporter that prints every cause (anyhow's `{:#}` and
/// `{:?}`) shows the last error twice. [`Causes`] writes
/// the chain with it once:
///
/// ```
/// use retry_runtime::{Causes, Policy};
///
/// let _paused = retry_runtime::testing::pause();
/// let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let policy = Policy::new().with_name("clipsdk.get");
/// let err = policy.retry(|| Err::<(), _>(refused())).detailed().call().unwrap_err();
/// assert_eq!(
///     Causes(&err).to_string(),
///     "clipsdk.get failed after 3 attempts (attempts exhausted): connection refused"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryError<E> {
    /// The operation's name.
    pub operation: &'static str,
    /// Attempts made (calls; a hedged run's: those it started, hedges
    /// included); 0 for a run a breaker or throttle turned away before its
    /// first attempt (its message then says "not attempted").
    pub attempts: u32,
    /// Time spent, sleeps included.
    pub elapsed: Duration,
    /// Why the run stopped.
    pub reason: StopReason,
    /// The error of the last attempt (also its [`source`](std::error::Error::source)).
    pub last_error: E,
}

/// `{operation} failed after {n} attempt{s} ({reason}): {last error}`, or,
/// for a run a breaker or throttle turned away before its first attempt,
/// `{operation} not attempted ({reason}): {rejection}`. The operation's
/// name is written with its control and format characters escaped (`\n`),
/// as the log lines' messages show it; the last error as its own `Display`
/// writes it, in the alternate form under `{:#}` (an `anyhow::Error`'s
/// chain: so the `error` field of a log line about a run that failed with
/// a `RetryError`, a nested run's, shows that chain).
///
/// ```
/// use std::fmt;
/// struct Chain;
/// impl fmt::Display for Chain {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         f.write_str(if f.alternate() { "loading: refused" } else { "loading" })
///     }
/// }
/// let _paused = retry_runtime::testing::pause();
/// let policy = retry_runtime::Policy::new().with_name("profile");
/// let err = policy.retry(|| Err::<(), _>(Chain)).detailed().call().unwrap_err();
/// assert_eq!(err.to_string(), "profile failed after 3 attempts (attempts exhausted): loading");
/// assert_eq!(format!("{err:#}"), "profile failed after 3 attempts (attempts exhausted): loading: refused");
/// ```
impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_outcome(f)?;
        match f.alternate() {
            true => write!(f, ": {:#}", self.last_error),
            false => write!(f, ": {}", self.last_error),
        }
    }
}

impl<E> RetryError<E> {
    /// A run's outcome made by hand, for a call your code decided not to
    /// make, reported with the type the calls it did make return: a
    /// message of a batch left with no time for an attempt before its
    /// deadline (`StopReason::Deadline`, no attempts), a job a queue gave
    /// up on. No attempts, no time spent; the fields are public, to set
    /// those that apply.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{RetryError, StopReason};
    /// let mut e = RetryError::new("s3.get", StopReason::Deadline, "no time left for an attempt");
    /// assert_eq!(e.to_string(), "s3.get not attempted (deadline reached): no time left for an attempt");
    /// e.attempts = 2;
    /// e.elapsed = Duration::from_secs(9);
    /// assert_eq!(e.to_string(), "s3.get failed after 2 attempts (deadline reached): no time left for an attempt");
    /// ```
    pub const fn new(operation: &'static str, reason: StopReason, last_error: E) -> RetryError<E> {
        RetryError {
            operation,
            attempts: 0,
            elapsed: Duration::ZERO,
            reason,
            last_error,
        }
    }

    /// The message up to the last error's: `{operation} failed after {n}
    /// attempt{s} ({reason})`, or `{operation} not attempted ({reason})`.
    pub(crate) fn write_outcome(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operation, reason) = (crate::log::Escaped(self.operation), self.reason);
        if self.attempts == 0 {
            return write!(f, "{operation} not attempted ({reason})");
        }
        let attempts = crate::log::Count(self.attempts, "attempt");
        write!(f, "{operation} failed after {attempts} ({reason})")
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.last_error)
    }
}

impl<E> RetryError<E> {
    /// The last error.
    ///
    /// ```
    /// let _paused = retry_runtime::testing::pause();
    /// let e = retry_runtime::Policy::new().retry(|| Err::<(), _>(5)).detailed().call().unwrap_err();
    /// assert_eq!(e.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> E {
        self.last_error
    }

    /// The same outcome with its last error turned into another type, the
    /// operation, attempts, time and reason kept: a library's
    /// `RetryError<Transport>` made the `RetryError<SdkError>` of its API
    /// (the struct is `#[non_exhaustive]`: it cannot be rebuilt outside
    /// this crate). Its [`Classify`] impl is then the new error's.
    ///
    /// ```
    /// use std::io;
    /// use retry_runtime::{Policy, RetryError, StopReason};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// enum SdkError {
    ///     #[error("could not reach the clip service")]
    ///     Transport(#[source] io::Error),
    /// }
    ///
    /// fn get_clip() -> Result<Vec<u8>, RetryError<SdkError>> {
    ///     let policy = Policy::new().with_name("clipsdk.get_clip").with_max_attempts(2);
    ///     let ok = policy
    ///         .retry(|| Err(io::Error::from(io::ErrorKind::ConnectionRefused)))
    ///         .detailed()
    ///         .call()
    ///         .map_err(|e| e.map_last_error(SdkError::Transport))?;
    ///     Ok(ok.value)
    /// }
    ///
    /// let _paused = retry_runtime::testing::pause();
    /// let err = get_clip().unwrap_err();
    /// assert_eq!((err.operation, err.attempts, err.reason), ("clipsdk.get_clip", 2, StopReason::Attempts));
    /// assert!(matches!(err.last_error, SdkError::Transport(_)));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "clipsdk.get_clip failed after 2 attempts (attempts exhausted): could not reach the clip service"
    /// );
    /// ```
    pub fn map_last_error<F>(self, f: impl FnOnce(E) -> F) -> RetryError<F> {
        RetryError {
            operation: self.operation,
            attempts: self.attempts,
            elapsed: self.elapsed,
            reason: self.reason,
            last_error: f(self.last_error),
        }
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> RetryError<E> {
    /// A [`std::error::Error`] (`Send + Sync + 'static`) whatever the last
    /// error's type: for a run whose error is a `Box<dyn Error + Send +
    /// Sync>`, an `anyhow::Error`, a `String` or a `&str`, whose
    /// `RetryError` is not one. Its message is this error's (the operation,
    /// the attempts, why it stopped, the last error's message); its
    /// [`source`](std::error::Error::source) is the last error, boxed as
    /// `E: Into<Box<dyn Error + Send + Sync>>` boxes it (a concrete error
    /// as itself, so a `downcast_ref` finds it). So `?` takes it into a
    /// `Box<dyn Error + Send + Sync>` or an `anyhow::Result`; the type is
    /// not named: box it to keep it. An `anyhow::Error` is boxed as
    /// anyhow's `From` boxes it, which shows its message but leaves the
    /// error it was made from out of its chain (a refused connection is
    /// then `Unknown`): give that one up with
    /// [`into_anyhow`](RetryError::into_anyhow) (feature `anyhow`), which
    /// keeps the kind.
    ///
    /// Limits: the last error must convert into a `Box<dyn Error + Send +
    /// Sync>` (a plain `Box<dyn Error>` does not: `.map_err(|e|
    /// e.into_inner())` keeps it, without the attempts); the result is not
    /// a `RetryError`, so `downcast_ref::<RetryError<E>>()` does not find
    /// the attempts and the stop reason (for an error type that is itself
    /// an error, `?` on the `RetryError` keeps them); and a report that
    /// prints the whole chain (`{:#}`, anyhow's) shows the last error's
    /// message twice, in this message and as its source, as it does for a
    /// `RetryError`.
    ///
    /// ```
    /// use std::{error::Error, io};
    /// use retry_runtime::{Classify, ErrorKind, Policy, RetryError};
    /// type BoxError = Box<dyn Error + Send + Sync>;
    ///
    /// fn connect() -> Result<(), BoxError> {
    ///     Err(io::Error::from(io::ErrorKind::ConnectionRefused).into())
    /// }
    /// fn start() -> Result<(), BoxError> {
    ///     Policy::new()
    ///         .with_name("connect")
    ///         .retry(connect)
    ///         .detailed()
    ///         .call()
    ///         .map_err(RetryError::into_std_error)?;
    ///     Ok(())
    /// }
    ///
    /// let _paused = retry_runtime::testing::pause();
    /// let err = start().unwrap_err();
    /// assert!(err.to_string().starts_with("connect failed after 3 attempts (attempts exhausted): "), "{err}");
    /// let last = err.source().unwrap();
    /// assert_eq!(last.downcast_ref::<io::Error>().unwrap().kind(), io::ErrorKind::ConnectionRefused);
    /// assert_eq!(err.kind(), ErrorKind::Connect); // classified through its chain
    /// ```
    pub fn into_std_error(self) -> impl std::error::Error + Send + Sync + 'static {
        StdRetryError(self.map_last_error(Into::into))
    }
}

/// What [`RetryError::into_std_error`] returns: a `RetryError` of a boxed
/// last error, which is not a `std::error::Error` itself (the box's
/// contents are unsized, and std's `impl Error for Box<T>` needs `T:
/// Sized`).
struct StdRetryError(RetryError<Box<dyn std::error::Error + Send + Sync>>);

impl fmt::Debug for StdRetryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for StdRetryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StdRetryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0.last_error)
    }
}

/// The kind and the retry-after hint of the last error: an outer
/// `retry_on` over a call that returns a `RetryError<E>` (an SDK's method
/// with retries of its own) retries it as it would the last error, and a
/// refused connection given up on stays `Connect`. Boxed, a `RetryError`
/// is classified through its [`source`](std::error::Error::source) by
/// [`error_kind`](crate::classify::error_kind), which knows only this
/// crate's error types (`io::Error`, the HTTP clients', ...): a last error
/// of your own type is then `Unknown`, with no hint. Keep it unboxed.
///
/// ```
/// use std::io;
/// use retry_runtime::{Classify, ErrorKind, Policy, RetryError};
///
/// // an SDK's call: two attempts of its own, then a RetryError
/// fn get_clip(calls: &mut u32) -> Result<Vec<u8>, RetryError<io::Error>> {
///     let sdk = Policy::new().with_name("clipsdk.get_clip").with_max_attempts(2);
///     let ok = sdk
///         .retry(|| {
///             *calls += 1;
///             Err(io::Error::from(io::ErrorKind::ConnectionRefused))
///         })
///         .detailed()
///         .call()?;
///     Ok(ok.value)
/// }
///
/// let _paused = retry_runtime::testing::pause();
/// let mut calls = 0;
/// let err = get_clip(&mut calls).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Connect);
///
/// // the application's retry around it retries what it would retry unwrapped
/// let app = Policy::new().with_max_attempts(3).retry_on(ErrorKind::Connect.into());
/// let err = app.retry(|| get_clip(&mut calls)).call().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Connect);
/// assert_eq!(calls, 2 + 3 * 2); // (the SDK's policy retries every error: its own retries stay)
/// ```
impl<E: Classify> Classify for RetryError<E> {
    fn kind(&self) -> ErrorKind {
        self.last_error.kind()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.last_error.retry_after()
    }
    fn why_permanent(&self) -> Option<&'static str> {
        self.last_error.why_permanent()
    }
}

/// A success of a [detailed](crate::Retry::detailed) retry: the value, the
/// attempts made and the time spent, waits included.
///
/// ```
/// use retry_runtime::Policy;
/// let ok = Policy::new().retry(|| Ok::<_, &str>(5)).detailed().call().unwrap();
/// assert_eq!((ok.value, ok.attempts), (5, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Succeeded<T> {
    /// What the last attempt returned.
    pub value: T,
    /// Attempts made (calls), the successful one included.
    pub attempts: u32,
    /// Time spent, waits included.
    pub elapsed: Duration,
    /// `None` for a success. `Some(reason)` when `value` is an `Ok` that
    /// [`retry_if_ok`](crate::Retry::retry_if_ok) rejected, returned as the
    /// run stopped retrying for `reason`: the attempts ran out
    /// ([`Attempts`](StopReason::Attempts)), the deadline came
    /// ([`Deadline`](StopReason::Deadline)), the call's stop signal fired
    /// ([`Stopped`](StopReason::Stopped)), a breaker, a budget or a
    /// throttle refused the retry. A poll that ends so tells "still
    /// pending at the deadline" from "shut down while pending".
    ///
    /// ```
    /// use retry_runtime::{Policy, StopReason};
    /// let _paused = retry_runtime::testing::pause();
    /// let pending = Policy::new().with_max_attempts(2)
    ///     .retry(|| Ok::<_, &str>("pending"))
    ///     .retry_if_ok(|s: &&str| *s == "pending")
    ///     .detailed()
    ///     .call()
    ///     .unwrap();
    /// assert_eq!((pending.value, pending.gave_up), ("pending", Some(StopReason::Attempts)));
    /// ```
    pub gave_up: Option<StopReason>,
}

impl<T> Succeeded<T> {
    /// The value.
    ///
    /// ```
    /// let ok = retry_runtime::Policy::new().retry(|| Ok::<_, &str>(5)).detailed().call().unwrap();
    /// assert_eq!(ok.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The same success with its value turned into another type, the
    /// attempts and time kept (the struct is `#[non_exhaustive]`: it
    /// cannot be rebuilt outside this crate).
    ///
    /// ```
    /// use retry_runtime::{Policy, Succeeded};
    /// let ok: Succeeded<String> = Policy::new()
    ///     .retry(|| Ok::<_, &str>(b"clip".to_vec()))
    ///     .detailed()
    ///     .call()
    ///     .unwrap()
    ///     .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    /// assert_eq!((ok.value.as_str(), ok.attempts), ("clip", 1));
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Succeeded<U> {
        Succeeded {
            value: f(self.value),
            attempts: self.attempts,
            elapsed: self.elapsed,
            gave_up: self.gave_up,
        }
    }
}

/// Displays an error followed by its chain of causes: `outer: cause: root`.
///
/// Many client errors say little on their own (reqwest's "error sending
/// request for url (...)") and keep the reason ("Connection refused",
/// "operation timed out") in their `source()`. Use this in your error's
/// `Display`, so that the `error` field of each retry log line says why.
/// The message then holds the whole chain: leave that field out of the
/// error's `source()` (no `#[from]` or `#[source]`), or a reporter that
/// walks the chain (anyhow's `{:#}`) prints it twice.
///
/// A cause whose message the error before it already ends with (an error
/// written `"upstream failed: {0}"` that also returns that `{0}` as its
/// source, as tower's `Buffer` does) is not written again; its own causes
/// are. (Compared on the last 256 bytes of each message, on the stack.)
///
/// With the `reqwest` feature, the URL in a `reqwest::Error`'s message
/// (`error sending request for url (...)`; also one held by
/// reqwest-middleware's error or a `std::io::Error`) is written masked, as
/// an [`HttpError`](crate::HttpError) shows one: its password and each
/// value of its query as `***` (`?api_key=***`), since the message goes
/// into log lines. `reqwest::Error::url()` still has it whole. Nothing is
/// allocated.
///
/// ```
/// use retry_runtime::Causes;
///
/// #[derive(Debug, thiserror::Error)]
/// enum ClipError {
///     #[error("{}", Causes(.0))]
///     Io(std::io::Error), // not the source: the message shows its chain
/// }
/// impl From<std::io::Error> for ClipError {
///     fn from(e: std::io::Error) -> Self {
///         ClipError::Io(e)
///     }
/// }
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("error sending request")]
/// struct Outer(#[source] std::io::Error);
///
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let chain = Causes(&Outer(refused)).to_string();
/// assert_eq!(chain, "error sending request: connection refused");
/// ```
#[derive(Clone, Copy)]
pub struct Causes<'a>(
    /// The error whose message, then its causes', are written.
    pub &'a (dyn std::error::Error + 'static),
);

impl core::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        message(self.0, f)?;
        let mut shown: &(dyn std::error::Error + 'static) = self.0;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            if !Tail::of(shown).ends_with(&Tail::of(c)) {
                f.write_str(": ")?;
                message(c, f)?;
            }
            shown = c;
            cause = c.source();
        }
        Ok(())
    }
}

/// `error`'s message; with the `reqwest` feature, the URL a reqwest error
/// writes in it masked as [`HttpError`](crate::HttpError) shows one.
fn message(
    error: &(dyn std::error::Error + 'static),
    f: &mut core::fmt::Formatter<'_>,
) -> core::fmt::Result {
    #[cfg(feature = "reqwest")]
    if let Some(url) = crate::reqwest::url_in(error) {
        return crate::reqwest::write_masking(f, &format_args!("{error}"), url);
    }
    write!(f, "{error}")
}

/// The last [`Tail::N`] bytes of a message, and whether it was longer: to
/// tell whether an error's message already ends with its cause's, without
/// allocating.
struct Tail {
    bytes: [u8; Tail::N],
    len: usize,
    cut: bool,
}

impl Tail {
    const N: usize = 256;

    fn of(error: &(impl core::fmt::Display + ?Sized)) -> Tail {
        let mut tail = Tail {
            bytes: [0; Tail::N],
            len: 0,
            cut: false,
        };
        // (a Display that fails leaves what it wrote: compared as it is)
        let _ = core::fmt::write(&mut tail, format_args!("{error}"));
        tail
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Does this message end with all of `other` (which was not cut)?
    fn ends_with(&self, other: &Tail) -> bool {
        !other.cut && !other.as_bytes().is_empty() && self.as_bytes().ends_with(other.as_bytes())
    }
}

impl core::fmt::Write for Tail {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let s = s.as_bytes();
        if s.len() >= Tail::N {
            let start = s.len() - Tail::N;
            self.bytes
                .copy_from_slice(s.get(start..).unwrap_or_default());
            self.cut |= start > 0 || self.len > 0;
            self.len = Tail::N;
            return Ok(());
        }
        let keep = Tail::N - s.len();
        if self.len > keep {
            // drop the oldest bytes to make room
            self.bytes.copy_within(self.len - keep..self.len, 0);
            self.len = keep;
            self.cut = true;
        }
        if let Some(room) = self.bytes.get_mut(self.len..self.len + s.len()) {
            room.copy_from_slice(s);
        }
        self.len += s.len();
        Ok(())
    }
}

impl core::fmt::Debug for Causes<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error whose message already shows its source (`"upstream failed:
    /// {0}"` and `source() = 0`, tower's `Buffer` error): the cause is not
    /// written twice, its own cause is written; a long message is compared
    /// on its end.
    #[test]
    fn a_cause_the_message_already_shows_is_written_once() {
        #[derive(Debug)]
        struct Shows(std::io::Error, &'static str);
        impl core::fmt::Display for Shows {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}upstream failed: {}", self.1, self.0)
            }
        }
        impl std::error::Error for Shows {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl core::fmt::Display for Outer {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("client error")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let refused = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            Causes(&Shows(refused(), "")).to_string(),
            "upstream failed: refused"
        );
        // the cause's own cause is still written
        let nested = std::io::Error::other(Outer(refused()));
        assert_eq!(
            Causes(&Shows(nested, "")).to_string(),
            "upstream failed: client error: refused"
        );
        // a message longer than the window still ends with its cause
        let long: &'static str = "x".repeat(1000).leak();
        let line = Causes(&Shows(refused(), long)).to_string();
        assert!(line.ends_with("upstream failed: refused"), "{line}");
        assert_eq!(line.matches("refused").count(), 1, "{line}");
        // a message that does not show its cause gets it
        assert_eq!(
            Causes(&Outer(refused())).to_string(),
            "client error: refused"
        );
    }

    /// An error whose message is written in `parts` (one `write_str` each),
    /// with an optional cause.
    #[derive(Debug)]
    struct Pieces(Vec<String>, Option<Box<Pieces>>);

    impl core::fmt::Display for Pieces {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            self.0.iter().try_for_each(|part| f.write_str(part))
        }
    }

    impl std::error::Error for Pieces {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|c| c as _)
        }
    }

    /// How many times `cause`'s whole message is in the line of an error
    /// written in `outer`, whose cause it is.
    fn times_shown(outer: &[String], cause: &[String]) -> usize {
        let whole: String = cause.concat();
        let error = Pieces(outer.to_vec(), Some(Box::new(Pieces(cause.to_vec(), None))));
        Causes(&error).to_string().matches(whole.as_str()).count()
    }

    /// Long messages near the 256-byte window: a cause is skipped only when
    /// the message ends with all of it, however the messages were written.
    #[test]
    fn a_long_cause_is_compared_whole_or_written() {
        let b = |n: usize| "b".repeat(n);
        let head = || "upstream failed: ".to_string();
        // exactly the window, at once or in two writes: shown once
        assert_eq!(times_shown(&[head(), b(256)], &[b(256)]), 1);
        let two = ["c".to_string(), b(255)];
        assert_eq!(times_shown(&[head(), two.concat()], &two), 1);
        // longer than the window (at once, or after a first write): the
        // message ends with its last 256 bytes only, so it is written
        let longer = [format!("{}{}", "h".repeat(44), b(256))];
        assert_eq!(times_shown(&[head(), b(256)], &longer), 1);
        assert!(
            Causes(&Pieces(
                vec![head(), b(256)],
                Some(Box::new(Pieces(longer.to_vec(), None)))
            ))
            .to_string()
            .contains("hhh")
        );
        let after = ["h".to_string(), b(256)];
        assert_eq!(times_shown(&[head(), b(256)], &after), 1);
        // a message written in pieces past the window keeps its last bytes
        let cause = [format!("{}{}", "y".repeat(50), b(100))];
        let outer = [format!("{}{}", "x".repeat(150), "y".repeat(50)), b(100)];
        assert_eq!(times_shown(&outer, &cause), 1);
    }

    /// A run's error asks for the wait its last error asks for (an outer
    /// run honours it), and none when that asks for none; the `Debug` of
    /// causes is their `Display`.
    #[test]
    fn the_last_errors_hint_and_the_causes_debug() {
        struct Busy(Option<Duration>);
        impl Classify for Busy {
            fn kind(&self) -> ErrorKind {
                ErrorKind::RateLimited
            }
            fn retry_after(&self) -> Option<Duration> {
                self.0
            }
        }
        let gave_up = |hint| RetryError {
            operation: "clips",
            attempts: 2,
            elapsed: Duration::ZERO,
            reason: StopReason::Attempts,
            last_error: Busy(hint),
        };
        let two = Some(Duration::from_secs(2));
        assert_eq!(gave_up(two).retry_after(), two);
        assert_eq!(gave_up(None).retry_after(), None);
        let chain = Pieces(
            vec!["client error".into()],
            Some(Box::new(Pieces(vec!["refused".into()], None))),
        );
        assert_eq!(format!("{:?}", Causes(&chain)), "client error: refused");
    }

    /// A run whose error is not a `std::error::Error` (a boxed one, a
    /// message) gives one that `?` takes into `Box<dyn Error + Send +
    /// Sync>` and `Box<dyn Error>`, its message and its last error kept.
    #[test]
    fn into_std_error_keeps_the_message_and_the_last_error() {
        use std::error::Error;
        type BoxError = Box<dyn Error + Send + Sync>;
        fn is_std_error<T: Error + Send + Sync + 'static>(e: T) -> T {
            e
        }
        fn gave_up<E>(last_error: E) -> RetryError<E> {
            RetryError {
                operation: "upload",
                attempts: 3,
                elapsed: Duration::from_secs(1),
                reason: StopReason::Deadline,
                last_error,
            }
        }
        let boxed: BoxError = Box::new(std::io::Error::other("disk full"));
        let err = is_std_error(gave_up(boxed).into_std_error());
        assert_eq!(
            err.to_string(),
            "upload failed after 3 attempts (deadline reached): disk full"
        );
        let last = err.source().unwrap();
        assert!(last.downcast_ref::<std::io::Error>().is_some());
        assert!(format!("{err:?}").starts_with("RetryError { operation: \"upload\""));

        fn send_sync(run: Result<(), RetryError<&'static str>>) -> Result<(), BoxError> {
            run.map_err(RetryError::into_std_error)?;
            Ok(())
        }
        fn local(run: Result<(), RetryError<String>>) -> Result<(), Box<dyn Error>> {
            run.map_err(RetryError::into_std_error)?;
            Ok(())
        }
        let err = send_sync(Err(gave_up("timed out"))).unwrap_err();
        assert_eq!(err.source().unwrap().to_string(), "timed out");
        let err = local(Err(gave_up("timed out".to_owned()))).unwrap_err();
        assert!(err.to_string().ends_with("(deadline reached): timed out"));
    }

    #[test]
    fn compares_and_clones_when_its_error_does() {
        let err = RetryError {
            operation: "upload",
            attempts: 3,
            elapsed: Duration::from_secs(4),
            reason: StopReason::Attempts,
            last_error: String::from("reset"),
        };
        let copy = err.clone();
        assert_eq!(copy, err);
        let other = RetryError {
            last_error: String::from("refused"),
            ..err.clone()
        };
        assert_ne!(other, err);
        assert_ne!(
            RetryError {
                attempts: 2,
                ..err.clone()
            },
            err
        );
    }

    /// A run a breaker or throttle turned away made no attempt: its message
    /// said "failed after 0 attempts", where its log line says "not
    /// attempted".
    #[test]
    fn a_run_turned_away_says_not_attempted() {
        let err = RetryError {
            operation: "get_user",
            attempts: 0,
            elapsed: Duration::ZERO,
            reason: StopReason::CircuitOpen,
            last_error: "circuit `users` is open; retry after 20s",
        };
        assert_eq!(
            err.to_string(),
            "get_user not attempted (circuit open): circuit `users` is open; retry after 20s"
        );
        let once = RetryError { attempts: 1, ..err };
        assert_eq!(
            once.to_string(),
            "get_user failed after 1 attempt (circuit open): circuit `users` is open; retry after 20s"
        );
    }

    /// The operation's name, which a program may make at run time, is
    /// escaped as in the log lines: a line break in it split the message.
    #[test]
    fn the_operation_is_escaped() {
        let err = RetryError {
            operation: "tenant\n7\u{1b}[2K",
            attempts: 2,
            elapsed: Duration::ZERO,
            reason: StopReason::Attempts,
            last_error: "503",
        };
        assert_eq!(
            err.to_string(),
            r"tenant\n7\u{1b}[2K failed after 2 attempts (attempts exhausted): 503"
        );
    }

    /// An error type that is neither `Clone` nor `PartialEq` still makes a
    /// `RetryError` (the derives bound their impls only).
    #[test]
    fn any_error_type_still_fits() {
        struct Opaque;
        let err = RetryError {
            operation: "op",
            attempts: 1,
            elapsed: Duration::ZERO,
            reason: StopReason::Permanent,
            last_error: Opaque,
        };
        let Opaque = err.into_inner();
    }
}
