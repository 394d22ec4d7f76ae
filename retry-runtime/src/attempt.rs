//! The context form of a retry: the operation is handed the [`Attempt`] it
//! is about to make (its number, the limit, the time spent and left, the
//! previous failure's kind), to log it, to send it along (gRPC's
//! `grpc-previous-rpc-attempts`), to keep an idempotency key, or to shorten
//! its own timeout to the time left.

use std::time::Duration;

use crate::classify::ErrorKind;

/// The attempt about to be made, as [`Retry::context`](crate::Retry::context)
/// hands it to the operation.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Attempt, Backoff, ErrorKind, KindSet, Policy};
/// let _paused = retry_runtime::testing::pause();
/// let policy = Policy::new().with_max_attempts(3).with_backoff(Backoff::fixed(Duration::from_secs(1)))
///     .with_max_elapsed(Duration::from_secs(60))
///     .retry_on(KindSet::TRANSIENT); // classified: the kinds are known
/// let mut seen = Vec::new();
/// let r = policy
///     .retry(|attempt: Attempt| {
///         seen.push((attempt.number, attempt.previous_kind));
///         if attempt.number < 3 { Err(std::io::Error::from(std::io::ErrorKind::TimedOut)) } else { Ok(attempt.max) }
///     })
///     .context()
///     .call();
/// assert_eq!(r.unwrap(), 3);
/// assert_eq!(seen, [(1, None), (2, Some(ErrorKind::Timeout)), (3, Some(ErrorKind::Timeout))]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// This attempt, from 1 (a [`RetryEvent`](crate::RetryEvent)'s
    /// `attempt`, the log lines' `attempt` field).
    #[doc(alias = "attempt")]
    pub number: u32,
    /// The policy's attempt limit (a `RetryEvent`'s and the log lines'
    /// `max_attempts`).
    #[doc(alias = "max_attempts")]
    pub max: u32,
    /// Time since the run started, waits included.
    pub elapsed: Duration,
    /// Time left before the policy's `max_elapsed` (no retry starts after
    /// it); `None` without one. Under a timeout of yours (`timeout(..)`
    /// around the attempt, `#[retry(timeout = ..)]`) it is not the time
    /// this attempt has: one that starts before `max_elapsed` runs on past
    /// it, within that timeout (a deadline split as docs/policies.md's "A
    /// deadline across calls" splits it gives each attempt that whole
    /// timeout). The tower layer's `with_timeout` and the reqwest
    /// middleware's timeout are shortened to it: there an attempt has at
    /// most `remaining`, and ends by `max_elapsed` (but a first attempt
    /// whose cooldown wait took all of it, which keeps the whole timeout).
    pub remaining: Option<Duration>,
    /// The kind of the previous attempt's error, when the policy classifies
    /// errors; `None` for the first attempt, and after an `Ok` that
    /// `retry_if_ok` rejected. It comes from the verdict the run decided
    /// by: a classifier is asked once per failure. (A hedged call's attempts
    /// overlap: there it is the kind of the last failure before this
    /// attempt started, `None` for a hedge started while none had failed.)
    pub previous_kind: Option<ErrorKind>,
}

impl Attempt {
    /// Attempt `number` of `max`, at the run's start: no time spent, no
    /// `max_elapsed`, no previous failure. A run makes its own; this one
    /// is for a test of code that reads one (a helper that makes a
    /// request's headers from it, say), with the `with_*` methods for the
    /// rest (the struct is `#[non_exhaustive]`: it cannot be written as a
    /// literal outside this crate).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Attempt, ErrorKind};
    ///
    /// fn headers(a: &Attempt) -> Vec<(&'static str, String)> {
    ///     let mut h = vec![("x-attempt", a.number.to_string())];
    ///     // the time left when the policy's `max_elapsed` is the call's
    ///     // deadline (a deadline split per attempt gives each its bound)
    ///     if let Some(left) = a.remaining {
    ///         h.push(("grpc-timeout", format!("{}m", left.as_millis())));
    ///     }
    ///     h
    /// }
    ///
    /// let second = Attempt::new(2, 3)
    ///     .with_elapsed(Duration::from_secs(1))
    ///     .with_remaining(Duration::from_secs(4))
    ///     .with_previous_kind(ErrorKind::Timeout);
    /// assert_eq!(second.previous_attempts(), 1);
    /// assert_eq!(headers(&second), [("x-attempt", "2".into()), ("grpc-timeout", "4000m".into())]);
    /// assert_eq!(headers(&Attempt::new(1, 3)), [("x-attempt", "1".to_string())]);
    /// ```
    pub const fn new(number: u32, max: u32) -> Attempt {
        Attempt {
            number,
            max,
            elapsed: Duration::ZERO,
            remaining: None,
            previous_kind: None,
        }
    }

    /// The same attempt, `elapsed` since the run started.
    ///
    /// ```
    /// let a = retry_runtime::Attempt::new(2, 3).with_elapsed(std::time::Duration::from_secs(1));
    /// assert_eq!(a.elapsed.as_secs(), 1);
    /// ```
    pub const fn with_elapsed(mut self, elapsed: Duration) -> Attempt {
        self.elapsed = elapsed;
        self
    }

