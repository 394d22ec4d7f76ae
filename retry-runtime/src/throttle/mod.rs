//! [`Throttle`]: adaptive client-side throttling, after Google's SRE book
//! ("Handling Overload").
//!
//! When a dependency rejects most requests, retrying harder makes it worse,
//! and even first attempts are wasted work for both sides. A throttle
//! counts, over a sliding window, the requests this process made and the
//! ones the dependency accepted, and rejects a new call locally, without
//! sending it, with probability
//!
//! ```text
//! max(0, (requests - K × accepts) / (requests + padding))
//! ```
//!
//! While the dependency accepts more than 1/K of the requests (half, with
//! the default K = 2) nothing is rejected; below that, the calls that still
//! go out are about K times the ones it accepts, so it keeps getting enough
//! traffic to show it has recovered, and the rejections fade as its
//! accepts grow back. A larger K rejects later and less.
//!
//! The padding (8 by default, as gRPC's adaptive throttlers; the book
//! writes 1) keeps a quiet window's first failures from rejecting much: a
//! dependency called now and then that fails once has its next call, a
//! retry as a rule, rejected with probability 1/9, not 1/2. With many
//! requests in the window it makes no difference.
//!
//! # What counts
//! Every attempt of a run whose policy has the throttle is a request, the
//! rejected ones included (as in the book). An attempt that succeeds, or
//! fails with an error the policy does not retry (the dependency answered:
//! a 404 is an accept), is an accept; one that fails with an error the
//! policy retries (a timeout, a 503, a 429) is not.
//!
//! A request is counted when its outcome is known: a call the throttle
//! rejects at once, as a request not accepted; a call it lets through when
//! its outcome is [recorded](Throttle::record). A call dropped before its
//! outcome (a timeout around it, a client that went away, a retry
//! cancelled in its backoff wait, a losing hedge) counts nothing: it
//! showed nothing about the dependency, and a request counted with no
//! outcome would push the throttle towards rejecting calls to a healthy
//! dependency.
//!
//! With a paced [`Cooldown`](crate::cooldown::Cooldown) on the policy, a
//! first attempt waits for its pace's slot before the throttle is asked: a
//! call rejected then keeps that slot, unused (the run does not keep its
//! time, and a slot looked for near the time of the rejection may be
//! another call's: given back, two calls would go in one slot). A retry
//! the throttle rejects after its decision gives its slot back.
//!
//! A throttle logs a WARN when it starts rejecting calls and an INFO when
//! it stops, and, with the `metrics` feature, has a gauge of its
//! probability and a counter of its rejections: see [`Throttle`]'s
//! "Seeing it work".
//!
//! # The window
//! Counts are kept in ten buckets of a tenth of the window each, two
//! `AtomicU64`s per bucket (requests, accepts): counting a request, or an
//! accept, is one compare-and-swap, with no lock and no allocation. The window slides a bucket at a time, so counts older than
//! the window fade in steps of a tenth.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::clock::ManualClock;
//! use retry_runtime::Throttle;
//!
//! static CLOCK: ManualClock = ManualClock::new();
//! static T: Throttle = Throttle::new("search").with_clock(&CLOCK);
//!
//! // 100 requests, 10 accepted: reject (100 - 2 × 10) / (100 + 8) of the calls
//! for i in 0..100 {
//!     T.record(i % 10 == 0);
//! }
//! assert!((T.probability() - 80.0 / 108.0).abs() < 1e-9);
//!
//! // a window later, the old counts have slid out
//! CLOCK.advance(Duration::from_secs(30));
//! assert_eq!(T.probability(), 0.0);
//! ```

mod error;
mod window;

use core::fmt;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

pub use self::error::Throttled;
use self::window::{BUCKETS, Counts, Window};
use crate::clock::{Clock, SharedClock, SystemClock};
use crate::jitter::Rng;
use crate::{log, metrics};

/// Bits of [`Throttle`]'s `shown`: what it has shown to operators.
/// Its first call was recorded (the metrics' zeros).
const SEEN: u8 = 1;
/// Its probability gauge was set above 0 since it was last set to 0.
const RAISED: u8 = 2;
/// It rejected a call (the WARN line) and has not stopped yet (the INFO).
const REJECTING: u8 = 4;

