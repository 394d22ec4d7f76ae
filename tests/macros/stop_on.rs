//! `#[retry(stop_on = EXPR)]`: a shutdown's signal, made once per call
//! from the function's arguments (`shutdown.cancelled()`). Once it fires,
//! no retry is made and no wait slept out: the call returns the last
//! attempt's result, and ends as a run ends (`StopReason::Stopped`, its
//! WARN line, its hook), as `Retry::stop_on` does for the functional form
//! (tests/runtime/shutdown.rs).

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::Duration;

use retry_runtime::cooldown::Cooldown;
use retry_runtime::{
    retry, Attempt, Backoff, Classify, ErrorKind, GiveUpEvent, KindSet, Policy, RetryBudget,
    RetryOn, StopReason,
};
use testkit::capture as support;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Level;

/// A shutdown token, as tokio-util's `CancellationToken` is used: a
/// handle the service keeps, whose `cancelled()` completes once it fires.
#[derive(Clone)]
struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    fn new() -> Self {
        Shutdown(watch::channel(false).0)
    }

    fn fire(&self) {
        self.0.send_replace(true);
    }

    /// Fires `after` from now (on tokio's clock).
    fn fire_after(&self, after: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            me.fire();
        });
    }

    async fn cancelled(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|fired| *fired).await;
    }
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A job's error.
#[derive(Debug, PartialEq)]
enum JobError {
    Down(u32),
    Missing,
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Down(n) => write!(f, "upstream answered 503 (attempt {n})"),
            JobError::Missing => f.write_str("no such job"),
        }
    }
}

impl Classify for JobError {
    fn kind(&self) -> ErrorKind {
        match self {
            JobError::Down(_) => ErrorKind::Unavailable,
            JobError::Missing => ErrorKind::Permanent,
        }
    }
}

static CLASSIFIED: AtomicU32 = AtomicU32::new(0);

/// [`JobError::Down`], counting each time it is classified (one test's
/// only): a failure is classified once.
#[derive(Debug, PartialEq)]
struct Counted(JobError);

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Classify for Counted {
    fn kind(&self) -> ErrorKind {
        CLASSIFIED.fetch_add(1, SeqCst);
        self.0.kind()
    }
}

static WAITED: AtomicU32 = AtomicU32::new(0);

#[retry(attempts = 5, backoff = "fixed(10s)", retry_on = Unavailable, stop_on = shutdown.cancelled())]
async fn waited(shutdown: &Shutdown) -> Result<(), Counted> {
    let n = WAITED.fetch_add(1, SeqCst) + 1;
    Err(Counted(JobError::Down(n)))
}

#[tokio::test(start_paused = true)]
async fn fired_in_a_wait_the_call_ends_at_once_with_the_last_error() {
    let logs = support::capture();
    let shutdown = Shutdown::new();
    shutdown.fire_after(s(15)); // mid-way through the second wait
    let started = Instant::now();
    let r = waited(&shutdown).await;
    assert_eq!(
        started.elapsed(),
        s(15),
        "the second wait was cut, not slept"
    );
    assert_eq!(
        r,
        Err(Counted(JobError::Down(2))),
        "the last attempt's error"
    );
    tokio::time::sleep(s(3600)).await;
    assert_eq!(WAITED.load(SeqCst), 2, "no attempt after the signal");
    // each failure classified once: not again for the line the run ends with
    assert_eq!(CLASSIFIED.load(SeqCst), 2);

    let line = logs.assert_logged(Level::WARN, "waited failed after 2 attempts");
    support::assert_fields(
        &line,
        &[
            ("reason", "stopped: its stop signal fired"),
            ("outcome", "stopped"),
            ("error", "upstream answered 503 (attempt 2)"),
            ("error_kind", "Unavailable"),
        ],
    );
    assert!(logs.at(Level::ERROR).is_empty(), "{:?}", logs.lines());
}

#[retry(attempts = 5, backoff = "fixed(10s)", stop_on = shutdown.cancelled())]
async fn slow(shutdown: &Shutdown, calls: &AtomicU32) -> Result<(), JobError> {
    calls.fetch_add(1, SeqCst);
    tokio::time::sleep(s(5)).await;
    Err(JobError::Down(1))
}

