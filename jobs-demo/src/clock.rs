//! Time: the simulated clock, and times as the logs write them.

use std::time::{Duration, SystemTime};

/// `T+mm:ss` (or `T+h:mm:ss`): a time on the simulation's clock, for logs.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(retry_jobs_demo::fmt_time(Duration::from_secs(150)), "T+02:30");
/// assert_eq!(retry_jobs_demo::fmt_time(Duration::from_secs(3725)), "T+1:02:05");
/// ```
pub fn fmt_time(t: Duration) -> String {
    let s = t.as_secs();
    match s / 3600 {
        0 => format!("T+{:02}:{:02}", s / 60, s % 60),
        h => format!("T+{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

/// A simulated clock that runs `scale` times faster than the real one, so a
/// schedule of minutes plays in milliseconds. Its time is a `Duration`
/// since it was made. It reads tokio's clock, so under `tokio::time::pause()`
/// it advances only as tokio's does.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_jobs_demo::ScaledClock;
/// let clock = ScaledClock::minute_every(Duration::from_millis(100)); // 1 simulated minute = 100ms
/// assert_eq!(clock.real(Duration::from_secs(30)), Duration::from_millis(50));
/// clock.sleep_until(Duration::from_secs(120)).await;
/// assert!(clock.now() >= Duration::from_secs(120));
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ScaledClock {
    start: tokio::time::Instant,
    scale: u32,
}

impl ScaledClock {
    /// A clock at zero now, running `scale` times faster than real time
    /// (`scale` 0 is taken as 1).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let c = retry_jobs_demo::ScaledClock::new(600);
    /// assert!(c.now() < std::time::Duration::from_secs(60));
    /// # }
    /// ```
    pub fn new(scale: u32) -> ScaledClock {
        ScaledClock {
            start: tokio::time::Instant::now(),
            scale: scale.max(1),
        }
    }

    /// A clock whose zero is `epoch` (a wall-clock time), so that several
    /// processes started with the same `epoch` and `scale` share one
    /// simulated time, as far as their machines' wall clocks agree: a
    /// difference between them is multiplied by `scale` (see the crate's
    /// docs on why the workers' clocks must agree). An `epoch` in the future
    /// is taken as now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::{Duration, SystemTime};
    /// let epoch = SystemTime::now() - Duration::from_secs(2);
    /// let c = retry_jobs_demo::ScaledClock::since(epoch, 60);
    /// assert!(c.now() >= Duration::from_secs(120));
    /// # }
    /// ```
    pub fn since(epoch: SystemTime, scale: u32) -> ScaledClock {
        let ago = SystemTime::now().duration_since(epoch).unwrap_or_default();
        let now = tokio::time::Instant::now();
        ScaledClock {
            start: now.checked_sub(ago).unwrap_or(now),
            scale: scale.max(1),
        }
    }

    /// How many times faster than real time it runs.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// assert_eq!(retry_jobs_demo::ScaledClock::new(600).scale(), 600);
    /// # }
    /// ```
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// A clock on which one simulated minute takes `real`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let c = retry_jobs_demo::ScaledClock::minute_every(Duration::from_millis(10));
    /// assert_eq!(c.real(Duration::from_secs(60)), Duration::from_millis(10));
    /// # }
    /// ```
    pub fn minute_every(real: Duration) -> ScaledClock {
        let real_ms = real.as_millis().max(1);
        ScaledClock::new(u32::try_from(60_000 / real_ms).unwrap_or(u32::MAX))
    }

    /// Simulated time since the clock was made.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// let c = retry_jobs_demo::ScaledClock::new(60);
    /// tokio::time::sleep(Duration::from_secs(1)).await;
    /// assert_eq!(c.now(), Duration::from_secs(60));
    /// # }
    /// ```
    pub fn now(&self) -> Duration {
        self.start.elapsed().saturating_mul(self.scale)
    }

    /// How long `simulated` takes in real time.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// assert_eq!(retry_jobs_demo::ScaledClock::new(10).real(Duration::from_secs(1)), Duration::from_millis(100));
    /// # }
    /// ```
    pub fn real(&self, simulated: Duration) -> Duration {
        simulated / self.scale
    }

    /// Sleep (on tokio's timer) until the simulated time `at`. tokio's timer
    /// has a resolution of one real millisecond, so this wakes up to `scale`
    /// simulated milliseconds late.
    pub async fn sleep_until(&self, at: Duration) {
        match self.deadline(at) {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            // beyond what an `Instant` holds: never
            None => std::future::pending().await,
        }
    }

    /// The tokio instant at which the simulated time reaches `at`; `None`
    /// when that is beyond what an `Instant` holds.
    pub(crate) fn deadline(&self, at: Duration) -> Option<tokio::time::Instant> {
        let real = self
            .real(at)
            .saturating_add(Duration::from_nanos(u64::from(self.scale)));
        self.start.checked_add(real)
    }
}
