//! Which errors a policy retries (`W`: [`RetryAll`], [`RetryOn`],
//! [`RetryIf`], through [`When`]), and what it decides about one
//! ([`Decision`] and its [`Basis`], [`Verdict`]).

use core::fmt;
use std::time::Duration;

use crate::classify::{Classify, ErrorKind, KindSet};
use crate::hooks::WaitSource;
use crate::stop::StopReason;

#[cfg(doc)]
use crate::{Backoff, Jitter, Policy};

/// The outcome of [`Policy::decide`] and [`Run::failed`](crate::Run::failed).
///
/// Unlike [`ErrorKind`], [`StopReason`], [`Backoff`] and [`Jitter`], it is
/// not `#[non_exhaustive]`, on purpose: retry or give up are the only two
/// outcomes there are (a new reason to give up is a new [`StopReason`]),
/// and a job loop matches it with no `_` arm.
///
/// ```
/// use retry_runtime::{presets, Decision};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let retry_count = 1; // from the job's row
/// let next = match presets::JOB.decide(retry_count, &refused) {
///     Decision::Retry { wait, .. } => format!("run again in {wait:?}"),
///     Decision::GiveUp { reason, .. } => format!("failed: {reason}"),
/// };
/// assert!(next.starts_with("run again in"), "{next}");
/// ```
///
/// Each variant carries its [`Basis`]: what the decision was made from
/// (the error's kind as the policy's classifier named it, and what chose
/// a retry's wait), which [`Policy::report`] logs without asking the
/// classifier again. [`decide`](Policy::decide) fills it in; a decision
/// rebuilt from what a job stored ([`Decision::retry`],
/// [`Decision::give_up`]) and a run's ([`Run::failed`](crate::Run::failed),
/// which logs its own) have [`Basis::UNKNOWN`].
///
/// Two decisions are equal when they do the same: retry after the same
/// wait, or give up for the same reason, whatever their basis (as two
/// `proc_macro2::Ident`s are, whatever their spans), so a decision rebuilt
/// from a job's row equals the one stored.
///
/// Both variants are `#[non_exhaustive]`: matched with `..`, made outside
/// this crate only by [`Policy::decide`] or, with no basis, by
/// [`Decision::retry`] and [`Decision::give_up`]. A basis cannot be kept
/// on a wait the job changed (rounded, clamped): the report would say the
/// server chose a wait the job chose; rebuild the decision from the wait
/// it stores instead.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets, Decision};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let decided = presets::WEBHOOK.decide(0, &refused);
/// let rebuilt = Decision::retry(Duration::from_secs(1)); // from the job's row
/// assert_eq!(decided, rebuilt);
/// assert!(decided.basis().is_known() && !rebuilt.basis().is_known());
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use = "a decision does nothing until acted on: wait and retry, or give up"]
pub enum Decision {
    /// Try again after this wait. Made by [`Policy::decide`], or with no
    /// basis by [`Decision::retry`] (a wait the caller changed included).
    #[non_exhaustive]
    Retry {
        /// The wait before the next attempt.
        wait: Duration,
        /// What the decision was made from.
        basis: Basis,
    },
    /// Stop, for this reason.
    #[non_exhaustive]
    GiveUp {
        /// Why.
        reason: StopReason,
        /// What the decision was made from.
        basis: Basis,
    },
}

