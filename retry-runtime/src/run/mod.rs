//! One run of attempts: the state machine shared by [`Retry`](crate::Retry)
//! and the code `#[retry]` generates, and the sync loop both use.
//!
//! By layer: this file holds the public [`Run`]; `state` the state machine
//! every run steps ([`State`]: the quick path, judging a failure, logging
//! and callbacks); `guards` what it asks of the breaker, the budget and the
//! throttle before an attempt or a retry, and records in them after; `lazy` the `#[retry]` macro's contract ([`LazyRun`],
//! [`retry_sync`]) and the sync loop; `gate` what a policy's type
//! parameters decide ([`Admission`], [`FromCircuitOpen`], [`FromThrottled`], [`Notify`]);
//! `leave` what a run dropped in an attempt gives back ([`Guarded`]).

// In every file here, the steps of the common path are `inline(always)` in
// optimized builds (a retry of a constant policy then folds to a few
// instructions in the caller) but only `inline` in debug builds, where
// forcing them into every annotated function's own copy of the loop made a
// crate of 200 such functions build 35% slower.

mod announce;
mod gate;
mod guards;
mod lazy;
mod leave;
mod state;
pub(crate) mod token_wait;

use core::fmt::{self, Display};
use std::time::Duration;

use crate::error::RetryError;
use crate::policy::{Decision, Guards, NoCircuit, Policy, When};
use crate::stop::StopReason;

pub(crate) use gate::Refusal;
pub use gate::{Admission, ErrorHook, FromCircuitOpen, FromThrottled, NoNotify, Notify};
pub use lazy::{LazyRun, retry_sync};
pub(crate) use lazy::{Settled, hold_first_blocking, retry_sync_rest};
pub use leave::{BreakerSlot, Guarded, NoBreaker, SomeBreaker};
// (`announce_give_up`: the tower layer's and `Policy::report`'s; a hedged
// run announces its own give-up, whose line names the attempt that failed
// last, not always the last started)
#[cfg(feature = "tower")]
pub(crate) use announce::deadline_or_deferred;
#[cfg(feature = "tower")]
pub(crate) use announce::ended_before_retry;
#[cfg(feature = "tower")]
pub(crate) use announce::not_ready_to_call;
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
pub(crate) use announce::too_late;
pub(crate) use announce::{announce_give_up, announce_not_attempted, announce_retry};
#[cfg(feature = "reqwest-middleware")]
pub(crate) use state::timed_from_start;
pub(crate) use state::{REJECTED_OK, State};

