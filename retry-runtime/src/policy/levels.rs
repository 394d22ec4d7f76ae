//! The levels of a policy's log lines: a retry's, a give-up's, a
//! non-retriable error's, a success's after retries ([`Levels`]; the lines
//! themselves are [`log`](crate::log)'s).

use tracing::Level;

use super::Policy;

/// The levels of a policy's log lines, each line's apart: what
/// [`Policy::with_levels`] sets, [`Policy::with_default_levels`] gives to
/// the lines whose level was not set, and [`Policy::levels`] returns.
/// ERROR is taken as WARN for the two retry lines (a retry is not a
/// failure yet). The breaker's own lines (WARN when it opens) are the
/// breaker's, not a policy's.
///
/// ```
/// use retry_runtime::{log::Level, presets, Levels};
/// // a library's calls, whose callers handle their errors
/// let quiet = presets::API.with_levels(Levels::QUIET);
/// assert_eq!((quiet.give_up_level(), quiet.success_level()), (Level::DEBUG, Level::DEBUG));
/// // one line apart from the defaults
/// let polls = Levels { retry: Level::DEBUG, ..Levels::DEFAULT };
/// assert_eq!(presets::API.with_levels(polls).levels(), polls);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Levels {
    /// A retry's line, `retrying {operation} after attempt {n}/{max}
    /// failed; ...` ([`with_retry_level`](Policy::with_retry_level)): WARN.
    /// Also a hedged attempt's failure with no retry of its own (`hedging
    /// {operation}: attempt {n}/{max} failed; not retried ..`), at
    /// `non_retriable` for an error the policy does not retry.
    pub retry: Level,
    /// The retry line of an `Ok` that `retry_if_ok` rejected
    /// ([`with_rejected_ok_level`](Policy::with_rejected_ok_level)): `None`,
    /// the retry line's.
    pub rejected_ok: Option<Level>,
    /// A non-retriable error's line
    /// ([`with_non_retriable_level`](Policy::with_non_retriable_level)): WARN.
    pub non_retriable: Level,
    /// Any other give-up's line, attempts exhausted, a deadline, an open
    /// breaker ([`with_give_up_level`](Policy::with_give_up_level)): ERROR.
    /// A retry budget's refusal, a shutdown's give-up and a middleware's
    /// request sent once are WARN, or this level when it is quieter. A call
    /// a breaker or a throttle turns away before its first attempt is a
    /// DEBUG line, whatever this level (its error has `attempts == 0`).
    pub give_up: Level,
    /// A success after retries, `{operation} succeeded on attempt {n}`
    /// ([`with_success_level`](Policy::with_success_level)): INFO.
    pub success: Level,
}

impl Levels {
    /// Every policy's levels until set: WARN for a retry and a
    /// non-retriable error, ERROR for a give-up, INFO for a success after
    /// retries.
    ///
    /// ```
    /// use retry_runtime::{Levels, Policy};
    /// assert_eq!(Policy::new().levels(), Levels::DEFAULT);
    /// ```
    pub const DEFAULT: Levels = Levels {
        retry: Level::WARN,
        rejected_ok: None,
        non_retriable: Level::WARN,
        give_up: Level::ERROR,
        success: Level::INFO,
    };

    /// Every line at DEBUG: the calls of a library whose callers handle
    /// (and log) the errors it returns. With
    /// [`with_default_levels`](Policy::with_default_levels), for the lines
    /// its user did not set.
    ///
    /// ```
    /// use retry_runtime::{log::Level, Levels};
    /// assert_eq!((Levels::QUIET.retry, Levels::QUIET.give_up), (Level::DEBUG, Level::DEBUG));
    /// ```
    pub const QUIET: Levels = Levels {
        retry: Level::DEBUG,
        rejected_ok: None,
        non_retriable: Level::DEBUG,
        give_up: Level::DEBUG,
        success: Level::DEBUG,
    };
}

impl Default for Levels {
    /// [`Levels::DEFAULT`].
    fn default() -> Self {
        Levels::DEFAULT
    }
}