#[tokio::test(start_paused = true)]
async fn fired_in_an_attempt_the_attempt_ends_and_its_error_is_the_call_s() {
    let logs = support::capture();
    let shutdown = Shutdown::new();
    shutdown.fire_after(s(2)); // 2s into the first attempt
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let r = slow(&shutdown, &calls).await;
    assert_eq!(
        started.elapsed(),
        s(5),
        "the attempt ran to its end, no wait after"
    );
    assert_eq!(r, Err(JobError::Down(1)));
    assert_eq!(calls.load(SeqCst), 1);
    let line = logs.assert_logged(Level::WARN, "slow failed after 1 attempt");
    assert!(line.contains("stopped: its stop signal fired"), "{line}");
}

#[retry(attempts = 3, backoff = "fixed(10s)", retry_on = Unavailable, stop_on = shutdown.cancelled())]
async fn answers(
    shutdown: &Shutdown,
    script: &[Result<u32, JobError>],
    calls: &AtomicU32,
) -> Result<u32, JobError> {
    let n = calls.fetch_add(1, SeqCst) as usize;
    match &script[n.min(script.len() - 1)] {
        Ok(v) => Ok(*v),
        Err(JobError::Down(k)) => Err(JobError::Down(*k)),
        Err(JobError::Missing) => Err(JobError::Missing),
    }
}

#[tokio::test(start_paused = true)]
async fn without_the_signal_firing_the_call_is_as_without_the_key() {
    let shutdown = Shutdown::new();
    let calls = AtomicU32::new(0);
    // a success after a retry
    let r = answers(&shutdown, &[Err(JobError::Down(1)), Ok(7)], &calls).await;
    assert_eq!((r, calls.load(SeqCst)), (Ok(7), 2));
    // an error not retried
    let calls = AtomicU32::new(0);
    let r = answers(&shutdown, &[Err(JobError::Missing)], &calls).await;
    assert_eq!((r, calls.load(SeqCst)), (Err(JobError::Missing), 1));
    // attempts run out
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let r = answers(&shutdown, &[Err(JobError::Down(1))], &calls).await;
    assert_eq!((r, calls.load(SeqCst)), (Err(JobError::Down(1)), 3));
    assert_eq!(started.elapsed(), s(20));
}

#[tokio::test(start_paused = true)]
async fn a_call_made_after_the_signal_fired_makes_its_first_attempt_only() {
    let shutdown = Shutdown::new();
    shutdown.fire();
    let calls = AtomicU32::new(0);
    let r = answers(&shutdown, &[Err(JobError::Down(1)), Ok(7)], &calls).await;
    assert_eq!((r, calls.load(SeqCst)), (Err(JobError::Down(1)), 1));
    // a success is a success
    let calls = AtomicU32::new(0);
    let r = answers(&shutdown, &[Ok(3)], &calls).await;
    assert_eq!(r, Ok(3));
}

static TOKENS: RetryBudget = RetryBudget::new("stop-on-tokens");
static STOPPED_RUNS: AtomicU32 = AtomicU32::new(0);

fn count_stopped(ev: &GiveUpEvent<'_>) {
    if ev.reason == StopReason::Stopped {
        STOPPED_RUNS.fetch_add(1, SeqCst);
    }
}

#[retry(attempts = 4, backoff = "fixed(10s)", budget = TOKENS, on_give_up = count_stopped, stop_on = shutdown.cancelled())]
async fn budgeted(shutdown: &Shutdown) -> Result<(), JobError> {
    Err(JobError::Down(1))
}