impl Decision {
    /// Retry after `wait`, with no [`Basis`]: a decision rebuilt from the
    /// wait a job stored, to hand to [`Policy::report`] (which then asks
    /// the policy's classifier again).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Decision;
    /// let d = Decision::retry(Duration::from_secs(30));
    /// assert_eq!(d.wait(), Some(Duration::from_secs(30)));
    /// ```
    ///
    /// So is a wait changed after [`Policy::decide`] (rounded, clamped)
    /// made a decision again: `Decision::Retry { wait, basis }` does not
    /// compile outside this crate (E0639, "cannot create non-exhaustive
    /// variant"), because the decided basis kept on it would make
    /// [`Policy::report`] say the backoff or the server's Retry-After
    /// chose a wait the job chose.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{presets, Decision};
    /// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// let d = match presets::JOB.decide(0, &refused) {
    ///     // rounded up to the scheduler's whole seconds
    ///     Decision::Retry { wait, .. } => Decision::retry(Duration::from_secs(wait.as_secs() + 1)),
    ///     decided => decided,
    /// };
    /// assert!(d.wait().is_some_and(|wait| wait.subsec_nanos() == 0));
    /// assert!(!d.basis().is_known());
    /// ```
    #[inline(always)]
    pub const fn retry(wait: Duration) -> Decision {
        Decision::Retry {
            wait,
            basis: Basis::UNKNOWN,
        }
    }

    /// Give up for `reason`, with no [`Basis`] (as [`retry`](Decision::retry)).
    ///
    /// ```
    /// use retry_runtime::{Decision, StopReason};
    /// let d = Decision::give_up(StopReason::Attempts);
    /// assert_eq!(d.reason(), Some(StopReason::Attempts));
    /// ```
    #[inline(always)]
    pub const fn give_up(reason: StopReason) -> Decision {
        Decision::GiveUp {
            reason,
            basis: Basis::UNKNOWN,
        }
    }

    /// The wait of a retry; `None` for a give-up.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::presets;
    /// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// assert_eq!(presets::WEBHOOK.decide(0, &refused).wait(), Some(Duration::from_secs(1)));
    /// assert_eq!(presets::WEBHOOK.decide(3, &refused).wait(), None);
    /// ```
    #[inline(always)]
    pub const fn wait(&self) -> Option<Duration> {
        match *self {
            Decision::Retry { wait, .. } => Some(wait),
            Decision::GiveUp { .. } => None,
        }
    }

    /// The reason of a give-up; `None` for a retry.
    ///
    /// ```
    /// use retry_runtime::{presets, StopReason};
    /// let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
    /// assert_eq!(presets::WEBHOOK.decide(0, &missing).reason(), Some(StopReason::Permanent));
    /// ```
    #[inline(always)]
    pub const fn reason(&self) -> Option<StopReason> {
        match *self {
            Decision::Retry { .. } => None,
            Decision::GiveUp { reason, .. } => Some(reason),
        }
    }

    /// What the decision was made from ([`Basis::UNKNOWN`] unless
    /// [`Policy::decide`] made it).
    ///
    /// ```
    /// use retry_runtime::{presets, ErrorKind, WaitSource};
    /// let timed_out = std::io::Error::from(std::io::ErrorKind::TimedOut);
    /// let basis = presets::JOB.decide(0, &timed_out).basis();
    /// assert_eq!(basis.kind(), Some(ErrorKind::Timeout));
    /// assert_eq!(basis.wait_source(), Some(WaitSource::Backoff));
    /// ```
    #[inline(always)]
    pub const fn basis(&self) -> Basis {
        match *self {
            Decision::Retry { basis, .. } | Decision::GiveUp { basis, .. } => basis,
        }
    }
}

