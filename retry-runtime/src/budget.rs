//! [`RetryBudget`]: retries may add at most a fixed fraction of load.
//!
//! A token bucket with gRPC retry throttling's threshold, counted per call
//! as in Finagle's retry budget (gRPC's counts outcomes instead: a failure
//! takes a token, a success adds a fraction): every first attempt deposits
//! a fraction of a token, every retry withdraws one, and retries are
//! refused while the bucket holds half its capacity or less. When a dependency fails
//! everything, each caller still makes its first attempt, but retries stop
//! after a short burst and then come back only at the budgeted rate, instead
//! of multiplying the load by the number of attempts.
//!
//! # The numbers
//! With [`RetryBudget::new`] (10%, 10 tokens, starting full):
//! - each first attempt deposits 0.1 token, up to 10 tokens;
//! - a retry is allowed while the bucket holds more than 5 tokens (and at
//!   least 1); it withdraws 1 token;
//! - so a burst of 5 retries is allowed from a full bucket, then one retry per
//!   10 first attempts.
//!
//! Over any N first attempts, the retries granted stay below
//! `N × percent / 100 + max_tokens / 2 + 1`: at most 10% of the calls plus 5.
//! (Each grant leaves more than `max/2 − 1` tokens and nothing else is taken
//! out, so grants ≤ start + deposits − (max/2 − 1) < max + N·ratio − max/2 + 1.)
//!
//! Tokens are counted in thousandths in one `AtomicU64` changed by
//! compare-and-swap: no lock, no allocation, no clock.
//!
//! ```
//! use retry_runtime::RetryBudget;
//! static RETRIES: RetryBudget = RetryBudget::new("api");
//!
//! // 5 retries from the full bucket...
//! assert_eq!((0..10).filter(|_| RETRIES.try_withdraw()).count(), 5);
//! // ...then one per 10 first attempts
//! for _ in 0..10 { RETRIES.deposit(); }
//! assert!(RETRIES.try_withdraw());
//! assert!(!RETRIES.try_withdraw());
//! ```

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::metrics::{self, GaugeLock};

/// One token, in the bucket's unit.
const TOKEN: u64 = 1000;

/// A balance in tokens, from its thousandths.
fn tokens(thousandths: u64) -> f64 {
    thousandths as f64 / TOKEN as f64
}

/// A retry budget, meant to live in a `static` shared by every caller of one
/// dependency. See the [module docs](self) for the rule and the numbers.
///
/// Attach it to a policy with [`Policy::with_budget`](crate::Policy::with_budget) (or
/// `#[retry(budget = NAME)]`): the run deposits on its first attempt and
/// withdraws before each retry; a refused retry gives up at once
/// ([`StopReason::Budget`](crate::StopReason::Budget)) with a WARN line
/// "retry budget exhausted", returning the last error. Or call
/// [`deposit`](RetryBudget::deposit) and [`try_withdraw`](RetryBudget::try_withdraw)
/// from a loop of your own.
///
/// # Default
/// [`RetryBudget::new`]: 10% (each first attempt deposits 0.1 token), at
/// most 10 tokens, starting full: a burst of 5 retries, then 1 retry per 10
/// first attempts.
///
/// # Example
/// ```
/// use retry_runtime::{Policy, RetryBudget, StopReason};
///
/// static RETRIES: RetryBudget = RetryBudget::new("search").with_percent(20).with_max_tokens(4);
///
/// let _paused = retry_runtime::testing::pause();
/// let policy = Policy::new().with_max_attempts(10).with_budget(&RETRIES);
/// let e = policy.retry(|| Err::<(), _>("down")).detailed().call().unwrap_err();
/// // a full bucket of 4 tokens: 2 retries (4 -> 3 -> 2), then 2 is not above half
/// assert_eq!((e.attempts, e.reason), (3, StopReason::Budget));
/// assert_eq!(e.last_error, "down");
/// ```
#[must_use = "a budget does nothing until a policy uses it (`Policy::with_budget`); its `with_*` methods return the changed budget"]
pub struct RetryBudget {
    name: &'static str,
    deposit: u64,
    max: u64,
    tokens: AtomicU64,
    first_attempts: AtomicU64,
    retries: AtomicU64,
    refused: AtomicU64,
    /// Serializes the tokens gauge's updates (the `metrics` feature).
    gauge: GaugeLock,
}