#[tokio::test(start_paused = true)]
async fn the_wait_s_budget_token_goes_back_once_and_on_give_up_is_told() {
    // four attempts, three retries: the bucket is no longer full, so a
    // token given back twice would show
    assert!(budgeted(&Shutdown::new()).await.is_err());
    let before = TOKENS.stats();
    assert!(
        before.tokens < f64::from(before.max_tokens) - 1.0,
        "{before:?}"
    );

    let shutdown = Shutdown::new();
    shutdown.fire_after(s(5));
    assert_eq!(budgeted(&shutdown).await, Err(JobError::Down(1)));
    let after = TOKENS.stats();
    // the first attempt deposited a tenth of a token; the retry granted
    // in the wait gave its token back, once, and is not counted
    assert!(
        (after.tokens - before.tokens - 0.1).abs() < 1e-9,
        "{before:?} -> {after:?}"
    );
    assert_eq!(after.retries, before.retries);
    assert_eq!(STOPPED_RUNS.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_call_dropped_in_its_wait_gives_the_token_back_too() {
    static DROPPED: RetryBudget = RetryBudget::new("stop-on-dropped");
    #[retry(attempts = 4, backoff = "fixed(10s)", budget = DROPPED, stop_on = shutdown.cancelled())]
    async fn call(shutdown: &Shutdown) -> Result<(), JobError> {
        Err(JobError::Down(1))
    }
    assert!(call(&Shutdown::new()).await.is_err());
    let before = DROPPED.stats();
    let cut = tokio::time::timeout(s(5), call(&Shutdown::new())).await;
    assert!(cut.is_err(), "cut in its first wait");
    let after = DROPPED.stats();
    assert!(
        (after.tokens - before.tokens - 0.1).abs() < 1e-9,
        "{before:?} -> {after:?}"
    );
}

#[retry(attempts = 3, backoff = "fixed(10s)", retry_if_ok = Option::is_none, stop_on = shutdown.cancelled())]
async fn lookup(shutdown: &Shutdown) -> Result<Option<u32>, JobError> {
    Ok(None) // not there yet
}

#[tokio::test(start_paused = true)]
async fn an_ok_retry_if_ok_rejected_is_returned_when_the_signal_ends_its_wait() {
    let logs = support::capture();
    let shutdown = Shutdown::new();
    shutdown.fire_after(s(3));
    let started = Instant::now();
    assert_eq!(lookup(&shutdown).await, Ok(None));
    assert_eq!(started.elapsed(), s(3));
    let line = logs.assert_logged(Level::WARN, "lookup failed after 1 attempt");
    assert!(
        line.contains("the result was rejected by retry_if_ok"),
        "{line}"
    );
}

static POLLS_ASKED: AtomicU32 = AtomicU32::new(0);

fn not_ready(value: &Option<u32>) -> bool {
    POLLS_ASKED.fetch_add(1, SeqCst);
    value.is_none()
}

fn count_announced(_: &retry_runtime::RetryEvent<'_>) {
    ANNOUNCED.fetch_add(1, SeqCst);
}

static ANNOUNCED: AtomicU32 = AtomicU32::new(0);

#[retry(attempts = 5, backoff = "fixed(10s)", retry_if_ok = not_ready, before_sleep = count_announced, stop_on = shutdown.cancelled())]
async fn slow_poll(shutdown: &Shutdown) -> Result<Option<u32>, JobError> {
    tokio::time::sleep(s(5)).await; // the signal fires during it
    Ok(None)
}

/// A signal that fires during an attempt whose `Ok` `retry_if_ok` rejects
/// ends the call as for an error: no retry announced (no WARN retry line,
/// no wait recorded, no `before_sleep`), the `Ok` returned, the predicate
/// asked once.
#[tokio::test(start_paused = true)]
async fn a_rejected_ok_during_which_the_signal_fired_announces_no_retry() {
    let logs = support::capture();
    let paused = retry_runtime::testing::pause();
    let shutdown = Shutdown::new();
    shutdown.fire_after(s(2));
    let started = Instant::now();
    assert_eq!(slow_poll(&shutdown).await, Ok(None));
    assert_eq!(started.elapsed(), s(5));
    assert!(paused.waits().is_empty(), "{:?}", paused.waits());
    assert_eq!((ANNOUNCED.load(SeqCst), POLLS_ASKED.load(SeqCst)), (0, 1));
    logs.assert_not_logged("retrying slow_poll");
    logs.assert_logged(Level::WARN, "slow_poll failed after 1 attempt (stopped");
}

#[retry(attempts = 4, backoff = "fixed(1s)", attempt_spans = true, stop_on = shutdown.cancelled())]
async fn spanned(shutdown: &Shutdown, #[attempt] attempt: Attempt) -> Result<u32, JobError> {
    if attempt.number == 2 {
        shutdown.fire(); // a fatal error starts the shutdown, then fails
    }
    Err(JobError::Down(attempt.number))
}

#[tokio::test(start_paused = true)]
async fn with_spans_and_an_attempt_parameter_a_signal_fired_in_the_attempt_ends_the_call() {
    let _logs = support::capture();
    let r = spanned(&Shutdown::new()).await;
    assert_eq!(r, Err(JobError::Down(2)));
}

/// An error that can be sent but not shared (a `Cell` inside): the
/// function's future stays `Send`, so a service can spawn it.
#[derive(Debug)]
struct NotSync(std::cell::Cell<u32>);

impl std::fmt::Display for NotSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed {} times", self.0.get())
    }
}

