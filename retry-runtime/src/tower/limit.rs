//! [`AttemptLimit`], a layer's per-attempt settings in its type: its
//! timeout ([`NoTimeout`] or [`WithTimeout`]), whether each request
//! carries its attempt ([`WithAttemptExtension`]), and whether each
//! response and each error carries a report of its run ([`WithReport`]),
//! and so the service's error type ([`AttemptLimit::CallError`]).

use std::future::Future;
use std::time::Duration;

use super::{Error, Reported};
use crate::response::RetryReport;
use crate::sleep::Sleeper;

/// A [`RetryLayer`](super::RetryLayer)'s per-attempt timeout, in its type:
/// [`NoTimeout`] (the default) or [`WithTimeout`] (from
/// [`with_timeout`](super::RetryLayer::with_timeout)). Without a timeout, a
/// call's future holds no timer and its attempts race nothing: the option
/// costs nothing to a layer that does not use it.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tower::{AttemptLimit, NoTimeout, WithTimeout};
/// assert_eq!(NoTimeout.limit(), None);
/// assert_eq!(WithTimeout(Duration::from_secs(2)).limit(), Some(Duration::from_secs(2)));
/// ```
pub trait AttemptLimit: Copy + sealed::Sealed {
    /// What an attempt races: a sleep of the layer's sleeper, or a future
    /// that never completes (and takes no room).
    type Deadline<D: Future<Output = ()>>: Future<Output = ()>;

    /// The deadline of an attempt starting now, `left()` the time left
    /// before the run's `max_elapsed` (asked only with a timeout).
    #[doc(hidden)]
    fn deadline<Sl: Sleeper>(
        &self,
        sleeper: &Sl,
        left: impl FnOnce() -> Option<Duration>,
    ) -> Self::Deadline<Sl::Sleep>;

    /// The limit an attempt whose deadline is `deadline` had (the timeout,
    /// or the time left when that was shorter), for its `AttemptTimeout`.
    #[doc(hidden)]
    fn limit_of<D: Future<Output = ()>>(deadline: &Self::Deadline<D>) -> Duration;

    /// The limit, if there is one.
    fn limit(&self) -> Option<Duration>;

    /// Does each request carry its attempt
    /// ([`with_attempt_extension`](super::RetryLayer::with_attempt_extension))?
    /// (What the layer's `Debug` shows; the call itself never asks it: the
    /// attempt is attached by [`replay`](Self::replay) and
    /// [`carry_attempt`](Self::carry_attempt), which a layer without it
    /// makes the plain copy and the request as it is, with no branch.)
    const CARRIES_ATTEMPT: bool = false;

    /// `request`, carrying the attempt `attempt()` makes when
    /// [`CARRIES_ATTEMPT`](Self::CARRIES_ATTEMPT).
    #[doc(hidden)]
    #[inline(always)]
    fn carry_attempt<Req: super::Replay>(
        request: Req,
        attempt: impl FnOnce() -> crate::Attempt,
    ) -> Req {
        let _ = attempt;
        request
    }

    /// A copy of `request` for the next attempt ([`Replay::replay`](super::Replay::replay)),
    /// carrying the attempt `attempt()` makes when
    /// [`CARRIES_ATTEMPT`](Self::CARRIES_ATTEMPT).
    #[doc(hidden)]
    #[inline(always)]
    fn replay<Req: super::Replay>(
        request: &Req,
        attempt: impl FnOnce() -> crate::Attempt,
    ) -> Option<Req> {
        let _ = attempt;
        request.replay()
    }

    /// These settings with a timeout of `limit`.
    #[doc(hidden)]
    type Timed: AttemptLimit;
    #[doc(hidden)]
    fn timed(self, limit: Duration) -> Self::Timed;

    /// These settings, each request carrying its attempt.
    #[doc(hidden)]
    type Carrying: AttemptLimit;
    #[doc(hidden)]
    fn carrying(self) -> Self::Carrying;

    /// Does each response given back carry a
    /// [`RetryReport`]
    /// ([`with_report`](super::RetryLayer::with_report))?
    const REPORTS: bool = false;

