//! `#[retry(sleeper = EXPR)]`: the timer of the waits (and of an async
//! function's `timeout` and hedge delay) is the caller's, borrowed once per
//! call: an async function's is a `Sleeper`, a sync one's a
//! `BlockingSleeper`. A sleeper that records each wait and returns at once
//! checks a function's waits without sleeping them and without
//! `testing::pause`, which real I/O beside the retries may not allow.

use std::cell::RefCell;
use std::future::{pending, ready, Ready};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use retry_runtime::{retry, testing, AttemptTimeout, Classify, ErrorKind, RetryBudget, Sleeper};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[derive(Debug, PartialEq, thiserror::Error, Classify)]
enum FetchError {
    #[error("upstream answered 503")]
    #[classify(Unavailable)]
    Down,
    #[error("attempt timed out")]
    #[classify(Timeout)]
    TimedOut,
    #[error("no such clip")]
    #[classify(Permanent)]
    Missing,
}

impl From<AttemptTimeout> for FetchError {
    fn from(_: AttemptTimeout) -> Self {
        FetchError::TimedOut
    }
}

/// A sleeper that writes down each wait and ends it at once: what a test
/// of the waits needs, thread-safe so the functions' futures stay `Send`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Duration>>>);

impl Recorder {
    fn waits(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

impl Sleeper for Recorder {
    type Sleep = Ready<()>;
    fn sleep(&self, wait: Duration) -> Ready<()> {
        self.0.lock().unwrap().push(wait);
        ready(())
    }
}

#[retry(attempts = 3, backoff = "exp(1s, 4s)", retry_on = Unavailable, sleeper = *timer)]
async fn fetch(timer: &Recorder, calls: &AtomicU32) -> Result<u32, FetchError> {
    let n = calls.fetch_add(1, SeqCst) + 1;
    if n < 3 {
        Err(FetchError::Down)
    } else {
        Ok(n)
    }
}

#[tokio::test]
async fn an_async_functions_waits_are_on_its_sleeper() {
    let (timer, calls) = (Recorder::default(), AtomicU32::new(0));
    assert_eq!(fetch(&timer, &calls).await, Ok(3));
    assert_eq!(timer.waits(), [s(1), s(2)], "the waits, none slept");
}

#[retry(attempts = 4, backoff = "none", sleeper = *timer)]
async fn no_wait(timer: &Recorder, calls: &AtomicU32) -> Result<(), FetchError> {
    calls.fetch_add(1, SeqCst);
    Err(FetchError::Down)
}

#[tokio::test]
async fn a_zero_wait_does_not_call_the_sleeper() {
    let (timer, calls) = (Recorder::default(), AtomicU32::new(0));
    assert_eq!(no_wait(&timer, &calls).await, Err(FetchError::Down));
    assert_eq!(calls.load(SeqCst), 4);
    assert!(timer.waits().is_empty(), "{:?}", timer.waits());
}

/// A client holding its runtime's timer: the key borrows the field.
struct Client {
    timer: Recorder,
    calls: AtomicU32,
}

impl Client {
    #[retry(attempts = 3, backoff = "fixed(5s)", retry_on = Unavailable | Timeout, timeout = "30s", sleeper = self.timer)]
    async fn stuck(&self) -> Result<(), FetchError> {
        self.calls.fetch_add(1, SeqCst);
        pending().await
    }

    #[retry(attempts = 2, backoff = "fixed(5s)", retry_on = Timeout, timeout = self.limit(), sleeper = self.timer)]
    async fn stuck_for(&self) -> Result<(), FetchError> {
        self.calls.fetch_add(1, SeqCst);
        pending().await
    }

    fn limit(&self) -> Option<Duration> {
        Some(ms(250))
    }
}

#[tokio::test]
async fn a_methods_sleeper_is_its_field_and_runs_the_timeouts_too() {
    let client = Client {
        timer: Recorder::default(),
        calls: AtomicU32::new(0),
    };
    // each attempt never answers; its timeout is a sleep on the recorder,
    // which ends at once: the attempt times out without real time passing
    assert_eq!(client.stuck().await, Err(FetchError::TimedOut));
    assert_eq!(client.calls.load(SeqCst), 3);
    assert_eq!(client.timer.waits(), [s(30), s(5), s(30), s(5), s(30)]);

    let client = Client {
        timer: Recorder::default(),
        calls: AtomicU32::new(0),
    };
    assert_eq!(client.stuck_for().await, Err(FetchError::TimedOut));
    assert_eq!(client.timer.waits(), [ms(250), s(5), ms(250)]);
}

/// A function whose future must be `Send` (spawned on tokio's
/// multi-thread runtime) with a closure as its sleeper: any
/// `Fn(Duration) -> impl Future<Output = ()>`.
#[retry(attempts = 3, backoff = "fixed(2s)", retry_on = Unavailable, sleeper = |wait| tokio::time::sleep(wait / 1000))]
async fn scaled(calls: Arc<AtomicU32>) -> Result<u32, FetchError> {
    let n = calls.fetch_add(1, SeqCst) + 1;
    if n < 3 {
        Err(FetchError::Down)
    } else {
        Ok(n)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closure_is_a_sleeper_and_the_future_stays_send() {
    let calls = Arc::new(AtomicU32::new(0));
    let started = std::time::Instant::now();
    let r = tokio::spawn(scaled(calls.clone())).await.unwrap();
    assert_eq!(r, Ok(3));
    // two waits of 2s each, slept as 2ms by the closure
    assert!(started.elapsed() < s(2), "{:?}", started.elapsed());
}

static BUDGET: RetryBudget = RetryBudget::new("sleeper-test");

#[retry(attempts = 4, backoff = "fixed(1s)", budget = BUDGET, sleeper = *timer)]
async fn budgeted(timer: &Recorder) -> Result<(), FetchError> {
    Err(FetchError::Down)
}

#[tokio::test]
async fn a_budgets_waits_are_on_the_sleeper_too() {
    let timer = Recorder::default();
    assert_eq!(budgeted(&timer).await, Err(FetchError::Down));
    assert_eq!(timer.waits(), [s(1), s(1), s(1)]);
}

/// A sleeper whose waits never end: only the stop signal ends them.
struct Forever(AtomicU32);

impl Sleeper for Forever {
    type Sleep = std::future::Pending<()>;
    fn sleep(&self, _: Duration) -> Self::Sleep {
        self.0.fetch_add(1, SeqCst);
        pending()
    }
}

#[retry(attempts = 5, backoff = "fixed(1h)", stop_on = shutdown.recv(), sleeper = *timer)]
async fn until_shutdown(
    timer: &Forever,
    shutdown: &mut tokio::sync::mpsc::Receiver<()>,
) -> Result<(), FetchError> {
    Err(FetchError::Down)
}

#[tokio::test]
async fn a_stop_signal_cuts_a_wait_on_the_sleeper() {
    let timer = Forever(AtomicU32::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        tokio::task::yield_now().await;
        tx.send(()).await.unwrap();
    });
    assert_eq!(until_shutdown(&timer, &mut rx).await, Err(FetchError::Down));
    assert_eq!(timer.0.load(SeqCst), 1, "one wait, cut by the signal");
}

#[retry(attempts = 2, hedge = "150ms", retry_on = Unavailable, sleeper = *timer)]
async fn hedged(timer: &Recorder, calls: &AtomicU32) -> Result<u32, FetchError> {
    let n = calls.fetch_add(1, SeqCst) + 1;
    if n == 1 {
        pending().await // the first attempt hangs: the hedge answers
    } else {
        Ok(n)
    }
}

#[retry(attempts = 2, hedge = "150ms", retry_on = Unavailable, sleeper = *timer)]
async fn hedged_attempt(
    timer: &Recorder,
    #[attempt] attempt: retry_runtime::Attempt,
) -> Result<u32, FetchError> {
    if attempt.number == 1 {
        pending().await
    } else {
        Ok(attempt.number)
    }
}

#[tokio::test]
async fn a_hedge_delay_is_a_wait_on_the_sleeper() {
    let (timer, calls) = (Recorder::default(), AtomicU32::new(0));
    // (the delay's rest, counted from the attempt's start on the real clock)
    let one_hedge_delay = |waits: Vec<Duration>| {
        assert_eq!(waits.len(), 1, "{waits:?}");
        assert!(waits[0] > ms(100) && waits[0] <= ms(150), "{waits:?}");
    };
    assert_eq!(hedged(&timer, &calls).await, Ok(2));
    one_hedge_delay(timer.waits());

    let timer = Recorder::default();
    assert_eq!(hedged_attempt(&timer).await, Ok(2));
    one_hedge_delay(timer.waits());
}

#[retry(attempts = 3, backoff = "exp(1s, 4s)", retry_on = Unavailable, sleeper = *timer)]
async fn paused(timer: &Recorder) -> Result<(), FetchError> {
    Err(FetchError::Down)
}

#[tokio::test]
async fn under_pause_the_waits_are_recorded_once_and_the_sleeper_still_called() {
    let paused_clock = testing::pause();
    let timer = Recorder::default();
    assert_eq!(paused(&timer).await, Err(FetchError::Down));
    assert_eq!(paused_clock.waits(), [s(1), s(2)]);
    assert_eq!(timer.waits(), [s(1), s(2)]);
}

// Sync functions: a `BlockingSleeper`, e.g. a `Fn(Duration)`.

#[retry(attempts = 3, backoff = "exp(1s, 4s)", retry_on = Unavailable, sleeper = |wait| slept.borrow_mut().push(wait))]
fn read_clip(slept: &RefCell<Vec<Duration>>, missing: bool) -> Result<(), FetchError> {
    Err(if missing {
        FetchError::Missing
    } else {
        FetchError::Down
    })
}

#[test]
fn a_sync_functions_waits_are_on_its_blocking_sleeper() {
    let slept = RefCell::new(Vec::new());
    assert_eq!(read_clip(&slept, false), Err(FetchError::Down));
    assert_eq!(*slept.borrow(), [s(1), s(2)]);
    slept.borrow_mut().clear();
    assert_eq!(read_clip(&slept, true), Err(FetchError::Missing));
    assert!(slept.borrow().is_empty(), "a permanent error does not wait");
}

/// Ctrl-C during a sync wait: the sleeper waits on a `Condvar` the
/// handler notifies, and `stop_when` asks the same flag, so the wait is
/// cut and the call returns its last error (the `BlockingSleeper` docs'
/// story, now through the attribute).
struct Shutdown {
    stopping: Mutex<bool>,
    wake: Condvar,
}

impl Shutdown {
    fn ctrl_c(&self) {
        *self.stopping.lock().unwrap() = true;
        self.wake.notify_all();
    }

    fn is_set(&self) -> bool {
        *self.stopping.lock().unwrap()
    }

    fn sleep(&self, wait: Duration) {
        let stopping = self.stopping.lock().unwrap();
        let _ = self
            .wake
            .wait_timeout_while(stopping, wait, |stopping| !*stopping)
            .unwrap();
    }
}

#[retry(attempts = 5, backoff = "fixed(1h)", retry_on = Unavailable, stop_when = shutdown.is_set(), sleeper = |wait| shutdown.sleep(wait))]
fn sync_job(shutdown: &Shutdown, calls: &AtomicU32) -> Result<(), FetchError> {
    calls.fetch_add(1, SeqCst);
    Err(FetchError::Down)
}

#[test]
fn ctrl_c_cuts_a_sync_wait_through_the_sleeper() {
    let shutdown = Arc::new(Shutdown {
        stopping: Mutex::new(false),
        wake: Condvar::new(),
    });
    let calls = AtomicU32::new(0);
    let started = std::time::Instant::now();
    let handler = {
        let shutdown = shutdown.clone();
        std::thread::spawn(move || {
            std::thread::sleep(ms(50));
            shutdown.ctrl_c();
        })
    };
    assert_eq!(sync_job(&shutdown, &calls), Err(FetchError::Down));
    handler.join().unwrap();
    assert!(started.elapsed() < s(60), "the hour's wait was cut");
    assert_eq!(calls.load(SeqCst), 1, "no attempt after Ctrl-C");
}

static TOLD: AtomicBool = AtomicBool::new(false);

/// `sleeper` with a `Fn` path: a function item is a sleeper too.
fn note_wait(wait: Duration) {
    assert_eq!(wait, s(3));
    TOLD.store(true, SeqCst);
}

#[retry(attempts = 2, backoff = "fixed(3s)", retry_on = Unavailable, sleeper = note_wait)]
fn with_fn_item() -> Result<(), FetchError> {
    Err(FetchError::Down)
}

#[test]
fn a_function_is_a_blocking_sleeper() {
    assert_eq!(with_fn_item(), Err(FetchError::Down));
    assert!(TOLD.load(SeqCst));
    assert_eq!(ErrorKind::Unavailable, FetchError::Down.kind());
}

/// A client that is `Send` but not `Sync` (a boxed callback), whose
/// `&mut self` method takes a copy of its timer: the copy borrows nothing,
/// so the attempts keep borrowing `self` uniquely and the future stays
/// `Send` (naming `self.timer` itself would borrow `self` for the call,
/// and need `Mailer: Sync`).
struct Mailer {
    timer: Recorder,
    accepts: Box<dyn Fn() -> bool + Send>,
}

impl Mailer {
    #[retry(attempts = 3, backoff = "fixed(2s)", retry_on = Unavailable, sleeper = self.timer.clone())]
    async fn send(&mut self) -> Result<(), FetchError> {
        tokio::task::yield_now().await;
        if (self.accepts)() {
            Ok(())
        } else {
            Err(FetchError::Down)
        }
    }
}

#[retry(attempts = 3, backoff = "fixed(2s)", retry_on = Unavailable, sleeper = mailer.timer.clone())]
async fn send_with(mailer: &mut Mailer) -> Result<(), FetchError> {
    tokio::task::yield_now().await;
    if (mailer.accepts)() {
        Ok(())
    } else {
        Err(FetchError::Down)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_sleeper_keeps_a_mut_self_methods_future_send() {
    let timer = Recorder::default();
    let tries = AtomicU32::new(0);
    let mut mailer = Mailer {
        timer: timer.clone(),
        accepts: Box::new(move || tries.fetch_add(1, SeqCst) == 1),
    };
    let mailer = tokio::spawn(async move {
        mailer.send().await.unwrap();
        send_with(&mut mailer).await.unwrap_err(); // (its callback accepts once)
        mailer
    })
    .await
    .unwrap();
    drop(mailer);
    assert_eq!(timer.waits(), [s(2), s(2), s(2)]);
}
