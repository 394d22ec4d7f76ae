//! Cancellation: dropping a retrying future, while it sleeps between attempts
//! or while an attempt is in flight, leaves nothing behind.
//!
//! Each test checks, after the drop and after moving tokio's paused clock an
//! hour ahead:
//! - no attempt starts, no `before_sleep`/`on_give_up` hook runs and no log
//!   line is written (hooks count into statics, one set per test);
//! - the in-flight attempt's state was dropped (a guard in the body whose
//!   `Drop` counts);
//! - no timer is left registered: the future is polled with a waker of our
//!   own, and after the drop nothing but the test holds a clone of it (tokio's
//!   timer keeps a clone of the waker of every registered sleep), and it is
//!   never woken;
//! - the library spawned no task (`num_alive_tasks() == 0`).
//!
//! A dropped call that was a circuit breaker's half-open probe is told to
//! the breaker as made with no outcome: its slot is free for the next call
//! at once.
//!
//! `tokio::time::timeout` around an annotated call ends the whole call: the
//! attempts stop, and the call counts as one timeout (one `Elapsed`), whatever
//! the attempts did.

use std::future::IntoFuture;
use testkit::capture as support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use retry_runtime::circuit::CircuitState;
use retry_runtime::{retry, Backoff, GiveUpEvent, Policy, RetryEvent};
use tokio::time::Instant;
use tracing::Level;

/// The library spawned nothing: the runtime runs no task.
fn assert_no_live_tasks() {
    let alive = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    assert_eq!(alive, 0, "tasks still alive");
}

/// [`assert_no_live_tasks`] on a multi-thread runtime, where a task that
/// ended leaves the runtime's count just after its `JoinHandle` resolves, on
/// its worker thread: waits for the count to reach 0 (10s at most) first.
async fn assert_no_live_tasks_once_they_leave() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while metrics.num_alive_tasks() != 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_no_live_tasks();
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Move tokio's paused clock an hour ahead and let whatever it woke run.
async fn an_hour_later() {
    tokio::time::advance(s(3600)).await;
    tokio::task::yield_now().await;
}

/// What one test's retrying function did.
struct Tally {
    /// Attempts started.
    calls: AtomicU32,
    /// Attempt states dropped (the [`Probe`] in the body).
    dropped: AtomicU32,
    /// `before_sleep` calls.
    retries: AtomicU32,
    /// `on_give_up` calls.
    give_ups: AtomicU32,
}

impl Tally {
    const fn new() -> Tally {
        Tally {
            calls: AtomicU32::new(0),
            dropped: AtomicU32::new(0),
            retries: AtomicU32::new(0),
            give_ups: AtomicU32::new(0),
        }
    }

    /// Count an attempt's start; the returned guard counts its end.
    fn start(&'static self) -> Probe {
        self.calls.fetch_add(1, SeqCst);
        Probe(self)
    }

    /// `(calls, dropped, retries, give_ups)`.
    fn get(&self) -> (u32, u32, u32, u32) {
        (
            self.calls.load(SeqCst),
            self.dropped.load(SeqCst),
            self.retries.load(SeqCst),
            self.give_ups.load(SeqCst),
        )
    }
}

/// Lives as long as one attempt's state.
struct Probe(&'static Tally);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, SeqCst);
    }
}

/// `before_sleep` and `on_give_up` hooks counting into the static `$tally`.
macro_rules! hooks {
    ($tally:ident) => {
        fn before_sleep(_: &RetryEvent<'_>) {
            $tally.retries.fetch_add(1, SeqCst);
        }
        fn on_give_up(_: &GiveUpEvent<'_>) {
            $tally.give_ups.fetch_add(1, SeqCst);
        }
    };
}