/// Which levels a policy's setters set (`Policy::levels_set`).
const SET_RETRY: u8 = 1;
const SET_REJECTED_OK: u8 = 2;
const SET_NON_RETRIABLE: u8 = 4;
const SET_GIVE_UP: u8 = 8;
const SET_SUCCESS: u8 = 16;

/// A retry line's level: ERROR taken as WARN.
const fn at_most_warn(level: Level) -> Level {
    match level {
        Level::ERROR => Level::WARN,
        level => level,
    }
}

impl<W, G> Policy<W, G> {
    /// The level of the line of a run that ends on a non-retriable error
    /// (`{operation} failed with a non-retriable error on attempt {n}`):
    /// WARN by default. Where such errors are expected, many and answered
    /// by the caller (a gateway passing its upstreams' 404s and 401s
    /// through the tower layer, a lookup whose misses are errors), DEBUG
    /// keeps them out of the WARN lines without hiding the retries'.
    /// Nothing else changes: the metrics' `permanent_error` outcome, the
    /// `on_give_up` callback, the error returned.
    ///
    /// ```
    /// use retry_runtime::{presets, Policy, RetryOn};
    /// use tracing::Level;
    /// const PASS_THROUGH: Policy<RetryOn> = presets::API.with_non_retriable_level(Level::DEBUG);
    /// assert_eq!(PASS_THROUGH.non_retriable_level(), Level::DEBUG);
    /// ```
    pub const fn with_non_retriable_level(mut self, level: Level) -> Self {
        self.levels.non_retriable = level;
        self.levels_set |= SET_NON_RETRIABLE;
        self
    }

    /// The level of each retry's line (`retrying {operation} after attempt
    /// {n}/{max} failed; next attempt in {wait}`): WARN by default. Where
    /// the retries are expected, a poll until a result is ready (a `202
    /// Accepted` while a server computes, `retry_if_ok` rejecting it), a
    /// queue consumer that waits for a lock, DEBUG keeps them out of the
    /// WARN lines. Nothing else changes: the metrics' waits, the
    /// `before_sleep` callback, the waits themselves. WARN at the loudest:
    /// ERROR is taken as WARN (a retry is not a failure yet, and a run
    /// that nobody hears at WARN skips building the line).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{presets, Backoff, Jitter, Policy, RetryOn};
    /// use tracing::Level;
    /// // GitHub computes a repository's statistics on the first ask: 202, then 200
    /// const STATS: Policy<RetryOn> = presets::API
    ///     .with_name("contributor_stats")
    ///     .with_max_attempts(6)
    ///     .with_backoff(Backoff::fixed(Duration::from_secs(3)))
    ///     .with_jitter(Jitter::None)
    ///     .with_retry_level(Level::DEBUG)
    ///     .with_give_up_level(Level::WARN);
    /// assert_eq!((STATS.retry_level(), STATS.give_up_level()), (Level::DEBUG, Level::WARN));
    /// assert_eq!(Policy::new().with_retry_level(Level::ERROR).retry_level(), Level::WARN);
    /// ```
    pub const fn with_retry_level(mut self, level: Level) -> Self {
        self.levels.retry = at_most_warn(level);
        self.levels_set |= SET_RETRY;
        self
    }

    /// The level of the retry line of an `Ok` that `retry_if_ok` (or
    /// [`Run::rejected`](crate::Run::rejected)) rejected: a poll's "not
    /// ready yet", apart from its real failures. By default the retry
    /// line's level ([`with_retry_level`](Policy::with_retry_level)); a
    /// poller that expects a dozen "not ready"s keeps them at DEBUG while a
    /// 503 between them stays WARN. ERROR is taken as WARN, as for the
    /// retry level. Nothing else changes: the waits, their metric,
    /// `before_sleep` (told by [`RetryEvent::rejected_ok`](crate::RetryEvent::rejected_ok)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{presets, Backoff, Policy, RetryOn};
    /// use tracing::Level;
    /// // a report a server builds: 202 Accepted until it is ready
    /// const REPORT: Policy<RetryOn> = presets::API
    ///     .with_name("report")
    ///     .with_max_attempts(20)
    ///     .with_backoff(Backoff::fixed(Duration::from_secs(5)))
    ///     .with_rejected_ok_level(Level::DEBUG);
    /// assert_eq!((REPORT.retry_level(), REPORT.rejected_ok_level()), (Level::WARN, Level::DEBUG));
    /// // unset, it follows the retry level
    /// assert_eq!(Policy::new().with_retry_level(Level::INFO).rejected_ok_level(), Level::INFO);
    /// ```
    pub const fn with_rejected_ok_level(mut self, level: Level) -> Self {
        self.levels.rejected_ok = Some(at_most_warn(level));
        self.levels_set |= SET_REJECTED_OK;
        self
    }

