//! retry-runtime on smol's executor, with async-io's timer as the
//! DefaultSleeper: no tokio in this crate's tree (tests/runtimes/ checks
//! `cargo tree`), so nothing here could lean on a tokio runtime.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use retry_runtime::sleep::{SleepFn, SmolSleeper};
use retry_runtime::{AttemptTimeout, Classify, Policy, Sleeper, retry, testing};

#[derive(Debug, PartialEq, thiserror::Error, Classify)]
enum Fail {
    #[error("Busy")]
    #[classify(Unavailable)]
    Busy,
    #[error("TimedOut")]
    #[classify(Timeout)]
    TimedOut,
}

impl From<AttemptTimeout> for Fail {
    fn from(_: AttemptTimeout) -> Self {
        Fail::TimedOut
    }
}

thread_local!(static CALLS: Cell<u32> = const { Cell::new(0) });

fn calls() -> u32 {
    CALLS.with(Cell::get)
}

/// Busy twice, then the answer.
async fn flaky() -> Result<u32, Fail> {
    CALLS.with(|c| c.set(c.get() + 1));
    smol::future::yield_now().await;
    if calls() < 3 {
        Err(Fail::Busy)
    } else {
        Ok(calls())
    }
}

/// Runs `fut` on smol's executor from zero calls: its output, and how long
/// it took (the waits were real).
fn block_on_timed<F: std::future::Future>(fut: F) -> (F::Output, Duration) {
    CALLS.with(|c| c.set(0));
    let started = Instant::now();
    let out = smol::block_on(fut);
    (out, started.elapsed())
}

#[retry(attempts = 3, backoff = "fixed(20ms)")]
async fn annotated() -> Result<u32, Fail> {
    flaky().await
}

#[test]
fn an_annotated_async_fn_sleeps_on_async_io_under_smol() {
    let (out, took) = block_on_timed(annotated());
    assert_eq!(out, Ok(3));
    // two real waits of 20ms on async-io's timer
    assert!(took >= Duration::from_millis(40), "{took:?}");
}

/// Busy every time, at once (no await): a run whose waits are virtual ends
/// within the poll that starts it.
#[retry(attempts = 100, backoff = "exp(1s,4s)", max_elapsed = "10s")]
async fn always_busy() -> Result<u32, Fail> {
    CALLS.with(|c| c.set(c.get() + 1));
    Err(Fail::Busy)
}

/// Polls `fut` with a waker that does nothing until it is ready: its
/// output, and how many times it was pending. A run whose waits are
/// virtual is pending once per wait (each yields once); one that slept on
/// the real timer would stay pending for the hours below.
fn poll_to_end<F: std::future::Future>(fut: F) -> (F::Output, u32) {
    use std::task::{Context, Poll, Waker};
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for pending in 0..1000 {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return (out, pending);
        }
    }
    panic!("still pending after 1000 polls: a wait was slept on the real timer");
}

#[test]
fn under_pause_the_waits_are_virtual_and_move_the_runs_clock() {
    CALLS.with(|c| c.set(0));
    let paused = testing::pause();
    // each wait yields once, and is not slept
    let (out, pending) = poll_to_end(always_busy());
    assert_eq!((out, pending), (Err(Fail::Busy), 3));
    let s = Duration::from_secs;
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    // the virtual 7s count towards `max_elapsed`: the next wait, 4s, would
    // end past 10s, so the run stops after 4 attempts, not 100
    assert_eq!(calls(), 4);

    // the functional API, with async-io's timer named
    CALLS.with(|c| c.set(0));
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(retry_runtime::Backoff::fixed(s(3600)));
    let retry = policy
        .retry(|| async { always_busy_once() })
        .sleep_with(SmolSleeper)
        .detailed();
    let (out, pending) = poll_to_end(retry.into_future());
    let failed = out.unwrap_err();
    assert_eq!((failed.attempts, calls(), pending), (3, 3, 2));
    // two virtual hours, and the few real microseconds the attempts took
    assert!(
        failed.elapsed >= s(7200) && failed.elapsed < s(7201),
        "{:?}",
        failed.elapsed
    );
}

thread_local!(static SERVED: Cell<bool> = const { Cell::new(false) });

