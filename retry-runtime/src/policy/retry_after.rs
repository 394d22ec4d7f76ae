//! How a policy treats a server's requested wait ([`RetryAfter`]).

use std::time::Duration;

use crate::classify::{ErrorKind, KindSet};

#[cfg(doc)]
use crate::{Classify, Policy};

/// How to treat a server's requested wait ([`Classify::retry_after`]).
///
/// When an error's kind is in [`kinds`](RetryAfter::kinds) and it carries a
/// hint, the wait is the hint (without jitter), at least
/// [`floor`](RetryAfter::floor) and at most [`cap`](RetryAfter::cap),
/// instead of the backoff's. The kind and the hint are the condition's
/// to read ([`RetryOn`](crate::RetryOn), a condition of your own): under
/// [`RetryAll`](crate::RetryAll), which reads nothing of the error, no
/// hint is honoured (see [`Policy::retry_all`](crate::Policy::retry_all)).
///
/// A hint of zero is a retry at once, as the server asked: `Retry-After:
/// 0`, or an HTTP-date already past, which a server or proxy whose clock is
/// ahead of yours sends for a wait it meant (urllib3 and Azure's and AWS's
/// SDKs honour it so too). Only the attempts bound a server that answers
/// so every time; a floor (say the backoff's first wait) keeps a wait
/// between those attempts, for an upstream you do not trust.
///
/// Built from [`RetryAfter::DEFAULT`] (or [`RetryAfter::IGNORE`]) with the
/// `with_*` setters, in a `const` too, and read with the getters of the
/// same names; its fields are private, so a later version can add a setting
/// without breaking a struct literal:
///
/// ```compile_fail,E0451
/// use std::time::Duration;
/// use retry_runtime::{kinds, RetryAfter};
/// let api = RetryAfter { kinds: kinds![RateLimited], cap: Duration::from_secs(30), floor: Duration::ZERO, at_least_backoff: false }; // error[E0451]
/// ```
///
/// # Default
/// Honoured for `RateLimited`, capped at 60s, no floor.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{kinds, Classify, Decision, ErrorKind, Policy, RetryAfter};
/// const API: RetryAfter = RetryAfter::DEFAULT
///     .with_kinds(kinds![RateLimited | Unavailable])
///     .with_cap(Duration::from_secs(30))
///     .with_floor(Duration::from_millis(500));
/// struct RetryNow; // a 503 with `Retry-After: 0`
/// impl Classify for RetryNow {
///     fn kind(&self) -> ErrorKind { ErrorKind::Unavailable }
///     fn retry_after(&self) -> Option<Duration> { Some(Duration::ZERO) }
/// }
/// let p = Policy::new().retry_on(kinds![Unavailable]).with_retry_after(API);
/// assert_eq!(p.decide(0, &RetryNow), Decision::retry(Duration::from_millis(500)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a Retry-After setting does nothing until a policy uses it (`Policy::with_retry_after`); `with_*` returns the changed one"]
pub struct RetryAfter {
    pub(super) kinds: KindSet,
    pub(super) cap: Duration,
    pub(super) floor: Duration,
    pub(super) at_least_backoff: bool,
}

impl RetryAfter {
    /// Honoured for `RateLimited`, capped at 60s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{ErrorKind, Policy, RetryAfter};
    /// assert!(RetryAfter::DEFAULT.kinds().contains(ErrorKind::RateLimited));
    /// assert!(!RetryAfter::DEFAULT.kinds().contains(ErrorKind::Unavailable));
    /// // the same kinds, with a shorter cap
    /// let short = RetryAfter::DEFAULT.with_cap(Duration::from_secs(5));
    /// assert_eq!(Policy::new().with_retry_after(short).retry_after().kinds(), RetryAfter::DEFAULT.kinds());
    /// ```
    pub const DEFAULT: RetryAfter = RetryAfter {
        kinds: KindSet::EMPTY.with(ErrorKind::RateLimited),
        cap: Duration::from_secs(60),
        floor: Duration::ZERO,
        at_least_backoff: false,
    };
    /// Never honoured: always the backoff's wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Classify, Decision, ErrorKind, KindSet, Policy, RetryAfter};
    /// struct TooMany; // a 429 asking for an hour
    /// impl Classify for TooMany {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::RateLimited }
    ///     fn retry_after(&self) -> Option<Duration> { Some(Duration::from_secs(3600)) }
    /// }
    /// let p = Policy::new().retry_on(KindSet::TRANSIENT);
    /// assert_eq!(p.decide(0, &TooMany), Decision::retry(Duration::from_secs(60))); // the hint, capped
    /// let p = p.with_retry_after(RetryAfter::IGNORE);
    /// assert_eq!(p.decide(0, &TooMany), Decision::retry(Duration::from_secs(1))); // the backoff's
    /// ```
    pub const IGNORE: RetryAfter = RetryAfter {
        kinds: KindSet::EMPTY,
        cap: Duration::ZERO,
        floor: Duration::ZERO,
        at_least_backoff: false,
    };

    /// The kinds whose hints are honoured (none: every wait is the
    /// backoff's).
    ///
    /// ```
    /// use retry_runtime::{kinds, ErrorKind, RetryAfter};
    /// let r = RetryAfter::DEFAULT.with_kinds(kinds![RateLimited | Unavailable]);
    /// assert!(r.kinds().contains(ErrorKind::Unavailable));
    /// ```
    pub const fn with_kinds(self, kinds: KindSet) -> RetryAfter {
        RetryAfter { kinds, ..self }
    }