/// A test's static tally `$tally` and its [`hooks!`], and one of:
/// - `#[retry(..)] async fn`: the function, with the hooks added to its
///   arguments, whose every attempt counts its start and keeps its [`Probe`]
///   alive while `$body` runs;
/// - `#[retry(..)] async fn name() -> slow_failure` (attempts in flight for
///   a minute, then failing) or `-> quick_failure` (failing at once);
/// - `const POLICY = fixed(wait)`: 5 attempts `wait` apart, with the hooks.
macro_rules! tallied {
    ($tally:ident, #[retry($($arg:tt)*)] async fn $name:ident() -> $ret:ty $body:block) => {
        static $tally: Tally = Tally::new();
        hooks!($tally);
        #[retry($($arg)*, before_sleep = before_sleep, on_give_up = on_give_up)]
        async fn $name() -> $ret {
            let _probe = $tally.start();
            $body
        }
    };
    // attempts that stay in flight for a minute, then fail
    ($tally:ident, #[retry($($arg:tt)*)] async fn $name:ident() -> slow_failure) => {
        tallied!($tally, #[retry($($arg)*)] async fn $name() -> Result<u32, String> {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Err("late".to_owned())
        });
    };
    // attempts that fail at once
    ($tally:ident, #[retry($($arg:tt)*)] async fn $name:ident() -> quick_failure) => {
        tallied!($tally, #[retry($($arg)*)] async fn $name() -> Result<u32, String> {
            Err("down".to_owned())
        });
    };
    ($tally:ident, const $policy:ident = fixed($wait:expr)) => {
        static $tally: Tally = Tally::new();
        hooks!($tally);
        const $policy: Policy = Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::fixed($wait))
            .with_before_sleep(before_sleep)
            .with_on_give_up(on_give_up);
    };
}

/// A waker that counts its wakes; its `Arc`'s strong count tells how many
/// clones of it are alive (a registered timer holds one).
#[derive(Default)]
struct WakerProbe {
    wakes: AtomicU32,
}

impl Wake for WakerProbe {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

/// Poll `fut` once with a waker of our own; returns the probe and the waker.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> (Poll<F::Output>, Arc<WakerProbe>, Waker) {
    let probe = Arc::new(WakerProbe::default());
    let waker = Waker::from(Arc::clone(&probe));
    let polled = fut.poll(&mut Context::from_waker(&waker));
    (polled, probe, waker)
}

/// Poll `fut` once with [`poll_once`]: it must be pending; run
/// `while_pending`, then drop it as [`drop_and_check_no_timer`] does.
async fn poll_pending_then_drop<F: Future>(fut: F, while_pending: impl FnOnce()) {
    let mut fut = Box::pin(fut);
    let (polled, probe, waker) = poll_once(fut.as_mut());
    assert!(polled.is_pending());
    while_pending();
    drop_and_check_no_timer(fut, probe, waker).await;
}

/// Drop `fut` (polled once by [`poll_once`]), then check that no clone of the
/// waker survives it and that moving the clock an hour ahead wakes nothing.
async fn drop_and_check_no_timer<F>(fut: Pin<Box<F>>, probe: Arc<WakerProbe>, waker: Waker) {
    assert!(
        Arc::strong_count(&probe) > 2,
        "the pending future should hold a clone of the waker (its timer)"
    );
    let (alive, wakes) = drop_then_an_hour_later(fut, &probe).await;
    // `probe` and `waker`: nothing else holds the waker, so no timer is registered.
    assert_eq!(alive, 2, "a clone of the waker outlived the future");
    assert_eq!(wakes, 0, "woken after the drop");
    drop(waker);
    assert_no_live_tasks();
}

/// Drop `fut`, then move the clock an hour ahead: how many clones of the
/// waker were alive just after the drop, and how often it was woken.
async fn drop_then_an_hour_later<F>(fut: Pin<Box<F>>, probe: &Arc<WakerProbe>) -> (usize, u32) {
    drop(fut);
    let alive = Arc::strong_count(probe);
    an_hour_later().await;
    (alive, probe.wakes.load(SeqCst))
}

