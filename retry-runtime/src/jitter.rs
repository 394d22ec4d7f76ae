//! Jitter: randomness added to a backoff's waits so that many clients that
//! failed together do not retry together.
//!
//! The random numbers come from [`Rng`], a wyrand generator: a few
//! nanoseconds a draw, no allocation, and one state per thread (no lock).
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{testing, Backoff, Jitter, Policy};
//! let s = Duration::from_secs;
//! let policy = Policy::new().with_max_attempts(4).with_backoff(Backoff::exponential(s(1), s(8)));
//! let paused = testing::pause();
//! assert!(policy.with_jitter(Jitter::Equal).retry(|| Err::<(), _>("down")).call().is_err());
//! let waits = paused.waits(); // each in [d/2, d] of the backoff's 1s, 2s, 4s
//! assert_eq!(waits.len(), 3);
//! for (wait, d) in waits.into_iter().zip([s(1), s(2), s(4)]) {
//!     assert!(wait >= d / 2 && wait <= d, "{wait:?}");
//! }
//! ```

use core::cell::Cell;
use core::fmt;
use std::time::Duration;

use crate::backoff::Backoff;

/// How to randomize a wait `d` computed by the [`Backoff`].
///
/// | jitter | wait is uniform in |
/// |---|---|
/// | `None` (default) | exactly `d` |
/// | `Full` | `[0, d]` |
/// | `Equal` | `[d/2, d]` |
/// | `Decorrelated` | `[first, min(cap, 3 * max(first, previous wait))]` (AWS; `first`/`cap` of the backoff; the first retry's in `[first, min(cap, 3 * first)]`; with `Policy::decide`, below) |
/// | `Plus(x)` | `[d, d + x]` |
/// | `Proportional(p)` | `[d, d + d * p / 100]` |
///
/// Only `Decorrelated` depends on the previous wait. A run keeps the wait
/// it made; [`Policy::decide`](crate::Policy::decide), told only the
/// retries made, takes the previous wait to be the backoff's un-jittered
/// wait for the previous retry, so retry `n` of a persisted schedule is
/// drawn from `[first, min(cap, 3 * max(first, b))]`, `b` the backoff's
/// wait for retry `n - 1` (zero for the first): its waits follow the
/// backoff, where a run's wander with its own draws. Storing the previous
/// wait and handing it back is not supported.
///
/// # Default
/// `Jitter::None`, so that waits are exactly the backoff's.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Backoff, Jitter, jitter::Rng};
/// let backoff = Backoff::fixed(Duration::from_secs(2));
/// let mut rng = Rng::with_seed(7);
/// let d = Jitter::Full.apply(Duration::from_secs(2), Duration::ZERO, &backoff, &mut rng);
/// assert!(d <= Duration::from_secs(2));
/// ```
///
/// It is `#[non_exhaustive]`: a later version may add a way to spread the
/// waits, so a `match` on it has a `_` arm.
///
/// ```compile_fail,E0004
/// use retry_runtime::Jitter;
/// fn random(jitter: Jitter) -> bool {
///     match jitter {
///         Jitter::None => false,
///         Jitter::Full | Jitter::Equal | Jitter::Decorrelated => true,
///         Jitter::Plus(_) | Jitter::Proportional(_) => true,
///     } // error[E0004]: `_` not covered
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// No randomness: the wait is exactly the backoff's.
    #[default]
    None,
    /// Uniform in `[0, d]`.
    Full,
    /// Uniform in `[d/2, d]`.
    Equal,
    /// AWS's decorrelated jitter: uniform in `[first, 3 * previous wait]`,
    /// capped, the previous wait taken to be `first` before the first retry
    /// (so the first retries of clients that failed together are spread
    /// too). It needs a backoff whose first wait is below its cap:
    /// [`Policy::build`](crate::Policy::build) refuses it with a fixed one.
    Decorrelated,
    /// `d` plus a uniform extra in `[0, x]`.
    Plus(Duration),
    /// `d` plus a uniform extra in `[0, d * percent / 100]`.
    Proportional(u32),
}