/// The same wait, or the same reason; the basis is not compared.
impl PartialEq for Decision {
    #[inline]
    fn eq(&self, other: &Decision) -> bool {
        match (*self, *other) {
            (Decision::Retry { wait: a, .. }, Decision::Retry { wait: b, .. }) => a == b,
            (Decision::GiveUp { reason: a, .. }, Decision::GiveUp { reason: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl Eq for Decision {}

/// What a [`Decision`] was made from: the error's kind as the policy's
/// classifier ([`When::check`]) named it, and what chose a retry's wait
/// ([`WaitSource`]), as a run's retry line says them. [`Policy::report`]
/// logs these instead of asking the classifier again (a [`RetryIf`]
/// predicate is called once per failure, by [`Policy::decide`]).
///
/// [`UNKNOWN`](Basis::UNKNOWN) (the default) for a decision rebuilt from
/// what a job stored, and for a run's decisions (the run logs its own).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets, Basis, Decision, WaitSource};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let basis = presets::WEBHOOK.decide(0, &refused).basis();
/// assert!(basis.is_known());
/// assert_eq!(basis.wait_source(), Some(WaitSource::Backoff));
/// assert_eq!(Decision::retry(Duration::from_secs(1)).basis(), Basis::UNKNOWN);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Basis(Option<Known>);

/// A known basis: the verdict's kind, and what chose the wait (`None`
/// for a give-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Known {
    kind: Option<ErrorKind>,
    wait_source: Option<WaitSource>,
}

impl Basis {
    /// No basis: a decision rebuilt from what a job stored, or a run's.
    ///
    /// ```
    /// assert!(!retry_runtime::Basis::UNKNOWN.is_known());
    /// ```
    pub const UNKNOWN: Basis = Basis(None);

    /// The basis of a decision made after a verdict of this `kind`, a
    /// retry's wait chosen by `wait_source` (`None` for a give-up).
    #[inline(always)]
    pub(crate) const fn new(kind: Option<ErrorKind>, wait_source: Option<WaitSource>) -> Basis {
        Basis(Some(Known { kind, wait_source }))
    }

    /// Did [`Policy::decide`] make the decision, so that this basis says
    /// what it was made from?
    ///
    /// ```
    /// use retry_runtime::{presets, Decision, StopReason};
    /// assert!(presets::JOB.decide(9, &std::io::Error::other("x")).basis().is_known());
    /// assert!(!Decision::give_up(StopReason::Attempts).basis().is_known());
    /// ```
    #[inline(always)]
    pub const fn is_known(&self) -> bool {
        self.0.is_some()
    }

    /// The error's kind, as the policy's classifier named it; `None` when
    /// it named none ([`RetryAll`], [`RetryIf`]) or the basis is
    /// [unknown](Basis::is_known) (ask [`is_known`](Basis::is_known) to
    /// tell the two apart).
    ///
    /// ```
    /// use retry_runtime::{presets, ErrorKind};
    /// let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
    /// assert_eq!(presets::JOB.decide(0, &missing).basis().kind(), Some(ErrorKind::Permanent));
    /// ```
    #[inline(always)]
    pub const fn kind(&self) -> Option<ErrorKind> {
        match self.0 {
            Some(known) => known.kind,
            None => None,
        }
    }

    /// What chose a retry's wait (the retry line's `wait_source`); `None`
    /// for a give-up or an [unknown](Basis::is_known) basis.
    ///
    /// ```
    /// use retry_runtime::{presets, WaitSource};
    /// let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
    /// assert_eq!(presets::JOB.decide(0, &missing).basis().wait_source(), None);
    /// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// assert_eq!(presets::JOB.decide(0, &refused).basis().wait_source(), Some(WaitSource::Backoff));
    /// ```
    #[inline(always)]
    pub const fn wait_source(&self) -> Option<WaitSource> {
        match self.0 {
            Some(known) => known.wait_source,
            None => None,
        }
    }
}

/// `Basis { kind: .., wait_source: .. }`, or `Basis(unknown)`.
///
/// ```
/// use retry_runtime::Basis;
/// assert_eq!(format!("{:?}", Basis::UNKNOWN), "Basis(unknown)");
/// ```
impl fmt::Debug for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(Known { kind, wait_source }) => f
                .debug_struct("Basis")
                .field("kind", &kind)
                .field("wait_source", &wait_source)
                .finish(),
            None => f.write_str("Basis(unknown)"),
        }
    }
}

/// What a policy's retry condition says about one error.
///
/// ```
/// use std::io;
/// use retry_runtime::{ErrorKind, KindSet, RetryAll, RetryOn, Verdict, When};
/// let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
/// let verdict = RetryOn(KindSet::TRANSIENT).check(&refused);
/// assert_eq!(verdict, Verdict { retry: true, kind: Some(ErrorKind::Connect), retry_after: None });
/// // a condition that does not classify leaves the kind out
/// assert_eq!(RetryAll.check(&refused).kind, None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a verdict does nothing until acted on"]
pub struct Verdict {
    /// Should it be retried?
    pub retry: bool,
    /// Its kind, when the error was classified.
    pub kind: Option<ErrorKind>,
    /// The server's requested wait, if any. Honoured (capped and floored
    /// by the policy's [`RetryAfter`](crate::RetryAfter)) with a `kind`
    /// that the policy's `RetryAfter` reads (`RateLimited` alone by
    /// default), or with no `kind`: the built-in conditions always name
    /// the kind of a hint they pass on, so a condition of your own that
    /// leaves `kind` at `None` and gives a hint means it (backon's
    /// `.adjust`); with another kind, the backoff's wait is taken.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Decision, ErrorKind, Policy, RetriedKinds, Verdict, When};
    /// /// A status and its Retry-After (backon's `.when(..).adjust(..)`).
    /// #[derive(Clone, Copy, Debug)]
    /// struct Busy(Option<ErrorKind>);
    /// impl RetriedKinds for Busy {}
    /// impl When<(u16, Duration)> for Busy {
    ///     fn check(&self, e: &(u16, Duration)) -> Verdict {
    ///         Verdict { retry: e.0 == 429, kind: self.0, retry_after: Some(e.1) }
    ///     }
    /// }
    /// let s = Duration::from_secs;
    /// let said = Policy::new().with_when(Busy(Some(ErrorKind::RateLimited)));
    /// assert_eq!(said.decide(0, &(429, s(7))), Decision::retry(s(7)));
    /// let unsaid = Policy::new().with_when(Busy(None));
    /// assert_eq!(unsaid.decide(0, &(429, s(7))), Decision::retry(s(7))); // no kind: meant
    /// let other = Policy::new().with_when(Busy(Some(ErrorKind::Unavailable)));
    /// assert_eq!(other.decide(0, &(429, s(7))), Decision::retry(s(1))); // the backoff's
    /// ```
    pub retry_after: Option<Duration>,
}

/// The kinds of errors a retry condition retries, whatever the error type,
/// for the retried calls made inside a run of it (see [`nested`](crate::nested)):
/// `Some(set)` when known ([`RetryOn`]: its set; [`RetryAll`]: every kind,
/// and unclassified errors too), `None` when not ([`RetryIf`]: a predicate;
/// the default), so that the calls inside keep their own retries.
///
/// ```
/// use retry_runtime::{KindSet, RetriedKinds, RetryAll, RetryOn};
/// assert_eq!(RetryOn(KindSet::TRANSIENT).retried_kinds(), Some(KindSet::TRANSIENT));
/// assert_eq!(RetryAll.retried_kinds(), Some(KindSet::ALL));
/// ```
pub trait RetriedKinds {
    /// The kinds retried, if known.
    fn retried_kinds(&self) -> Option<KindSet> {
        None
    }
}

impl RetriedKinds for RetryAll {
    #[inline(always)]
    fn retried_kinds(&self) -> Option<KindSet> {
        Some(KindSet::ALL)
    }
}

impl RetriedKinds for RetryOn {
    #[inline(always)]
    fn retried_kinds(&self) -> Option<KindSet> {
        Some(self.0)
    }
}

impl<F> RetriedKinds for RetryIf<F> {}

/// Which errors a policy retries; implemented by [`RetryAll`], [`RetryOn`],
/// [`RetryIf`] and [`RetryOnOrIf`], and by a condition of your own
/// ([`Policy::with_when`](crate::Policy::with_when): a server that says
/// whether to retry, over its status).
///
/// ```
/// use retry_runtime::{ErrorKind, RetryOn, When};
/// let v = RetryOn(ErrorKind::Timeout.into()).check(&std::io::Error::from(std::io::ErrorKind::TimedOut));
/// assert!(v.retry);
/// ```
pub trait When<E: ?Sized>: RetriedKinds {
    /// Judge one error.
    fn check(&self, error: &E) -> Verdict;