struct Worker {
    shutdown: Shutdown,
}

impl Worker {
    #[retry(attempts = 3, backoff = "fixed(1s)", stop_on = self.shutdown.cancelled())]
    async fn poll_queue(&self) -> Result<u32, NotSync> {
        Err(NotSync(std::cell::Cell::new(1)))
    }
}

#[tokio::test(start_paused = true)]
async fn a_method_s_signal_from_self_and_its_future_is_send_for_a_send_error() {
    let worker = std::sync::Arc::new(Worker {
        shutdown: Shutdown::new(),
    });
    worker.shutdown.fire_after(Duration::from_millis(1500));
    let w = worker.clone();
    let started = Instant::now();
    let r = tokio::spawn(async move { w.poll_queue().await })
        .await
        .unwrap();
    assert_eq!(r.unwrap_err().0.get(), 1);
    assert_eq!(started.elapsed(), Duration::from_millis(1500));
}

#[retry(attempts = 5, backoff = "none", retry_if_ok = Option::is_none, stop_on = std::future::ready(()))]
async fn rejected_at_once(calls: &AtomicU32) -> Result<Option<u32>, JobError> {
    calls.fetch_add(1, SeqCst);
    Ok(None)
}

#[tokio::test(start_paused = true)]
async fn a_rejected_ok_with_no_wait_is_not_retried_after_the_signal() {
    let calls = AtomicU32::new(0);
    assert_eq!(rejected_at_once(&calls).await, Ok(None));
    assert_eq!(calls.load(SeqCst), 1, "no attempt after the signal fired");
}

/// A receiver the signal takes `&mut` (mini-redis's `Shutdown::recv`).
struct Listener(watch::Receiver<bool>);

impl Listener {
    async fn recv(&mut self) {
        let _ = self.0.wait_for(|fired| *fired).await;
    }
}

#[retry(attempts = 3, backoff = "fixed(10s)", stop_on = shutdown.recv())]
async fn with_mut_ref(shutdown: &mut Listener, calls: &AtomicU32) -> Result<(), JobError> {
    calls.fetch_add(1, SeqCst);
    Err(JobError::Down(1))
}

#[retry(attempts = 3, backoff = "fixed(10s)", stop_on = rx.recv())]
async fn with_mut_owned(mut rx: Listener, calls: &AtomicU32) -> Result<(), JobError> {
    calls.fetch_add(1, SeqCst);
    Err(JobError::Down(1))
}

#[retry(attempts = 3, backoff = "fixed(10s)", stop_on = shutdown)]
async fn with_pinned(
    shutdown: std::pin::Pin<&mut (dyn std::future::Future<Output = ()> + Send)>,
    calls: &AtomicU32,
) -> Result<(), JobError> {
    calls.fetch_add(1, SeqCst);
    Err(JobError::Down(1))
}

struct Consumer {
    shutdown: Shutdown,
    seen: u32,
}

impl Consumer {
    #[retry(attempts = 3, backoff = "fixed(10s)", stop_on = self.shutdown.cancelled())]
    async fn poll(&mut self) -> Result<u32, JobError> {
        Err(JobError::Down(self.seen))
    }
}

