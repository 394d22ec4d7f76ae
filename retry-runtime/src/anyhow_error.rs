//! Feature `anyhow`: [`Classify`] for `anyhow::Error`, so that a function
//! returning `anyhow::Result<T>` takes `retry_on`, a preset, or any policy
//! that classifies; and [`RetryError::into_anyhow`], which gives up into an
//! `anyhow::Error` that keeps the kind. (A private module: its items are
//! the impls, documented where they show, and a public module named
//! `anyhow` would shadow the crate under `use retry_runtime::*`.)

use std::fmt;
use std::time::Duration;

use crate::chain::{classify_anyhow, no_classify, retry_after_of_anyhow, why_permanent_of_anyhow};
use crate::classify::{Classify, ErrorKind};
use crate::error::RetryError;

/// By its chain, outermost first, as a `Box<dyn Error + Send + Sync>` is
/// ([`error_kind`](crate::classify::error_kind)): the first error in it
/// whose kind is known (an `std::io::Error`, a `reqwest::Error`, a
/// `reqwest_middleware::Error`, a `sqlx::Error`, a `tonic::Status`, ...
/// with their features on) gives the
/// kind, and its retry-after hint (a `Retry-After`, a gRPC pushback) the
/// wait the policy honours. So `.context("..")` keeps the kind of the error
/// it wraps (a context counts as its message: an error given as one is
/// not classified); an error made from a box (`anyhow!(boxed)`), which anyhow
/// keeps out of its own chain, by that box when nothing in the chain is
/// known (a context that is a box does not hide the chain); and an error
/// made from a message alone (`anyhow!("..")`, `bail!("..")`) is
/// `Unknown`: retried by a policy that retries every error or `Unknown`,
/// not by `retry_on = Timeout | Connect`. An error type of yours inside
/// the chain is not found by its own `Classify` (a `dyn Error` cannot be
/// asked whether it implements a trait): keep it in the signature to have
/// it classified, or give the policy a retry condition of your own that
/// finds it in the chain (`e.chain().find_map(|c|
/// c.downcast_ref::<RepoError>())`) and names its kind
/// (docs/classification.md, "Your error inside `anyhow` or a box"; a
/// `retry_if` predicate doing the same retries, but logs no kind).
///
/// ```
/// use std::io;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use anyhow::Context;
/// use retry_runtime::{retry, Classify, ErrorKind};
///
/// static CALLS: AtomicU32 = AtomicU32::new(0);
///
/// #[retry(attempts = 3, backoff = "none", retry_on = Timeout | Connect)]
/// fn read_config(path: &str) -> anyhow::Result<String> {
///     CALLS.fetch_add(1, Ordering::Relaxed);
///     let error = match path {
///         // a refused connection, wrapped with context: Connect, retried
///         "remote" => io::Error::from(io::ErrorKind::ConnectionRefused),
///         // denied: Permanent, returned after one attempt
///         _ => io::Error::from(io::ErrorKind::PermissionDenied),
///     };
///     Err(error).with_context(|| format!("reading {path}"))
/// }
///
/// assert!(read_config("remote").is_err());
/// assert_eq!(CALLS.swap(0, Ordering::Relaxed), 3);
/// let denied = read_config("/etc/app.toml").unwrap_err();
/// assert_eq!(CALLS.load(Ordering::Relaxed), 1);
/// assert_eq!(denied.to_string(), "reading /etc/app.toml"); // unchanged
///
/// assert_eq!(anyhow::anyhow!("no such user").kind(), ErrorKind::Unknown);
/// let boxed: Box<dyn std::error::Error + Send + Sync> = io::Error::from(io::ErrorKind::TimedOut).into();
/// assert_eq!(anyhow::anyhow!(boxed).kind(), ErrorKind::Timeout);
/// ```
impl Classify for ::anyhow::Error {
    fn kind(&self) -> ErrorKind {
        classify_anyhow(self, no_classify).0
    }

    fn retry_after(&self) -> Option<Duration> {
        retry_after_of_anyhow(self, no_classify)
    }

    fn why_permanent(&self) -> Option<&'static str> {
        why_permanent_of_anyhow(self, no_classify)
    }
}