    /// The level of the line of a run that gives up for a reason other than
    /// a non-retriable error (attempts exhausted, the deadline, an open
    /// breaker, a throttle: `{operation} failed after {n} attempts`):
    /// ERROR by default. A shutdown's (`Stopped`), a retry budget's
    /// refusal and a middleware's request sent once (`{operation} not
    /// retried: the request was sent once because ..`) stay WARN, or this
    /// level if quieter; an error left to an outer run keeps its DEBUG, and
    /// so does a call a breaker or a throttle turns away before its first
    /// attempt (`{operation} not attempted: ..`: its caller, told by
    /// [`RetryError::attempts`](crate::RetryError::attempts) being 0, logs
    /// what it makes of it, a queue's message left for redelivery). For a
    /// poll whose caller handles a result still not ready (the call
    /// returns the last `Ok` that `retry_if_ok` rejected), WARN or INFO
    /// keeps a page away. Nothing else changes: the metrics' outcome, the
    /// `on_give_up` callback, the error or value returned.
    ///
    /// With every level lowered (a library whose caller handles its
    /// errors: [`Levels::QUIET`]), a run still logs its breaker's and its
    /// throttle's lines at their own levels (WARN when the breaker opens,
    /// or the throttle starts rejecting calls): no policy sets those.
    ///
    /// ```
    /// use tracing::Level;
    /// let p = retry_runtime::Policy::new().with_give_up_level(Level::WARN);
    /// assert_eq!(p.give_up_level(), Level::WARN);
    /// ```
    pub const fn with_give_up_level(mut self, level: Level) -> Self {
        self.levels.give_up = level;
        self.levels_set |= SET_GIVE_UP;
        self
    }

    /// The level of a non-retriable error's line (see
    /// [`with_non_retriable_level`](Policy::with_non_retriable_level)).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().non_retriable_level(), tracing::Level::WARN);
    /// ```
    pub const fn non_retriable_level(&self) -> Level {
        self.levels.non_retriable
    }

    /// The level of a retry's line (see
    /// [`with_retry_level`](Policy::with_retry_level)).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().retry_level(), tracing::Level::WARN);
    /// ```
    pub const fn retry_level(&self) -> Level {
        self.levels.retry
    }

    /// The level of a rejected `Ok`'s retry line (see
    /// [`with_rejected_ok_level`](Policy::with_rejected_ok_level)): the
    /// retry level unless set.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().rejected_ok_level(), tracing::Level::WARN);
    /// ```
    pub const fn rejected_ok_level(&self) -> Level {
        match self.levels.rejected_ok {
            Some(level) => level,
            None => self.levels.retry,
        }
    }

    /// The level of a give-up's line (see
    /// [`with_give_up_level`](Policy::with_give_up_level)).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().give_up_level(), tracing::Level::ERROR);
    /// ```
    pub const fn give_up_level(&self) -> Level {
        self.levels.give_up
    }

    /// The level of the line of a run that succeeds after retries
    /// (`{operation} succeeded on attempt {n}`; a job's reported with
    /// [`report_success`](Policy::report_success), a hedged call's first
    /// attempt winning after a logged failure): INFO by default. A
    /// library's calls, whose retries its callers need not see, DEBUG.
    /// Nothing else changes: the metrics' outcome, the value returned.
    ///
    /// ```
    /// use tracing::Level;
    /// let p = retry_runtime::Policy::new().with_success_level(Level::DEBUG);
    /// assert_eq!(p.success_level(), Level::DEBUG);
    /// ```
    pub const fn with_success_level(mut self, level: Level) -> Self {
        self.levels.success = level;
        self.levels_set |= SET_SUCCESS;
        self
    }