    /// The longest hint honoured; a longer one waits this long, its retry
    /// line saying `(Retry-After: 2m, capped)` and
    /// [`RetryEvent::asked`](crate::RetryEvent) giving the server's
    /// wait. Above zero
    /// when some kinds are honoured ([`Policy::build`] refuses zero). The
    /// policy's `max_elapsed` is judged by the hint as the server asked
    /// (not capped): a hint that would end past it gives up at once, as
    /// the server would refuse the retries until then.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::RetryAfter;
    /// assert_eq!(RetryAfter::DEFAULT.with_cap(Duration::from_secs(5)).cap(), Duration::from_secs(5));
    /// ```
    pub const fn with_cap(self, cap: Duration) -> RetryAfter {
        RetryAfter { cap, ..self }
    }

    /// The shortest wait a hint gives; a shorter one (zero included) waits
    /// this long, its retry line saying `(Retry-After: 0ns, floored)`. Not above the cap ([`Policy::build`] refuses it when
    /// some kinds are honoured).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::RetryAfter;
    /// let r = RetryAfter::DEFAULT.with_floor(Duration::from_millis(500));
    /// assert_eq!(r.floor(), Duration::from_millis(500));
    /// ```
    pub const fn with_floor(self, floor: Duration) -> RetryAfter {
        RetryAfter { floor, ..self }
    }

    /// Never wait less than the backoff would (`true`): the wait is the
    /// longer of the hint (floored and capped as above) and the backoff's
    /// own wait for this retry, jitter included. For a schedule of long
    /// waits (a job's 1m, 5m, 30m, 2h, persisted with
    /// [`Policy::decide`]), where a receiver answering every call `503`
    /// with `Retry-After: 1` would otherwise spend the schedule in
    /// seconds; a hint longer than the schedule's wait is still honoured
    /// (up to the cap: raise it to the schedule's longest wait or more).
    /// Off by default: the hint replaces the backoff's wait, shorter or
    /// longer. A retry line says `(Retry-After)`, `wait_source` is
    /// `retry_after` and [`RetryEvent::wait_source`](crate::RetryEvent) is
    /// [`WaitSource::RetryAfter`](crate::WaitSource) when the hint's wait was
    /// the longer (or as long); when the backoff's was, they say `backoff`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{kinds, Backoff, Classify, Decision, ErrorKind, Policy, RetryAfter};
    /// struct Busy(u64); // a 503 and its Retry-After, in seconds
    /// impl Classify for Busy {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::Unavailable }
    ///     fn retry_after(&self) -> Option<Duration> { Some(Duration::from_secs(self.0)) }
    /// }
    /// let s = Duration::from_secs;
    /// const WAITS: [Duration; 3] = [Duration::from_secs(60), Duration::from_secs(300), Duration::from_secs(1800)];
    /// let delivery = Policy::new()
    ///     .with_max_attempts(4)
    ///     .with_backoff(Backoff::schedule(&WAITS))
    ///     .retry_on(kinds![Unavailable])
    ///     .with_retry_after(
    ///         RetryAfter::DEFAULT
    ///             .with_kinds(kinds![Unavailable])
    ///             .with_cap(s(3600))
    ///             .with_at_least_backoff(true),
    ///     );
    /// assert_eq!(delivery.decide(2, &Busy(1)), Decision::retry(s(1800)), "not 1s");
    /// assert_eq!(delivery.decide(0, &Busy(600)), Decision::retry(s(600)), "a longer hint");
    /// ```
    pub const fn with_at_least_backoff(self, on: bool) -> RetryAfter {
        RetryAfter {
            at_least_backoff: on,
            ..self
        }
    }

    /// See [`with_at_least_backoff`](RetryAfter::with_at_least_backoff).
    ///
    /// ```
    /// assert!(!retry_runtime::RetryAfter::DEFAULT.at_least_backoff());
    /// ```
    pub const fn at_least_backoff(&self) -> bool {
        self.at_least_backoff
    }

    /// See [`with_kinds`](RetryAfter::with_kinds).
    ///
    /// ```
    /// use retry_runtime::{ErrorKind, KindSet, RetryAfter};
    /// assert_eq!(RetryAfter::DEFAULT.kinds(), KindSet::EMPTY.with(ErrorKind::RateLimited));
    /// assert!(RetryAfter::IGNORE.kinds().is_empty());
    /// ```
    pub const fn kinds(&self) -> KindSet {
        self.kinds
    }

    /// See [`with_cap`](RetryAfter::with_cap).
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(retry_runtime::RetryAfter::DEFAULT.cap(), Duration::from_secs(60));
    /// ```
    pub const fn cap(&self) -> Duration {
        self.cap
    }

    /// See [`with_floor`](RetryAfter::with_floor).
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(retry_runtime::RetryAfter::DEFAULT.floor(), Duration::ZERO);
    /// ```
    pub const fn floor(&self) -> Duration {
        self.floor
    }
}

/// [`RetryAfter::DEFAULT`], what [`Policy::new`] and the attribute use:
/// honoured for `RateLimited`, capped at 60s.
///
/// ```
/// use retry_runtime::{Policy, RetryAfter};
/// assert_eq!(RetryAfter::default(), RetryAfter::DEFAULT);
/// assert_eq!(Policy::new().retry_after(), RetryAfter::default());
/// ```
impl Default for RetryAfter {
    fn default() -> Self {
        RetryAfter::DEFAULT
    }
}