impl Jitter {
    /// The smallest and largest wait this jitter can produce from `delay`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Backoff, Jitter};
    /// let s = Duration::from_secs;
    /// let b = Backoff::fixed(s(4));
    /// assert_eq!(Jitter::Equal.bounds(s(4), Duration::ZERO, &b), (s(2), s(4)));
    /// assert_eq!(Jitter::Proportional(25).bounds(s(4), Duration::ZERO, &b), (s(4), s(5)));
    /// ```
    pub fn bounds(
        self,
        delay: Duration,
        previous: Duration,
        backoff: &Backoff,
    ) -> (Duration, Duration) {
        match self {
            Jitter::None => (delay, delay),
            Jitter::Full => (Duration::ZERO, delay),
            Jitter::Equal => (delay / 2, delay),
            Jitter::Decorrelated => {
                let cap = backoff.cap();
                let base = backoff.first().min(cap);
                // AWS starts its `sleep` at `base`: the first retry is drawn
                // from `[base, 3 * base]` too, not at `base` for every client.
                let grown = previous.max(base).checked_mul(3).unwrap_or(Duration::MAX);
                (base, grown.min(cap))
            }
            Jitter::Plus(extra) => (delay, delay.saturating_add(extra)),
            Jitter::Proportional(percent) => {
                let extra = delay.as_nanos().saturating_mul(u128::from(percent)) / 100;
                (delay, add_nanos(delay, extra))
            }
        }
    }

    /// A random wait within [`bounds`](Jitter::bounds). `previous` is the wait
    /// actually slept before the last attempt (zero before the first retry);
    /// only `Decorrelated` uses it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Backoff, Jitter, jitter::Rng};
    /// let b = Backoff::exponential(Duration::from_secs(1), Duration::from_secs(8));
    /// let mut rng = Rng::with_seed(1);
    /// let d = Jitter::Plus(Duration::from_secs(1)).apply(b.delay(0), Duration::ZERO, &b, &mut rng);
    /// assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(2));
    /// ```
    #[inline]
    pub fn apply(
        self,
        delay: Duration,
        previous: Duration,
        backoff: &Backoff,
        rng: &mut Rng,
    ) -> Duration {
        if self == Jitter::None {
            return delay;
        }
        let (lo, hi) = self.bounds(delay, previous, backoff);
        let span = hi.as_nanos().saturating_sub(lo.as_nanos());
        add_nanos(lo, rng.below_inclusive(span))
    }
}

fn add_nanos(d: Duration, nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    let extra = Duration::new(secs, (nanos % 1_000_000_000) as u32);
    d.saturating_add(extra)
}

/// In `#[retry]`'s grammar, which [`str::parse`](Jitter#impl-FromStr-for-Jitter)
/// reads back to the same jitter (`full`, `+1500ms`, `+25%`), except the
/// values it cannot make (`+0s`, `+0%`, a percent above 1000).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::Jitter;
/// let j = Jitter::Plus(Duration::from_micros(500));
/// assert_eq!(j.to_string(), "+0.5ms");
/// assert_eq!(j.to_string().parse(), Ok(j));
/// ```
impl fmt::Display for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use retry_dsl::JitterSpec as Spec;
        // retry-dsl's printer, which its parser reads back
        let spec = match *self {
            Jitter::None => Spec::None,
            Jitter::Full => Spec::Full,
            Jitter::Equal => Spec::Equal,
            Jitter::Decorrelated => Spec::Decorrelated,
            Jitter::Plus(added) => Spec::Plus(added),
            Jitter::Proportional(percent) => Spec::Percent(percent),
        };
        spec.fmt(f)
    }
}