    /// The level of a success's line after retries (see
    /// [`with_success_level`](Policy::with_success_level)).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().success_level(), tracing::Level::INFO);
    /// ```
    pub const fn success_level(&self) -> Level {
        self.levels.success
    }

    /// Every line's level from `levels` ([`Levels`]), as each line's
    /// setter would set it.
    ///
    /// ```
    /// use retry_runtime::{log::Level, presets, Levels};
    /// let p = presets::API.with_levels(Levels { give_up: Level::WARN, ..Levels::DEFAULT });
    /// assert_eq!((p.retry_level(), p.give_up_level()), (Level::WARN, Level::WARN));
    /// ```
    pub const fn with_levels(mut self, levels: Levels) -> Self {
        self.levels = Levels {
            retry: at_most_warn(levels.retry),
            rejected_ok: match levels.rejected_ok {
                Some(level) => Some(at_most_warn(level)),
                None => None,
            },
            ..levels
        };
        self.levels_set =
            SET_RETRY | SET_REJECTED_OK | SET_NON_RETRIABLE | SET_GIVE_UP | SET_SUCCESS;
        self
    }

    /// The levels of a library's calls, for the lines whose level this
    /// policy's user did not set: an SDK given its user's policy lowers the
    /// levels the user left at their defaults (with [`Levels::QUIET`],
    /// say) and keeps the ones the user chose, which a getter alone cannot
    /// tell apart (a level set to its default reads as the default). A
    /// level counts as set once `with_levels` or its own setter set it,
    /// here or on the policy it was made from; this sets none, so a later
    /// call gives the lines still unset other defaults.
    ///
    /// ```
    /// use retry_runtime::{log::Level, presets, Levels, Policy, RetryOn};
    ///
    /// // the SDK's, given its user's policy
    /// fn sdk_policy(theirs: Policy<RetryOn>) -> Policy<RetryOn> {
    ///     theirs.with_default_levels(Levels::QUIET)
    /// }
    /// // a user who wants the give-ups, even at ERROR, the default
    /// let theirs = presets::API.with_give_up_level(Level::ERROR);
    /// let p = sdk_policy(theirs);
    /// assert_eq!((p.retry_level(), p.give_up_level()), (Level::DEBUG, Level::ERROR));
    /// // a user who set nothing: all quiet
    /// assert_eq!(sdk_policy(presets::API).levels(), Levels::QUIET);
    /// ```
    pub const fn with_default_levels(mut self, levels: Levels) -> Self {
        let (set, mine) = (self.levels_set, self.levels);
        self.levels = Levels {
            retry: if set & SET_RETRY == 0 {
                at_most_warn(levels.retry)
            } else {
                mine.retry
            },
            rejected_ok: match (set & SET_REJECTED_OK == 0, levels.rejected_ok) {
                (true, Some(level)) => Some(at_most_warn(level)),
                (true, None) => None,
                (false, _) => mine.rejected_ok,
            },
            non_retriable: if set & SET_NON_RETRIABLE == 0 {
                levels.non_retriable
            } else {
                mine.non_retriable
            },
            give_up: if set & SET_GIVE_UP == 0 {
                levels.give_up
            } else {
                mine.give_up
            },
            success: if set & SET_SUCCESS == 0 {
                levels.success
            } else {
                mine.success
            },
        };
        self
    }

    /// The rejected `Ok`'s line at the retry line's level, as set (kept
    /// by [`with_default_levels`](Policy::with_default_levels)): what
    /// `with_levels` sets with a `rejected_ok` of `None`, for one line; a
    /// policy file's `levels = { rejected_ok = "retry" }`.
    #[cfg(feature = "serde")]
    pub(crate) const fn with_rejected_ok_as_retry(mut self) -> Self {
        self.levels.rejected_ok = None;
        self.levels_set |= SET_REJECTED_OK;
        self
    }

    /// Which lines' levels were set (`with_levels`, or each line's
    /// setter), in [`Levels`]' order: `retry`, `rejected_ok`,
    /// `non_retriable`, `give_up`, `success`; a policy is written with
    /// those.
    #[cfg(feature = "serde")]
    pub(crate) const fn levels_set(&self) -> [bool; 5] {
        let set = self.levels_set;
        [
            set & SET_RETRY != 0,
            set & SET_REJECTED_OK != 0,
            set & SET_NON_RETRIABLE != 0,
            set & SET_GIVE_UP != 0,
            set & SET_SUCCESS != 0,
        ]
    }