/// An adaptive client-side throttle, meant to live in a `static` shared by
/// every caller of one dependency. See the [module docs](self) for the rule.
///
/// Attach it to a policy with [`Policy::with_throttle`](crate::Policy::with_throttle)
/// (or `#[retry(throttle = NAME)]`): the run asks it before the first
/// attempt (a rejected call returns `E::from(`[`Throttled`]`)` without being
/// made) and before each retry (a rejected retry gives up with
/// [`StopReason::Throttled`](crate::StopReason::Throttled) and the last
/// error), and reports each attempt's outcome. Or call
/// [`try_acquire`](Throttle::try_acquire) and [`record`](Throttle::record)
/// from a loop of your own: `try_acquire` before each call, `record` with
/// the outcome of each call made.
///
/// # Default
/// [`Throttle::new`]: K = 2, a padding of 8 and a window of 30 seconds (as
/// gRPC's adaptive throttler, which keeps it in 100 bins; here ten buckets
/// of 3s), no cap on the probability, [`SystemClock`].
///
/// # Seeing it work
/// The throttle's calls to [`try_acquire`](Throttle::try_acquire) show
/// what it does (see the tables of [`log`] and [`metrics`]):
/// - a WARN line when it starts rejecting calls, at its first rejection
///   (once, not per rejection): ``throttle `{name}` is rejecting calls
///   locally: {p}% of calls (the dependency accepted {accepts} of the last
///   {requests} requests)``, fields `throttle`, `probability`, `requests`,
///   `accepts`;
/// - an INFO line when it stops, at its first call that sees the
///   probability back to 0 a window or more after the WARN (one hovering
///   about 0 logs at most a pair of lines a window), or at a
///   [`reset`](Throttle::reset): ``throttle `{name}` stopped rejecting
///   calls``, field `throttle`;
/// - with the `metrics` feature, once `retry_runtime::metrics::enable()`
///   was called, the gauge `retry_throttle_probability{throttle}` (the
///   rejection probability, 0 to 1: set at each call that computes it
///   above 0, and once to 0 when it is back to 0, or at a reset) and the counter
///   `retry_throttle_rejections_total{throttle}` (the calls it rejected,
///   first attempts, retries and a hedged call's hedges alike), both
///   registered at 0 at the throttle's first call.
///
/// A throttle at probability 0 (a healthy dependency) pays one relaxed
/// atomic load per call for all of it. (A policy's call the throttle rejects also has its own
/// lines, and its outcome, under its operation's name: `not_attempted_throttled`
/// for a call rejected before its first attempt, `throttled` for one whose
/// retry was rejected.)
///
/// # Example
/// ```
/// use retry_runtime::{kinds, Classify, ErrorKind, Policy, Throttle, Throttled};
///
/// static SEARCH: Throttle = Throttle::new("search");
///
/// #[derive(Debug)]
/// enum SearchError { Overloaded, Throttled(Throttled) }
/// impl From<Throttled> for SearchError {
///     fn from(t: Throttled) -> Self { SearchError::Throttled(t) }
/// }
/// impl std::fmt::Display for SearchError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "{self:?}")
///     }
/// }
/// impl Classify for SearchError {
///     fn kind(&self) -> ErrorKind { ErrorKind::Unavailable }
/// }
///
/// let _paused = retry_runtime::testing::pause();
/// // a policy that classifies: an error it does not retry (a 404) would be
/// // an accept; with `Policy::new()` alone every error is a rejection
/// let policy = Policy::new().with_max_attempts(1).retry_on(kinds![Unavailable]).with_throttle(&SEARCH);
/// // the dependency rejects everything: soon most calls are not even sent
/// let mut sent = 0;
/// for _ in 0..1000 {
///     let _ = policy.retry(|| { sent += 1; Err::<(), _>(SearchError::Overloaded) }).call();
/// }
/// assert!(sent < 100, "{sent} of 1000 calls sent");
/// assert_eq!(SEARCH.stats().rejected, 1000 - sent);
/// ```
#[must_use = "a throttle does nothing until a policy uses it (`Policy::with_throttle`); its `with_*` methods return the changed throttle"]
pub struct Throttle {
    name: &'static str,
    k: f64,
    padding: f64,
    max_probability: f64,
    window: Duration,
    bucket_ms: u64,
    clock: SharedClock,
    counts: Window,
    admitted: AtomicU64,
    rejected: AtomicU64,
    /// [`SEEN`], [`RAISED`], [`REJECTING`]: one byte, so that a healthy
    /// throttle's call reads one atomic for all three (it is [`SEEN`]
    /// alone then).
    shown: AtomicU8,
    /// The bucket (`epoch`) of the last WARN line: its INFO waits a window.
    warned: AtomicU64,
}

