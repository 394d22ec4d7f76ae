//! Backoff: how long to wait before each retry, before jitter.
//!
//! [`Backoff::delay`] is a pure function of the retry number (0 for the wait
//! before the first retry). It never exceeds the cap (growing waits stop
//! there) for every retry number up to `u32::MAX` and every `Duration`: it
//! never overflows, panics or yields NaN.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{backoff::Backoff, Policy};
//! let s = Duration::from_secs;
//! let backoff = Backoff::exponential(s(1), s(4));
//! assert_eq!((backoff.delay(0), backoff.delay(u32::MAX)), (s(1), s(4)));
//! let paused = retry_runtime::testing::pause(); // the waits are recorded, not slept
//! let r = Policy::new().with_max_attempts(4).with_backoff(backoff).retry(|| Err::<(), _>("down")).call();
//! assert_eq!(r, Err("down"));
//! assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
//! ```

use core::fmt;
use std::time::Duration;

use crate::policy_error::PolicyError;

/// How the wait grows from one retry to the next.
///
/// # Default
/// `Backoff::exponential(1s, 10s)` (factor 2): 1s, 2s, 4s, 8s, 10s, 10s, ...
///
/// # Example
/// ```
/// use std::time::Duration;
/// use retry_runtime::Backoff;
/// let s = Duration::from_secs;
///
/// let clip = Backoff::exponential(s(1), s(4));
/// assert_eq!(clip.iter().take(4).collect::<Vec<_>>(), [s(1), s(2), s(4), s(4)]);
///
/// // the background-job formula base * factor^retry_count
/// let job = Backoff::exponential(s(30), s(480)).with_factor(4.0);
/// assert_eq!(job.iter().take(3).collect::<Vec<_>>(), [s(30), s(120), s(480)]);
/// ```
///
/// It is `#[non_exhaustive]`: a later version may add a way to grow, so a
/// `match` on it has a `_` arm (its variants' fields stay open to read and
/// to build with).
///
/// ```compile_fail,E0004
/// use retry_runtime::Backoff;
/// fn grows(backoff: Backoff) -> bool {
///     match backoff {
///         Backoff::None | Backoff::Fixed(_) => false,
///         Backoff::Linear { .. } | Backoff::Exponential { .. } | Backoff::Fibonacci { .. } => true,
///         Backoff::Schedule(waits) => waits.len() > 1,
///     } // error[E0004]: `_` not covered
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
// A tag byte of its own: a retry asks `None`? `Fixed`? in two byte
// compares, where the niche in a `Duration`'s nanoseconds took six
// instructions (and a jump table for all five).
#[repr(u8)]
#[must_use = "a backoff does nothing until a policy uses it (`Policy::with_backoff`); `with_factor` returns the changed backoff"]
#[non_exhaustive]
pub enum Backoff {
    /// No wait at all.
    None,
    /// The same wait every time.
    Fixed(Duration),
    /// `start + step * n`, capped.
    Linear {
        /// The first wait.
        start: Duration,
        /// Added for each further retry.
        step: Duration,
        /// The longest wait.
        cap: Duration,
    },
    /// `first * factor^n`, capped.
    Exponential {
        /// The first wait.
        first: Duration,
        /// The longest wait.
        cap: Duration,
        /// The growth factor, at least 1.
        factor: f64,
    },
    /// `first * fib(n)`: first, first, 2*first, 3*first, 5*first, ..., capped.
    Fibonacci {
        /// The first wait.
        first: Duration,
        /// The longest wait.
        cap: Duration,
    },
    /// The waits written out, in order; the last repeats
    /// ([`Backoff::schedule`]).
    Schedule(&'static [Duration]),
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::DEFAULT
    }
}

impl Backoff {
    /// Exponential 1s..10s, factor 2.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Backoff;
    /// let s = Duration::from_secs;
    /// assert_eq!(Backoff::DEFAULT.iter().take(6).collect::<Vec<_>>(), [s(1), s(2), s(4), s(8), s(10), s(10)]);
    /// ```
    pub const DEFAULT: Backoff =
        Backoff::exponential(Duration::from_secs(1), Duration::from_secs(10));