impl RetryBudget {
    /// A full budget named `name` (in log lines and metrics), with the
    /// defaults of the type's "Default" section. Budgets with the same name
    /// share their metric series: give each its own.
    ///
    /// ```
    /// use retry_runtime::RetryBudget;
    /// static RETRIES: RetryBudget = RetryBudget::new("api");
    /// assert_eq!(RETRIES.stats().tokens, 10.0);
    /// ```
    pub const fn new(name: &'static str) -> RetryBudget {
        RetryBudget {
            name,
            deposit: 100,
            max: 10 * TOKEN,
            tokens: AtomicU64::new(10 * TOKEN),
            first_attempts: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            gauge: GaugeLock::new(),
        }
    }

    /// Retries may add `percent`% of the first attempts (each first attempt
    /// deposits `percent / 100` token). 0 allows only the initial burst.
    ///
    /// ```
    /// use retry_runtime::RetryBudget;
    /// static GENEROUS: RetryBudget = RetryBudget::new("g").with_percent(50);
    /// ```
    pub const fn with_percent(mut self, percent: u32) -> RetryBudget {
        self.deposit = percent as u64 * TOKEN / 100;
        self
    }

    /// The bucket's capacity, at least 1 token; the budget starts full. Half of
    /// it is the burst of retries allowed from a full bucket.
    ///
    /// ```
    /// use retry_runtime::RetryBudget;
    /// static B: RetryBudget = RetryBudget::new("b").with_max_tokens(100);
    /// assert_eq!(B.stats().max_tokens, 100);
    /// ```
    pub const fn with_max_tokens(mut self, tokens: u32) -> RetryBudget {
        let tokens = if tokens == 0 { 1 } else { tokens };
        self.max = tokens as u64 * TOKEN;
        self.tokens = AtomicU64::new(self.max);
        self
    }

    /// The budget's name.
    ///
    /// ```
    /// assert_eq!(retry_runtime::RetryBudget::new("api").name(), "api");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The share of first attempts retries may add, in percent, as set by
    /// [`with_percent`](RetryBudget::with_percent).
    ///
    /// ```
    /// use retry_runtime::RetryBudget;
    /// assert_eq!(RetryBudget::new("api").percent(), 10);
    /// assert_eq!(RetryBudget::new("api").with_percent(250).percent(), 250);
    /// ```
    pub const fn percent(&self) -> u32 {
        // `with_percent` stores `percent × 10` thousandths: exact
        (self.deposit * 100 / TOKEN) as u32
    }

    /// The bucket's capacity in tokens, as set by
    /// [`with_max_tokens`](RetryBudget::with_max_tokens) (at least 1: `0` is
    /// taken as 1).
    ///
    /// ```
    /// use retry_runtime::RetryBudget;
    /// assert_eq!(RetryBudget::new("api").max_tokens(), 10);
    /// assert_eq!(RetryBudget::new("api").with_max_tokens(100).max_tokens(), 100);
    /// assert_eq!(RetryBudget::new("api").with_max_tokens(0).max_tokens(), 1);
    /// ```
    pub const fn max_tokens(&self) -> u32 {
        (self.max / TOKEN) as u32
    }