impl Throttle {
    /// A throttle named `name` (in log lines and [`Throttled`]), with the
    /// defaults of the type's "Default" section.
    ///
    /// ```
    /// use retry_runtime::Throttle;
    /// static API: Throttle = Throttle::new("api");
    /// assert_eq!((API.name(), API.k()), ("api", 2.0));
    /// ```
    pub const fn new(name: &'static str) -> Throttle {
        Throttle {
            name,
            k: 2.0,
            padding: 8.0,
            max_probability: 1.0,
            window: Duration::from_secs(30),
            bucket_ms: 3_000,
            clock: SharedClock(&SystemClock),
            counts: Window::new(),
            admitted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            shown: AtomicU8::new(0),
            warned: AtomicU64::new(0),
        }
    }

    /// The multiplier K: calls are rejected only while requests exceed K
    /// times the accepts. Values below 1 (and NaN) are taken as 1, which
    /// rejects as soon as anything fails; infinity as `f64::MAX`, which
    /// rejects only while nothing at all is accepted. The SRE book suggests
    /// 2, and 1.1 for dependencies where any wasted request is expensive.
    ///
    /// ```
    /// use retry_runtime::Throttle;
    /// static T: Throttle = Throttle::new("t").with_k(1.5);
    /// assert_eq!(T.k(), 1.5);
    /// assert_eq!(Throttle::new("t").with_k(0.5).k(), 1.0);
    /// assert_eq!(Throttle::new("t").with_k(f64::INFINITY).k(), f64::MAX);
    /// ```
    pub const fn with_k(mut self, k: f64) -> Throttle {
        self.k = if k.is_infinite() && k > 0.0 {
            // K × 0 accepts would be NaN, and a NaN probability rejects all
            f64::MAX
        } else if k >= 1.0 {
            k
        } else {
            1.0 // NaN too
        };
        self
    }

    /// The padding added to the requests in the formula's denominator
    /// (default 8). A larger padding rejects less while the window holds
    /// few requests; 1 is the SRE book's formula. Negative values and NaN
    /// are taken as 0, which rejects every call while the window holds
    /// failures only; infinity as `f64::MAX`, which all but never rejects.
    ///
    /// ```
    /// use retry_runtime::Throttle;
    /// static QUIET: Throttle = Throttle::new("quiet");
    /// QUIET.record(false); // a called-now-and-then dependency fails once
    /// assert_eq!(QUIET.probability(), 1.0 / 9.0);
    /// static BOOK: Throttle = Throttle::new("book").with_padding(1.0);
    /// BOOK.record(false);
    /// assert_eq!(BOOK.probability(), 0.5);
    /// assert_eq!(Throttle::new("t").with_padding(-1.0).padding(), 0.0);
    /// ```
    pub const fn with_padding(mut self, padding: f64) -> Throttle {
        self.padding = if padding.is_infinite() && padding > 0.0 {
            f64::MAX
        } else if padding > 0.0 {
            padding
        } else {
            0.0 // NaN and -0.0 too
        };
        self
    }

    /// Never reject more than this share of calls (0..=1; the default 1
    /// is the book's formula, uncapped).
    ///
    /// Uncapped, a dependency that accepts almost nothing gets almost
    /// nothing: about `padding` calls a window. Once it heals, its accepts
    /// must grow back from those few, by a factor e every `window / K` or
    /// so (78s for 90% of calls to succeed again, with the defaults at 50
    /// calls a second in the guide's simulation). A cap keeps `1 - max`
    /// of the calls going out, as probes: the dependency then carries that
    /// share of the load in an
    /// outage, and traffic comes back within a couple of windows / K. The
    /// simulation in docs/hedging-and-throttling.md ("Adaptive throttling") compares them.
    ///
    /// ```
    /// use retry_runtime::Throttle;
    /// static T: Throttle = Throttle::new("t").with_max_probability(0.9);
    /// for _ in 0..1000 { T.record(false); } // no accept
    /// assert_eq!(T.probability(), 0.9);
    /// ```
    pub const fn with_max_probability(mut self, max: f64) -> Throttle {
        // NaN and values out of range are clamped (NaN to 1, uncapped)
        self.max_probability = if max >= 1.0 || max.is_nan() {
            1.0
        } else if max <= 0.0 {
            0.0
        } else {
            max
        };
        self
    }