    /// Why `error`, which a run gives up on as non-retriable, is
    /// [`Permanent`](crate::ErrorKind::Permanent) when its kind alone would
    /// not say so, for the give-up line: the error's own
    /// [`Classify::why_permanent`] for the conditions that classify
    /// ([`RetryOn`], [`RetryOnOrIf`]); `None`, the default, for the others.
    /// Asked only when that line is written.
    ///
    /// ```
    /// use retry_runtime::{KindSet, RetryAll, RetryOn, When};
    /// let not_found = std::io::Error::from(std::io::ErrorKind::NotFound);
    /// assert_eq!(RetryOn(KindSet::TRANSIENT).why_permanent(&not_found), None);
    /// assert_eq!(RetryAll.why_permanent(&not_found), None);
    /// ```
    fn why_permanent(&self, error: &E) -> Option<&'static str> {
        let _ = error;
        None
    }
}

/// Retry every error (the error type needs nothing). It reads nothing of
/// the error, so no kind and no server's wait: a Retry-After is not
/// honoured under it, whatever the policy's [`RetryAfter`](crate::RetryAfter)
/// says; [`RetryOn`] with every kind honours it (see
/// [`Policy::retry_all`](crate::Policy::retry_all)).
///
/// ```
/// use retry_runtime::{RetryAll, When};
/// assert!(RetryAll.check(&"anything").retry);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryAll;