impl RetryError<::anyhow::Error> {
    /// The last error with this outcome as its context (feature `anyhow`):
    /// `{}` shows why it stopped (`"fetch failed after 3 attempts (attempts
    /// exhausted)"`), `{:#}` that and then the last error's chain, and the
    /// result classifies as the last error does. Use it, not
    /// [`into_std_error`](RetryError::into_std_error), to give an
    /// `anyhow::Error` up into an `anyhow::Result`: that one boxes it as
    /// anyhow's `From` does, which leaves the error it was made from out of
    /// its chain (a refused connection would classify `Unknown` there).
    /// [`into_inner`](RetryError::into_inner) keeps the last error alone.
    /// The attempts, the time and the stop reason are in the message only:
    /// read them off the `RetryError` first if a caller needs them as values.
    ///
    /// ```
    /// use std::io;
    /// use retry_runtime::{Classify, ErrorKind, Policy};
    ///
    /// fn connect() -> anyhow::Result<()> {
    ///     Err(io::Error::from(io::ErrorKind::ConnectionRefused).into())
    /// }
    /// fn start() -> anyhow::Result<()> {
    ///     Policy::new()
    ///         .with_name("connect")
    ///         .retry(connect)
    ///         .detailed()
    ///         .call()
    ///         .map_err(|e| e.into_anyhow())?;
    ///     Ok(())
    /// }
    ///
    /// let _paused = retry_runtime::testing::pause();
    /// let err = start().unwrap_err();
    /// assert_eq!(err.to_string(), "connect failed after 3 attempts (attempts exhausted)");
    /// assert_eq!(format!("{err:#}"), "connect failed after 3 attempts (attempts exhausted): connection refused");
    /// assert_eq!(err.kind(), ErrorKind::Connect);
    /// assert!(err.downcast_ref::<io::Error>().is_some());
    /// ```
    pub fn into_anyhow(self) -> ::anyhow::Error {
        let RetryError {
            operation,
            attempts,
            elapsed,
            reason,
            last_error,
        } = self;
        let summary = RetryError {
            operation,
            attempts,
            elapsed,
            reason,
            last_error: (),
        };
        last_error.context(Summary(summary))
    }
}