    /// The length of the sliding window (at least 10ms; kept in ten
    /// buckets of a tenth each, rounded down to whole milliseconds).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Throttle;
    /// static T: Throttle = Throttle::new("t").with_window(Duration::from_secs(120));
    /// assert_eq!(T.window(), Duration::from_secs(120));
    /// ```
    pub const fn with_window(mut self, window: Duration) -> Throttle {
        let ms = window.as_millis();
        let bucket = ms / BUCKETS as u128;
        self.bucket_ms = if bucket == 0 {
            1
        } else if bucket > u64::MAX as u128 {
            u64::MAX
        } else {
            bucket as u64
        };
        self.window = Duration::from_millis(self.bucket_ms.saturating_mul(BUCKETS as u64));
        self
    }

    /// Read time from `clock` instead of [`SystemClock`] (tests: a
    /// [`ManualClock`](crate::clock::ManualClock)).
    ///
    /// ```
    /// use retry_runtime::{clock::ManualClock, Throttle};
    /// static CLOCK: ManualClock = ManualClock::new();
    /// static T: Throttle = Throttle::new("t").with_clock(&CLOCK);
    /// ```
    pub const fn with_clock(mut self, clock: &'static dyn Clock) -> Throttle {
        self.clock = SharedClock(clock);
        self
    }

    /// The throttle's name.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Throttle::new("db").name(), "db");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The multiplier K.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Throttle::new("db").k(), 2.0);
    /// ```
    pub const fn k(&self) -> f64 {
        self.k
    }

    /// The padding of the formula's denominator.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Throttle::new("db").padding(), 8.0);
    /// ```
    pub const fn padding(&self) -> f64 {
        self.padding
    }

    /// The cap on the rejection probability.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Throttle::new("db").max_probability(), 1.0);
    /// ```
    pub const fn max_probability(&self) -> f64 {
        self.max_probability
    }

    /// The sliding window's length.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(retry_runtime::Throttle::new("db").window(), Duration::from_secs(30));
    /// ```
    pub const fn window(&self) -> Duration {
        self.window
    }

