//! One run of attempts: the state machine shared by the executors and the
//! code `#[retry]` generates, and the executors themselves
//! ([`Policy::retry`], [`Policy::retry_async`] and their `_detailed` forms).

use core::fmt::Display;
use core::marker::PhantomData;
use std::future::Future;
use std::time::Duration;

use crate::error::RetryError;
use crate::hooks::{self, GiveUpEvent, RetryEvent};
use crate::jitter::Rng;
use crate::policy::{Decision, Policy, Verdict, When};
use crate::sleep::{self, Clock, SyncClock, TokioClock};
use crate::stop::StopReason;

/// The state of one run: attempts made, the previous wait, the start time.
///
/// Call [`succeeded`](Run::succeeded) after an `Ok`, [`failed`](Run::failed)
/// after an `Err` (it logs, runs the callbacks and returns the decision), and
/// sleep the returned wait yourself. This is what the executors and the
/// `#[retry]` attribute do; use it directly to drive a custom loop.
///
/// ```
/// use retry_runtime::{Decision, Policy, Run, sleep::SyncClock};
/// let policy = Policy::new().attempts(3);
/// let mut run = Run::<_, SyncClock>::new(&policy);
/// let mut answers = vec![Ok(42), Err("flaky")].into_iter().rev();
/// let value = loop {
///     match answers.next().unwrap() {
///         Ok(v) => { run.succeeded(); break v; }
///         Err(e) => match run.failed(&e) {
///             Decision::Retry(_wait) => continue, // sleep here
///             Decision::GiveUp(_) => panic!("gave up: {e}"),
///         },
///     }
/// };
/// assert_eq!((value, run.attempts()), (42, 2));
/// ```
pub struct Run<'p, W, C: Clock> {
    policy: &'p Policy<W>,
    attempts: u32,
    previous: Duration,
    start: Option<C::Instant>,
    clock: PhantomData<C>,
}

impl<'p, W, C: Clock> Run<'p, W, C> {
    /// A run that has made no attempt yet. Reads the clock only when the
    /// policy has a `max_elapsed` limit.
    #[inline]
    pub fn new(policy: &'p Policy<W>) -> Self {
        Run {
            policy,
            attempts: 0,
            previous: Duration::ZERO,
            start: policy.stop.max_elapsed.map(|_| C::now()),
            clock: PhantomData,
        }
    }

    /// The attempt just made succeeded; logs at INFO if it was not the first.
    #[inline]
    pub fn succeeded(&mut self) {
        self.attempts = self.attempts.saturating_add(1);
        if self.attempts > 1 {
            hooks::log_success(self.policy.name, self.attempts, self.policy.stop.attempts());
        }
    }

    /// The attempt just made failed with `error`: decide, log, and call the
    /// policy's callbacks. Returns the wait before the next attempt, or why to give up.
    #[inline(never)]
    pub fn failed<E: Display>(&mut self, error: &E) -> Decision
    where
        W: When<E>,
    {
        let verdict = self.policy.when.check(error);
        self.judge(verdict, error)
    }

    /// The attempt just made returned an `Ok` that `retry_if_ok` rejected:
    /// retried like a retriable error.
    #[inline(never)]
    pub fn rejected(&mut self) -> Decision {
        let verdict = Verdict {
            retry: true,
            kind: None,
            retry_after: None,
        };
        self.judge(verdict, &"the result was rejected by retry_if_ok")
    }