/// The state of one run: attempts made, the previous wait, the start time.
///
/// Call [`succeeded`](Run::succeeded) after an `Ok`, [`failed`](Run::failed)
/// after an `Err` (it logs, runs the callbacks and returns the decision), and
/// sleep the returned wait yourself. This is what the executors and the
/// `#[retry]` attribute do; use it directly to drive a custom loop.
///
/// Each attempt is reported once, and the run is over after
/// [`Decision::GiveUp`] or `succeeded`: nothing checks this, and a report
/// after that logs again and counts another attempt (a second give-up line,
/// an attempt past the maximum). A `succeeded` left out loses the success
/// line and the call's outcome in the metrics, silently. A `Run` hands out no
/// [`Attempt`](crate::Attempt) (its `remaining`, `previous_kind`): the
/// functional API's context form (`.context()`) and `#[attempt]` do.
///
/// ```
/// use retry_runtime::{sleep::sleep_sync, testing, Decision, Policy, Run};
/// let paused = testing::pause(); // (a test: the waits are recorded, not slept)
/// let policy = Policy::new().with_max_attempts(3); // waits 1s, 2s
/// let mut run = Run::new(&policy);
/// let mut answers = vec![Ok(42), Err("flaky")].into_iter().rev();
/// let value = loop {
///     match answers.next().unwrap() {
///         Ok(v) => { run.succeeded(); break v; }
///         Err(e) => match run.failed(&e) {
///             Decision::Retry { wait, .. } => sleep_sync(wait), // or `sleep_async(wait).await`
///             Decision::GiveUp { .. } => panic!("gave up: {e}"),
///         },
///     }
/// };
/// assert_eq!((value, run.attempts()), (42, 2));
/// assert_eq!(paused.waits(), [std::time::Duration::from_secs(1)]);
/// ```
///
/// # Circuit breaker and retry budget
/// When the policy has a [`CircuitBreaker`](crate::CircuitBreaker), call
/// [`before_attempt`](Run::before_attempt) before each attempt: an `Err` means
/// the breaker rejected the call; do not make it, return the error. The same
/// holds for a [`Throttle`](crate::Throttle). The
/// outcomes are recorded by `succeeded`/`failed`/`rejected` (an attempt not
/// preceded by `before_attempt` is recorded too, but never rejected). A
/// [`RetryBudget`](crate::RetryBudget) needs nothing more: `failed` returns
/// [`Decision::GiveUp`] when it refuses the retry. Without either, these cost
/// a `None` check. Report each attempt (`succeeded`, `failed`, `rejected`)
/// before the next `before_attempt`: a second one drops the leave the first
/// was given (a half-open breaker's probe slot then stays taken until a
/// recovery timeout passes). A run dropped between `before_attempt` and
/// its report records the attempt as
/// [`Outcome::Neutral`](crate::circuit::Outcome::Neutral).
///
/// ```
/// use retry_runtime::{CircuitBreaker, CircuitOpen, Decision, Policy, Run, StopReason};
/// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(2);
/// let policy = Policy::new().with_max_attempts(5).with_circuit(&UPSTREAM);
///
/// let mut calls = 0;
/// let mut run = Run::new(&policy);
/// let last: Result<(), String> = loop {
///     if let Err(open) = run.before_attempt::<CircuitOpen>() {
///         break Err(open.to_string());
///     }
///     calls += 1;
///     let e = "timed out";
///     match run.failed(&e) {
///         Decision::Retry { .. } => continue, // sleep here
///         Decision::GiveUp { reason, .. } => {
///             assert_eq!(reason, StopReason::CircuitOpen); // opened after 2 failures
///             break Err(e.to_string());
///         }
///     }
/// };
/// assert_eq!((calls, last.unwrap_err()), (2, "timed out".to_string()));
/// // the next run is rejected without calling
/// let mut run = Run::new(&policy);
/// let open: CircuitOpen = run.before_attempt().unwrap_err();
/// assert_eq!(open.circuit, "upstream");
/// ```
#[must_use = "a run does nothing until driven (`before_attempt`, `failed`, ...); `timed` returns the changed run"]
pub struct Run<'p, W, G: Guards = NoCircuit> {
    policy: &'p Policy<W, G>,
    state: Guarded<State, G>,
    /// The last decision was a retry, not yet made (what [`stopped`](Run::stopped)
    /// ends: its budget token goes back).
    waiting: bool,
    /// The run ended (a success, a give-up): its attempts are counted.
    ended: bool,
    /// An attempt was let make ([`before_attempt`](Run::before_attempt)'s
    /// `Ok`) and not reported yet: a stop now ends the run during it.
    attempting: bool,
}

impl<'p, W, G: Guards> Run<'p, W, G> {
    /// A run that has made no attempt yet. Reads the clock only when the
    /// policy has a `max_elapsed` limit or a `before_sleep`/`on_give_up`
    /// callback.
    #[inline]
    pub fn new(policy: &'p Policy<W, G>) -> Self {
        Run {
            policy,
            state: Guarded::of(policy, State::new(policy)),
            waiting: false,
            ended: false,
            attempting: false,
        }
    }

    /// Measure the run's elapsed time even when nothing needs it on the way
    /// (no `max_elapsed`, no callbacks), so that [`into_error`](Run::into_error)
    /// reports it: from now, the run's start (one clock read per run; it
    /// was from the first failure, which left the first attempt's time
    /// out). Without this, a retry reads no clock at all unless the policy
    /// needs the time.
    ///
    /// ```
    /// use retry_runtime::{Policy, Run};
    /// let policy = Policy::new();
    /// let run = Run::new(&policy).timed();
    /// # let _ = run;
    /// ```
    #[inline]
    pub fn timed(mut self) -> Self {
        self.state.start_clock();
        self
    }