/// A small, fast pseudo-random generator (wyrand). Not for cryptography.
///
/// Each thread has its own, seeded from the standard library's per-process
/// random keys; use [`Rng::with_seed`] for a reproducible sequence (simulations).
///
/// ```
/// use retry_runtime::jitter::Rng;
/// let mut a = Rng::with_seed(42);
/// let mut b = Rng::with_seed(42);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed.
    ///
    /// ```
    /// let mut r = retry_runtime::jitter::Rng::with_seed(3);
    /// assert!(r.below_inclusive(10) <= 10);
    /// ```
    #[must_use]
    pub const fn with_seed(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    ///
    /// ```
    /// let mut r = retry_runtime::jitter::Rng::with_seed(3);
    /// assert_ne!(r.next_u64(), r.next_u64());
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xe703_7ed1_a0b4_28db);
        (t >> 64) as u64 ^ t as u64
    }

    /// A uniform number in `[0, 1)`.
    ///
    /// ```
    /// let x = retry_runtime::jitter::Rng::with_seed(9).next_f64();
    /// assert!((0.0..1.0).contains(&x));
    /// ```
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A number in `[0, max]`. Up to `u64::MAX`, Lemire's multiply-shift
    /// without rejection: a value's chance is off from uniform by at most
    /// `(max + 1) / 2^64` of itself (about 5e-10 for ten seconds counted in
    /// nanoseconds); above it, a 128-bit remainder.
    ///
    /// ```
    /// let mut r = retry_runtime::jitter::Rng::with_seed(5);
    /// assert_eq!(r.below_inclusive(0), 0);
    /// ```
    pub fn below_inclusive(&mut self, max: u128) -> u128 {
        if max == 0 {
            return 0;
        }
        if let Ok(m) = u64::try_from(max) {
            if m == u64::MAX {
                return u128::from(self.next_u64());
            }
            // Lemire's multiply-shift: unbiased enough for jitter, no division.
            return (u128::from(self.next_u64()) * u128::from(m + 1)) >> 64;
        }
        let wide = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        match max.checked_add(1) {
            Some(n) => wide % n,
            None => wide,
        }
    }

    /// Run `f` with this thread's generator.
    ///
    /// ```
    /// let x = retry_runtime::jitter::Rng::with_thread(|r| r.next_u64());
    /// let y = retry_runtime::jitter::Rng::with_thread(|r| r.next_u64());
    /// assert_ne!(x, y);
    /// ```
    pub fn with_thread<R>(f: impl FnOnce(&mut Rng) -> R) -> R {
        THREAD_RNG.with(|cell| {
            let mut rng = Rng(cell.get());
            let out = f(&mut rng);
            cell.set(rng.0);
            out
        })
    }
}

impl Rng {
    /// Seed this thread's generator, so that the jitter and the throttle's
    /// draws that follow on this thread repeat from run to run (tests and
    /// simulations; see [`testing::seed`](crate::testing::seed)).
    ///
    /// ```
    /// use retry_runtime::jitter::Rng;
    /// Rng::seed_thread(7);
    /// let x = Rng::with_thread(|r| r.next_u64());
    /// Rng::seed_thread(7);
    /// assert_eq!(Rng::with_thread(|r| r.next_u64()), x);
    /// ```
    pub fn seed_thread(seed: u64) {
        THREAD_RNG.with(|cell| cell.set(seed));
    }
}

thread_local! {
    static THREAD_RNG: Cell<u64> = Cell::new(thread_seed());
}

