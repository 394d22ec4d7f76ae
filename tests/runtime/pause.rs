//! `testing::pause` records every wait of a run, sync and async, whichever
//! sleeper waits: the default one (virtually, sync) or one of the user's
//! (still called).

use std::cell::RefCell;
use std::time::Duration;

use retry_runtime::sleep::SleepFn;
use retry_runtime::{testing, Backoff, Policy, Sleeper};

const THREE: Policy = Policy::new()
    .with_max_attempts(3)
    .with_backoff(Backoff::fixed(Duration::from_secs(7)));

/// A sync run's own sleeper is called, and its waits are recorded too (they
/// were not: only the default sleeper's `sleep_sync` recorded).
#[test]
fn a_sync_sleeper_of_the_users_is_called_and_recorded() {
    let paused = testing::pause();
    let slept = RefCell::new(Vec::new());
    let r: Result<(), &str> = THREE
        .retry(|| Err("down"))
        .sleep_with(|wait: Duration| slept.borrow_mut().push(wait))
        .call();
    assert!(r.is_err());
    let s7 = Duration::from_secs(7);
    assert_eq!(*slept.borrow(), [s7, s7]);
    assert_eq!(paused.waits(), [s7, s7]);
}

/// The default sleeper's waits are recorded once each, not twice.
#[test]
fn the_default_sync_sleeper_is_recorded_once() {
    let paused = testing::pause();
    let r: Result<(), &str> = THREE.retry(|| Err("down")).call();
    assert!(r.is_err());
    assert_eq!(paused.waits(), [Duration::from_secs(7); 2]);
}

/// The async twin, for comparison: the user's sleeper, called and recorded.
/// (It sleeps as the default one does, so it says what it was asked: a run
/// that ignored `.sleep_with()` would leave `slept` empty.)
#[tokio::test(start_paused = true)]
async fn an_async_sleeper_of_the_users_is_called_and_recorded() {
    let paused = testing::pause();
    let slept = RefCell::new(Vec::new());
    let r: Result<(), &str> = THREE
        .retry(|| async { Err("down") })
        .sleep_with(SleepFn(|wait: Duration| {
            slept.borrow_mut().push(wait);
            tokio::time::sleep(wait)
        }))
        .await;
    assert!(r.is_err());
    let s7 = Duration::from_secs(7);
    assert_eq!(*slept.borrow(), [s7, s7]);
    assert_eq!(paused.waits(), [s7, s7]);
}

/// A runtime's `sleep` function as it is (what backon's
/// `.sleep(tokio::time::sleep)` takes), and a closure that returns a timer,
/// are sleepers without a `SleepFn` around them: for `.await`, and for a
/// hedged run, whose timers are the sleeper's too.
#[tokio::test(start_paused = true)]
async fn a_sleep_function_or_a_closure_is_a_sleeper_as_it_is() {
    let s7 = Duration::from_secs(7);
    let paused = testing::pause();
    let r: Result<(), &str> = THREE
        .retry(|| async { Err("down") })
        .sleep_with(tokio::time::sleep)
        .await;
    assert!(r.is_err());
    assert_eq!(paused.waits(), [s7, s7]);

    let slept = RefCell::new(Vec::new());
    let sleeper = |wait: Duration| {
        slept.borrow_mut().push(wait);
        tokio::time::sleep(wait)
    };
    let r: Result<(), &str> = THREE
        .retry(|| async { Err("down") })
        .sleep_with(sleeper)
        .await;
    assert!(r.is_err());
    let r: Result<(), &str> = THREE
        .retry(|| async { Err("down") })
        .sleep_with(sleeper)
        .hedged()
        .await;
    assert!(r.is_err());
    assert_eq!(*slept.borrow(), [s7; 4]);
}