#[tokio::test(start_paused = true)]
async fn what_the_signal_names_is_its_own_a_mut_ref_a_mut_owned_a_pin_mut_self() {
    let s5 = || {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            tokio::time::sleep(s(5)).await;
            tx.send_replace(true);
        });
        Listener(rx)
    };
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    assert!(with_mut_ref(&mut s5(), &calls).await.is_err());
    assert!(with_mut_owned(s5(), &calls).await.is_err());
    let mut l = s5();
    let pinned = std::pin::pin!(async move { l.recv().await });
    assert!(with_pinned(pinned, &calls).await.is_err());
    let mut consumer = Consumer {
        shutdown: Shutdown::new(),
        seen: 3,
    };
    consumer.shutdown.fire_after(s(5));
    assert_eq!(consumer.poll().await, Err(JobError::Down(3)));
    assert_eq!(calls.load(SeqCst), 3, "one attempt each");
    assert_eq!(started.elapsed(), s(20), "each cut in its first wait");
}

#[async_trait::async_trait]
trait Worker2 {
    async fn run(self: std::sync::Arc<Self>) -> Result<u32, JobError>;
}

struct ArcWorker {
    shutdown: Shutdown,
}

#[async_trait::async_trait]
impl Worker2 for ArcWorker {
    #[retry(attempts = 3, backoff = "fixed(10s)", stop_on = self.shutdown.cancelled())]
    async fn run(self: std::sync::Arc<Self>) -> Result<u32, JobError> {
        Err(JobError::Down(7))
    }
}

#[tokio::test(start_paused = true)]
async fn an_async_trait_method_s_signal_from_self() {
    let worker = std::sync::Arc::new(ArcWorker {
        shutdown: Shutdown::new(),
    });
    worker.shutdown.fire_after(s(5));
    let started = Instant::now();
    let r = tokio::spawn(worker.run()).await.unwrap();
    assert_eq!(r, Err(JobError::Down(7)));
    assert_eq!(started.elapsed(), s(5));
}

/// A signal that listens only from its first poll on (as
/// `tokio::signal::ctrl_c()` registers its handler then): one sent during
/// the first attempt is heard.
struct ListensWhenPolled {
    rx: Option<tokio::sync::broadcast::Receiver<()>>,
    tx: tokio::sync::broadcast::Sender<()>,
}

impl std::future::Future for ListensWhenPolled {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let tx = self.tx.clone();
        let rx = self.rx.get_or_insert_with(|| tx.subscribe());
        let recv = std::pin::pin!(rx.recv());
        recv.poll(cx).map(|_| ())
    }
}

#[retry(attempts = 3, backoff = "fixed(1s)", stop_on = signal)]
async fn hears_from_the_start(
    signal: ListensWhenPolled,
    tx: &tokio::sync::broadcast::Sender<()>,
    calls: &AtomicU32,
) -> Result<(), JobError> {
    calls.fetch_add(1, SeqCst);
    let _ = tx.send(()); // Ctrl-C during the attempt
    Err(JobError::Down(1))
}

#[tokio::test(start_paused = true)]
async fn a_signal_that_listens_when_polled_hears_one_sent_in_the_first_attempt() {
    let (tx, _) = tokio::sync::broadcast::channel(1);
    let calls = AtomicU32::new(0);
    let signal = || ListensWhenPolled {
        rx: None,
        tx: tx.clone(),
    };
    assert!(hears_from_the_start(signal(), &tx, &calls).await.is_err());
    assert_eq!(calls.load(SeqCst), 1, "#[retry]");
    // and the functional form's
    let calls = AtomicU32::new(0);
    let r = retry_runtime::Policy::new()
        .with_max_attempts(3)
        .retry(|| {
            calls.fetch_add(1, SeqCst);
            let _ = tx.send(());
            async { Err::<(), _>(JobError::Down(1)) }
        })
        .stop_on(signal())
        .await;
    assert!(r.is_err());
    assert_eq!(calls.load(SeqCst), 1, ".stop_on");
}

/// `stop_when = FLAG` on a sync function: asked after each failed attempt
/// and after each wait (a Ctrl-C handler's flag).
mod sync_flag {
    use super::*;
    use std::sync::atomic::AtomicBool;

    static STOP: AtomicBool = AtomicBool::new(false);
    static CALLS: AtomicU32 = AtomicU32::new(0);

    #[retry(attempts = 5, backoff = "fixed(10s)", retry_on = Unavailable, stop_when = STOP.load(SeqCst))]
    fn import(fail_until: u32) -> Result<u32, JobError> {
        let n = CALLS.fetch_add(1, SeqCst) + 1;
        if n == 2 {
            STOP.store(true, SeqCst); // Ctrl-C during the second attempt
        }
        if n < fail_until {
            Err(JobError::Down(n))
        } else {
            Ok(n)
        }
    }