impl<E: ?Sized> When<E> for RetryAll {
    #[inline]
    fn check(&self, _: &E) -> Verdict {
        Verdict {
            retry: true,
            kind: None,
            retry_after: None,
        }
    }
}

/// Retry errors whose kind is in the set (the error type implements [`Classify`]).
///
/// ```
/// use retry_runtime::{ErrorKind, RetryOn, When};
/// let on = RetryOn(ErrorKind::Timeout | ErrorKind::Connect);
/// assert!(!on.check(&std::io::Error::from(std::io::ErrorKind::NotFound)).retry);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryOn(
    /// The kinds retried.
    pub KindSet,
);

impl<E: Classify + ?Sized> When<E> for RetryOn {
    #[inline]
    fn check(&self, error: &E) -> Verdict {
        let kind = error.kind();
        Verdict {
            retry: self.0.contains(kind),
            kind: Some(kind),
            retry_after: error.retry_after(),
        }
    }

    fn why_permanent(&self, error: &E) -> Option<&'static str> {
        error.why_permanent()
    }
}

/// Retry errors for which the predicate returns `true`.
///
/// ```
/// use retry_runtime::{RetryIf, When};
/// let even = RetryIf(|n: &i32| n % 2 == 0);
/// assert!(even.check(&4).retry);
/// ```
///
/// It is [`Debug`](fmt::Debug) whatever the predicate (a closure is not).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RetryIf<F>(
    /// The predicate: `true` retries the error.
    pub F,
);

/// Shows its name only: the predicate need not be `Debug`.
///
/// ```
/// use retry_runtime::RetryIf;
/// let even = RetryIf(|n: &i32| n % 2 == 0);
/// assert_eq!(format!("{even:?}"), "RetryIf(..)");
/// ```
impl<F> fmt::Debug for RetryIf<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RetryIf").finish_non_exhaustive()
    }
}

impl<E: ?Sized, F: Fn(&E) -> bool> When<E> for RetryIf<F> {
    #[inline]
    fn check(&self, error: &E) -> Verdict {
        Verdict {
            retry: (self.0)(error),
            kind: None,
            retry_after: None,
        }
    }
}