/// A sleeper of the user's that sleeps with the library's own `sleep_sync`
/// (a wrapper that logs, say): each wait is recorded once, not twice, and
/// the sleep is still virtual (it was recorded by the run, then again by
/// `sleep_sync`).
#[test]
fn a_sync_sleeper_that_calls_sleep_sync_is_recorded_once() {
    let paused = testing::pause();
    let slept = RefCell::new(0);
    let r: Result<(), &str> = THREE
        .retry(|| Err("down"))
        .sleep_with(|wait: Duration| {
            *slept.borrow_mut() += 1;
            retry_runtime::sleep::sleep_sync(wait);
        })
        .call();
    assert!(r.is_err());
    assert_eq!(*slept.borrow(), 2);
    let s7 = Duration::from_secs(7);
    assert_eq!(paused.waits(), [s7, s7]);
    assert_eq!(paused.total(), s7 * 2);
}

/// A zero wait does not call a sync sleeper of the user's (an async one is
/// not called either), and is recorded.
#[test]
fn a_zero_wait_does_not_call_a_sync_sleeper_of_the_users() {
    let paused = testing::pause();
    let called = RefCell::new(0);
    let r: Result<(), &str> = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry(|| Err("down"))
        .sleep_with(|_: Duration| *called.borrow_mut() += 1)
        .call();
    assert!(r.is_err());
    assert_eq!(*called.borrow(), 0);
    assert_eq!(paused.waits(), [Duration::ZERO; 2]);
}

/// A pause guard kept in a thread-local of the user's drops while its
/// thread exits, after the runtime's own thread-locals are gone: no panic
/// (it aborted the process).
#[test]
fn a_pause_guard_dropped_as_its_thread_exits_does_not_panic() {
    thread_local!(static KEPT: RefCell<Option<testing::Paused>> = const { RefCell::new(None) });
    let joined = std::thread::spawn(|| {
        // registered first: destroyed last, after the runtime's
        KEPT.with(|k| *k.borrow_mut() = None);
        KEPT.with(|k| *k.borrow_mut() = Some(testing::pause()));
        retry_runtime::sleep::sleep_sync(Duration::from_secs(1));
    })
    .join();
    assert!(joined.is_ok());
}

/// A sleeper of a library's own that wraps one of the crate's timers
/// (`SmolSleeper` here) keeps its waits virtual under `testing::pause()`
/// by forwarding `virtual_when_paused` and `sleep_virtual`: its `sleep` is
/// never called, where one that does not forward them sleeps.
#[test]
fn a_wrapping_sleeper_that_forwards_keeps_the_waits_virtual() {
    use retry_runtime::sleep::{Sleeper, SmolSleeper};
    use std::cell::Cell;

    struct Wrapper<'c> {
        inner: SmolSleeper,
        forward: bool,
        slept: &'c Cell<u32>,
    }
    impl Sleeper for Wrapper<'_> {
        type Sleep = <SmolSleeper as Sleeper>::Sleep;
        fn sleep(&self, wait: Duration) -> Self::Sleep {
            self.slept.set(self.slept.get() + 1);
            self.inner.sleep(wait)
        }
        fn virtual_when_paused(&self) -> bool {
            self.forward && self.inner.virtual_when_paused()
        }
        fn sleep_virtual(&self) -> Self::Sleep {
            self.inner.sleep_virtual()
        }
    }

    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_millis(5)));
    for (forward, sleeps) in [(true, 0), (false, 2)] {
        let slept = Cell::new(0);
        let paused = testing::pause();
        let out = async_io::block_on(async {
            policy
                .retry(|| async { Err::<(), _>("down") })
                .sleep_with(Wrapper {
                    inner: SmolSleeper,
                    forward,
                    slept: &slept,
                })
                .await
        });
        assert!(out.is_err());
        assert_eq!(slept.get(), sleeps, "forwarding: {forward}");
        // recorded either way
        let ms = Duration::from_millis;
        assert_eq!(paused.waits(), [ms(5), ms(5)]);
    }
    // the library's own wrapper, `SleepFn`, forwards them too (it did not:
    // `SleepFn(SmolSleeper)` slept for real under `pause()`)
    let slept = Cell::new(0);
    let paused = testing::pause();
    let wrapped = retry_runtime::sleep::SleepFn(Wrapper {
        inner: SmolSleeper,
        forward: true,
        slept: &slept,
    });
    let out = async_io::block_on(async {
        policy
            .retry(|| async { Err::<(), _>("down") })
            .sleep_with(wrapped)
            .await
    });
    assert!(out.is_err());
    assert_eq!(slept.get(), 0, "SleepFn kept the waits virtual");
    assert_eq!(paused.waits().len(), 2);
}