#[tokio::test(start_paused = true)]
async fn attribute_future_dropped_while_sleeping() {
    tallied!(T, #[retry(attempts = 5, backoff = "fixed(10s)")] async fn fetch() -> quick_failure);

    let logs = support::capture();
    poll_pending_then_drop(fetch(), || {
        // the first attempt failed and ended; the hook ran; the run sleeps 10s
        assert_eq!(T.get(), (1, 1, 1, 0));
        assert_eq!(logs.at(Level::WARN).len(), 1);
        assert_no_live_tasks();
    })
    .await;
    assert_eq!(T.get(), (1, 1, 1, 0), "nothing ran after the drop");
    assert_eq!(logs.lines().len(), 1, "{:?}", logs.lines());
}

#[tokio::test(start_paused = true)]
async fn attribute_future_dropped_with_an_attempt_in_flight() {
    tallied!(T, #[retry(attempts = 5, backoff = "fixed(1s)")] async fn slow() -> slow_failure);

    let logs = support::capture();
    poll_pending_then_drop(slow(), || {
        // the attempt is in flight: started, not ended
        assert_eq!(T.get(), (1, 0, 0, 0));
    })
    .await;
    assert_eq!(T.get(), (1, 1, 0, 0), "the attempt's state was dropped");
    assert!(logs.lines().is_empty(), "{:?}", logs.lines());
}

#[tokio::test(start_paused = true)]
async fn attribute_future_dropped_during_a_later_attempt() {
    tallied!(
        T,
        #[retry(attempts = 5, backoff = "fixed(1s)")]
        async fn second_is_slow() -> Result<u32, String> {
            if T.calls.load(SeqCst) >= 2 {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            Err("down".to_owned())
        }
    );

    let mut fut = Box::pin(second_is_slow());
    let start = Instant::now();
    // drive it with tokio until the second attempt is in flight
    let cut_short = tokio::time::timeout(s(5), fut.as_mut()).await;
    assert!(cut_short.is_err());
    assert_eq!(start.elapsed(), s(5));
    assert_eq!(T.get(), (2, 1, 1, 0));

    poll_pending_then_drop(fut, || {}).await;
    assert_eq!(T.get(), (2, 2, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn functional_future_dropped_while_sleeping() {
    tallied!(T, const POLICY = fixed(Duration::from_secs(10)));

    let logs = support::capture();
    poll_pending_then_drop(
        POLICY
            .retry(|| async {
                let _probe = T.start();
                Err::<u32, _>("down")
            })
            .into_future(),
        || {
            assert_eq!(T.get(), (1, 1, 1, 0));
        },
    )
    .await;
    assert_eq!(T.get(), (1, 1, 1, 0));
    assert_eq!(logs.lines().len(), 1, "{:?}", logs.lines());
}

#[tokio::test(start_paused = true)]
async fn functional_future_dropped_with_an_attempt_in_flight() {
    tallied!(T, const POLICY = fixed(Duration::from_secs(1)));

    poll_pending_then_drop(
        POLICY
            .retry(|| async {
                let _probe = T.start();
                tokio::time::sleep(Duration::from_secs(60)).await;
                Err::<u32, _>("late")
            })
            .detailed()
            .into_future(),
        || {
            assert_eq!(T.get(), (1, 0, 0, 0));
        },
    )
    .await;
    assert_eq!(T.get(), (1, 1, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn aborting_the_task_drops_the_retry() {
    tallied!(T, #[retry(attempts = 5, backoff = "fixed(10s)")] async fn fetch() -> quick_failure);

    let handle = tokio::spawn(fetch());
    while T.retries.load(SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    handle.abort();
    let err = handle.await.unwrap_err();
    assert!(err.is_cancelled());
    an_hour_later().await;
    assert_eq!(T.get(), (1, 1, 1, 0));
    assert_no_live_tasks();
}

/// The same on a multi-thread runtime, with real time: the task is aborted
/// while its attempt is in flight on a worker thread.
#[test]
fn aborting_on_a_multi_thread_runtime_drops_the_attempt() {
    tallied!(T, #[retry(attempts = 5, backoff = "fixed(10ms)")] async fn slow() -> slow_failure);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let handle = tokio::spawn(slow());
        while T.calls.load(SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
        assert_eq!(T.get(), (1, 1, 0, 0));
        // well past the attempt's 10ms backoff: nothing more happens
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(T.get(), (1, 1, 0, 0));
        assert_no_live_tasks_once_they_leave().await;
    });
}

#[tokio::test(start_paused = true)]
async fn timeout_around_an_annotated_call_stops_it_between_attempts() {
    tallied!(T, #[retry(attempts = 5, backoff = "fixed(10s)")] async fn fails_fast() -> quick_failure);

    let logs = support::capture();
    let start = Instant::now();
    // attempts at 0s, 10s, 20s; the timeout fires at 25s, during the third sleep
    let out = tokio::time::timeout(s(25), fails_fast()).await;
    assert!(out.is_err(), "{out:?}");
    assert_eq!(start.elapsed(), s(25));
    assert_eq!(T.get(), (3, 3, 3, 0));

    an_hour_later().await;
    assert_eq!(T.get(), (3, 3, 3, 0), "the call stopped at the timeout");
    assert_eq!(logs.at(Level::WARN).len(), 3);
    logs.assert_not_logged("failed after");
}

#[tokio::test(start_paused = true)]
async fn timeout_around_an_annotated_call_stops_the_attempt_in_flight() {
    tallied!(T, #[retry(attempts = 5, backoff = "fixed(1s)")] async fn slow() -> slow_failure);

    let start = Instant::now();
    let out = tokio::time::timeout(s(5), slow()).await;
    assert!(out.is_err());
    assert_eq!(start.elapsed(), s(5));
    // one attempt, cut short: dropped, never judged, no hook
    assert_eq!(T.get(), (1, 1, 0, 0));
    an_hour_later().await;
    assert_eq!(T.get(), (1, 1, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn timeout_around_per_attempt_timeouts() {
    // each attempt is cut at 1s (a retriable error), then 1s of backoff
    tallied!(
        T,
        #[retry(attempts = 3, backoff = "fixed(1s)", timeout = "1s")]
        async fn hangs() -> Result<u32, std::io::Error> {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(1)
        }
    );

    // alone: attempts time out at 1s, 3s, 5s; gives up at 5s with the last timeout
    let start = Instant::now();
    let err = hangs().await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(start.elapsed(), s(5));
    assert_eq!(T.get(), (3, 3, 2, 1));

    // inside an outer timeout of 3.5s: the second attempt timed out at 3s and
    // the call sleeps until 4s; the outer timeout ends it at 3.5s, once
    let start = Instant::now();
    let out = tokio::time::timeout(Duration::from_millis(3500), hangs()).await;
    assert!(out.is_err());
    assert_eq!(start.elapsed(), Duration::from_millis(3500));
    assert_eq!(T.get(), (3 + 2, 3 + 2, 2 + 2, 1));
    an_hour_later().await;
    assert_eq!(T.get(), (5, 5, 4, 1));
}

#[tokio::test(start_paused = true)]
async fn timeout_around_a_call_that_finishes_in_time() {
    tallied!(
        T,
        #[retry(attempts = 5, backoff = "fixed(1s)")]
        async fn second_time_lucky() -> Result<u32, String> {
            match T.calls.load(SeqCst) {
                1 => Err("down".to_owned()),
                n => Ok(n),
            }
        }
    );

    let out = tokio::time::timeout(s(5), second_time_lucky()).await;
    assert_eq!(out.unwrap(), Ok(2));
    assert_eq!(T.get(), (2, 2, 1, 0));
}

/// The waker check of [`drop_and_check_no_timer`] does see a timer left
/// behind: a future whose `Drop` leaks its registered sleep keeps a clone of
/// the waker alive, and the timer wakes it later.
#[tokio::test(start_paused = true)]
async fn the_waker_check_sees_a_leaked_timer() {
    struct Leaky(Option<Pin<Box<tokio::time::Sleep>>>);
    impl Future for Leaky {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            match self.0.as_mut() {
                Some(sleep) => sleep.as_mut().poll(cx),
                None => Poll::Ready(()),
            }
        }
    }
    impl Drop for Leaky {
        fn drop(&mut self) {
            // the bug this guards against: a timer outliving its future
            std::mem::forget(self.0.take());
        }
    }

    let mut fut = Box::pin(Leaky(Some(Box::pin(tokio::time::sleep(s(10))))));
    let (polled, probe, _waker) = poll_once(fut.as_mut());
    assert!(polled.is_pending());
    assert_eq!(Arc::strong_count(&probe), 3);
    let (alive, wakes) = drop_then_an_hour_later(fut, &probe).await;
    assert_eq!(alive, 3, "the leaked timer holds the waker");
    assert_eq!(wakes, 1, "and wakes it");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_gives_its_slot_back_at_once() {
    let (upstream, clock, policy) = crate::one_strike_breaker("dropped-probe");
    let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);

    let opened = policy.retry(|| async { Err::<(), _>(timed_out()) }).await;
    assert!(opened.is_err());
    assert_eq!(upstream.state(), CircuitState::Open);

    // the probe is in flight when its caller gives up on it
    clock.advance(Duration::from_secs(30));
    let probe = policy
        .retry(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, std::io::Error>(())
        })
        .into_future();
    assert!(tokio::time::timeout(s(1), probe).await.is_err());
    // told as made with no outcome: still half-open, its slot free, so the
    // next call probes now (it was turned away for another 30s)
    assert_eq!(upstream.state(), CircuitState::HalfOpen);
    // (probes out in this round: none, the dropped one's slot is free)
    let stats = upstream.stats();
    assert_eq!(
        (stats.neutral, stats.probes_let_through),
        (1, 0),
        "{stats:?}"
    );
    let closed = policy.retry(|| async { Ok::<_, std::io::Error>(7) }).await;
    assert_eq!(closed.unwrap(), 7);
    assert_eq!(upstream.state(), CircuitState::Closed);
}

/// The same through `#[retry]`: its future holds the run's leave too.
#[tokio::test(start_paused = true)]
async fn an_annotated_probe_dropped_in_flight_gives_its_slot_back() {
    static CLOCK: retry_runtime::clock::ManualClock = retry_runtime::clock::ManualClock::new();
    static UPSTREAM: retry_runtime::CircuitBreaker =
        retry_runtime::CircuitBreaker::new("annotated")
            .with_failures(1)
            .with_recovery(Duration::from_secs(30))
            .with_clock(&CLOCK);
    static SLOW: AtomicU32 = AtomicU32::new(0);

    #[retry(attempts = 1, circuit = UPSTREAM)]
    async fn fetch() -> Result<u32, std::io::Error> {
        if SLOW.load(SeqCst) == 1 {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        match SLOW.load(SeqCst) {
            0 => Err(std::io::ErrorKind::TimedOut.into()),
            _ => Ok(7),
        }
    }

    assert!(fetch().await.is_err());
    assert_eq!(UPSTREAM.state(), CircuitState::Open);
    CLOCK.advance(Duration::from_secs(30));
    SLOW.store(1, SeqCst);
    assert!(tokio::time::timeout(s(1), fetch()).await.is_err());
    assert_eq!(UPSTREAM.state(), CircuitState::HalfOpen);
    SLOW.store(2, SeqCst);
    assert_eq!(fetch().await.unwrap(), 7);
    assert_eq!(UPSTREAM.state(), CircuitState::Closed);
}

/// A call cancelled in flight while the breaker is closed is told to it as
/// made with no outcome: counted neutral, the consecutive failures left as
/// they were, every leave granted recorded.
#[tokio::test(start_paused = true)]
async fn a_call_dropped_in_flight_on_a_closed_breaker_is_neutral() {
    let (upstream, _clock, policy) = crate::one_strike_breaker("dropped-closed");
    let call = policy
        .retry(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, std::io::Error>(())
        })
        .into_future();
    assert!(tokio::time::timeout(s(1), call).await.is_err());
    let stats = upstream.stats();
    assert_eq!(
        (
            stats.state,
            stats.permitted,
            stats.neutral,
            stats.consecutive_failures
        ),
        (CircuitState::Closed, 1, 1, 0),
        "{stats:?}"
    );
}