    /// Call before each attempt. With a circuit breaker on the policy, asks
    /// it for leave; with a [`Throttle`](crate::Throttle), asks it before the
    /// first attempt. `Err(e)` means the call is turned away: do not make the
    /// attempt, return `e` (built from the [`CircuitOpen`](crate::CircuitOpen) or the
    /// [`Throttled`](crate::Throttled) rejection) as the function's error;
    /// the run is over, and the policy's `on_give_up` callback has been
    /// called. Without a guard, always `Ok(())`.
    ///
    /// ```
    /// use retry_runtime::{Policy, Run};
    /// let policy = Policy::new();
    /// let mut run = Run::new(&policy);
    /// assert!(run.before_attempt::<std::io::Error>().is_ok()); // no guard: always
    /// ```
    #[inline]
    pub fn before_attempt<E>(&mut self) -> Result<(), E>
    where
        G: Admission<E>,
    {
        // (the retry the last decision announced is being made, or refused
        // here, which tells the run's end itself: `stopped` has no wait to
        // end after this)
        self.waiting = false;
        let admitted = self.state.admit(self.policy);
        self.attempting = admitted.is_ok();
        admitted
    }

    /// The attempt just made succeeded; logs at INFO if it was not the first.
    #[inline]
    pub fn succeeded(&mut self) {
        self.waiting = false;
        self.attempting = false;
        self.ended = true;
        self.state.succeeded(self.policy);
    }

    /// The attempt just made failed with `error`: decide, log, and call the
    /// policy's callbacks. Returns the wait before the next attempt, or why to give up.
    /// The WARN line and `before_sleep` announce that wait: a loop that
    /// waits otherwise (retries at once after fixing something itself, a
    /// refreshed token) makes them say what did not happen; do such a fix
    /// inside the attempt instead.
    #[inline]
    pub fn failed<E: Display>(&mut self, error: &E) -> Decision
    where
        W: When<E>,
    {
        let decision = self.state.failed(self.policy, error);
        self.attempting = false;
        self.waiting = matches!(decision, Decision::Retry { .. });
        self.ended = !self.waiting;
        decision
    }

    /// The attempt just made returned an `Ok` that `retry_if_ok` rejected:
    /// retried like a retriable error. (A loop's own "not ready yet": its
    /// lines say `error=the result was rejected by retry_if_ok`, the
    /// attribute's key for it, and `error_kind="unclassified"`.)
    ///
    /// ```
    /// use retry_runtime::{Decision, Policy, Run};
    /// let policy = Policy::new().with_max_attempts(3);
    /// let mut run = Run::new(&policy);
    /// let mut answers = [vec![], vec![], vec!["job-7"]].into_iter(); // an empty `Ok` twice
    /// let jobs = loop {
    ///     let jobs = answers.next().unwrap();
    ///     if !jobs.is_empty() { run.succeeded(); break jobs; }
    ///     match run.rejected() {
    ///         Decision::Retry { .. } => continue, // sleep here
    ///         Decision::GiveUp { .. } => break jobs,
    ///     }
    /// };
    /// assert_eq!((jobs, run.attempts()), (vec!["job-7"], 3));
    /// ```
    #[inline(never)]
    pub fn rejected(&mut self) -> Decision {
        let decision = self.state.rejected(self.policy);
        self.attempting = false;
        self.waiting = matches!(decision, Decision::Retry { .. });
        self.ended = !self.waiting;
        decision
    }