/// A sleeper that does not wait (docs/testing.md, "Real I/O under tokio's paused
/// clock"): a closure's waits are recorded but do not move the run's clock
/// (a sleeper of the user's is awaited, not virtual), so `max_elapsed`
/// counts none of them and every attempt is made; a `Sleeper` whose
/// `virtual_when_paused` says `true` (`testing::NoWait`) moves it, and the
/// run stops at its deadline as one on the library's own timers does.
#[tokio::test(start_paused = true)]
async fn a_sleeper_that_does_not_wait_keeps_max_elapsed_only_if_virtual() {
    use retry_runtime::StopReason;
    use std::future::ready;

    let s = Duration::from_secs;
    let policy = Policy::new()
        .with_max_attempts(100)
        .with_backoff(Backoff::exponential(s(1), s(4)))
        .with_max_elapsed(s(10));

    let paused = testing::pause();
    let e = policy
        .retry(|| async { Err::<(), _>("down") })
        .sleep_with(|_: Duration| ready(()))
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (100, StopReason::Attempts));
    assert_eq!(paused.waits().len(), 99); // recorded all the same
    assert!(e.elapsed < s(1), "{:?}", e.elapsed);
    drop(paused);

    // a sleeper that does not wait and whose waits are virtual
    let paused = testing::pause();
    let e = policy
        .retry(|| async { Err::<(), _>("down") })
        .sleep_with(testing::NoWait)
        .detailed()
        .await
        .unwrap_err();
    // a fourth wait (4s) would end past `max_elapsed`
    assert_eq!((e.attempts, e.reason), (4, StopReason::Deadline));
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    assert!(e.elapsed >= s(7), "{:?}", e.elapsed);
}

/// The sync twin: a sync sleeper of the user's that returns at once does
/// not move the run's clock under `testing::pause()` (every attempt is
/// made); one that calls `sleep_sync` is virtual, as the default is.
#[test]
fn a_sync_sleeper_that_returns_at_once_leaves_max_elapsed_nothing_to_count() {
    use retry_runtime::StopReason;

    let s = Duration::from_secs;
    let policy = Policy::new()
        .with_max_attempts(100)
        .with_backoff(Backoff::exponential(s(1), s(4)))
        .with_max_elapsed(s(10));
    let _paused = testing::pause();
    let e = policy
        .retry(|| Err::<(), _>("down"))
        .sleep_with(|_: Duration| {})
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (100, StopReason::Attempts));
    let e = policy
        .retry(|| Err::<(), _>("down"))
        .sleep_with(retry_runtime::sleep::sleep_sync)
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (4, StopReason::Deadline));
}

/// What a Ctrl-C handler of a sync CLI sets, and the `Condvar` it wakes a
/// waiting sleeper with (README, "Async runtimes, and none at all").
#[derive(Default)]
struct Interrupt {
    set: std::sync::Mutex<bool>,
    wake: std::sync::Condvar,
}

impl Interrupt {
    /// What the handler does.
    fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.wake.notify_all();
    }

    fn is_set(&self) -> bool {
        *self.set.lock().unwrap()
    }

    /// A sleeper: waits for `wait`, or until the flag is set.
    fn sleep(&self, wait: Duration) {
        let set = self.set.lock().unwrap();
        let _ = self
            .wake
            .wait_timeout_while(set, wait, |set| !*set)
            .unwrap();
    }
}