    struct Importer {
        stopping: std::cell::Cell<bool>,
    }

    impl Importer {
        #[retry(attempts = 5, backoff = "fixed(10s)", stop_when = self.stopping.get())]
        fn run(&self, #[attempt] attempt: Attempt) -> Result<u32, JobError> {
            self.stopping.set(attempt.number == 3); // set during the third attempt
            Err(JobError::Down(attempt.number))
        }
    }

    #[test]
    fn a_flag_set_in_an_attempt_ends_the_call_at_its_failure_and_in_a_wait_after_it() {
        let logs = support::capture();
        let paused = retry_runtime::testing::pause();
        // (one test: the flag and the count are the process's)
        assert_eq!(import(10), Err(JobError::Down(2)));
        assert_eq!(
            paused.waits(),
            [s(10)],
            "the second attempt's failure ended it"
        );
        let line = logs.assert_logged(Level::WARN, "import failed after 2 attempts");
        assert!(line.contains("stopped: its stop signal fired"), "{line}");
        // set already: a success is a success
        assert_eq!(import(0), Ok(3));

        let importer = Importer {
            stopping: std::cell::Cell::new(false),
        };
        assert_eq!(importer.run(), Err(JobError::Down(3)));
    }

    /// A poll's "not ready" (`retry_if_ok`) is a failure to the flag too:
    /// a Cancel during the attempt that answered it ends the call there,
    /// with that `Ok` and the stop's line, no wait slept and no retry
    /// announced (it slept the whole backoff first: a ureq client's
    /// walk-through), the predicate asked once.
    static POLLED: AtomicU32 = AtomicU32::new(0);
    static ASKED_PRED: AtomicU32 = AtomicU32::new(0);
    static CANCEL: AtomicBool = AtomicBool::new(false);

    fn pending(status: &&'static str) -> bool {
        ASKED_PRED.fetch_add(1, SeqCst);
        *status == "pending"
    }

    #[retry(attempts = 5, backoff = "fixed(2s)", retry_on = Unavailable, retry_if_ok = pending, stop_when = CANCEL.load(SeqCst))]
    fn poll_export() -> Result<&'static str, JobError> {
        if POLLED.fetch_add(1, SeqCst) == 1 {
            CANCEL.store(true, SeqCst); // Cancel during the second poll
        }
        Ok("pending")
    }

    #[test]
    fn a_flag_set_in_an_attempt_whose_ok_is_rejected_ends_the_call_there() {
        let logs = support::capture();
        let paused = retry_runtime::testing::pause();
        assert_eq!(poll_export(), Ok("pending"));
        assert_eq!(POLLED.load(SeqCst), 2);
        assert_eq!(paused.waits(), [s(2)], "the first poll's wait only");
        assert_eq!(
            ASKED_PRED.load(SeqCst),
            2,
            "the predicate asked once per poll"
        );
        assert_eq!(logs.matching(Level::WARN, "retrying poll_export").len(), 1);
        let line = logs.assert_logged(Level::WARN, "poll_export failed after 2 attempts");
        assert!(line.contains("stopped: its stop signal fired"), "{line}");
    }

    /// A receiver taken by value that only the flag reads (`try_recv`
    /// takes `&mut`): the attempts do not touch it, so it needs no clone.
    #[retry(attempts = 3, backoff = "fixed(1s)", stop_when = stop.try_recv().is_ok())]
    fn until_told(
        mut stop: tokio::sync::oneshot::Receiver<()>,
        calls: &AtomicU32,
    ) -> Result<(), JobError> {
        calls.fetch_add(1, SeqCst);
        Err(JobError::Down(1))
    }

    #[test]
    fn a_by_value_receiver_only_the_flag_reads() {
        let _paused = retry_runtime::testing::pause();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tx.send(()).unwrap();
        let calls = AtomicU32::new(0);
        assert_eq!(until_told(rx, &calls), Err(JobError::Down(1)));
        assert_eq!(calls.load(SeqCst), 1);
    }

    thread_local!(static ASKED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });

    /// `false` the first time it is asked (after the first failure), `true`
    /// after that (after the wait): the flag came up during the wait.
    fn set_in_the_first_wait() -> bool {
        ASKED.with(|a| {
            a.set(a.get() + 1);
            a.get() > 1
        })
    }

    #[retry(attempts = 3, backoff = "fixed(10s)", stop_when = set_in_the_first_wait())]
    fn waited_once() -> Result<(), JobError> {
        Err(JobError::Down(1))
    }

    #[test]
    fn a_flag_set_in_a_wait_ends_the_call_after_it_with_the_last_error() {
        let logs = support::capture();
        let paused = retry_runtime::testing::pause();
        assert_eq!(waited_once(), Err(JobError::Down(1)));
        assert_eq!(
            paused.waits(),
            [s(10)],
            "one attempt, one wait, no retry after it"
        );
        let line = logs.assert_logged(Level::WARN, "waited_once failed after 1 attempt");
        assert!(line.contains("stopped: its stop signal fired"), "{line}");
    }
}