    /// The attempt that just failed made progress (a download wrote bytes
    /// before its connection broke, a connection's session stayed up an
    /// hour): call it before [`failed`](Run::failed), and the run counts
    /// its attempts afresh from this one, as a new call would. Its
    /// failure is attempt 1's: the first wait of the backoff, a line
    /// `attempt 1/{max}`, and the policy's attempt limit counted from it;
    /// so a download that moves forward at each attempt is not given up
    /// after `max` drops, and a supervisor whose session ran for an hour
    /// reconnects after the first wait, not the cap. The time spent, the
    /// `max_elapsed` limit and the run's start stay the call's; the
    /// [attempts](Run::attempts) and the lines count from the restart, and
    /// a retry budget takes the attempt that made progress for a call's
    /// first (a deposit). A circuit breaker (and a throttle) is told
    /// that attempt's failure as neutral: the dependency answered for a
    /// while, and the drop says nothing of its health (four downloads
    /// cut once each after progress do not open a breaker of three
    /// failures); the failures of the attempts after it count as any.
    /// No line is written. The retries made before it (each attempt it
    /// counts afresh from was followed by another) are
    /// added to `retry_retries_total` (feature `metrics`) now: a run that
    /// never ends, a supervisor dropped at a shutdown, would otherwise
    /// never count them; the call's outcome and `retry_attempts` are
    /// recorded when it ends, its attempts counted from the restart (a
    /// success at its attempt 1 is `succeeded_after_retries`, with the INFO
    /// line `succeeded on attempt 1` that closes the call's retry lines:
    /// the call retried). The
    /// next [`before_attempt`](Run::before_attempt) asks a throttle as a
    /// first attempt's does; a breaker or a throttle that turns it away
    /// ends a call that made attempts: outcome `circuit_open` or
    /// `throttled`, not `not_attempted_*`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{sleep::sleep_sync, testing, Backoff, Decision, Policy, Run};
    /// let paused = testing::pause();
    /// let policy = Policy::new().with_max_attempts(3).with_backoff(Backoff::exponential(
    ///     Duration::from_secs(1), Duration::from_secs(30)));
    /// let mut run = Run::new(&policy);
    /// let mut written = 0; // bytes on disk
    /// // each attempt writes 40 more bytes of 200 before its connection drops
    /// let size = loop {
    ///     let before = written;
    ///     written = (written + 40).min(200);
    ///     if written == 200 { run.succeeded(); break written; }
    ///     if written > before { run.progressed(); }
    ///     match run.failed(&"connection reset") {
    ///         Decision::Retry { wait, .. } => sleep_sync(wait),
    ///         Decision::GiveUp { .. } => panic!("gave up at {written}"),
    ///     }
    /// };
    /// assert_eq!(size, 200); // 5 attempts under a limit of 3
    /// assert_eq!(paused.waits(), [Duration::from_secs(1); 4]); // each the first wait
    /// ```
    #[inline]
    pub fn progressed(&mut self) {
        // (not once the run ended: its end counted its retries)
        let made = self.state.attempts;
        if made > 0 && !self.ended {
            crate::metrics::retries_made(self.policy.name, made);
        }
        self.state.restart_count();
    }

    /// Attempts made so far (since the last [`progressed`](Run::progressed)).
    pub fn attempts(&self) -> u32 {
        self.state.attempts
    }

    /// Time since the run started: from [`Run::new`] when the policy has
    /// `max_elapsed` or a callback, or from [`timed`](Run::timed);
    /// otherwise 0, here and in [`into_error`](Run::into_error)'s error (a
    /// plain run reads no clock, and its log lines have no `elapsed_ms`).
    /// Call `timed()` to measure a plain run.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{sleep::sleep_sync, testing, Decision, Policy, Run};
    /// let _paused = testing::pause(); // the waits move a virtual clock
    /// let policy = Policy::new(); // waits 1s, 2s
    /// let mut run = Run::new(&policy).timed();
    /// if let Decision::Retry { wait, .. } = run.failed(&"busy") { sleep_sync(wait); }
    /// assert!(run.elapsed() >= Duration::from_secs(1));
    /// let mut plain = Run::new(&policy);
    /// assert_eq!(plain.elapsed(), Duration::ZERO); // not timed: 0
    /// if let Decision::Retry { wait, .. } = plain.failed(&"busy") { sleep_sync(wait); }
    /// assert_eq!(plain.elapsed(), Duration::ZERO); // and still 0
    /// ```
    pub fn elapsed(&mut self) -> Duration {
        self.state.elapsed()
    }

    /// Wrap the last error of a run that gave up.
    ///
    /// ```
    /// use retry_runtime::{Decision, Policy, Run, StopReason};
    /// let policy = Policy::new().with_name("import").with_max_attempts(1);
    /// let mut run = Run::new(&policy);
    /// let e = "disk full";
    /// let Decision::GiveUp { reason, .. } = run.failed(&e) else { unreachable!() };
    /// let err = run.into_error(e, reason);
    /// assert_eq!((err.attempts, err.reason, err.last_error), (1, StopReason::Attempts, "disk full"));
    /// assert_eq!(err.to_string(), "import failed after 1 attempt (attempts exhausted): disk full");
    /// ```
    pub fn into_error<E>(mut self, last_error: E, reason: StopReason) -> RetryError<E> {
        self.state.error(self.policy, last_error, reason)
    }

