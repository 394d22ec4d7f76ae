//! Retries at one layer in a rayon pool: a worker that waits inside an
//! attempt (for the stolen half of a `join`) runs other jobs of the pool
//! there, so a retried call in an unrelated job sees the attempt's run as
//! its outer run; `Outer::none().run(..)` gives such a job its own
//! retries back. And a `join`'s halves carried with `Outer::run` make the
//! outer run's calls to the bottom whichever worker runs them.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use retry_runtime::nested::Outer;
use retry_runtime::{retry, Classify, ErrorKind, KindSet, StopReason};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Classify)]
enum Fail {
    #[error("503 from the store")]
    #[classify(Unavailable)]
    Busy,
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

fn wait_for(flag: &AtomicBool, what: &str) {
    let start = Instant::now();
    while !flag.load(Ordering::SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Where the two jobs are, shared by the outer job and the test.
#[derive(Default)]
struct Steal {
    /// the outer attempt's second half has started, on the other worker
    stolen: AtomicBool,
    /// the test has queued the unrelated job
    queued: AtomicBool,
    /// the unrelated job has ended
    done: AtomicBool,
}

/// The outer job's attempt: a `join` whose second half the other worker
/// steals and holds until the unrelated job has run, so this worker waits
/// in the join, inside the attempt, and runs the unrelated job there.
#[retry(attempts = 3, backoff = "none", retry_on = Unavailable | Timeout)]
fn outer_job(steal: &Steal) -> Result<(), Fail> {
    rayon::join(
        || wait_for(&steal.queued, "the unrelated job to be queued"),
        || {
            steal.stolen.store(true, Ordering::SeqCst);
            wait_for(&steal.done, "the unrelated job to end");
        },
    );
    Ok(())
}

static ITEM_CALLS: AtomicU32 = AtomicU32::new(0);

/// An unrelated item's upload: the store is busy once, then answers.
#[retry(attempts = 3, backoff = "none", retry_on = Unavailable)]
fn upload_item() -> Result<u32, Fail> {
    match ITEM_CALLS.fetch_add(1, Ordering::SeqCst) {
        0 => Err(Fail::Busy),
        n => Ok(n + 1),
    }
}

/// Runs the outer job on one worker of a 2-thread pool and, once its
/// join's second half is stolen, queues `job` from outside: the waiting
/// worker, the only free one, runs it inside the outer attempt. What the
/// job returns, with what it saw published.
fn unrelated_job_during_a_join<R: Send + 'static>(
    job: impl FnOnce() -> R + Send + 'static,
) -> (KindSet, R) {
    let pool = Arc::new(pool(2));
    let steal = Arc::new(Steal::default());
    let outer = {
        let (pool, steal) = (Arc::clone(&pool), Arc::clone(&steal));
        std::thread::spawn(move || pool.install(|| outer_job(&steal)))
    };
    wait_for(&steal.stolen, "the outer join's second half to be stolen");
    let (tx, rx) = mpsc::channel();
    {
        let steal = Arc::clone(&steal);
        pool.spawn(move || {
            let seen = Outer::current().kinds();
            let result = job();
            steal.done.store(true, Ordering::SeqCst);
            tx.send((seen, result)).expect("the test waits");
        });
    }
    steal.queued.store(true, Ordering::SeqCst);
    let out = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the unrelated job ran");
    assert_eq!(outer.join().expect("the outer job ends"), Ok(()));
    out
}

#[test]
fn an_unrelated_job_run_inside_a_waiting_attempt_keeps_its_retries_in_outer_none() {
    ITEM_CALLS.store(0, Ordering::SeqCst);
    let (seen, result) = unrelated_job_during_a_join(|| {
        let inside = Outer::current().kinds();
        (inside, Outer::none().run(upload_item))
    });
    // the job ran inside the outer attempt: it saw the outer run's kinds
    assert_eq!(seen, ErrorKind::Unavailable | ErrorKind::Timeout);
    let (inside, result) = result;
    assert_eq!(inside, seen);
    // and with the runs around it hidden, it made its own retry
    assert_eq!(result, Ok(2));
    assert_eq!(ITEM_CALLS.load(Ordering::SeqCst), 2);
}

#[test]
fn without_outer_none_the_unrelated_job_defers_to_the_attempt_it_runs_in() {
    // what docs/attribute.md warns of, so that the test above shows a real fix
    let calls = Arc::new(AtomicU32::new(0));
    let (seen, stop) = unrelated_job_during_a_join({
        let calls = Arc::clone(&calls);
        move || {
            retry_runtime::Policy::new()
                .retry_on(ErrorKind::Unavailable.into())
                .with_backoff(retry_runtime::Backoff::None)
                .retry(|| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err::<(), _>(Fail::Busy)
                })
                .detailed()
                .call()
                .map_err(|e| e.reason)
        }
    });
    assert!(seen.contains(ErrorKind::Unavailable));
    assert_eq!(stop, Err(StopReason::Deferred));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

static BOTTOM_A: AtomicU32 = AtomicU32::new(0);
static BOTTOM_B: AtomicU32 = AtomicU32::new(0);

#[retry(attempts = 3, backoff = "none", retry_on = Unavailable)]
fn half(bottom: &AtomicU32) -> Result<(), Fail> {
    bottom.fetch_add(1, Ordering::SeqCst);
    // slow enough for the other worker to steal the second half
    std::thread::sleep(Duration::from_millis(5));
    Err(Fail::Busy)
}

#[retry(attempts = 3, backoff = "none", retry_on = Unavailable)]
fn both_halves_carried() -> Result<(), Fail> {
    let outer = Outer::current();
    let (a, b) = rayon::join(
        || outer.run(|| half(&BOTTOM_A)),
        || outer.run(|| half(&BOTTOM_B)),
    );
    a.and(b)
}

#[test]
fn join_halves_carried_with_outer_run_make_the_outer_run_s_calls_whoever_runs_them() {
    for threads in [1, 2, 4] {
        BOTTOM_A.store(0, Ordering::SeqCst);
        BOTTOM_B.store(0, Ordering::SeqCst);
        let result = pool(threads).install(both_halves_carried);
        assert_eq!(result, Err(Fail::Busy));
        // one call per outer attempt in each half, not 3 x 3 for a stolen one
        assert_eq!(
            (
                BOTTOM_A.load(Ordering::SeqCst),
                BOTTOM_B.load(Ordering::SeqCst)
            ),
            (3, 3),
            "{threads} threads"
        );
    }
}