// `policy = P` holding a shared cooldown: the first attempt's wait for it
// (a 429's hold, a hold made longer meanwhile, a pace's slot) ends when the
// signal fires, and the attempt is made at once, the call's only one (its
// failure ends the run, `Stopped`), on the default timer and on a
// `sleeper = EXPR`, as `Retry::stop_on`'s does (tests/runtime/shutdown.rs).

/// Retries 503s, 10s apart, sharing `cooldown`.
const fn held_policy(cooldown: &'static Cooldown) -> Policy<RetryOn> {
    Policy::new()
        .retry_on(KindSet::TRANSIENT)
        .with_backoff(Backoff::fixed(Duration::from_secs(10)))
        .with_cooldown(cooldown)
}

/// Its calls' times (on tokio's clock, from `start`) go to `at`; it fails
/// with a 503 when `fail`, else answers 7.
#[retry(policy = policy, stop_on = shutdown.cancelled())]
async fn held_job(
    policy: &Policy<RetryOn>,
    shutdown: &Shutdown,
    at: &Mutex<Vec<Duration>>,
    start: Instant,
    fail: bool,
) -> Result<u32, JobError> {
    at.lock().unwrap().push(start.elapsed());
    if fail {
        Err(JobError::Down(1))
    } else {
        Ok(7)
    }
}

/// [`held_job`] on a `sleeper = EXPR`.
#[retry(
    policy = policy,
    stop_on = shutdown.cancelled(),
    sleeper = retry_runtime::sleep::SleepFn(tokio::time::sleep)
)]
async fn held_job_on(
    policy: &Policy<RetryOn>,
    shutdown: &Shutdown,
    at: &Mutex<Vec<Duration>>,
    start: Instant,
    fail: bool,
) -> Result<u32, JobError> {
    at.lock().unwrap().push(start.elapsed());
    if fail {
        Err(JobError::Down(1))
    } else {
        Ok(7)
    }
}

/// One call of [`held_job`] (or [`held_job_on`]), started now.
async fn held_call(
    on_sleeper: bool,
    policy: &Policy<RetryOn>,
    shutdown: &Shutdown,
    at: &Mutex<Vec<Duration>>,
    start: Instant,
    fail: bool,
) -> Result<u32, JobError> {
    if on_sleeper {
        held_job_on(policy, shutdown, at, start, fail).await
    } else {
        held_job(policy, shutdown, at, start, fail).await
    }
}

