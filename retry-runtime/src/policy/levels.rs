//! The levels of a policy's log lines: a retry's, a give-up's, a
//! non-retriable error's (the lines themselves are [`log`](crate::log)'s).

use super::Policy;

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
    pub const fn with_non_retriable_level(mut self, level: tracing::Level) -> Self {
        self.non_retriable_level = level;
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
    pub const fn with_retry_level(mut self, level: tracing::Level) -> Self {
        self.retry_level = match level {
            tracing::Level::ERROR => tracing::Level::WARN,
            level => level,
        };
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
    pub const fn with_rejected_ok_level(mut self, level: tracing::Level) -> Self {
        self.rejected_ok_level = Some(match level {
            tracing::Level::ERROR => tracing::Level::WARN,
            level => level,
        });
        self
    }

    /// The level of the line of a run that gives up for a reason other than
    /// a non-retriable error (attempts exhausted, the deadline, an open
    /// breaker, a throttle: `{operation} failed after {n} attempts`):
    /// ERROR by default. A shutdown's (`Stopped`) stays WARN, or this level
    /// if quieter; a retry budget's refusal, a request sent once and an
    /// error left to an outer run keep their own lines' levels. For a
    /// poll whose caller handles a result still not ready (the call
    /// returns the last `Ok` that `retry_if_ok` rejected), WARN or INFO
    /// keeps a page away. Nothing else changes: the metrics' outcome, the
    /// `on_give_up` callback, the error or value returned.
    ///
    /// With the four levels lowered (a library whose caller handles its
    /// errors), a run still logs a success after retries at INFO, and its
    /// breaker's lines at their own levels (WARN when it opens): no policy
    /// sets those.
    ///
    /// ```
    /// use tracing::Level;
    /// let p = retry_runtime::Policy::new().with_give_up_level(Level::WARN);
    /// assert_eq!(p.give_up_level(), Level::WARN);
    /// ```
    pub const fn with_give_up_level(mut self, level: tracing::Level) -> Self {
        self.give_up_level = level;
        self
    }

    /// The level of a non-retriable error's line (see
    /// [`with_non_retriable_level`](Policy::with_non_retriable_level)).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().non_retriable_level(), tracing::Level::WARN);
    /// ```
    pub const fn non_retriable_level(&self) -> tracing::Level {
        self.non_retriable_level
    }

    /// The level of a retry's line (see
    /// [`with_retry_level`](Policy::with_retry_level)).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().retry_level(), tracing::Level::WARN);
    /// ```
    pub const fn retry_level(&self) -> tracing::Level {
        self.retry_level
    }

    /// The level of a rejected `Ok`'s retry line (see
    /// [`with_rejected_ok_level`](Policy::with_rejected_ok_level)): the
    /// retry level unless set.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().rejected_ok_level(), tracing::Level::WARN);
    /// ```
    pub const fn rejected_ok_level(&self) -> tracing::Level {
        match self.rejected_ok_level {
            Some(level) => level,
            None => self.retry_level,
        }
    }

    /// The level of a give-up's line (see
    /// [`with_give_up_level`](Policy::with_give_up_level)).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().give_up_level(), tracing::Level::ERROR);
    /// ```
    pub const fn give_up_level(&self) -> tracing::Level {
        self.give_up_level
    }

    /// The levels set apart from the defaults, in the policy's `Debug`.
    pub(super) fn debug_levels(&self, d: &mut core::fmt::DebugStruct<'_, '_>) {
        if self.non_retriable_level != tracing::Level::WARN {
            d.field("non_retriable_level", &self.non_retriable_level);
        }
        if self.retry_level != tracing::Level::WARN {
            d.field("retry_level", &self.retry_level);
        }
        if let Some(level) = self.rejected_ok_level {
            d.field("rejected_ok_level", &level);
        }
        if self.give_up_level != tracing::Level::ERROR {
            d.field("give_up_level", &self.give_up_level);
        }
    }

    /// The levels of the give-up lines, as the log takes them.
    #[inline]
    pub(crate) const fn give_up_levels(&self) -> crate::log::GiveUpLevels {
        crate::log::GiveUpLevels {
            non_retriable: self.non_retriable_level,
            give_up: self.give_up_level,
        }
    }
}