fn thread_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState carries per-process random keys, bumped for each new instance.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(&h as *const _ as usize);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{Just, Strategy, any, prop_assert, prop_oneof, proptest};

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    const ALL: [Jitter; 6] = [
        Jitter::None,
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
        Jitter::Plus(Duration::from_secs(1)),
        Jitter::Proportional(25),
    ];

    #[test]
    fn documented_bounds() {
        let b = Backoff::exponential(s(1), s(10));
        let z = Duration::ZERO;
        assert_eq!(Jitter::None.bounds(s(4), z, &b), (s(4), s(4)));
        assert_eq!(Jitter::Full.bounds(s(4), z, &b), (z, s(4)));
        assert_eq!(Jitter::Equal.bounds(s(4), z, &b), (s(2), s(4)));
        // the first retry: `previous` is taken to be the first wait
        assert_eq!(Jitter::Decorrelated.bounds(s(4), z, &b), (s(1), s(3)));
        assert_eq!(Jitter::Decorrelated.bounds(s(4), s(2), &b), (s(1), s(6)));
        assert_eq!(Jitter::Decorrelated.bounds(s(4), s(5), &b), (s(1), s(10)));
        assert_eq!(Jitter::Plus(s(1)).bounds(s(4), z, &b), (s(4), s(5)));
        assert_eq!(Jitter::Proportional(25).bounds(s(4), z, &b), (s(4), s(5)));
    }

    #[test]
    fn samples_stay_in_bounds_and_cover_the_range() {
        let b = Backoff::exponential(s(1), s(30));
        let mut rng = Rng::with_seed(0xdecaf);
        for j in ALL {
            let (lo, hi) = j.bounds(s(8), s(4), &b);
            let (mut min, mut max) = (Duration::MAX, Duration::ZERO);
            for _ in 0..10_000 {
                let d = j.apply(s(8), s(4), &b, &mut rng);
                assert!(d >= lo && d <= hi, "{j}: {d:?} not in [{lo:?}, {hi:?}]");
                min = min.min(d);
                max = max.max(d);
            }
            // 10k uniform samples land within 1% of both ends
            let span = (hi - lo).as_secs_f64();
            assert!((min - lo).as_secs_f64() <= span * 0.01, "{j}: min {min:?}");
            assert!((hi - max).as_secs_f64() <= span * 0.01, "{j}: max {max:?}");
        }
    }

    #[test]
    fn full_jitter_mean_is_half() {
        let b = Backoff::fixed(s(10));
        let mut rng = Rng::with_seed(11);
        let n = 20_000;
        let total: f64 = (0..n)
            .map(|_| {
                Jitter::Full
                    .apply(s(10), Duration::ZERO, &b, &mut rng)
                    .as_secs_f64()
            })
            .sum();
        let mean = total / n as f64;
        assert!((mean - 5.0).abs() < 0.15, "mean {mean}");
    }

    #[test]
    fn thread_rngs_differ_between_threads() {
        let here = Rng::with_thread(|r| r.next_u64());
        let there = std::thread::spawn(|| Rng::with_thread(|r| r.next_u64()))
            .join()
            .unwrap();
        assert_ne!(here, there);
    }

    #[test]
    fn below_inclusive_handles_every_width() {
        let mut r = Rng::with_seed(1);
        for max in [
            1u128,
            2,
            1000,
            u64::MAX as u128 - 1,
            u64::MAX as u128,
            u64::MAX as u128 + 1,
            u128::MAX,
        ] {
            for _ in 0..100 {
                assert!(r.below_inclusive(max) <= max);
            }
        }
    }

    /// `[0, max]` with its top: every value of a small range is drawn.
    #[test]
    fn below_inclusive_draws_every_value_of_a_small_range() {
        let mut r = Rng::with_seed(3);
        for max in [1u128, 3, 7] {
            let mut seen = [false; 8];
            for _ in 0..1000 {
                seen[r.below_inclusive(max) as usize] = true;
            }
            assert!(seen[..=max as usize].iter().all(|&s| s), "{max}: {seen:?}");
        }
    }

    /// Past `u64::MAX` (a span of more than 584 years in nanoseconds) the
    /// draws use all 128 bits: half of them land in the upper half of the
    /// range, none is stuck below 2^64.
    #[test]
    fn below_inclusive_spreads_over_a_wide_range() {
        let mut r = Rng::with_seed(5);
        for max in [u128::MAX, u128::from(u64::MAX) << 2, (1 << 100) + 12_345] {
            let draws: Vec<u128> = (0..64).map(|_| r.below_inclusive(max)).collect();
            assert!(draws.iter().all(|&d| d <= max), "{max}: {draws:?}");
            let upper = draws.iter().filter(|&&d| d > max / 2).count();
            assert!(
                (16..=48).contains(&upper),
                "{max}: {upper} of 64 above half"
            );
        }
    }

    fn any_duration() -> impl Strategy<Value = Duration> {
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n))
    }

    fn any_jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            Just(Jitter::Equal),
            Just(Jitter::Decorrelated),
            any_duration().prop_map(Jitter::Plus),
            any::<u32>().prop_map(Jitter::Proportional),
        ]
    }

    proptest! {
        #[test]
        fn apply_never_panics_and_respects_bounds(
            j in any_jitter(), d in any_duration(), prev in any_duration(),
            first in any_duration(), cap in any_duration(), seed in any::<u64>()
        ) {
            let b = Backoff::exponential(first, cap);
            let (lo, hi) = j.bounds(d, prev, &b);
            let got = j.apply(d, prev, &b, &mut Rng::with_seed(seed));
            prop_assert!(lo <= hi);
            prop_assert!(got >= lo && got <= hi);
        }
    }
}