#[derive(Debug, thiserror::Error, retry_runtime::Classify)]
enum FetchError {
    #[error("connection refused")]
    #[classify(Connect)]
    Refused,
    #[error("interrupted")]
    #[classify(Permanent)]
    Interrupted,
}

const THIRTY_SECONDS: Policy<retry_runtime::RetryOn> = Policy::new()
    .with_name("fetch")
    .with_max_attempts(4)
    .with_backoff(Backoff::fixed(Duration::from_secs(30)))
    .retry_on(retry_runtime::KindSet::TRANSIENT);

/// A sync sleeper that returns early (woken by a Ctrl-C handler) does not
/// end the run: the next attempt starts at once, and the ones after it too
/// (the flag stays set), each WARN line still saying the planned 30s.
#[test]
fn a_sync_sleeper_that_returns_early_only_starts_the_next_attempt_sooner() {
    use retry_runtime::StopReason;
    use tracing::Level;

    let logs = testkit::capture::capture();
    let interrupt = &Interrupt::default();
    let started = std::time::Instant::now();
    let (failed, first_failure) = std::sync::mpsc::channel();
    let mut attempts = 0;
    let e = std::thread::scope(|scope| {
        scope.spawn(move || {
            first_failure.recv().unwrap();
            interrupt.set(); // Ctrl-C, after the first attempt failed
        });
        THIRTY_SECONDS
            .retry(|| {
                attempts += 1;
                let _ = failed.send(());
                Err::<(), _>(FetchError::Refused)
            })
            .sleep_with(|wait: Duration| interrupt.sleep(wait))
            .detailed()
            .call()
            .unwrap_err()
    });
    assert_eq!((e.attempts, e.reason), (4, StopReason::Attempts));
    assert_eq!(attempts, 4);
    assert!(started.elapsed() < Duration::from_secs(30));
    for n in 1..=3 {
        logs.assert_logged(
            Level::WARN,
            &format!("retrying fetch after attempt {n}/4 failed; next attempt in 30s"),
        );
    }
}