    fn judge(&mut self, verdict: Verdict, error: &dyn Display) -> Decision {
        self.attempts = self.attempts.saturating_add(1);
        let elapsed = self.elapsed();
        let policy = self.policy;
        let decision = Rng::with_thread(|rng| {
            policy.next(self.attempts, self.previous, elapsed, verdict, rng)
        });
        match decision {
            Decision::Retry(wait) => {
                self.previous = wait;
                let ev = RetryEvent {
                    operation: policy.name,
                    attempt: self.attempts,
                    max_attempts: policy.stop.attempts(),
                    wait,
                    error,
                    kind: verdict.kind,
                    elapsed,
                };
                hooks::log_retry(&ev);
                if let Some(hook) = policy.before_sleep {
                    hook(&ev);
                }
            }
            Decision::GiveUp(reason) => {
                let ev = GiveUpEvent {
                    operation: policy.name,
                    attempts: self.attempts,
                    max_attempts: policy.stop.attempts(),
                    reason,
                    error,
                    kind: verdict.kind,
                    elapsed,
                };
                hooks::log_give_up(&ev);
                if let Some(hook) = policy.on_give_up {
                    hook(&ev);
                }
            }
        }
        decision
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time since the run started (see [`RetryError`] for when that is).
    pub fn elapsed(&mut self) -> Duration {
        match self.start {
            Some(start) => C::since(start),
            None => {
                self.start = Some(C::now());
                Duration::ZERO
            }
        }
    }

    /// Wrap the last error of a run that gave up.
    pub fn into_error<E>(mut self, last_error: E, reason: StopReason) -> RetryError<E> {
        RetryError {
            operation: self.policy.name,
            attempts: self.attempts,
            elapsed: self.elapsed(),
            reason,
            last_error,
        }
    }
}

impl<W> Policy<W> {
    /// Call `op` until it succeeds or the policy gives up; sleeps with
    /// [`std::thread::sleep`]. On giving up, the last error is returned unchanged.
    ///
    /// ```
    /// use retry_runtime::presets;
    /// let _paused = retry_runtime::testing::pause();
    /// let mut calls = 0;
    /// let r = presets::QUICK.retry(|| {
    ///     calls += 1;
    ///     Err::<(), _>(std::io::Error::from(std::io::ErrorKind::TimedOut))
    /// });
    /// assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    /// assert_eq!(calls, 2);
    /// ```
    pub fn retry<T, E, F>(&self, op: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        W: When<E>,
        E: Display,
    {
        self.retry_detailed(op).map_err(RetryError::into_inner)
    }

    /// [`retry`](Policy::retry), giving up with a [`RetryError`] that says how and why.
    ///
    /// ```
    /// use retry_runtime::{presets, StopReason};
    /// let not_found = std::io::Error::from(std::io::ErrorKind::NotFound);
    /// let e = presets::WEBHOOK.retry_detailed(|| Err::<(), _>(std::io::Error::from(not_found.kind()))).unwrap_err();
    /// assert_eq!((e.attempts, e.reason), (1, StopReason::Permanent));
    /// ```
    pub fn retry_detailed<T, E, F>(&self, mut op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Result<T, E>,
        W: When<E>,
        E: Display,
    {
        let mut run = Run::<W, SyncClock>::new(self);
        loop {
            match op() {
                Ok(value) => {
                    run.succeeded();
                    return Ok(value);
                }
                Err(error) => match run.failed(&error) {
                    Decision::Retry(wait) => sleep::sleep_sync(wait),
                    Decision::GiveUp(reason) => return Err(run.into_error(error, reason)),
                },
            }
        }
    }

    /// Call `op` and await its future until it succeeds or the policy gives
    /// up; sleeps on tokio's timer (a zero wait does not sleep or yield).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::presets;
    /// let mut calls = 0;
    /// let r = presets::AI_PROVIDER
    ///     .retry_async(|| {
    ///         calls += 1;
    ///         let n = calls;
    ///         async move {
    ///             if n < 3 { Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset)) } else { Ok(n) }
    ///         }
    ///     })
    ///     .await;
    /// assert_eq!(r.unwrap(), 3);
    /// # }
    /// ```
    pub async fn retry_async<T, E, F, Fut>(&self, op: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        E: Display,
    {
        self.retry_async_detailed(op)
            .await
            .map_err(RetryError::into_inner)
    }

    /// [`retry_async`](Policy::retry_async), giving up with a [`RetryError`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::{Policy, StopReason};
    /// let e = Policy::new().attempts(4).retry_async_detailed(|| async { Err::<(), _>("down") }).await.unwrap_err();
    /// assert_eq!((e.attempts, e.reason, e.last_error), (4, StopReason::Attempts, "down"));
    /// # }
    /// ```
    pub async fn retry_async_detailed<T, E, F, Fut>(&self, mut op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        E: Display,
    {
        let mut run = Run::<W, TokioClock>::new(self);
        loop {
            // The error's scope ends before the sleep: no error is held across
            // the await, so the future is `Send` even when `E` is not.
            let wait = match op().await {
                Ok(value) => {
                    run.succeeded();
                    return Ok(value);
                }
                Err(error) => match run.failed(&error) {
                    Decision::Retry(wait) => wait,
                    Decision::GiveUp(reason) => return Err(run.into_error(error, reason)),
                },
            };
            sleep::sleep_async(wait).await;
        }
    }
}
