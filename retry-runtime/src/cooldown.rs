//! [`Cooldown`]: after one call hears "wait" from a rate-limited server
//! (a 429's `Retry-After`), every call that shares it waits too.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::sleep::{self, Sleeper};

/// A pause that every call through one rate-limited API shares: when a
/// run of a policy holding it ([`Policy::with_cooldown`](crate::Policy::with_cooldown))
/// is told to wait by the server (a `Retry-After`, `retry-after-ms`, a
/// spent `x-ratelimit-reset`, a gRPC pushback: a hint the policy
/// honours), the cooldown holds until that wait is over, and
/// - every retry of every run of such a policy waits at least until then
///   (its backoff's wait, or the server's, lengthened; a retry that could
///   not start before the policy's `max_elapsed` is not made);
/// - the reqwest middleware holds each request's first attempt too, until
///   then (a first attempt is no retry: `max_elapsed` does not bound that
///   wait, but the wait counts toward it, as the request's time: a request
///   held past its policy's `max_elapsed` is sent once, and a failure of
///   it not retried, `Deadline`); elsewhere (`#[retry]`, `policy.retry(op)`, the tower layer),
///   await [`ready`](Cooldown::ready) before the call to hold first
///   attempts as well.
///
/// A retry's wait is lengthened when the run decides it: a hold made
/// longer while it waits (another call's 429) does not move it.
///
/// Without it, each of 32 tasks against a partner that allows 10 requests
/// a second waits its own 429's `Retry-After` while the others go on
/// sending and collect 429s of their own (an importer's walk-through: 41
/// requests a second, 645 429s for 256 pages). A cooldown is not a rate
/// limiter (it paces nothing before the first 429): put one below the
/// middleware for that.
///
/// A `static`, shared by every caller, named for the log lines:
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{cooldown::Cooldown, presets, Policy, RetryOn};
/// static PARTNER: Cooldown = Cooldown::new("partner");
/// static IMPORT: Policy<RetryOn> = presets::API.with_name("import").with_cooldown(&PARTNER);
///
/// let _paused = retry_runtime::testing::pause(); // the library's clock is virtual here
/// assert_eq!(PARTNER.remaining(), None);
/// PARTNER.hold_for(Duration::from_secs(2)); // what a run does on a 429 asking for 2s
/// let left = PARTNER.remaining().unwrap(); // 2s, less the real time since
/// assert!(left > Duration::from_secs(1) && left <= Duration::from_secs(2));
/// PARTNER.ready_sync(); // waits it out (virtual here)
/// assert_eq!(PARTNER.remaining(), None);
/// # let _ = IMPORT;
/// ```
pub struct Cooldown {
    name: &'static str,
    /// When the hold ends, in nanoseconds on the [`SystemClock`] (0: never
    /// held).
    until: AtomicU64,
    /// The longest hold asked, in nanoseconds: a bound on what is left, so
    /// that a thread whose test clock runs hours ahead (a paused tokio
    /// runtime, `testing::pause`) cannot hold another thread for its hours.
    longest: AtomicU64,
}

impl Cooldown {
    /// A cooldown never held yet, named `name` (in the DEBUG line of each
    /// hold and in a policy's `Debug`).
    ///
    /// ```
    /// static SEARCH: retry_runtime::cooldown::Cooldown = retry_runtime::cooldown::Cooldown::new("search");
    /// assert_eq!(SEARCH.name(), "search");
    /// ```
    pub const fn new(name: &'static str) -> Cooldown {
        Cooldown {
            name,
            until: AtomicU64::new(0),
            longest: AtomicU64::new(0),
        }
    }

    /// Its name.
    ///
    /// ```
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// assert_eq!(c.name(), "partner");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Hold every call until `wait` from now, unless it holds longer
    /// already. A run of a policy with this cooldown calls it with the
    /// server's wait (capped as the policy caps it); call it yourself for
    /// a wait you read elsewhere (a response body that says "slow down for
    /// 30 seconds").
    ///
    /// ```
    /// use std::time::Duration;
    /// let _paused = retry_runtime::testing::pause();
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// c.hold_for(Duration::from_secs(5));
    /// c.hold_for(Duration::from_secs(1)); // shorter: the 5s hold stays
    /// assert!(c.remaining().unwrap() > Duration::from_secs(4));
    /// ```
    pub fn hold_for(&self, wait: Duration) {
        if wait.is_zero() {
            return;
        }
        let held = nanos(wait);
        let until = nanos(SystemClock.now()).saturating_add(held);
        self.longest.fetch_max(held, Ordering::Relaxed);
        let before = self.until.fetch_max(until, Ordering::AcqRel);
        if before < until {
            crate::log::cooldown_held(self.name, wait);
        }
    }