    /// A call is about to be made: decide, with the current rejection
    /// [`probability`](Throttle::probability), whether it may go out. `Err`
    /// means do not make it: the call counts as a request not accepted.
    /// `Ok` counts nothing in the window yet: the call counts once its
    /// outcome is [recorded](Throttle::record), and not at all if it is
    /// dropped before that (see the [module docs](self)).
    ///
    /// ```
    /// let t = retry_runtime::Throttle::new("t");
    /// assert!(t.try_acquire().is_ok()); // nothing failed yet: never rejects
    /// assert_eq!(t.stats().requests, 0); // counted with its outcome
    /// t.record(true);
    /// assert_eq!(t.stats().requests, 1);
    /// ```
    pub fn try_acquire(&self) -> Result<(), Throttled> {
        let epoch = self.epoch();
        let counts = self.counts.counts(epoch);
        let p = self.probability_of(counts);
        if p > 0.0 {
            let reject = Rng::with_thread(|rng| rng.next_f64()) < p;
            self.show(p, reject, counts, epoch);
            if reject {
                self.counts.add(epoch, 1, 0);
                self.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(Throttled::new(self.name, p));
            }
        } else if self.shown.load(Ordering::Relaxed) != SEEN {
            // (a healthy throttle's only cost for its metrics and lines)
            self.calm(epoch);
        }
        self.admitted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// `try_acquire` computed the probability `p` > 0 over `counts`, and
    /// `rejected` the call or not: the gauge, the rejections' counter, and
    /// the WARN line at a rejection when the throttle was not rejecting.
    fn show(&self, p: f64, rejected: bool, counts: Counts, epoch: u64) {
        // The gauge before the bits: a thread that computed p > 0 just
        // before the window slid to 0 may set it after another thread
        // zeroed it in `calm`, but it sets `RAISED` after, so the next
        // call at 0 zeroes the gauge again.
        metrics::throttle(self.name, p, rejected);
        let bits = SEEN | RAISED | if rejected { REJECTING } else { 0 };
        // a load, and a write only when a bit is missing: an outage's
        // calls do not all write one word
        if self.shown.load(Ordering::Relaxed) & bits != bits {
            let before = self.shown.fetch_or(bits, Ordering::Relaxed);
            if rejected && before & REJECTING == 0 {
                self.warned.store(epoch, Ordering::Relaxed);
                log::throttle_rejecting(self.name, p, counts.requests, counts.accepts);
            }
        }
    }

    /// `try_acquire` computed the probability 0 and `shown` is not
    /// [`SEEN`] alone: the throttle's first call (the metrics' zeros), or
    /// its first at 0 since it raised its gauge (set it to 0) or rejected
    /// (the INFO line).
    ///
    /// The INFO line waits until a window has passed since the WARN (the
    /// throttle stays rejecting till then, its gauge at 0), so that one
    /// hovering about 0 (a dependency accepting about 1/K) logs at most a
    /// pair of lines a window.
    #[cold]
    #[inline(never)]
    fn calm(&self, epoch: u64) {
        let shown = self.shown.load(Ordering::Relaxed);
        let held = self
            .warned
            .load(Ordering::Relaxed)
            .saturating_add(BUCKETS as u64);
        if shown & REJECTING != 0 && epoch < held {
            if shown & RAISED != 0 && self.shown.fetch_and(!RAISED, Ordering::Relaxed) & RAISED != 0
            {
                metrics::throttle(self.name, 0.0, false);
            }
            return;
        }
        let before = self.shown.swap(SEEN, Ordering::Relaxed);
        if before & SEEN == 0 || before & RAISED != 0 {
            metrics::throttle(self.name, 0.0, false);
        }
        if before & REJECTING != 0 {
            log::throttle_stopped(self.name);
        }
    }

    /// The outcome of a call that was made: counts it as a request, and as
    /// an accept if `accepted`, true unless the dependency turned it away
    /// (a retriable failure: overloaded, timed out, unavailable). A loop
    /// of your own that only wants the statistics calls this alone.
    ///
    /// ```
    /// let t = retry_runtime::Throttle::new("t");
    /// t.record(true);
    /// t.record(false);
    /// let s = t.stats();
    /// assert_eq!((s.requests, s.accepts), (2, 1));
    /// ```
    pub fn record(&self, accepted: bool) {
        self.counts.add(self.epoch(), 1, u64::from(accepted));
    }

    /// The probability with which a call would be rejected now: `max(0,
    /// (requests - K × accepts) / (requests + padding))` over the window.
    ///
    /// ```
    /// let t = retry_runtime::Throttle::new("t");
    /// for _ in 0..12 { t.record(false); } // 12 requests, none accepted
    /// assert_eq!(t.probability(), 0.6); // 12 / (12 + 8)
    /// ```
    pub fn probability(&self) -> f64 {
        self.probability_of(self.counts.counts(self.epoch()))
    }

    fn probability_of(&self, counts: Counts) -> f64 {
        probability(counts, self.k, self.padding).min(self.max_probability)
    }

    /// The window's counts and the counters, for metrics.
    ///
    /// ```
    /// let t = retry_runtime::Throttle::new("t");
    /// assert!(t.try_acquire().is_ok());
    /// t.record(false);
    /// let s = t.stats();
    /// assert_eq!((s.requests, s.accepts, s.admitted, s.rejected), (1, 0, 1, 0));
    /// ```
    pub fn stats(&self) -> ThrottleStats {
        let counts = self.counts.counts(self.epoch());
        ThrottleStats {
            requests: counts.requests,
            accepts: counts.accepts,
            probability: self.probability_of(counts),
            admitted: self.admitted.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Forget every count. With the `metrics` feature, the
    /// `retry_throttle_probability` gauge is set to 0 (the rejections
    /// counter, a Prometheus counter, is not reset); a throttle that was
    /// rejecting calls logs that it stopped (the INFO line ``throttle
    /// `{name}` stopped rejecting calls``), as when its probability comes
    /// back to 0 by itself.
    ///
    /// ```
    /// let t = retry_runtime::Throttle::new("t");
    /// t.record(true);
    /// t.reset();
    /// assert_eq!(t.stats().requests, 0);
    /// ```
    pub fn reset(&self) {
        self.counts.clear();
        self.admitted.store(0, Ordering::Relaxed);
        self.rejected.store(0, Ordering::Relaxed);
        metrics::throttle(self.name, 0.0, false);
        if self.shown.swap(SEEN, Ordering::Relaxed) & REJECTING != 0 {
            log::throttle_stopped(self.name);
        }
    }

    fn epoch(&self) -> u64 {
        let ms = u64::try_from(self.clock.now().as_millis()).unwrap_or(u64::MAX);
        ms / self.bucket_ms
    }
}

/// The SRE book's rejection probability, its denominator padded.
fn probability(counts: Counts, k: f64, padding: f64) -> f64 {
    let requests = counts.requests as f64;
    let excess = requests - k * counts.accepts as f64;
    if excess <= 0.0 {
        0.0
    } else {
        // (at most 1: excess <= requests, and padding >= 0)
        excess / (requests + padding)
    }
}

impl fmt::Debug for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("name", &self.name)
            .field("k", &self.k)
            .field("padding", &self.padding)
            .field("max_probability", &self.max_probability)
            .field("window", &self.window)
            .field("probability", &self.probability())
            .finish_non_exhaustive()
    }
}

/// A snapshot of a [`Throttle`], from [`Throttle::stats`].
///
/// ```
/// let s = retry_runtime::Throttle::new("t").stats();
/// assert_eq!((s.requests, s.accepts, s.probability), (0, 0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ThrottleStats {
    /// Requests counted in the window: the calls rejected and the outcomes
    /// [recorded](Throttle::record) (a call let through and dropped before
    /// its outcome is not one).
    pub requests: u64,
    /// Accepts counted in the window.
    pub accepts: u64,
    /// The rejection probability now.
    pub probability: f64,
    /// Calls [`try_acquire`](Throttle::try_acquire) let through, ever
    /// (made or not: a call dropped, or turned away by another guard,
    /// after it is counted here and nowhere else).
    pub admitted: u64,
    /// Calls rejected locally, ever.
    pub rejected: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn the_formula() {
        let c = |requests, accepts| Counts { requests, accepts };
        assert_eq!(probability(c(0, 0), 2.0, 8.0), 0.0);
        assert_eq!(probability(c(100, 50), 2.0, 8.0), 0.0);
        assert_eq!(probability(c(100, 0), 2.0, 1.0), 100.0 / 101.0);
        assert_eq!(probability(c(100, 10), 2.0, 1.0), 80.0 / 101.0);
        assert_eq!(probability(c(100, 10), 1.0, 1.0), 90.0 / 101.0);
        assert_eq!(probability(c(100, 10), 2.0, 8.0), 80.0 / 108.0);
        assert_eq!(probability(c(1, 0), 2.0, 8.0), 1.0 / 9.0);
        assert_eq!(probability(c(1, 0), 2.0, 0.0), 1.0);
        assert!(probability(c(1, 0), 2.0, f64::MAX) < 1e-300);
        assert!(probability(c(u64::MAX, 0), 2.0, 0.0) <= 1.0);
        assert!(probability(c(u64::MAX, 0), 2.0, 8.0) <= 1.0);
    }

