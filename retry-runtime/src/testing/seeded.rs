//! [`seed`]: this thread's random draws repeated from run to run.

/// Make this thread's random draws (the jitter, a [`Throttle`](crate::Throttle)'s
/// rejections) repeat from run to run: seed its generator.
///
/// After `seed(n)`, this thread's generator is
/// [`jitter::Rng::with_seed(n)`](crate::jitter::Rng::with_seed), and the
/// runs on this thread draw from it, in order:
/// - each wait the backoff decides, under a jitter other than
///   `Jitter::None`, is
///   `policy.jitter().apply(policy.backoff().delay(i), previous, &policy.backoff(), &mut rng)`
///   for retry `i` (from 0), `previous` being the wait made before it
///   (zero before the first); [`Policy::decide`](crate::Policy::decide)
///   draws the same way, `previous` being the backoff's wait for the
///   retry before;
/// - a wait a `Retry-After` sets, and a policy without jitter, draw
///   nothing;
/// - a [`Throttle`](crate::Throttle) whose rejection probability is above
///   zero draws one [`next_f64`](crate::jitter::Rng::next_f64) for each
///   attempt it is asked to let through;
/// - a [`Cooldown`](crate::cooldown::Cooldown) with a
///   [spread](crate::cooldown::Cooldown::with_spread) draws one
///   `below_inclusive` of the spread's nanoseconds for each wait its hold
///   makes (a first attempt's, a retry's after its backoff's draw, a
///   hedge's, a `ready` wait's: the point after the hold's end).
///
/// A seed gives the same waits from run to run, not from version to
/// version of this crate: a later version may draw otherwise. Compute the
/// waits a test expects, as the second example does, rather than writing
/// their values in it.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Backoff, Jitter, Policy, testing};
/// let policy = Policy::new().with_backoff(Backoff::fixed(Duration::from_secs(1))).with_jitter(Jitter::Full);
/// let waits = || {
///     let paused = testing::pause();
///     let _ = policy.retry(|| Err::<(), _>("down")).call();
///     paused.waits()
/// };
/// testing::seed(42);
/// let first = waits();
/// testing::seed(42);
/// assert_eq!(waits(), first);
/// ```
///
/// The waits of a seeded run, computed:
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{jitter::Rng, testing, Backoff, Jitter, Policy};
/// let s = Duration::from_secs;
/// let policy = Policy::new()
///     .with_max_attempts(4)
///     .with_backoff(Backoff::exponential(s(1), s(8)))
///     .with_jitter(Jitter::Decorrelated);
/// let paused = testing::pause();
/// testing::seed(42);
/// let _ = policy.retry(|| Err::<(), _>("down")).call();
///
/// let mut rng = Rng::with_seed(42);
/// let mut previous = Duration::ZERO;
/// let expected: Vec<Duration> = (0..3)
///     .map(|i| {
///         let delay = policy.backoff().delay(i);
///         previous = policy.jitter().apply(delay, previous, &policy.backoff(), &mut rng);
///         previous
///     })
///     .collect();
/// assert_eq!(paused.waits(), expected);
/// ```
pub fn seed(seed: u64) {
    crate::jitter::Rng::seed_thread(seed);
}
