//! The breaker's clocks: [`BreakerClock`], [`DefaultClock`], [`ManualClock`].

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Where a [`CircuitBreaker`](super::CircuitBreaker) reads the time: a
/// monotonic reading since an arbitrary fixed origin.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::circuit::BreakerClock;
/// struct Frozen;
/// impl BreakerClock for Frozen {
///     fn now(&self) -> Duration { Duration::from_secs(42) }
/// }
/// static FROZEN: Frozen = Frozen;
/// static B: retry_runtime::CircuitBreaker = retry_runtime::CircuitBreaker::new("b").with_clock(&FROZEN);
/// ```
pub trait BreakerClock: Sync {
    /// Time since this clock's origin.
    fn now(&self) -> Duration;
}

/// The default [`BreakerClock`]: `tokio::time::Instant::now()` (which follows
/// tokio's paused clock in tests, and is `std::time::Instant` outside a
/// runtime), plus the virtual time of [`testing::pause`](crate::testing::pause)
/// on this thread, so sync tests that sleep virtually move it too.
///
/// ```
/// use retry_runtime::circuit::{BreakerClock, DefaultClock};
/// let _paused = retry_runtime::testing::pause();
/// let before = DefaultClock.now();
/// retry_runtime::sleep::sleep_sync(std::time::Duration::from_secs(60)); // virtual
/// assert!(DefaultClock.now() - before >= std::time::Duration::from_secs(60));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultClock;

impl BreakerClock for DefaultClock {
    fn now(&self) -> Duration {
        static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
        // Set back from the first reading, so that a paused tokio clock that
        // lags real time still reads after the origin.
        let origin = *ORIGIN.get_or_init(|| {
            let now = std::time::Instant::now();
            [365 * 24 * 3600, 24 * 3600, 3600, 60]
                .into_iter()
                .find_map(|secs| now.checked_sub(Duration::from_secs(secs)))
                .unwrap_or(now)
        });
        #[cfg(feature = "tokio")]
        let now = tokio::time::Instant::now().into_std();
        #[cfg(not(feature = "tokio"))]
        let now = std::time::Instant::now();
        now.saturating_duration_since(origin)
            .saturating_add(crate::testing::virtual_offset())
    }
}

/// A [`BreakerClock`] for tests: stands still until moved.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::circuit::{BreakerClock, ManualClock};
/// static CLOCK: ManualClock = ManualClock::new();
/// CLOCK.advance(Duration::from_secs(5));
/// assert_eq!(CLOCK.now(), Duration::from_secs(5));
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock reading zero.
    ///
    /// ```
    /// use retry_runtime::circuit::{BreakerClock, ManualClock};
    /// assert_eq!(ManualClock::new().now(), std::time::Duration::ZERO);
    /// ```
    pub const fn new() -> ManualClock {
        ManualClock {
            nanos: AtomicU64::new(0),
        }
    }

    /// Move the clock forward by `by`.
    ///
    /// ```
    /// use retry_runtime::circuit::{BreakerClock, ManualClock};
    /// let c = ManualClock::new();
    /// c.advance(std::time::Duration::from_millis(1500));
    /// assert_eq!(c.now().as_millis(), 1500);
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_add(by))
            });
    }

    /// Set the clock to `to`.
    ///
    /// ```
    /// use retry_runtime::circuit::{BreakerClock, ManualClock};
    /// let c = ManualClock::new();
    /// c.set(std::time::Duration::from_secs(9));
    /// assert_eq!(c.now().as_secs(), 9);
    /// ```
    pub fn set(&self, to: Duration) {
        let to = u64::try_from(to.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.store(to, Ordering::Relaxed);
    }
}

impl BreakerClock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}