    /// The levels of its lines (see [`Levels`]; `rejected_ok` is `None`
    /// while that line follows the retry line's).
    ///
    /// ```
    /// use retry_runtime::{Levels, Policy};
    /// assert_eq!(Policy::new().levels(), Levels::DEFAULT);
    /// ```
    pub const fn levels(&self) -> Levels {
        self.levels
    }

    /// The levels set apart from the defaults, in the policy's `Debug`,
    /// and those a setter set, even to their default: such a level is kept
    /// by [`with_default_levels`](Policy::with_default_levels), so two
    /// policies whose `Debug` is the same log alike under a library's
    /// defaults too (a `rejected_ok` set to follow the retry line's shows
    /// as `None`).
    pub(super) fn debug_levels(&self, d: &mut core::fmt::DebugStruct<'_, '_>) {
        let (levels, default, set) = (&self.levels, Levels::DEFAULT, self.levels_set);
        if levels.non_retriable != default.non_retriable || set & SET_NON_RETRIABLE != 0 {
            d.field("non_retriable_level", &levels.non_retriable);
        }
        if levels.retry != default.retry || set & SET_RETRY != 0 {
            d.field("retry_level", &levels.retry);
        }
        match levels.rejected_ok {
            Some(level) => {
                d.field("rejected_ok_level", &level);
            }
            None if set & SET_REJECTED_OK != 0 => {
                d.field("rejected_ok_level", &None::<Level>);
            }
            None => {}
        }
        if levels.give_up != default.give_up || set & SET_GIVE_UP != 0 {
            d.field("give_up_level", &levels.give_up);
        }
        if levels.success != default.success || set & SET_SUCCESS != 0 {
            d.field("success_level", &levels.success);
        }
    }

    /// The levels of the give-up lines, as the log takes them.
    #[inline]
    pub(crate) const fn give_up_levels(&self) -> crate::log::GiveUpLevels {
        crate::log::GiveUpLevels {
            non_retriable: self.levels.non_retriable,
            give_up: self.levels.give_up,
        }
    }

    /// The level of a hedged attempt's `not retried` line: a failure the
    /// run goes on without is announced as a retry's is (its retry
    /// level), one the policy does not retry (beside the success that
    /// wins) as a non-retriable error's.
    #[inline]
    pub(crate) const fn not_retried_level(&self, retriable: bool) -> Level {
        if retriable {
            self.levels.retry
        } else {
            self.levels.non_retriable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::CircuitBreaker;
    use crate::policy::WithCircuitAndThrottle;

    /// What counts as set survives every way a policy is remade (a new
    /// condition, a guard, `widen`): a library's `with_default_levels`
    /// keeps its user's levels through them, and lowers the others.
    #[test]
    fn a_set_level_stays_set_through_every_rebuild() {
        static B: CircuitBreaker = CircuitBreaker::new("levels-rebuilt");
        fn conflict(e: &std::io::Error) -> bool {
            e.kind() == std::io::ErrorKind::AlreadyExists
        }
        let theirs = crate::presets::API
            .with_give_up_level(Level::ERROR)
            .with_rejected_ok_level(Level::INFO);
        let remade: Policy<_, WithCircuitAndThrottle> = theirs
            .retry_all()
            .retry_on(crate::classify::KindSet::TRANSIENT)
            .or_retry_if(conflict as fn(&std::io::Error) -> bool)
            .with_circuit(&B)
            .widen();
        let p = remade.with_default_levels(Levels::QUIET);
        assert_eq!(
            p.levels(),
            Levels {
                give_up: Level::ERROR,
                rejected_ok: Some(Level::INFO),
                ..Levels::QUIET
            }
        );
        // nothing set: all the library's
        assert_eq!(
            crate::presets::API
                .with_circuit(&B)
                .widen::<WithCircuitAndThrottle>()
                .with_default_levels(Levels::QUIET)
                .levels(),
            Levels::QUIET
        );
    }
}