    /// These settings, each response carrying its report.
    #[doc(hidden)]
    type Reporting: AttemptLimit;
    #[doc(hidden)]
    fn reporting(self) -> Self::Reporting;

    /// What a call of the layer's service fails with, the service below
    /// failing with `E`: [`Error<E>`](super::Error), or, for a layer
    /// [`with_report`](super::RetryLayer::with_report) ([`WithReport`]),
    /// [`Reported<Error<E>>`](super::Reported), the error beside its
    /// run's [`RetryReport`]. In the settings' type, so that a layer
    /// without the report gives back the error it always did, from the
    /// same future.
    ///
    /// ```
    /// use retry_runtime::tower::{AttemptLimit, Error, NoTimeout, Reported, WithReport, WithTimeout};
    /// fn plain(e: <WithTimeout as AttemptLimit>::CallError<std::io::Error>) -> Error<std::io::Error> { e }
    /// fn reported(e: <WithReport<NoTimeout> as AttemptLimit>::CallError<std::io::Error>) -> Reported<Error<std::io::Error>> { e }
    /// # let _ = (plain, reported);
    /// ```
    type CallError<E>;

    /// `error` as a call gives it back: as it is, or beside the report
    /// `report()` makes.
    #[doc(hidden)]
    fn call_error<E>(error: Error<E>, report: impl FnOnce() -> RetryReport) -> Self::CallError<E>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoTimeout {}
    impl Sealed for super::WithTimeout {}
    impl<T: super::AttemptLimit> Sealed for super::WithAttemptExtension<T> {}
    impl<T: super::AttemptLimit> Sealed for super::WithReport<T> {}
}

/// No per-attempt timeout (a [`RetryLayer`](super::RetryLayer)'s default):
/// see [`AttemptLimit`].
///
/// ```
/// use retry_runtime::tower::{NoTimeout, RetryLayer};
/// let layer: RetryLayer<retry_runtime::RetryOn, _, _, NoTimeout> = retry_runtime::presets::API.layer();
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTimeout;

impl AttemptLimit for NoTimeout {
    type Deadline<D: Future<Output = ()>> = core::future::Pending<()>;

    #[inline(always)]
    fn deadline<Sl: Sleeper>(
        &self,
        _: &Sl,
        _: impl FnOnce() -> Option<Duration>,
    ) -> core::future::Pending<()> {
        core::future::pending()
    }

    #[inline(always)]
    fn limit_of<D: Future<Output = ()>>(_: &core::future::Pending<()>) -> Duration {
        Duration::ZERO
    }

    #[inline(always)]
    fn limit(&self) -> Option<Duration> {
        None
    }

    type Timed = WithTimeout;
    fn timed(self, limit: Duration) -> WithTimeout {
        WithTimeout(limit)
    }

    type Carrying = WithAttemptExtension<NoTimeout>;
    fn carrying(self) -> Self::Carrying {
        WithAttemptExtension(self)
    }

    type Reporting = WithReport<NoTimeout>;
    fn reporting(self) -> Self::Reporting {
        WithReport(self)
    }

    type CallError<E> = Error<E>;
    #[inline(always)]
    fn call_error<E>(error: Error<E>, _: impl FnOnce() -> RetryReport) -> Error<E> {
        error
    }
}

/// Each attempt at most this long
/// ([`RetryLayer::with_timeout`](super::RetryLayer::with_timeout)): see
/// [`AttemptLimit`].
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tower::{RetryLayer, WithTimeout};
/// let layer: RetryLayer<retry_runtime::RetryOn, _, _, WithTimeout> =
///     retry_runtime::presets::API.layer().with_timeout(Duration::from_secs(2));
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithTimeout(pub Duration);

impl AttemptLimit for WithTimeout {
    type Deadline<D: Future<Output = ()>> = AttemptTimer<D>;