    /// An infinite K: the first call goes (a NaN probability rejected every
    /// call, for ever), and any accept stops the rejections.
    #[test]
    fn an_infinite_k_lets_calls_through() {
        let t = Throttle::new("t").with_k(f64::INFINITY);
        assert_eq!(t.probability(), 0.0);
        assert!(t.try_acquire().is_ok());
        t.record(true);
        for _ in 0..1000 {
            assert!(t.try_acquire().is_ok());
            t.record(false);
        }
        assert_eq!(t.stats().rejected, 0);
    }

    /// A call let through counts nothing until its outcome is recorded (a
    /// call dropped before it counts nothing at all); a call rejected
    /// counts at once, as a request not accepted.
    #[test]
    fn a_request_is_counted_with_its_outcome() {
        static CLOCK: ManualClock = ManualClock::new();
        let t = Throttle::new("t").with_clock(&CLOCK);
        for _ in 0..100 {
            assert!(t.try_acquire().is_ok());
        }
        let s = t.stats();
        assert_eq!((s.requests, s.accepts, s.admitted), (0, 0, 100), "{s:?}");
        assert_eq!(t.probability(), 0.0);
        t.record(false);
        t.record(true);
        let s = t.stats();
        assert_eq!((s.requests, s.accepts), (2, 1), "{s:?}");
        // nothing accepted among many: the rejections count as requests
        for _ in 0..1000 {
            t.record(false);
        }
        let before = t.stats().requests;
        let rejected = (0..100).filter(|_| t.try_acquire().is_err()).count() as u64;
        let s = t.stats();
        assert_eq!((s.requests, s.accepts), (before + rejected, 1), "{s:?}");
        assert_eq!(s.rejected, rejected);
    }