#[tokio::test(start_paused = true)]
async fn fired_in_a_first_attempt_s_hold_the_attempt_is_made_at_once_and_is_the_only_one() {
    static HELD: Cooldown = Cooldown::new("stop-on-held-60s");
    static POLICY: Policy<RetryOn> = held_policy(&HELD);
    let logs = support::capture();
    for on_sleeper in [false, true] {
        for fail in [true, false] {
            let shutdown = Shutdown::new();
            shutdown.fire_after(s(5));
            HELD.hold_for(s(60)); // what a run does on a 429 asking for 60s
            let (at, start) = (Mutex::new(Vec::new()), Instant::now());
            let r = held_call(on_sleeper, &POLICY, &shutdown, &at, start, fail).await;
            let case = format!("on a sleeper: {on_sleeper}, failing: {fail}");
            assert_eq!(*at.lock().unwrap(), [s(5)], "{case}: not at 60s");
            assert_eq!(start.elapsed(), s(5), "{case}");
            let expected = if fail { Err(JobError::Down(1)) } else { Ok(7) };
            assert_eq!(r, expected, "{case}");
            tokio::time::sleep(s(60)).await; // (the hold is over)
        }
    }
    let stopped = logs.matching(Level::WARN, "failed after 1 attempt");
    assert_eq!(stopped.len(), 2, "{:?}", logs.lines());
    assert!(
        stopped
            .iter()
            .all(|l| l.contains("stopped: its stop signal fired")),
        "{stopped:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn fired_before_the_call_the_first_attempt_s_hold_is_not_waited() {
    static HELD: Cooldown = Cooldown::new("stop-on-held-before");
    static POLICY: Policy<RetryOn> = held_policy(&HELD);
    let shutdown = Shutdown::new();
    shutdown.fire();
    HELD.hold_for(s(60));
    let (at, start) = (Mutex::new(Vec::new()), Instant::now());
    for on_sleeper in [false, true] {
        let r = held_call(on_sleeper, &POLICY, &shutdown, &at, start, true).await;
        assert_eq!(r, Err(JobError::Down(1)), "on a sleeper: {on_sleeper}");
        let r = held_call(on_sleeper, &POLICY, &shutdown, &at, start, false).await;
        assert_eq!(r, Ok(7), "on a sleeper: {on_sleeper}");
    }
    assert_eq!(*at.lock().unwrap(), [s(0); 4]);
}

#[tokio::test(start_paused = true)]
async fn fired_in_a_wait_for_a_hold_made_longer_the_attempt_is_made_at_once() {
    static LONGER: Cooldown = Cooldown::new("stop-on-held-longer");
    static POLICY: Policy<RetryOn> = held_policy(&LONGER);
    for on_sleeper in [false, true] {
        let shutdown = Shutdown::new();
        shutdown.fire_after(s(10));
        LONGER.hold_for(s(2));
        let (at, start) = (Mutex::new(Vec::new()), Instant::now());
        let (r, ()) = tokio::join!(
            held_call(on_sleeper, &POLICY, &shutdown, &at, start, true),
            async {
                tokio::time::sleep(s(1)).await;
                LONGER.hold_for(s(60)); // another call's 429 meanwhile: until 61s
            }
        );
        assert_eq!(r, Err(JobError::Down(1)), "on a sleeper: {on_sleeper}");
        assert_eq!(*at.lock().unwrap(), [s(10)], "on a sleeper: {on_sleeper}");
        tokio::time::sleep(s(60)).await;
    }
}

/// An attempt made before its pace's slot still counts against the pace:
/// its slot stays taken (as `Retry::stop_on`'s does).
#[tokio::test(start_paused = true)]
async fn fired_in_a_wait_for_a_pace_slot_the_attempt_goes_at_once_and_keeps_its_slot() {
    static PACED: Cooldown = Cooldown::new("stop-on-paced").with_pace(1, Duration::from_secs(10));
    static POLICY: Policy<RetryOn> = held_policy(&PACED);
    let (at, start) = (Mutex::new(Vec::new()), Instant::now());
    let never = Shutdown::new();
    // the slot at 0s
    assert_eq!(
        held_call(false, &POLICY, &never, &at, start, false).await,
        Ok(7)
    );
    // the slots at 10s and 20s, their waits cut at 2s
    let shutdown = Shutdown::new();
    shutdown.fire_after(s(2));
    let (a, b) = tokio::join!(
        held_call(false, &POLICY, &shutdown, &at, start, false),
        held_call(true, &POLICY, &shutdown, &at, start, false),
    );
    assert_eq!((a, b), (Ok(7), Ok(7)));
    // fired before the call: at once, the slot at 30s taken
    assert_eq!(
        held_call(true, &POLICY, &shutdown, &at, start, false).await,
        Ok(7)
    );
    // a call whose signal does not fire: the slot at 40s
    assert_eq!(
        held_call(false, &POLICY, &never, &at, start, false).await,
        Ok(7)
    );
    assert_eq!(*at.lock().unwrap(), [s(0), s(2), s(2), s(2), s(40)]);
}