/// Fails until another task has served it, without awaiting anything.
#[retry(attempts = 5, backoff = "fixed(100ms)")]
async fn until_served() -> Result<u32, Fail> {
    CALLS.with(|c| c.set(c.get() + 1));
    if SERVED.with(Cell::get) {
        Ok(calls())
    } else {
        Err(Fail::Busy)
    }
}

#[test]
fn under_pause_a_virtual_wait_lets_the_executors_other_tasks_run() {
    CALLS.with(|c| c.set(0));
    SERVED.with(|s| s.set(false));
    let _paused = testing::pause();
    let ex = smol::LocalExecutor::new();
    ex.spawn(async { SERVED.with(|s| s.set(true)) }).detach();
    // a virtual wait that did not yield would run all 5 attempts before
    // the server task is ever polled
    assert!(smol::block_on(ex.run(until_served())).is_ok());
    assert!(calls() <= 2, "{}", calls());
}

fn always_busy_once() -> Result<u32, Fail> {
    CALLS.with(|c| c.set(c.get() + 1));
    Err(Fail::Busy)
}

#[test]
fn the_functional_api_awaits_under_smol_with_the_default_and_an_explicit_sleeper() {
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(retry_runtime::Backoff::fixed(Duration::from_millis(10)));
    CALLS.with(|c| c.set(0));
    let out = smol::block_on(async { policy.retry(flaky).await });
    assert_eq!(out, Ok(3));
    // the explicit sleeper is async-io's timer, and says what it was asked
    // (a run that ignored `.sleep_with()` would leave `slept` empty)
    let slept = RefCell::new(Vec::new());
    let retry = policy.retry(flaky).sleep_with(SleepFn(|wait: Duration| {
        slept.borrow_mut().push(wait);
        SmolSleeper.sleep(wait)
    }));
    let (out, took) = block_on_timed(retry.into_future());
    assert_eq!(out, Ok(3));
    assert_eq!(*slept.borrow(), [Duration::from_millis(10); 2]);
    assert!(took >= Duration::from_millis(20), "{took:?}");
}

#[test]
fn under_pause_hedged_without_a_hedge_delay_waits_virtually_as_await_does() {
    CALLS.with(|c| c.set(0));
    let paused = testing::pause();
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(retry_runtime::Backoff::fixed(Duration::from_secs(3600)));
    // `.hedged()` read from configuration whose hedge delay is unset: one
    // attempt at a time, as `.await` runs them, and its waits as virtual
    let hedged = policy.retry(|| async { always_busy_once() }).hedged();
    let (out, pending) = poll_to_end(hedged);
    assert_eq!((out, calls(), pending), (Err(Fail::Busy), 3, 2));
    assert_eq!(paused.waits(), [Duration::from_secs(3600); 2]);
}

thread_local!(static START: Cell<Option<Instant>> = const { Cell::new(None) });

/// Attempts 1 and 2 fail together at 650ms (the second is the hedge
/// started at 600ms), so their failures are taken in one poll; 3 and 4
/// fail at once.
#[retry(attempts = 4, backoff = "fixed(500ms)", hedge = "600ms")]
async fn two_fail_together() -> Result<u32, Fail> {
    CALLS.with(|c| c.set(c.get() + 1));
    if calls() <= 2 {
        let start = START.with(Cell::get).expect("set by the test");
        smol::Timer::at(start + Duration::from_millis(650)).await;
    }
    Err(Fail::Busy)
}

#[test]
fn under_pause_a_hedged_run_records_its_waits_and_sleeps_them_for_real() {
    CALLS.with(|c| c.set(0));
    START.with(|s| s.set(Some(Instant::now())));
    let paused = testing::pause();
    assert_eq!(smol::block_on(two_fail_together()), Err(Fail::Busy));
    assert_eq!(calls(), 4);
    // each failure's retry waited its 500ms (recorded; a hedged run's
    // waits are not virtual: its attempts race them in real time, and a
    // virtual clock moved by each wait would add up the two overlapping
    // ones)
    let waits = paused.waits();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(
        waits
            .iter()
            .all(|w| (Duration::from_millis(400)..=Duration::from_millis(500)).contains(w)),
        "{waits:?}"
    );
    let start = START.with(Cell::get).unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(1150),
        "{:?}",
        start.elapsed()
    );
}