    /// End the run at a shutdown: in place of the wait
    /// [`failed`](Run::failed) returned ([`Decision::Retry`]) or during it,
    /// or during an attempt [`before_attempt`](Run::before_attempt) let you
    /// make (a loop that races the attempt itself with its shutdown and
    /// drops it: a download's Ctrl-C). In a wait, the retry is not made
    /// (its budget token goes back); during an attempt, that attempt was
    /// made and counts in [`RetryError::attempts`] (a breaker records it
    /// as neutral, as a dropped attempt). Either way the run ends as
    /// [`Retry::stop_on`](crate::Retry::stop_on)'s does, with
    /// [`StopReason::Stopped`]: the WARN line (`{operation} failed after
    /// 2 attempts (stopped: its stop signal fired)`), the metric
    /// (`outcome="stopped"`) and the policy's `on_give_up`, told
    /// `last_error`: in a wait, the failure it was to retry; during an
    /// attempt, the error you give for the attempt cut short (not
    /// classified: the event's `kind` is `None`). (A hand-driven loop:
    /// a connection supervisor's, a resuming download's.) Called
    /// otherwise (the run gave up, made no attempt, or `before_attempt`
    /// refused the attempt, which told the refusal), it wraps `last_error`
    /// with `StopReason::Stopped` and tells nobody: an end was told, or
    /// nothing began. An attempt made without `before_attempt` cannot be
    /// told from none: a loop that may stop during an attempt calls
    /// `before_attempt` before each one (without a guard it is always
    /// `Ok`), as does a run whose policy has a budget and no breaker or
    /// throttle, for the wait's case.
    ///
    /// ```
    /// use retry_runtime::{Decision, Policy, Run, StopReason};
    /// let policy = Policy::new().with_name("broker").with_max_attempts(u32::MAX);
    /// let mut run = Run::new(&policy);
    /// let e = "connection refused";
    /// let Decision::Retry { .. } = run.failed(&e) else { unreachable!() };
    /// // the wait, raced with the shutdown: the shutdown won
    /// let err = run.stopped(e);
    /// assert_eq!((err.attempts, err.reason), (1, StopReason::Stopped));
    /// assert_eq!(err.to_string(), "broker failed after 1 attempt (stopped: its stop signal fired): connection refused");
    ///
    /// // during an attempt: it counts
    /// let policy = Policy::new().with_name("download");
    /// let mut run = Run::new(&policy);
    /// run.before_attempt::<std::io::Error>().unwrap();
    /// // ... the transfer, raced with Ctrl-C: Ctrl-C won, the transfer dropped
    /// let err = run.stopped("interrupted");
    /// assert_eq!(err.to_string(), "download failed after 1 attempt (stopped: its stop signal fired): interrupted");
    /// ```
    pub fn stopped<E: Display>(mut self, last_error: E) -> RetryError<E> {
        if self.waiting {
            self.state.stopped_in_wait(self.policy, &last_error);
        } else if self.attempting {
            self.state.stopped_in_attempt(self.policy, &last_error);
        }
        self.state
            .error(self.policy, last_error, StopReason::Stopped)
    }
}

/// Shows the policy and the [attempts](Run::attempts) made so far.
///
/// ```
/// use retry_runtime::{Policy, RetryAll, Run};
///
/// #[derive(Debug)]
/// struct Job<'p> {
///     id: u32,
///     run: Run<'p, RetryAll>,
/// }
///
/// let policy = Policy::new().with_name("import").with_max_attempts(3);
/// let mut job = Job { id: 7, run: Run::new(&policy) };
/// let _ = job.run.failed(&"busy");
/// let shown = format!("{job:?}");
/// assert!(shown.starts_with(r#"Job { id: 7, run: Run { policy: Policy { name: "import","#), "{shown}");
/// assert!(shown.ends_with("attempts: 1, .. } }"), "{shown}");
/// ```
impl<W: fmt::Debug, G: Guards> fmt::Debug for Run<'_, W, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("policy", self.policy)
            .field("attempts", &self.state.attempts)
            .finish_non_exhaustive()
    }
}