    /// Always wait `d`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = retry_runtime::Backoff::fixed(Duration::from_millis(500));
    /// assert_eq!(b.delay(7), Duration::from_millis(500));
    /// ```
    pub const fn fixed(d: Duration) -> Backoff {
        Backoff::Fixed(d)
    }

    /// Wait `start`, then `start + step`, `start + 2*step`, ... up to `cap`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = Duration::from_secs;
    /// let b = retry_runtime::Backoff::linear(s(1), s(2), s(4));
    /// assert_eq!(b.iter().take(4).collect::<Vec<_>>(), [s(1), s(3), s(4), s(4)]);
    /// ```
    pub const fn linear(start: Duration, step: Duration, cap: Duration) -> Backoff {
        Backoff::Linear { start, step, cap }
    }

    /// Wait `first`, then double it each time up to `cap`. Change the factor
    /// with [`with_factor`](Backoff::with_factor). The cap is the
    /// backoff's: a jitter that adds to a wait (`+1s`, `+25%`:
    /// [`Jitter::Plus`](crate::Jitter::Plus), [`Jitter::Proportional`](crate::Jitter::Proportional))
    /// can take the wait past it (the `job` preset's 8m, +0..25%, waits up to
    /// 10m); `full`, `equal` and `decorrelated` stay at or under it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = Duration::from_secs;
    /// let b = retry_runtime::Backoff::exponential(s(1), s(10));
    /// assert_eq!(b.iter().take(5).collect::<Vec<_>>(), [s(1), s(2), s(4), s(8), s(10)]);
    /// ```
    pub const fn exponential(first: Duration, cap: Duration) -> Backoff {
        Backoff::Exponential {
            first,
            cap,
            factor: 2.0,
        }
    }

    /// Wait `first * fib(n)` up to `cap`: 1, 1, 2, 3, 5, 8, ... times `first`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = Duration::from_secs;
    /// let b = retry_runtime::Backoff::fibonacci(s(1), s(6));
    /// assert_eq!(b.iter().take(6).collect::<Vec<_>>(), [s(1), s(1), s(2), s(3), s(5), s(6)]);
    /// ```
    pub const fn fibonacci(first: Duration, cap: Duration) -> Backoff {
        Backoff::Fibonacci { first, cap }
    }

    /// Wait each of `waits` in turn, then the last one again for every
    /// further retry: a schedule of your own (tenacity's `wait_chain`, a
    /// job queue's 1m, 5m, 30m, 2h; `#[retry(backoff = "schedule(1m, 5m,
    /// 30m, 2h)")]`). [`validate`](Backoff::validate) and
    /// [`Policy::build`](crate::Policy::build) take 1 to 32 waits, not all
    /// zero, and `build` an attempt limit that reaches the last one
    /// (`attempts` = the waits + 1, or more), and no decorrelated jitter
    /// (which draws waits of its own; `+25%`, `full` and `equal` spread
    /// each of the schedule's).
    ///
    /// The slice lives as long as the program: a `const` or `static`
    /// policy's `&[..]` is one, as is `&const { [..] }` in a function (a
    /// plain `&[..]` of `Duration::from_secs(..)` there is a temporary).
    /// A schedule read from text (`"schedule(1s, 5s)".parse()`, a
    /// configuration file) is kept for the program's life, once per
    /// distinct list of waits.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Backoff, Policy};
    /// let m = |n: u64| Duration::from_secs(60 * n);
    /// const JOB: Policy = Policy::new()
    ///     .with_max_attempts(5)
    ///     .with_backoff(Backoff::schedule(&[
    ///         Duration::from_secs(60),
    ///         Duration::from_secs(300),
    ///         Duration::from_secs(1800),
    ///     ]))
    ///     .checked();
    /// let waits: Vec<_> = JOB.backoff().iter().take(5).collect();
    /// assert_eq!(waits, [m(1), m(5), m(30), m(30), m(30)]);
    /// ```
    pub const fn schedule(waits: &'static [Duration]) -> Backoff {
        Backoff::Schedule(waits)
    }