    #[test]
    fn a_healthy_dependency_is_never_throttled() {
        let t = Throttle::new("t");
        for _ in 0..10_000 {
            assert!(t.try_acquire().is_ok());
            t.record(true);
        }
        assert_eq!(t.stats().rejected, 0);
    }

    #[test]
    fn rejections_follow_the_probability() {
        static CLOCK: ManualClock = ManualClock::new();
        let t = Throttle::new("t").with_clock(&CLOCK);
        // 1000 requests, none accepted: p from 1000/1008 (0.992) up to
        // 2000/2008 for the next calls, 5.5 of 1000 let through on average
        // (20 or more: about 1e-6); the draws seeded, so the run repeats
        crate::jitter::Rng::seed_thread(1);
        for _ in 0..1000 {
            t.record(false);
        }
        let rejected = (0..1000).filter(|_| t.try_acquire().is_err()).count();
        assert!(rejected >= 980, "{rejected}");
        let e = t
            .try_acquire()
            .err()
            .or_else(|| t.try_acquire().err())
            .unwrap();
        assert_eq!(e.throttle, "t");
        assert!(e.probability > 0.99);
    }

    #[test]
    fn counts_slide_out_of_the_window() {
        static CLOCK: ManualClock = ManualClock::new();
        let t = Throttle::new("t")
            .with_window(Duration::from_secs(10))
            .with_clock(&CLOCK);
        for _ in 0..50 {
            t.record(false);
        }
        CLOCK.advance(Duration::from_secs(5));
        for _ in 0..50 {
            t.record(false);
        }
        assert_eq!(t.stats().requests, 100);
        CLOCK.advance(Duration::from_secs(5));
        assert_eq!(t.stats().requests, 50, "the first 50 slid out");
        CLOCK.advance(Duration::from_secs(5));
        assert_eq!(t.stats().requests, 0);
    }

    #[test]
    fn counts_from_2_pow_24_buckets_ago_do_not_come_back() {
        // A 10 ms window has 1 ms buckets: 2^24 of them are 4.7 hours.
        static CLOCK: ManualClock = ManualClock::new();
        let t = Throttle::new("t")
            .with_window(Duration::from_millis(10))
            .with_clock(&CLOCK);
        for _ in 0..1000 {
            t.record(false);
        }
        CLOCK.advance(Duration::from_millis(1 << 24));
        assert_eq!(t.stats().requests, 0);
        assert_eq!(t.probability(), 0.0);
    }

    #[test]
    fn window_and_k_are_clamped() {
        let t = Throttle::new("t")
            .with_window(Duration::ZERO)
            .with_k(f64::NAN);
        assert_eq!((t.window(), t.k()), (Duration::from_millis(10), 1.0));
        let t = Throttle::new("t").with_window(Duration::MAX);
        assert_eq!(t.window(), Duration::from_millis(u64::MAX));
        assert!(t.try_acquire().is_ok());
        // a bucket of more than u64::MAX ms is clamped, not truncated (to 0 here)
        let t = Throttle::new("t").with_window(Duration::from_secs(1 << 62));
        assert_eq!(t.window(), Duration::from_millis(u64::MAX));
    }

    /// The padding and the cap as their docs state: an infinite padding
    /// is `f64::MAX` (as an infinite K is), a cap above 1 or NaN is 1, and
    /// the getters give back what was set.
    #[test]
    fn padding_and_max_probability_are_clamped() {
        let padding = |p| Throttle::new("t").with_padding(p).padding();
        assert_eq!(padding(f64::INFINITY), f64::MAX);
        assert_eq!(padding(2.5), 2.5);
        assert_eq!(padding(f64::NEG_INFINITY), 0.0);
        let max = |m| Throttle::new("t").with_max_probability(m).max_probability();
        assert_eq!(max(0.9), 0.9);
        assert_eq!(max(1.5), 1.0);
        assert!(max(f64::NAN) == 1.0);
        assert_eq!(max(-0.5), 0.0);
    }
}