#[retry(attempts = 2, backoff = "none", timeout = "30ms")]
async fn too_slow() -> Result<u32, Fail> {
    CALLS.with(|c| c.set(c.get() + 1));
    smol::Timer::after(Duration::from_secs(5)).await;
    Ok(1)
}

#[test]
fn a_per_attempt_timeout_races_async_io_s_timer() {
    // also under `testing::pause`: only the waits between attempts are
    // virtual, a timeout is not
    let _paused = testing::pause();
    let (out, took) = block_on_timed(too_slow());
    assert_eq!(out, Err(Fail::TimedOut));
    assert_eq!(calls(), 2, "each attempt timed out, and was retried");
    // each attempt had its 30ms (a timeout firing at once would be quicker)
    assert!(took >= Duration::from_millis(60), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

// Runs going at once on one thread under `testing::pause`: their waits on
// async-io's timer are virtual and end in the order of their deadlines, as
// on tokio's paused clock, each run's clock moved by its own waits only.

/// The virtual time on this thread since `t0`, in whole milliseconds.
fn ms_since(t0: Duration) -> u128 {
    (retry_runtime::clock::Clock::now(&retry_runtime::clock::SystemClock) - t0).as_millis()
}

fn now() -> Duration {
    retry_runtime::clock::Clock::now(&retry_runtime::clock::SystemClock)
}

/// Polls `ex`'s tasks until `done` says so, and at most 1000 times: a
/// virtual wait that never ended leaves nothing to run (`false`).
fn tick_until(ex: &smol::LocalExecutor<'_>, done: impl Fn() -> bool) -> bool {
    for _ in 0..1000 {
        if done() {
            return true;
        }
        if !ex.try_tick() {
            return done();
        }
    }
    false
}

#[retry(attempts = 100, backoff = "fixed(1s)", max_elapsed = "10s")]
async fn down_for(calls: &Cell<u32>) -> Result<u32, Fail> {
    calls.set(calls.get() + 1);
    Err(Fail::Busy)
}

/// Two runs at once on one thread wait side by side: 1s waits against a
/// 10s deadline make 10 attempts each, as one run alone does (they made 6
/// each when every wait moved the thread's clock at once: 2s a round).
#[test]
fn under_pause_two_runs_at_once_each_make_the_attempts_of_one_alone() {
    let paused = testing::pause();
    let alone = Cell::new(0);
    assert!(smol::block_on(down_for(&alone)).is_err());
    assert_eq!(alone.get(), 10);
    drop(paused);

    let paused = testing::pause();
    let (a, b) = (Cell::new(0), Cell::new(0));
    let t0 = now();
    let both = smol::block_on(smol::future::zip(down_for(&a), down_for(&b)));
    assert!(both.0.is_err() && both.1.is_err());
    assert_eq!((a.get(), b.get()), (10, 10));
    assert_eq!(paused.waits(), [Duration::from_secs(1); 18]);
    // side by side: the clock stands at nine seconds, not eighteen
    assert_eq!(ms_since(t0) / 1000, 9);
}

/// The attempts a task makes (its name, and the virtual second since
/// `t0`), for [`three_busy_attempts`].
type Starts = RefCell<Vec<(&'static str, u128)>>;

/// A run named `name` on smol's timer: three attempts, each busy and
/// pushed to `starts`, `secs` seconds apart.
async fn three_busy_attempts(
    starts: &Starts,
    t0: Duration,
    name: &'static str,
    secs: u64,
) -> Result<(), Fail> {
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(retry_runtime::Backoff::fixed(Duration::from_secs(secs)));
    policy
        .retry(|| {
            starts.borrow_mut().push((name, ms_since(t0) / 1000));
            async { Err::<(), _>(Fail::Busy) }
        })
        .sleep_with(SmolSleeper)
        .await
}

/// Waits of 3s, 5s and 7s in three tasks, and an app's loop sleeping 4s
/// with `sleep_async`, end in the order of their deadlines: each attempt
/// starts at the virtual time its run's own waits make (a run's 3s waits
/// do not delay the others', nor add to them).
#[test]
fn under_pause_waits_of_three_tasks_end_in_deadline_order() {
    let _paused = testing::pause();
    let starts = RefCell::new(Vec::new());
    let t0 = now();
    let run = |name: &'static str, secs: u64| {
        let run = three_busy_attempts(&starts, t0, name, secs);
        async move { assert!(run.await.is_err()) }
    };
    // an app's own loop sleeping with `sleep_async` between its calls
    let app_loop = async {
        for _ in 0..3 {
            starts.borrow_mut().push(("d", ms_since(t0) / 1000));
            retry_runtime::sleep::sleep_async(Duration::from_secs(4)).await;
        }
    };
    let ex = smol::LocalExecutor::new();
    let tasks = [
        ex.spawn(run("a", 3)),
        ex.spawn(run("b", 5)),
        ex.spawn(run("c", 7)),
        ex.spawn(app_loop),
    ];
    assert!(tick_until(&ex, || tasks.iter().all(|t| t.is_finished())));
    let starts = starts.borrow();
    assert_eq!(
        *starts,
        [
            ("a", 0),
            ("b", 0),
            ("c", 0),
            ("d", 0),
            ("a", 3),
            ("d", 4),
            ("b", 5),
            ("a", 6),
            ("c", 7),
            ("d", 8),
            ("b", 10),
            ("c", 14)
        ]
    );
}

/// A run dropped in its wait (its task cancelled) takes its timer out of
/// the line: the other run's waits end as they would alone.
#[test]
fn under_pause_a_run_dropped_in_its_wait_does_not_hold_the_others() {
    let _paused = testing::pause();
    let starts = RefCell::new(Vec::new());
    let t0 = now();
    let run = |name, secs| three_busy_attempts(&starts, t0, name, secs);
    let ex = smol::LocalExecutor::new();
    // the dropped one's wait (1s) ends first: left in the line, it would
    // hold the other's (2s) for ever
    let dropped = ex.spawn(run("dropped", 1));
    let kept = ex.spawn(run("kept", 2));
    // each makes its first attempt, and its timer is in line (one task a
    // tick)
    for _ in 0..2 {
        ex.try_tick();
    }
    assert_eq!(*starts.borrow(), [("dropped", 0), ("kept", 0)]);
    drop(dropped);
    assert!(tick_until(&ex, || kept.is_finished()));
    assert_eq!(
        *starts.borrow(),
        [("dropped", 0), ("kept", 0), ("kept", 2), ("kept", 4)]
    );
}

/// A 429 with a Retry-After, or a failure without one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ApiError {
    Limited(Duration),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl Classify for ApiError {
    fn kind(&self) -> retry_runtime::ErrorKind {
        retry_runtime::ErrorKind::RateLimited
    }
    fn retry_after(&self) -> Option<Duration> {
        let ApiError::Limited(wait) = self;
        Some(*wait)
    }
}

/// A task spawned when a run decides to wait out a 429's `retry-after:
/// 5` through a shared cooldown is held until that hold ends: its first
/// attempt comes 5 virtual seconds after it started. (When each wait
/// moved the thread's clock at once, the run's whole 5s had passed before
/// the new task first ran: it was not held, and made its attempt at once.)
#[test]
fn under_pause_a_task_spawned_during_a_hold_waits_it_out() {
    static PARTNER: retry_runtime::cooldown::Cooldown =
        retry_runtime::cooldown::Cooldown::new("smol-partner");
    static POLICY: Policy<retry_runtime::RetryOn> = retry_runtime::presets::API
        .with_max_attempts(3)
        .with_cooldown(&PARTNER);
    let paused = testing::pause();
    let t0 = now();
    let a_at = RefCell::new(Vec::new());
    let b_times = Cell::new(None);
    let b_task = RefCell::new(None);
    let ex = smol::LocalExecutor::new();
    let main = async {
        let mut calls = 0;
        let a = POLICY
            .retry(|| {
                calls += 1;
                a_at.borrow_mut().push(ms_since(t0));
                let first = calls == 1;
                async move {
                    match first {
                        true => Err(ApiError::Limited(Duration::from_secs(5))),
                        false => Ok(()),
                    }
                }
            })
            .sleep_with(SmolSleeper)
            .notify(|_| {
                // another task, the moment this run decides to wait
                let b_times = &b_times;
                let b = async move {
                    let started = ms_since(t0);
                    let r = POLICY
                        .retry(|| {
                            b_times.set(Some((started, ms_since(t0))));
                            async { Ok::<(), ApiError>(()) }
                        })
                        .sleep_with(SmolSleeper)
                        .await;
                    assert_eq!(r, Ok(()));
                };
                *b_task.borrow_mut() = Some(ex.spawn(b));
            })
            .await;
        assert_eq!(a, Ok(()));
        let b = b_task.borrow_mut().take().expect("B was spawned");
        b.await;
    };
    poll_to_end(ex.run(main));
    let (b_started, b_first) = b_times.get().expect("B made its attempt");
    assert!(b_started < 1000, "B started at {b_started}ms");
    assert!(
        (4900..6000).contains(&b_first),
        "B's first attempt at {b_first}ms"
    );
    let a_at = a_at.borrow();
    assert_eq!(a_at.len(), 2);
    assert!((5000..6000).contains(&a_at[1]), "{a_at:?}");
    // A's retry wait, then B's hold (5s, less the real time between)
    let waits = paused.waits();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits[1] > Duration::from_millis(4900), "{waits:?}");
}

static HELD: retry_runtime::cooldown::Cooldown =
    retry_runtime::cooldown::Cooldown::new("smol-held");
static HELD_POLICY: Policy<retry_runtime::RetryOn> =
    retry_runtime::presets::API.with_cooldown(&HELD);

#[retry(policy = HELD_POLICY)]
async fn once_through_the_hold(at: &Cell<Option<Duration>>) -> Result<(), ApiError> {
    at.set(Some(now()));
    Ok(())
}

/// A `#[retry(policy = ..)]` function's first attempt waits out the
/// policy's cooldown on the virtual clock too, as the functional form's
/// does: its wait recorded, its attempt 5s on (it was made at once, the
/// wait neither recorded nor on the clock).
#[test]
fn under_pause_an_annotated_first_attempt_waits_out_the_hold() {
    let paused = testing::pause();
    let t0 = now();
    HELD.hold_for(Duration::from_secs(5));
    let at = Cell::new(None);
    assert_eq!(smol::block_on(once_through_the_hold(&at)), Ok(()));
    let waited = at.get().expect("the attempt was made") - t0;
    assert!(waited >= Duration::from_secs(5), "{waited:?}");
    let waits = paused.waits();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(waits[0] > Duration::from_millis(4900), "{waits:?}");
}

/// A task that waits on something else than this library's timer (a
/// channel here; a socket, a lock) does not hold the virtual clock back:
/// the run's waits end while it waits, the clock jumping with each.
#[test]
fn under_pause_a_task_waiting_on_a_channel_does_not_hold_the_clock() {
    let _paused = testing::pause();
    let t0 = now();
    let (tx, rx) = smol::channel::bounded::<()>(1);
    let received_at = Cell::new(None);
    let ex = smol::LocalExecutor::new();
    let waiting = ex.spawn(async {
        let _ = rx.recv().await;
        received_at.set(Some(ms_since(t0) / 1000));
    });
    let run = ex.spawn(async move {
        let policy = Policy::new()
            .with_max_attempts(5)
            .with_backoff(retry_runtime::Backoff::fixed(Duration::from_secs(10)));
        let r = policy
            .retry(|| async { Err::<(), _>(Fail::Busy) })
            .sleep_with(SmolSleeper)
            .await;
        assert!(r.is_err());
        let _ = tx.send(()).await;
    });
    assert!(tick_until(&ex, || waiting.is_finished() && run.is_finished()));
    // four waits of 10s went by while it waited
    assert_eq!(received_at.get(), Some(40));
}

/// `.hedged()` without a hedge delay makes no timer for its virtual
/// waits (it yields itself): each moves the thread's clock at once by the
/// whole wait, so two such runs at once on one thread see each other's
/// waits (docs/testing.md): 6 attempts each against a 10s deadline, where
/// `.await` makes 10 each.
#[test]
fn under_pause_hedged_runs_without_a_hedge_delay_at_once_add_up_their_waits() {
    let _paused = testing::pause();
    let policy = Policy::new()
        .with_max_attempts(100)
        .with_backoff(retry_runtime::Backoff::fixed(Duration::from_secs(1)))
        .with_max_elapsed(Duration::from_secs(10));
    let run = || async {
        let e = policy
            .retry(|| async { Err::<(), _>(Fail::Busy) })
            .sleep_with(SmolSleeper)
            .detailed()
            .hedged()
            .await
            .unwrap_err();
        e.attempts
    };
    let both = smol::block_on(smol::future::zip(run(), run()));
    assert_eq!(both, (6, 6));
}