    /// A first attempt was made: deposit its fraction of a token (a run
    /// deposits when its first attempt ends; one that panics deposits
    /// nothing).
    ///
    /// ```
    /// let b = retry_runtime::RetryBudget::new("b");
    /// b.deposit();
    /// assert_eq!(b.stats().first_attempts, 1);
    /// ```
    pub fn deposit(&self) {
        self.first_attempts.fetch_add(1, Ordering::Relaxed);
        let (deposit, max) = (self.deposit, self.max);
        // `None` when already full: no write, so a healthy service's calls do
        // not contend on the bucket.
        let moved = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                (t < max).then(|| t.saturating_add(deposit).min(max))
            });
        if moved.is_ok() {
            self.gauge(false);
        }
    }

    /// May a retry be made? If so, withdraw its token and return `true`.
    ///
    /// ```
    /// let b = retry_runtime::RetryBudget::new("b").with_max_tokens(2);
    /// assert!(b.try_withdraw()); // 2 tokens > 1: allowed, 1 left
    /// assert!(!b.try_withdraw()); // 1 token is not above half
    /// ```
    ///
    /// The answer is the point: a call that drops it has taken a token (or
    /// counted a refusal) for a retry it then makes, or skips, regardless.
    /// It is `#[must_use]`:
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// let b = retry_runtime::RetryBudget::new("b");
    /// b.try_withdraw(); // error: unused return value of `RetryBudget::try_withdraw` that must be used
    /// ```
    #[must_use = "`false` means the retry must not be made; `true` means a token was taken for it"]
    pub fn try_withdraw(&self) -> bool {
        let half = self.max / 2;
        let moved = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                (t > half && t >= TOKEN).then(|| t - TOKEN)
            });
        let granted = moved.is_ok();
        self.gauge(!granted);
        let counter = if granted {
            &self.retries
        } else {
            &self.refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
        granted
    }

    /// Give back the token of a retry [`try_withdraw`](RetryBudget::try_withdraw)
    /// granted but that is not made (a guard asked after the budget turned
    /// it away: the throttle, a breaker that opened during the wait, or a
    /// tower service that broke before it): as if the budget had not been
    /// asked.
    pub(crate) fn refund(&self) {
        let _ = self
            .retries
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        let max = self.max;
        let _ = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(TOKEN).min(max))
            });
        self.gauge(false);
    }

    /// Set the tokens gauge to the bucket's balance now (and count a
    /// refusal if `refused`): see [`metrics::budget`].
    #[inline]
    fn gauge(&self, refused: bool) {
        metrics::budget(
            self.name,
            &self.gauge,
            || tokens(self.tokens.load(Ordering::Relaxed)),
            refused,
            self.max_tokens(),
        );
    }

    /// The balance and the counters, for metrics.
    ///
    /// The counters are exact: every [`deposit`](RetryBudget::deposit) adds
    /// one to `first_attempts`, every [`try_withdraw`](RetryBudget::try_withdraw)
    /// one to `retries` or `refused`; a granted retry that another guard then
    /// turns away (the throttle, or a breaker that opened during the wait)
    /// gives its token back and is taken off `retries`, so `retries` counts
    /// the retries made. A call dropped (cancelled: a client gone, a
    /// timeout around it) while it waits for a granted retry gives the
    /// token back too, and the retry is not counted: the wait holds the
    /// token (an async `#[retry]` function, the tower layer, the reqwest
    /// middleware; a hedged call gives back the tokens of the retries it
    /// had not started). The exceptions, where the token stays spent and
    /// counted (the budget errs toward fewer retries): the functional
    /// form's future, `policy.retry(op).await`, dropped in its wait (to
    /// hold the token it would grow 8 bytes past a hand-written loop's, a
    /// size target), a tower call dropped after its wait while the service
    /// is not yet ready for the retry, a hand-driven [`Run`](crate::Run)
    /// dropped between the `Retry` it was told and its next attempt, and a
    /// run whose retry hook (`with_before_sleep`, `.notify`, the reqwest
    /// middleware's `with_notify`) panics, the
    /// token being granted before the hook is told of the retry. A run
    /// deposits when its first attempt ends, so a first attempt that panics
    /// deposits nothing (a breaker beside the budget counts its permit as
    /// neutral: the two counts then differ by the panics).
    ///
    /// ```
    /// let b = retry_runtime::RetryBudget::new("b");
    /// assert!(b.try_withdraw());
    /// let s = b.stats();
    /// assert_eq!((s.tokens, s.retries, s.refused), (9.0, 1, 0));
    /// ```
    pub fn stats(&self) -> BudgetStats {
        BudgetStats {
            tokens: tokens(self.tokens.load(Ordering::Relaxed)),
            max_tokens: self.max_tokens(),
            first_attempts: self.first_attempts.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }

    /// Refill the bucket and zero the counters. With the `metrics`
    /// feature, the `retry_budget_tokens` gauge is set to the full bucket
    /// (the refusals counter, a Prometheus counter, is not reset).
    ///
    /// ```
    /// let b = retry_runtime::RetryBudget::new("b");
    /// while b.try_withdraw() {}
    /// b.reset();
    /// assert_eq!(b.stats().tokens, 10.0);
    /// assert_eq!(b.stats().retries, 0);
    /// ```
    pub fn reset(&self) {
        self.tokens.store(self.max, Ordering::Relaxed);
        self.gauge(false);
        self.first_attempts.store(0, Ordering::Relaxed);
        self.retries.store(0, Ordering::Relaxed);
        self.refused.store(0, Ordering::Relaxed);
    }
}