    /// The time left before the hold ends, `None` when it does not hold.
    ///
    /// ```
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// assert_eq!(c.remaining(), None);
    /// ```
    pub fn remaining(&self) -> Option<Duration> {
        self.hold().map(|(_, left)| left)
    }

    /// The hold's end as it was set (on the clock of the thread that set
    /// it) and the time left on this thread's, if it holds.
    fn hold(&self) -> Option<(u64, Duration)> {
        let until = self.until.load(Ordering::Acquire);
        if until == 0 {
            return None;
        }
        let left = until.saturating_sub(nanos(SystemClock.now()));
        let left = left.min(self.longest.load(Ordering::Relaxed));
        (left > 0).then(|| (until, Duration::from_nanos(left)))
    }

    /// The next wait of a [`ready`](Self::ready) loop that has waited out
    /// the hold ending at `waited` (0: none yet): the time left, unless
    /// the hold is still that one. A hold set by a thread whose clock runs
    /// ahead of this one's (a test's virtual hours) never ends on this
    /// thread's clock; its time left here is bounded by the longest hold
    /// asked, and it is waited once, as a hold made longer since is.
    fn next_wait(&self, waited: &mut u64) -> Option<Duration> {
        let (until, left) = self.hold()?;
        if until == *waited {
            return None;
        }
        *waited = until;
        Some(left)
    }

    /// Wait until the hold ends (at once when it does not hold), on the
    /// [`DefaultSleeper`](crate::DefaultSleeper): before a call whose
    /// first attempt should wait too. A hold made longer while it waits is
    /// waited out as well.
    ///
    /// ```
    /// # #[cfg(feature = "tokio")]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use retry_runtime::cooldown::Cooldown;
    /// static PARTNER: Cooldown = Cooldown::new("partner");
    /// let start = tokio::time::Instant::now();
    /// PARTNER.hold_for(Duration::from_secs(3));
    /// PARTNER.ready().await;
    /// assert_eq!(start.elapsed(), Duration::from_secs(3));
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    pub async fn ready(&self) {
        self.ready_on(&crate::DefaultSleeper).await;
    }

    /// [`ready`](Self::ready) on `sleeper` (another runtime's timer).
    ///
    /// ```
    /// # #[cfg(feature = "tokio")]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// c.ready_on(&retry_runtime::sleep::SleepFn(tokio::time::sleep)).await; // not held: at once
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    pub async fn ready_on<S: Sleeper + ?Sized>(&self, sleeper: &S) {
        let mut waited = 0;
        while let Some(left) = self.next_wait(&mut waited) {
            let how = sleep::wait_on(sleeper, left);
            if how == sleep::Wait::Skip {
                return;
            }
            sleep::timer(sleeper, left, how).await;
        }
    }

    /// [`ready`](Self::ready) for sync code: blocks the thread until the
    /// hold ends (virtual under [`testing::pause`](crate::testing::pause)).
    ///
    /// ```
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// c.ready_sync(); // not held: at once
    /// ```
    pub fn ready_sync(&self) {
        let mut waited = 0;
        while let Some(left) = self.next_wait(&mut waited) {
            sleep::sleep_sync(left);
        }
    }
}

/// Shows its name and the time left.
///
/// ```
/// let c = retry_runtime::cooldown::Cooldown::new("partner");
/// assert_eq!(format!("{c:?}"), r#"Cooldown { name: "partner", remaining: None }"#);
/// ```
impl fmt::Debug for Cooldown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cooldown")
            .field("name", &self.name)
            .field("remaining", &self.remaining())
            .finish()
    }
}

/// `d` in nanoseconds, saturated (584 years).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