    /// Set the growth factor of an exponential backoff (no effect on other kinds).
    /// A factor below 1, NaN or infinite, is rejected by [`Backoff::validate`] and by
    /// [`Policy::build`](crate::Policy::build).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = retry_runtime::Backoff::exponential(Duration::from_secs(1), Duration::from_secs(100))
    ///     .with_factor(3.0);
    /// assert_eq!(b.delay(2), Duration::from_secs(9));
    /// ```
    pub const fn with_factor(self, factor: f64) -> Backoff {
        match self {
            Backoff::Exponential { first, cap, .. } => Backoff::Exponential { first, cap, factor },
            other => other,
        }
    }

    /// The first un-jittered wait (the base of decorrelated jitter): the
    /// smallest, but for a schedule, whose waits are as written
    /// (`schedule(5m, 1s)` starts at 5m).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = retry_runtime::Backoff::exponential(Duration::from_secs(1), Duration::from_secs(9));
    /// assert_eq!(b.first(), Duration::from_secs(1));
    /// ```
    pub const fn first(&self) -> Duration {
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Fixed(d) => d,
            Backoff::Linear { start, .. } => start,
            Backoff::Exponential { first, .. } | Backoff::Fibonacci { first, .. } => first,
            Backoff::Schedule(waits) => match waits.first() {
                Some(first) => *first,
                None => Duration::ZERO,
            },
        }
    }

    /// The largest un-jittered wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = retry_runtime::Backoff::exponential(Duration::from_secs(1), Duration::from_secs(9));
    /// assert_eq!(b.cap(), Duration::from_secs(9));
    /// ```
    pub const fn cap(&self) -> Duration {
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Fixed(d) => d,
            Backoff::Linear { cap, .. }
            | Backoff::Exponential { cap, .. }
            | Backoff::Fibonacci { cap, .. } => cap,
            Backoff::Schedule(waits) => longest(waits),
        }
    }

    /// Check the values: the first wait must not exceed the cap, an
    /// exponential factor must be a finite number >= 1, and a growing backoff
    /// must grow from something (an exponential or fibonacci backoff starting
    /// at zero, a linear one with zero start and step or a zero cap: say
    /// [`Backoff::None`] for that), and a schedule must list 1 to 32 waits,
    /// not all zero. `Fixed(Duration::ZERO)` is valid here, a
    /// retry at once, as [`Backoff::None`] is (`#[retry]` refuses
    /// `"fixed(0s)"` and asks for `"none"`, which says it plainly).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Backoff;
    /// let s = Duration::from_secs;
    /// assert!(Backoff::exponential(s(1), s(4)).validate().is_ok());
    /// assert!(Backoff::exponential(s(5), s(4)).validate().is_err());
    /// assert!(Backoff::exponential(s(1), s(4)).with_factor(0.5).validate().is_err());
    /// ```
    pub const fn validate(&self) -> Result<(), PolicyError> {
        match *self {
            Backoff::None | Backoff::Fixed(_) => Ok(()),
            Backoff::Schedule(waits) if waits.is_empty() || waits.len() > MAX_SCHEDULE => {
                Err(PolicyError::ScheduleLength)
            }
            Backoff::Schedule(waits) if longest(waits).is_zero() => Err(PolicyError::ZeroDelays),
            Backoff::Schedule(_) => Ok(()),
            Backoff::Exponential { factor, .. }
                if factor.is_nan() || factor.is_infinite() || factor < 1.0 =>
            {
                Err(PolicyError::FactorBelowOne)
            }
            // Every wait would be zero: a misconfiguration (say `Backoff::None`).
            Backoff::Exponential { first, .. } | Backoff::Fibonacci { first, .. }
                if first.is_zero() =>
            {
                Err(PolicyError::ZeroDelays)
            }
            Backoff::Linear {
                start, step, cap, ..
            } if (start.is_zero() && step.is_zero()) || cap.is_zero() => {
                Err(PolicyError::ZeroDelays)
            }
            Backoff::Linear {
                start: first, cap, ..
            }
            | Backoff::Exponential { first, cap, .. }
            | Backoff::Fibonacci { first, cap } => {
                if first.as_nanos() > cap.as_nanos() {
                    Err(PolicyError::FirstAboveCap)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The wait before retry number `retry` (0-based: `delay(0)` is the wait
    /// after the first failed attempt). Saturates at the cap; a schedule
    /// repeats its last wait, which need not be its longest.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = retry_runtime::Backoff::exponential(Duration::from_secs(1), Duration::from_secs(4));
    /// assert_eq!(b.delay(0), Duration::from_secs(1));
    /// assert_eq!(b.delay(u32::MAX), Duration::from_secs(4));
    /// ```
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn delay(&self, retry: u32) -> Duration {
        // The two waits that need no arithmetic stay inline in the retry
        // loop, as two tests of the tag byte: a `match` of all five made a
        // jump table, for `Backoff::None` too.
        if let Backoff::None = self {
            return Duration::ZERO;
        }
        if let Backoff::Fixed(d) = self {
            return *d;
        }
        self.grown(retry)
    }

    /// [`delay`](Backoff::delay) of the waits that grow with the retry
    /// (out of line: each has arithmetic of its own).
    #[inline(never)]
    fn grown(&self, retry: u32) -> Duration {
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Fixed(d) => d,
            Backoff::Linear { start, step, cap } => linear(start, step, cap, retry),
            Backoff::Exponential { first, cap, factor } => exponential(first, cap, factor, retry),
            Backoff::Fibonacci { first, cap } => fibonacci(first, cap, retry),
            Backoff::Schedule(waits) => scheduled(waits, retry),
        }
    }

    /// The waits as an endless iterator: `delay(0)`, `delay(1)`, ...
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = retry_runtime::Backoff::fixed(Duration::from_secs(1));
    /// assert_eq!(b.iter().take(2).count(), 2);
    /// ```
    pub fn iter(&self) -> Delays {
        Delays {
            backoff: *self,
            next: 0,
        }
    }
}

/// `start + step * retry`, capped, without overflow for any input.
#[inline(never)]
fn linear(start: Duration, step: Duration, cap: Duration, retry: u32) -> Duration {
    let grown = step
        .checked_mul(retry)
        .and_then(|s| s.checked_add(start))
        .unwrap_or(cap);
    grown.min(cap).max(start.min(cap))
}

/// `first * factor^retry`, capped, without overflow for any input.
#[inline(never)]
fn exponential(first: Duration, cap: Duration, factor: f64, retry: u32) -> Duration {
    if first >= cap {
        return cap;
    }
    // factor is validated to be >= 1; be defensive for a policy that skipped validation.
    if first.is_zero() || factor.is_nan() || factor <= 1.0 || retry == 0 {
        return first;
    }
    // Exact for integer factors while the result stays below 2^53 ns (104 days);
    // past the cap the exact value no longer matters.
    let exp = i32::try_from(retry).unwrap_or(i32::MAX);
    let nanos = first.as_nanos() as f64 * factor.powi(exp);
    if nanos.is_nan() || nanos >= cap.as_nanos() as f64 {
        return cap;
    }
    // nanos < cap <= u64::MAX secs, so the conversion is in range.
    let whole = nanos as u128;
    let secs = (whole / 1_000_000_000) as u64;
    Duration::new(secs, (whole % 1_000_000_000) as u32).min(cap)
}

/// `first * fib(retry + 1)`, capped; at most ~140 steps before any value passes any cap.
#[inline(never)]
fn fibonacci(first: Duration, cap: Duration, retry: u32) -> Duration {
    if first.is_zero() || first >= cap {
        return first.min(cap);
    }
    let (mut a, mut b) = (first, first);
    for _ in 0..retry {
        if a >= cap {
            return cap;
        }
        let next = a.checked_add(b).unwrap_or(Duration::MAX);
        a = b;
        b = next;
    }
    a.min(cap)
}

/// The most waits [`Backoff::schedule`] takes (as `#[retry]`'s
/// `schedule(..)`: the last repeats, so a longer run needs no more).
pub(crate) const MAX_SCHEDULE: usize = retry_dsl::MAX_SCHEDULE;

/// Wait `retry` of a schedule: its own, or the last one past the end (zero
/// for an empty schedule, which `validate` refuses).
#[inline(never)]
fn scheduled(waits: &[Duration], retry: u32) -> Duration {
    let at = usize::try_from(retry).unwrap_or(usize::MAX);
    match waits.get(at).or(waits.last()) {
        Some(wait) => *wait,
        None => Duration::ZERO,
    }
}

/// The longest of `waits` (zero for none).
const fn longest(waits: &[Duration]) -> Duration {
    let mut longest = Duration::ZERO;
    let mut i = 0;
    while i < waits.len() {
        if waits[i].as_nanos() > longest.as_nanos() {
            longest = waits[i];
        }
        i += 1;
    }
    longest
}

/// The endless iterator of a [`Backoff`]'s un-jittered waits.
///
/// ```
/// use std::time::Duration;
/// let mut it = retry_runtime::Backoff::fixed(Duration::from_secs(1)).iter();
/// assert_eq!(it.next(), Some(Duration::from_secs(1)));
/// ```
#[derive(Clone, Debug)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Delays {
    backoff: Backoff,
    next: u32,
}

impl Iterator for Delays {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = self.backoff.delay(self.next);
        self.next = self.next.saturating_add(1);
        Some(d)
    }
}

/// In `#[retry]`'s grammar, which [`str::parse`](Backoff#impl-FromStr-for-Backoff)
/// reads back to the same backoff (`exp(1s, 4s)`, `linear(250ms, 1s)`,
/// `fixed(1500ms)`): a backoff logged can go into a configuration file.
/// Every backoff [`validate`](Backoff::validate) accepts reads back, except
/// a linear one whose step is not its start (`linear(1s + 2s*n, cap 10s)`)
/// and `fixed(0s)` (write `none`); a schedule reads back as its waits
/// (`schedule(1m, 5m, 30m)`).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::Backoff;
/// let b = Backoff::exponential(Duration::from_millis(1500), Duration::from_secs(120));
/// assert_eq!(b.to_string(), "exp(1500ms, 2m)");
/// assert_eq!(b.to_string().parse(), Ok(b));
/// ```
impl fmt::Display for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use retry_dsl::BackoffSpec as Spec;
        // retry-dsl's printer, which its parser reads back; one form of
        // ours has no words in the grammar
        let spec = match *self {
            Backoff::None => Spec::None,
            Backoff::Fixed(delay) => Spec::Fixed(delay),
            Backoff::Linear { start, step, cap } if step == start => Spec::Linear { start, cap },
            Backoff::Linear { start, step, cap } => {
                let d = retry_dsl::format_duration;
                return write!(f, "linear({} + {}*n, cap {})", d(start), d(step), d(cap));
            }
            Backoff::Exponential { first, cap, factor } => Spec::Exp { first, cap, factor },
            Backoff::Fibonacci { first, cap } => Spec::Fib { first, cap },
            Backoff::Schedule(waits) => match retry_dsl::Schedule::new(waits) {
                Some(schedule) => Spec::Schedule(schedule),
                // (one `validate` refuses: printed as the grammar would)
                None => return f.write_str(&retry_dsl::format_schedule(waits)),
            },
        };
        spec.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }
    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }
    fn first_n(b: Backoff, n: usize) -> Vec<Duration> {
        b.iter().take(n).collect()
    }

    #[test]
    fn a_schedule_waits_as_written_then_its_last() {
        static WAITS: [Duration; 3] = [
            Duration::from_secs(60),
            Duration::from_secs(5),
            Duration::from_secs(1800),
        ];
        let b = Backoff::schedule(&WAITS);
        assert_eq!(first_n(b, 5), [s(60), s(5), s(1800), s(1800), s(1800)]);
        assert_eq!(
            (b.first(), b.cap(), b.delay(u32::MAX)),
            (s(60), s(1800), s(1800))
        );
        assert_eq!(b.validate(), Ok(()));
        assert_eq!(b.to_string(), "schedule(1m, 5s, 30m)");
        assert_eq!(b.to_string().parse(), Ok(b));
        // what `validate` refuses: no wait, only zeros, more than 32
        assert_eq!(
            Backoff::schedule(&[]).validate(),
            Err(PolicyError::ScheduleLength)
        );
        assert_eq!(Backoff::schedule(&[]).delay(3), Duration::ZERO);
        assert_eq!(
            Backoff::schedule(&[Duration::ZERO; 2]).validate(),
            Err(PolicyError::ZeroDelays)
        );
        static LONG: [Duration; 33] = [Duration::from_secs(1); 33];
        assert_eq!(
            Backoff::schedule(&LONG).validate(),
            Err(PolicyError::ScheduleLength)
        );
        // printed whatever its length, in the grammar's form
        assert_eq!(Backoff::schedule(&[]).to_string(), "schedule()");
        assert!(Backoff::schedule(&LONG).to_string().ends_with(", 1s)"));
    }

    #[test]
    fn a_parsed_schedule_is_kept_once_per_list() {
        let a: Backoff = "schedule(3s, 7s)".parse().unwrap();
        let b: Backoff = " schedule( 3s ,7000ms ) ".parse().unwrap();
        let (Backoff::Schedule(a), Backoff::Schedule(b)) = (a, b) else {
            panic!("{a:?} {b:?}")
        };
        assert_eq!(a, [s(3), s(7)]);
        assert!(core::ptr::eq(a, b), "one copy for the same waits");
        let Ok(Backoff::Schedule(c)) = "schedule(3s)".parse() else {
            panic!()
        };
        assert!(!core::ptr::eq(a, c));
    }

    #[test]
    fn exact_sequences() {
        assert_eq!(first_n(Backoff::None, 3), [Duration::ZERO; 3]);
        assert_eq!(first_n(Backoff::fixed(ms(500)), 3), [ms(500); 3]);
        assert_eq!(
            first_n(Backoff::linear(s(1), s(1), s(3)), 5),
            [s(1), s(2), s(3), s(3), s(3)]
        );
        assert_eq!(
            first_n(Backoff::exponential(s(1), s(4)), 5),
            [s(1), s(2), s(4), s(4), s(4)]
        );
        assert_eq!(
            first_n(Backoff::exponential(s(30), s(480)).with_factor(4.0), 4),
            [s(30), s(120), s(480), s(480)]
        );
        assert_eq!(
            first_n(Backoff::exponential(ms(500), s(10)), 6),
            [ms(500), s(1), s(2), s(4), s(8), s(10)]
        );
        assert_eq!(
            first_n(Backoff::exponential(s(2), s(100)).with_factor(1.5), 3),
            [s(2), s(3), ms(4500)]
        );
        assert_eq!(
            first_n(Backoff::fibonacci(s(1), s(30)), 10),
            [
                s(1),
                s(1),
                s(2),
                s(3),
                s(5),
                s(8),
                s(13),
                s(21),
                s(30),
                s(30)
            ]
        );
        assert_eq!(
            first_n(Backoff::exponential(s(1), s(1)).with_factor(1.0), 3),
            [s(1); 3]
        );
    }

    #[test]
    fn saturates_at_extremes() {
        let max = Duration::MAX;
        for b in [
            Backoff::exponential(s(1), max),
            Backoff::exponential(Duration::from_nanos(1), max).with_factor(1e300),
            Backoff::linear(s(1), max, max),
            Backoff::fibonacci(s(1), max),
            Backoff::fibonacci(Duration::from_nanos(1), max),
            Backoff::exponential(max, max),
        ] {
            for r in [0, 1, 2, 63, 64, 65, 1000, u32::MAX - 1, u32::MAX] {
                let d = b.delay(r);
                assert!(d <= b.cap(), "{b}: delay({r}) = {d:?}");
                assert!(d >= b.first().min(b.cap()), "{b}: delay({r}) = {d:?}");
            }
            assert_eq!(b.delay(u32::MAX), b.cap(), "{b}");
        }
    }

    #[test]
    fn zero_first_delay() {
        assert_eq!(
            Backoff::exponential(Duration::ZERO, s(4)).delay(10),
            Duration::ZERO
        );
        assert_eq!(
            Backoff::fibonacci(Duration::ZERO, s(4)).delay(10),
            Duration::ZERO
        );
        assert_eq!(Backoff::linear(Duration::ZERO, s(1), s(4)).delay(2), s(2));
    }

    #[test]
    fn invalid_values_are_reported_and_never_panic() {
        assert_eq!(
            Backoff::exponential(s(5), s(1)).validate(),
            Err(PolicyError::FirstAboveCap)
        );
        assert_eq!(
            Backoff::fibonacci(s(5), s(1)).validate(),
            Err(PolicyError::FirstAboveCap)
        );
        assert_eq!(
            Backoff::linear(s(5), s(1), s(1)).validate(),
            Err(PolicyError::FirstAboveCap)
        );
        // a zero cap: every wait is zero, whatever the step
        let zero_cap = Backoff::linear(Duration::ZERO, s(1), Duration::ZERO);
        assert_eq!(zero_cap.validate(), Err(PolicyError::ZeroDelays));
        assert_eq!(zero_cap.delay(3), Duration::ZERO);
        for f in [0.5, -1.0, f64::NAN, f64::NEG_INFINITY] {
            let b = Backoff::exponential(s(1), s(4)).with_factor(f);
            assert_eq!(b.validate(), Err(PolicyError::FactorBelowOne), "{f}");
            // unvalidated: still no panic, stays within [first, cap]
            for r in [0, 1, 5, u32::MAX] {
                assert_eq!(b.delay(r), s(1));
            }
        }
        // cap below first, unvalidated: the cap wins
        assert_eq!(Backoff::exponential(s(5), s(1)).delay(3), s(1));
        assert_eq!(Backoff::fibonacci(s(5), s(1)).delay(3), s(1));
        assert_eq!(Backoff::linear(s(5), s(1), s(1)).delay(3), s(1));
        // an infinite factor is invalid; unvalidated it goes straight to the cap
        assert_eq!(
            Backoff::exponential(s(1), s(4))
                .with_factor(f64::INFINITY)
                .validate(),
            Err(PolicyError::FactorBelowOne)
        );
        assert_eq!(
            Backoff::exponential(s(1), s(4))
                .with_factor(f64::INFINITY)
                .delay(1),
            s(4)
        );
    }

    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (0u64..=10_000_000_000).prop_map(Duration::from_nanos),
            (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        ]
    }

    fn any_backoff() -> impl Strategy<Value = Backoff> {
        prop_oneof![
            Just(Backoff::None),
            any_duration().prop_map(Backoff::fixed),
            (any_duration(), any_duration(), any_duration())
                .prop_map(|(a, b, c)| Backoff::linear(a, b, c)),
            (any_duration(), any_duration(), any::<f64>())
                .prop_map(|(a, b, f)| Backoff::exponential(a, b).with_factor(f)),
            (any_duration(), any_duration()).prop_map(|(a, b)| Backoff::fibonacci(a, b)),
            // (kept for the test's life, as a parsed schedule is)
            prop::collection::vec(any_duration(), 0..40)
                .prop_map(|w| Backoff::schedule(Box::leak(w.into_boxed_slice()))),
        ]
    }

    proptest! {
        #[test]
        fn delay_never_panics_and_stays_in_bounds(b in any_backoff(), r in any::<u32>()) {
            let d = b.delay(r);
            prop_assert!(d <= b.cap().max(b.first()));
            if let Backoff::Schedule(waits) = b {
                // its own wait, or the last one's
                let at = (r as usize).min(waits.len().saturating_sub(1));
                prop_assert_eq!(d, waits.get(at).copied().unwrap_or_default());
            } else if b.validate().is_ok() {
                prop_assert!(d <= b.cap());
                prop_assert!(d >= b.first());
            }
        }

        /// (but for a schedule, whose waits are the ones written)
        #[test]
        fn valid_backoffs_never_shrink(b in any_backoff(), r in 0u32..200) {
            prop_assume!(b.validate().is_ok() && !matches!(b, Backoff::Schedule(_)));
            prop_assert!(b.delay(r) <= b.delay(r + 1));
        }
    }
}