/// Shows the name, the settings as their getters give them
/// ([`percent`](RetryBudget::percent), [`max_tokens`](RetryBudget::max_tokens))
/// and the tokens in the bucket now.
///
/// ```
/// use retry_runtime::RetryBudget;
/// let budget = RetryBudget::new("search").with_percent(20).with_max_tokens(4);
/// assert_eq!(
///     format!("{budget:?}"),
///     r#"RetryBudget { name: "search", percent: 20, max_tokens: 4, tokens: 4.0, .. }"#
/// );
/// ```
impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("name", &self.name)
            .field("percent", &self.percent())
            .field("max_tokens", &self.max_tokens())
            .field("tokens", &self.stats().tokens)
            .finish_non_exhaustive()
    }
}

/// A snapshot of a [`RetryBudget`] for metrics, from [`RetryBudget::stats`].
///
/// ```
/// let s = retry_runtime::RetryBudget::new("b").stats();
/// assert_eq!((s.tokens, s.max_tokens, s.first_attempts), (10.0, 10, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct BudgetStats {
    /// Tokens in the bucket now (thousandths are kept).
    pub tokens: f64,
    /// The bucket's capacity.
    pub max_tokens: u32,
    /// Deposits made (first attempts), ever. A run deposits when its
    /// first attempt ends (a hedged run when it starts): a first attempt
    /// cut short, its call dropped (cancelled) or a panic unwinding
    /// through it, deposits nothing, so this may count fewer first
    /// attempts than were started; the bucket errs toward fewer retries.
    pub first_attempts: u64,
    /// Retries granted, ever: made, or still waiting to be made. A granted
    /// retry that another guard turned away, or whose call was dropped
    /// (cancelled) in its wait, gave its token back and is not counted
    /// (the few exceptions: [`RetryBudget::stats`]).
    pub retries: u64,
    /// Retries refused, ever.
    pub refused: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_numbers() {
        let b = RetryBudget::new("b");
        assert_eq!((b.deposit, b.max), (100, 10_000));
        assert_eq!((0..100).filter(|_| b.try_withdraw()).count(), 5);
        // 5.0 tokens left: not above half; one deposit tips it over...
        b.deposit();
        assert!(b.try_withdraw());
        // ...and from 4.1, 10 first attempts buy the next retry
        for _ in 0..9 {
            b.deposit();
        }
        assert!(!b.try_withdraw());
        b.deposit();
        assert!(b.try_withdraw());
        let s = b.stats();
        assert_eq!((s.first_attempts, s.retries, s.refused), (11, 7, 96));
    }

    /// The getters give back what the setters stored, across the whole
    /// range of `with_percent` (no rounding in the thousandths) and with
    /// `with_max_tokens(0)` taken as 1.
    #[test]
    fn getters_return_what_the_setters_stored() {
        static B: RetryBudget = RetryBudget::new("b").with_percent(20).with_max_tokens(4);
        assert_eq!((B.percent(), B.max_tokens()), (20, 4));
        let d = RetryBudget::new("d");
        assert_eq!((d.percent(), d.max_tokens()), (10, 10));
        for percent in [0, 1, 7, 33, 99, 100, 101, 1000, u32::MAX] {
            assert_eq!(
                RetryBudget::new("b").with_percent(percent).percent(),
                percent
            );
        }
        for max in [1, 2, 100, u32::MAX] {
            assert_eq!(RetryBudget::new("b").with_max_tokens(max).max_tokens(), max);
        }
        assert_eq!(RetryBudget::new("b").with_max_tokens(0).max_tokens(), 1);
        assert_eq!(B.stats().max_tokens, B.max_tokens());
    }

    #[test]
    fn deposits_stop_at_the_capacity() {
        let b = RetryBudget::new("b").with_percent(100).with_max_tokens(3);
        for _ in 0..10 {
            b.deposit();
        }
        assert_eq!(b.stats().tokens, 3.0);
    }

    #[test]
    fn a_tiny_bucket_still_costs_a_whole_token() {
        let b = RetryBudget::new("b").with_max_tokens(1).with_percent(30);
        assert!(b.try_withdraw()); // 1 > 0.5
        for _ in 0..3 {
            b.deposit();
        }
        assert!(!b.try_withdraw()); // 0.9: above half but less than a token
        b.deposit();
        assert!(b.try_withdraw());
    }

    #[test]
    fn zero_percent_allows_only_the_burst() {
        let b = RetryBudget::new("b").with_percent(0);
        for _ in 0..1000 {
            b.deposit();
        }
        assert_eq!((0..100).filter(|_| b.try_withdraw()).count(), 5);
    }
}