/// The context [`RetryError::into_anyhow`] gives the last error: the run's
/// outcome, shown as the `RetryError`'s message up to the last error's.
#[derive(Debug)]
struct Summary(RetryError<()>);

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_outcome(f)
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use std::error::Error as StdError;

    use super::*;

    #[test]
    fn a_context_keeps_the_kind_of_what_it_wraps() {
        let timed_out = anyhow::Error::new(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(timed_out.kind(), ErrorKind::Timeout);
        let wrapped = timed_out.context("fetching the clip").context("job 7");
        assert_eq!(wrapped.kind(), ErrorKind::Timeout);
        assert_eq!(wrapped.retry_after(), None);
    }

    #[test]
    fn a_message_alone_is_unknown() {
        assert_eq!(anyhow::anyhow!("bad input").kind(), ErrorKind::Unknown);
        let err: anyhow::Error = anyhow::Error::msg("no").context("outer");
        assert_eq!(err.kind(), ErrorKind::Unknown);
    }

    /// An error made from a box is held by anyhow in a wrapper whose chain
    /// starts at the box's source: the box itself is classified still, under
    /// contexts too, with its hint; a box nothing in is known is `Unknown`,
    /// as is a context that is a known error (anyhow's chain shows a
    /// context by its message: its `dyn Error` is anyhow's own type).
    #[test]
    fn an_error_made_from_a_box_is_classified_by_the_box() {
        type BoxError = Box<dyn StdError + Send + Sync>;
        let refused = || -> BoxError { io::Error::from(io::ErrorKind::ConnectionRefused).into() };
        assert_eq!(anyhow::anyhow!(refused()).kind(), ErrorKind::Connect);
        let wrapped = anyhow::anyhow!(refused())
            .context("dialling")
            .context("job 7");
        assert_eq!(wrapped.kind(), ErrorKind::Connect);
        assert_eq!(wrapped.retry_after(), None);
        let opaque: BoxError = "no such user".into();
        assert_eq!(anyhow::anyhow!(opaque).kind(), ErrorKind::Unknown);
        // a context that is a box (anyhow's `downcast_ref` finds it as it
        // finds the error's own box) does not hide the chain
        let ctx: BoxError = "token service".into();
        let refused_ctx =
            anyhow::Error::new(io::Error::from(io::ErrorKind::ConnectionRefused)).context(ctx);
        assert_eq!(refused_ctx.kind(), ErrorKind::Connect);
        // nor does it hide an error made from a box, when the box's own
        // causes are known
        #[derive(Debug, thiserror::Error)]
        #[error("fetching the token")]
        struct Fetch(#[source] io::Error);
        let ctx: BoxError = "token service".into();
        let wrapped: BoxError = Box::new(Fetch(io::Error::from(io::ErrorKind::TimedOut)));
        assert_eq!(
            anyhow::anyhow!(wrapped).context(ctx).kind(),
            ErrorKind::Timeout
        );
        // a context is its message only to a chain walk, an error too
        let opaque: BoxError = "no such user".into();
        let context = anyhow::anyhow!(opaque).context(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(context.kind(), ErrorKind::Unknown);
        let context = anyhow::anyhow!("no").context(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(context.kind(), ErrorKind::Unknown);
        let open = open_breaker("anyhow-boxed-hint");
        let boxed: BoxError = Box::new(open);
        let error = anyhow::anyhow!(boxed).context("calling the ledger");
        assert_eq!(error.kind(), ErrorKind::Unavailable);
        assert_eq!(error.retry_after(), open.retry_after());
        assert!(error.retry_after().is_some());
    }

    /// A breaker's refusal inside the chain gives its recovery time as the
    /// retry-after hint, as in a boxed error.
    #[test]
    fn the_retry_after_hint_is_found_in_the_chain() {
        let open = open_breaker("anyhow-hint");
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(open);
        let error = anyhow::Error::new(open).context("calling the ledger");
        assert_eq!(error.kind(), boxed.kind());
        assert_eq!(error.retry_after(), boxed.retry_after());
        assert!(error.retry_after().is_some());
    }

    /// Given up into an `anyhow::Error`, a run's outcome is its context: its
    /// message says why it stopped, `{:#}` adds the last error's chain, the
    /// kind and the hint are the last error's (its own error first, for
    /// one made from a box), and the last error is found by `downcast_ref`.
    /// `into_std_error` loses the kind of that same error (why
    /// `into_anyhow` is there).
    #[test]
    fn into_anyhow_keeps_the_outcome_and_the_kind() {
        let refused = || anyhow::Error::new(io::Error::from(io::ErrorKind::ConnectionRefused));
        let gave_up = |last_error, attempts| RetryError {
            operation: "dial\n",
            attempts,
            elapsed: Duration::from_millis(7),
            reason: crate::StopReason::Attempts,
            last_error,
        };
        let err = gave_up(refused().context("dialling"), 3).into_anyhow();
        assert_eq!(
            err.to_string(),
            "dial\\n failed after 3 attempts (attempts exhausted)"
        );
        assert_eq!(
            format!("{err:#}"),
            "dial\\n failed after 3 attempts (attempts exhausted): dialling: connection refused"
        );
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert!(err.downcast_ref::<io::Error>().is_some());
        let err = gave_up(refused(), 0).into_anyhow();
        assert_eq!(
            err.to_string(),
            "dial\\n not attempted (attempts exhausted)"
        );
        let open = open_breaker("anyhow-into");
        let err = gave_up(anyhow::Error::new(open), 2).into_anyhow();
        assert_eq!(
            (err.kind(), err.retry_after()),
            (ErrorKind::Unavailable, open.retry_after())
        );
        let lossy: Box<dyn StdError + Send + Sync> =
            Box::new(gave_up(refused(), 3).into_std_error());
        assert_eq!(lossy.kind(), ErrorKind::Unknown);
    }

    /// A refusal from a breaker that one failure opened.
    fn open_breaker(name: &'static str) -> crate::CircuitOpen {
        use crate::circuit::{CircuitBreaker, Outcome};
        let breaker = CircuitBreaker::new(name)
            .with_failures(1)
            .with_recovery(Duration::from_secs(30));
        let permit = breaker.try_acquire().expect("closed");
        breaker.record(permit, Outcome::Failure);
        breaker.try_acquire().expect_err("open after one failure")
    }
}