    /// The timeout, shortened to the time left before the run's
    /// `max_elapsed`, if `left()` says how long that is.
    #[inline(always)]
    fn deadline<Sl: Sleeper>(
        &self,
        sleeper: &Sl,
        left: impl FnOnce() -> Option<Duration>,
    ) -> AttemptTimer<Sl::Sleep> {
        let limit = match left() {
            Some(left) => self.0.min(left),
            None => self.0,
        };
        AttemptTimer {
            sleep: sleeper.sleep(limit),
            limit,
        }
    }

    #[inline(always)]
    fn limit_of<D: Future<Output = ()>>(deadline: &AttemptTimer<D>) -> Duration {
        deadline.limit
    }

    #[inline(always)]
    fn limit(&self) -> Option<Duration> {
        Some(self.0)
    }

    type Timed = WithTimeout;
    fn timed(self, limit: Duration) -> WithTimeout {
        WithTimeout(limit)
    }

    type Carrying = WithAttemptExtension<WithTimeout>;
    fn carrying(self) -> Self::Carrying {
        WithAttemptExtension(self)
    }

    type Reporting = WithReport<WithTimeout>;
    fn reporting(self) -> Self::Reporting {
        WithReport(self)
    }

    type CallError<E> = Error<E>;
    #[inline(always)]
    fn call_error<E>(error: Error<E>, _: impl FnOnce() -> RetryReport) -> Error<E> {
        error
    }
}

pin_project_lite::pin_project! {
    /// An attempt's timer under a layer [`WithTimeout`], and the limit it
    /// was set for: the timeout, or the time left before the run's
    /// `max_elapsed` when that was shorter. Not public API.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct AttemptTimer<D> {
        #[pin]
        sleep: D,
        limit: Duration,
    }
}

impl<D: Future<Output = ()>> Future for AttemptTimer<D> {
    type Output = ();

    #[inline(always)]
    fn poll(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        self.project().sleep.poll(cx)
    }
}

/// The settings `T` (a timeout or none), each request carrying its attempt
/// ([`RetryLayer::with_attempt_extension`](super::RetryLayer::with_attempt_extension)):
/// see [`AttemptLimit`].
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tower::{AttemptLimit, RetryLayer, WithAttemptExtension, WithTimeout};
/// let layer: RetryLayer<retry_runtime::RetryOn, _, _, WithAttemptExtension<WithTimeout>> =
///     retry_runtime::presets::API.layer().with_attempt_extension().with_timeout(Duration::from_secs(2));
/// assert_eq!(WithAttemptExtension(WithTimeout(Duration::from_secs(2))).limit(), Some(Duration::from_secs(2)));
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithAttemptExtension<T = NoTimeout>(pub T);

impl<T: AttemptLimit> AttemptLimit for WithAttemptExtension<T> {
    type Deadline<D: Future<Output = ()>> = T::Deadline<D>;

    #[inline(always)]
    fn deadline<Sl: Sleeper>(
        &self,
        sleeper: &Sl,
        left: impl FnOnce() -> Option<Duration>,
    ) -> Self::Deadline<Sl::Sleep> {
        self.0.deadline(sleeper, left)
    }

    #[inline(always)]
    fn limit_of<D: Future<Output = ()>>(deadline: &Self::Deadline<D>) -> Duration {
        T::limit_of(deadline)
    }

    #[inline(always)]
    fn limit(&self) -> Option<Duration> {
        self.0.limit()
    }

    const CARRIES_ATTEMPT: bool = true;

    #[inline]
    fn replay<Req: super::Replay>(
        request: &Req,
        attempt: impl FnOnce() -> crate::Attempt,
    ) -> Option<Req> {
        let mut copy = request.replay()?;
        copy.attach_attempt(attempt());
        Some(copy)
    }

    #[inline(never)]
    fn carry_attempt<Req: super::Replay>(
        mut request: Req,
        attempt: impl FnOnce() -> crate::Attempt,
    ) -> Req {
        request.attach_attempt(attempt());
        request
    }

    type Timed = WithAttemptExtension<T::Timed>;
    fn timed(self, limit: Duration) -> Self::Timed {
        WithAttemptExtension(self.0.timed(limit))
    }