/// Retry errors whose kind is in the set, and the others the predicate
/// picks ([`Policy::or_retry_if`]): the error is classified as with
/// [`RetryOn`], so its kind is logged and its Retry-After hint honoured,
/// whichever of the two retries it.
///
/// ```
/// use retry_runtime::{ErrorKind, KindSet, RetryOnOrIf, When};
/// use std::io;
/// // and a denied file, which a provisioning script is about to fix
/// let on = RetryOnOrIf(KindSet::TRANSIENT, |e: &io::Error| e.kind() == io::ErrorKind::PermissionDenied);
/// assert!(on.check(&io::Error::from(io::ErrorKind::ConnectionRefused)).retry);
/// let denied = on.check(&io::Error::from(io::ErrorKind::PermissionDenied));
/// assert_eq!((denied.retry, denied.kind), (true, Some(ErrorKind::Permanent)));
/// assert!(!on.check(&io::Error::from(io::ErrorKind::NotFound)).retry);
/// ```
///
/// It is [`Debug`](fmt::Debug) whatever the predicate: it shows the set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RetryOnOrIf<F>(
    /// The kinds retried.
    pub KindSet,
    /// The predicate: `true` retries an error of another kind too.
    pub F,
);

/// Shows the set, not the predicate (a closure is not `Debug`).
///
/// ```
/// use retry_runtime::{KindSet, RetryOnOrIf};
/// let on = RetryOnOrIf(KindSet::TRANSIENT, |_: &std::io::Error| false);
/// assert_eq!(format!("{on:?}"), "RetryOnOrIf(Timeout | Connect | RateLimited | Unavailable, ..)");
/// ```
impl<F> fmt::Debug for RetryOnOrIf<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RetryOnOrIf")
            .field(&format_args!("{}", self.0))
            .finish_non_exhaustive()
    }
}

/// The set's kinds: a retried call inside a run of it leaves those to the
/// run (the predicate's picks it keeps retrying itself).
impl<F> RetriedKinds for RetryOnOrIf<F> {
    #[inline(always)]
    fn retried_kinds(&self) -> Option<KindSet> {
        Some(self.0)
    }
}

impl<E: Classify + ?Sized, F: Fn(&E) -> bool> When<E> for RetryOnOrIf<F> {
    #[inline]
    fn check(&self, error: &E) -> Verdict {
        let kind = error.kind();
        Verdict {
            retry: self.0.contains(kind) || (self.1)(error),
            kind: Some(kind),
            retry_after: error.retry_after(),
        }
    }

    fn why_permanent(&self, error: &E) -> Option<&'static str> {
        error.why_permanent()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decision stays small, `Copy` and allocation-free: its basis adds
    /// two bytes to the wait (the run's decisions are returned by value).
    #[test]
    fn a_decision_stays_small() {
        assert_eq!(size_of::<Basis>(), 2);
        assert!(size_of::<Decision>() <= 24, "{}", size_of::<Decision>());
    }

    /// Two decisions that do the same are equal, whatever their basis; a
    /// retry and a give-up never are.
    #[test]
    fn equality_leaves_the_basis_out() {
        let s = Duration::from_secs;
        let known = Basis::new(Some(ErrorKind::Timeout), Some(WaitSource::RetryAfter));
        let decided = Decision::Retry {
            wait: s(7),
            basis: known,
        };
        assert_eq!(decided, Decision::retry(s(7)));
        assert_ne!(decided, Decision::retry(s(8)));
        assert_ne!(decided, Decision::give_up(StopReason::Attempts));
        let gave_up = Decision::GiveUp {
            reason: StopReason::Permanent,
            basis: known,
        };
        assert_eq!(gave_up, Decision::give_up(StopReason::Permanent));
        assert_ne!(gave_up, Decision::give_up(StopReason::Attempts));
        assert_eq!(decided.basis(), known);
        assert_eq!(Decision::retry(s(7)).basis(), Basis::default());
    }
}