/// To stop on Ctrl-C: that sleeper, and an operation that checks the same
/// flag first and returns an error the policy does not retry. The run ends
/// as `Permanent`, the check counted as an attempt.
#[test]
fn a_sync_run_stops_when_its_op_sees_the_flag_its_sleeper_woke_on() {
    use retry_runtime::StopReason;

    let interrupt = &Interrupt::default();
    let started = std::time::Instant::now();
    let (failed, first_failure) = std::sync::mpsc::channel();
    let mut calls = 0;
    let e = std::thread::scope(|scope| {
        scope.spawn(move || {
            first_failure.recv().unwrap();
            interrupt.set();
        });
        THIRTY_SECONDS
            .retry(|| {
                if interrupt.is_set() {
                    return Err(FetchError::Interrupted);
                }
                calls += 1;
                let _ = failed.send(());
                Err::<(), _>(FetchError::Refused)
            })
            .sleep_with(|wait: Duration| interrupt.sleep(wait))
            .detailed()
            .call()
            .unwrap_err()
    });
    assert_eq!((e.attempts, e.reason), (2, StopReason::Permanent));
    assert!(matches!(e.last_error, FetchError::Interrupted));
    assert_eq!(calls, 1); // one real call; the check is attempt 2
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// `sleep_async` sleeps its wait on the default timer (tokio's paused
/// clock here), and records it under `testing::pause`; a zero wait is
/// recorded, and not slept.
#[tokio::test(start_paused = true)]
async fn sleep_async_sleeps_and_records_its_wait() {
    let paused = testing::pause();
    let t0 = tokio::time::Instant::now();
    retry_runtime::sleep::sleep_async(Duration::from_secs(3)).await;
    retry_runtime::sleep::sleep_async(Duration::ZERO).await;
    assert_eq!(t0.elapsed(), Duration::from_secs(3));
    assert_eq!(paused.waits(), [Duration::from_secs(3), Duration::ZERO]);
}

/// After a sync run with a sleeper of the user's, a `sleep_sync` of the
/// thread's own is recorded again: the run's "already recorded" mark is
/// taken off once its sleeper returns.
#[test]
fn a_sleep_sync_after_a_users_sleeper_is_recorded() {
    let paused = testing::pause();
    let r: Result<(), &str> = THREE
        .retry(|| Err("down"))
        .sleep_with(|_: Duration| {})
        .call();
    assert!(r.is_err());
    retry_runtime::sleep::sleep_sync(Duration::from_secs(1));
    let s7 = Duration::from_secs(7);
    assert_eq!(paused.waits(), [s7, s7, Duration::from_secs(1)]);
}

/// Two runs going at once on one thread wait side by side on this
/// library's smol timer, as on tokio's paused clock (docs/testing.md,
/// "Testing your retries without sleeping"): each run's clock moves by its
/// own waits only. 1s waits against a 10s deadline: 10 attempts alone
/// (nine waits), and 10 each together (they made 6 each when every wait
/// moved the thread's clock at once: 2s a round).
#[test]
fn runs_at_once_on_one_thread_wait_side_by_side() {
    let run = |name| one_second_waits_for_ten_seconds(name, retry_runtime::SmolSleeper);
    let paused = testing::pause();
    assert_eq!(async_io::block_on(run("alone")), 10);
    drop(paused);

    let paused = testing::pause();
    let both = async_io::block_on(futures_util::future::join(run("a"), run("b")));
    assert_eq!(both, (10, 10));
    assert_eq!(paused.waits().len(), 18);
    drop(paused);

    // a sleeper that forwards to this library's timer (`SleepFn` wraps
    // it whole) keeps that
    let forwarding =
        |name| one_second_waits_for_ten_seconds(name, SleepFn(retry_runtime::SmolSleeper));
    let _paused = testing::pause();
    let both = async_io::block_on(futures_util::future::join(forwarding("a"), forwarding("b")));
    assert_eq!(both, (10, 10));
}

/// A run of 1s waits against a 10s deadline, on `sleeper`: its attempts.
async fn one_second_waits_for_ten_seconds(name: &'static str, sleeper: impl Sleeper) -> u32 {
    let policy = Policy::new()
        .with_max_attempts(100)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .with_max_elapsed(Duration::from_secs(10))
        .with_name(name);
    let failed = policy.retry(|| async { Err::<(), _>("down") });
    let e = failed.sleep_with(sleeper).detailed().await.unwrap_err();
    e.attempts
}

/// A sleeper of the user's whose waits are virtual, with a
/// `sleep_virtual` of its own (a yield): each wait moves the thread's
/// clock at once by the whole wait, so two runs at once on one thread see
/// each other's waits (docs/testing.md, "What still adds up"): 6 attempts
/// each, the clock moving 2s a round.
#[test]
fn runs_at_once_on_a_sleeper_of_the_users_add_up_their_waits() {
    /// Ready at its second poll.
    struct YieldOnce(bool);
    impl std::future::Future for YieldOnce {
        type Output = ();
        fn poll(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            if std::mem::replace(&mut self.0, true) {
                return std::task::Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
    struct Yields;
    impl Sleeper for Yields {
        type Sleep = YieldOnce;
        fn sleep(&self, _: Duration) -> YieldOnce {
            YieldOnce(false) // (every wait is virtual under pause: not called)
        }
        fn virtual_when_paused(&self) -> bool {
            true
        }
        fn sleep_virtual(&self) -> YieldOnce {
            YieldOnce(false)
        }
    }
    let paused = testing::pause();
    let both = async_io::block_on(futures_util::future::join(
        one_second_waits_for_ten_seconds("a", Yields),
        one_second_waits_for_ten_seconds("b", Yields),
    ));
    assert_eq!(both, (6, 6));
    assert_eq!(paused.waits().len(), 10);
}