    type Carrying = Self;
    fn carrying(self) -> Self {
        self
    }

    const REPORTS: bool = T::REPORTS;

    // (the report outside, as `with_report().with_attempt_extension()`
    // makes it: one type for the two orders, to write in a struct field)
    type Reporting = WithReport<Self>;
    fn reporting(self) -> Self::Reporting {
        WithReport(self)
    }

    type CallError<E> = T::CallError<E>;
    #[inline(always)]
    fn call_error<E>(error: Error<E>, report: impl FnOnce() -> RetryReport) -> Self::CallError<E> {
        T::call_error(error, report)
    }
}

/// The settings `T`, each response given back carrying a
/// [`RetryReport`] in its extensions, and
/// each error given back beside one ([`Reported`])
/// ([`RetryLayer::with_report`](super::RetryLayer::with_report)): see
/// [`AttemptLimit`].
///
/// ```
/// use retry_runtime::tower::{AttemptLimit, NoTimeout, RetryLayer, WithReport};
/// let layer: RetryLayer<retry_runtime::RetryOn, _, _, WithReport<NoTimeout>> =
///     retry_runtime::presets::API.layer().with_report();
/// assert!(<WithReport<NoTimeout> as AttemptLimit>::REPORTS);
/// # let _ = layer;
/// ```
///
/// With the other settings, in whatever order they were asked for, it is
/// the outermost, then [`WithAttemptExtension`], then the timeout: one
/// type to write in a struct field.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tower::{RetryLayer, WithAttemptExtension, WithReport, WithTimeout};
/// type All = WithReport<WithAttemptExtension<WithTimeout>>;
/// let api = || retry_runtime::presets::API.layer();
/// let a: RetryLayer<retry_runtime::RetryOn, _, _, All> =
///     api().with_report().with_attempt_extension().with_timeout(Duration::from_secs(2));
/// let b: RetryLayer<retry_runtime::RetryOn, _, _, All> =
///     api().with_timeout(Duration::from_secs(2)).with_attempt_extension().with_report();
/// # let _ = (a, b);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithReport<T = NoTimeout>(pub T);

impl<T: AttemptLimit> AttemptLimit for WithReport<T> {
    type Deadline<D: Future<Output = ()>> = T::Deadline<D>;

    #[inline(always)]
    fn deadline<Sl: Sleeper>(
        &self,
        sleeper: &Sl,
        left: impl FnOnce() -> Option<Duration>,
    ) -> Self::Deadline<Sl::Sleep> {
        self.0.deadline(sleeper, left)
    }

    #[inline(always)]
    fn limit_of<D: Future<Output = ()>>(deadline: &Self::Deadline<D>) -> Duration {
        T::limit_of(deadline)
    }

    #[inline(always)]
    fn limit(&self) -> Option<Duration> {
        self.0.limit()
    }

    const CARRIES_ATTEMPT: bool = T::CARRIES_ATTEMPT;

    #[inline(always)]
    fn replay<Req: super::Replay>(
        request: &Req,
        attempt: impl FnOnce() -> crate::Attempt,
    ) -> Option<Req> {
        T::replay(request, attempt)
    }

    #[inline(always)]
    fn carry_attempt<Req: super::Replay>(
        request: Req,
        attempt: impl FnOnce() -> crate::Attempt,
    ) -> Req {
        T::carry_attempt(request, attempt)
    }

    type Timed = WithReport<T::Timed>;
    fn timed(self, limit: Duration) -> Self::Timed {
        WithReport(self.0.timed(limit))
    }

    type Carrying = WithReport<T::Carrying>;
    fn carrying(self) -> Self::Carrying {
        WithReport(self.0.carrying())
    }

    const REPORTS: bool = true;

    type Reporting = Self;
    fn reporting(self) -> Self {
        self
    }

    /// The error beside its run's report.
    type CallError<E> = Reported<Error<E>>;
    #[inline]
    fn call_error<E>(error: Error<E>, report: impl FnOnce() -> RetryReport) -> Self::CallError<E> {
        Reported::new(error, report())
    }
}