    /// The same attempt, `remaining` before the policy's `max_elapsed`.
    ///
    /// ```
    /// let a = retry_runtime::Attempt::new(2, 3).with_remaining(std::time::Duration::from_secs(4));
    /// assert_eq!(a.remaining, Some(std::time::Duration::from_secs(4)));
    /// ```
    pub const fn with_remaining(mut self, remaining: Duration) -> Attempt {
        self.remaining = Some(remaining);
        self
    }

    /// The same attempt, after a failure of kind `kind`.
    ///
    /// ```
    /// use retry_runtime::{Attempt, ErrorKind};
    /// let a = Attempt::new(2, 3).with_previous_kind(ErrorKind::Timeout);
    /// assert_eq!(a.previous_kind, Some(ErrorKind::Timeout));
    /// ```
    pub const fn with_previous_kind(mut self, kind: ErrorKind) -> Attempt {
        self.previous_kind = Some(kind);
        self
    }

    /// Retries made before this attempt (`number - 1`): what gRPC sends as
    /// `grpc-previous-rpc-attempts` on a retry. gRPC's A6 leaves that
    /// header out of the first attempt (0 here): send it only when this is
    /// above 0 (the `tonic` module shows it).
    ///
    /// ```
    /// let _paused = retry_runtime::testing::pause();
    /// let r = retry_runtime::Policy::new()
    ///     .retry(|a: retry_runtime::Attempt| Ok::<_, &str>(a.previous_attempts()))
    ///     .context()
    ///     .call();
    /// assert_eq!(r, Ok(0));
    /// ```
    pub fn previous_attempts(&self) -> u32 {
        self.number.saturating_sub(1)
    }
}

/// An operation a [`Retry`](crate::Retry) calls: any `FnMut() -> R`, or, in
/// the [context form](crate::Retry::context), a [`WithAttempt`] around an
/// `FnMut(Attempt) -> R`.
///
/// ```
/// use retry_runtime::{Op, Policy};
/// // any `FnMut() -> R` is an `Op` whose output is `R`
/// fn op<F: Op<Output = Result<u32, &'static str>>>(f: F) -> F { f }
/// let _paused = retry_runtime::testing::pause();
/// let mut calls = 0;
/// let busy_once = op(|| { calls += 1; if calls < 2 { Err("busy") } else { Ok(calls) } });
/// assert_eq!(Policy::new().retry(busy_once).call(), Ok(2));
/// ```
///
/// Use it as a bound; it is sealed (its hidden items are the executors'
/// and may change): any closure is one already, and a type of your own
/// does not implement it.
///
/// ```compile_fail,E0277
/// use retry_runtime::{Attempt, Op};
/// struct Ping;
/// impl Op for Ping { // error[E0277]: the trait bound `Ping: Sealed` is not satisfied
///     type Output = Result<(), ()>;
///     const WANTS_ATTEMPT: bool = false;
///     fn attempt(&mut self, _: impl FnOnce() -> Attempt) -> Result<(), ()> { Ok(()) }
/// }
/// ```
pub trait Op: sealed::Sealed {
    /// What one attempt returns (a `Result`, or a future of one).
    type Output;
    /// Does the operation want its [`Attempt`]? (Only then is it computed.)
    #[doc(hidden)]
    const WANTS_ATTEMPT: bool;
    /// Make one attempt; `attempt` is called only if it is wanted.
    #[doc(hidden)]
    fn attempt(&mut self, attempt: impl FnOnce() -> Attempt) -> Self::Output;
}

impl<R, F: FnMut() -> R> Op for F {
    type Output = R;
    const WANTS_ATTEMPT: bool = false;
    #[inline(always)]
    fn attempt(&mut self, _: impl FnOnce() -> Attempt) -> R {
        self()
    }
}

/// An `FnMut(Attempt) -> R` as an [`Op`]: made by
/// [`Retry::context`](crate::Retry::context).
///
/// ```
/// use retry_runtime::{Attempt, Policy, Retry, WithAttempt};
/// let _paused = retry_runtime::testing::pause();
/// let policy = Policy::new().with_max_attempts(3);
/// let retry: Retry<'_, _, _, WithAttempt<_>> = policy
///     .retry(|a: Attempt| if a.number < 3 { Err("busy") } else { Ok(a.number) })
///     .context();
/// assert_eq!(retry.call(), Ok(3));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct WithAttempt<F>(pub(crate) F);

/// [`Op`] is implemented here only: for closures and [`WithAttempt`].
mod sealed {
    use super::{Attempt, WithAttempt};

    pub trait Sealed {}
    impl<R, F: FnMut() -> R> Sealed for F {}
    impl<R, F: FnMut(Attempt) -> R> Sealed for WithAttempt<F> {}
}

impl<R, F: FnMut(Attempt) -> R> Op for WithAttempt<F> {
    type Output = R;
    const WANTS_ATTEMPT: bool = true;
    #[inline]
    fn attempt(&mut self, attempt: impl FnOnce() -> Attempt) -> R {
        (self.0)(attempt())
    }
}
